"""Billing run of subscriptions (issue 9, "Performance"): N subscriptions due now, each with a card saved
at the sandbox processor, billed by `subscriptions.billing.bill` — the work of one task — in this one
process, one after the other (the sandbox answers at once, in the same database). It measures renewals
per second, CPU per renewal, SQL statements per renewal, and peak Python memory, then checks that each
subscription was charged once and has exactly one sale.

    .venv/bin/python bench/subscriptions.py --n 2000

Its own database (`pos_bench_subs`, dropped and re-created), unless DATABASE_URL is exported."""

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pos_bench_subs")

import common  # noqa: E402
from subscription_seed import seed  # noqa: E402

common.setup_django()


def run(n: int, sample_queries: int, batch: int, profile: str = "") -> None:
    """The billing run in this one process: `bill_subscriptions`' work (subscriptions.batch.bill_many)
    over `batch` ids at a time, one batch after the other; `batch` 0: billing.bill one by one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from payments.models import Payment
    from retail.models import Sale
    from subscriptions import batch as billing_batch
    from subscriptions import billing

    started = time.perf_counter()
    account = seed(n)
    print(f"seeded {n} due subscriptions in {time.perf_counter() - started:.1f} s")
    ids = billing.due_ids(limit=n)
    assert len(ids) == n
    size = max(batch, 1)
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]

    def bill(chunk):
        if batch:
            billing_batch.bill_many(chunk)
        else:
            billing.bill(chunk[0])

    sampled = chunks[:max(1, sample_queries // size)]
    with CaptureQueriesContext(connection) as queries:
        for chunk in sampled:
            bill(chunk)
    per_renewal = len(queries.captured_queries) / sum(len(chunk) for chunk in sampled)
    rest = chunks[len(sampled):]
    timed = sum(len(chunk) for chunk in rest)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    else:
        tracemalloc.start()
    load0 = os.getloadavg()[0]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for chunk in rest:
        bill(chunk)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
        peak = 0
    else:
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    payments = Payment.objects.filter(account=account, purpose="subscription_cycle")
    sales = Sale.objects.filter(account=account)
    assert payments.count() == n and payments.filter(status="succeeded").count() == n and sales.count() == n
    print(f"| renewals | {timed} ({f'batches of {batch}' if batch else 'one by one'}) |\n| wall | {wall:.1f} s |\n"
          f"| renewals/s (1 process, sequential) | {timed / wall:.0f} |\n"
          f"| CPU of this process per renewal | {1000 * cpu / timed:.2f} ms |\n"
          f"| SQL statements per renewal | {per_renewal:.1f} |\n| peak traced Python memory | {peak / 1e6:.1f} MB |\n"
          f"| max RSS | {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB |\n"
          f"| load average (1 min) before / after | {load0:.1f} / {os.getloadavg()[0]:.1f} |")


def _tree(pid: int) -> list[int]:
    """The process and its children (a prefork worker's pool processes), from /proc."""
    found = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        found += _tree(int(child))
    return found


def _cpu_seconds(pids) -> float:
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _pgbench(seconds: int) -> str:
    import subprocess

    url = "postgres://postgres@127.0.0.1:5432/pbo_subsperf_pgbench"
    subprocess.run(["psql", "postgres://postgres@127.0.0.1:5432/postgres", "-qc",
                    "DROP DATABASE IF EXISTS pbo_subsperf_pgbench"], check=True, capture_output=True)
    subprocess.run(["psql", "postgres://postgres@127.0.0.1:5432/postgres", "-qc",
                    "CREATE DATABASE pbo_subsperf_pgbench"], check=True, capture_output=True)
    subprocess.run(["pgbench", "-i", "-q", "-s", "1", url], check=True, capture_output=True)
    out = subprocess.run(["pgbench", "-b", "tpcb-like", "-c", "4", "-j", "2", "-T", str(seconds), url],
                         check=True, capture_output=True, text=True).stdout
    return next(line for line in out.splitlines() if line.startswith("tps"))


def run_workers(n: int, workers: int, pool: str, concurrency: int, batch: int, latency_ms: int = 0,
                rate_limit: int = 0, pace: int = 0) -> None:
    """The billing run as production does it: beat's sweep publishes `bill_subscriptions` tasks (`batch`
    ids each) to a redis-server of this run's own, `workers` `celery worker` processes bill them. With
    `latency_ms` / `rate_limit` the sandbox answers like a live processor (each request that late, a 429
    above that many a second) and the workers pace themselves under the limit (PROCESSOR_RATE_LIMIT): at
    `pace` requests a second, by default 5 % under."""
    import shutil
    import socket
    import subprocess
    import tempfile

    from django.db import connection

    from payments.models import Payment, PaymentAttempt
    from payments.services.reconciling import payment_reconcile
    from posbackoffice.celery import app
    from retail.models import Sale
    from subscriptions import billing
    from subscriptions.models import Subscription
    from subscriptions.tasks import bill_subscriptions

    started = time.perf_counter()
    account = seed(n)
    print(f"seeded {n} due subscriptions in {time.perf_counter() - started:.1f} s")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workdir = Path(tempfile.mkdtemp(prefix="bench-subs-"))
    redis = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--save", "", "--appendonly", "no",
                              "--dir", str(workdir)], stdout=subprocess.DEVNULL)
    time.sleep(1)
    broker = f"redis://127.0.0.1:{port}/1"
    env = {**os.environ, "CELERY_BROKER_URL": broker, "REDIS_URL": f"redis://127.0.0.1:{port}/0",
           "CELERY_TASK_ALWAYS_EAGER": "false", "LOG_LEVEL": "WARNING",
           # Kept database connections, as the Procfile runs the worker (posbackoffice/celery.py).
           "DB_CONN_MAX_AGE": os.environ.get("DB_CONN_MAX_AGE", "60"),
           "SANDBOX_LATENCY_MS": str(latency_ms), "SANDBOX_RATE_LIMIT": str(rate_limit),
           "PROCESSOR_RATE_LIMIT": str((pace or rate_limit - max(1, rate_limit // 20)) if rate_limit else 0)}
    celery = str(Path(sys.executable).parent / "celery")
    procs = [subprocess.Popen([celery, "-A", "posbackoffice", "worker", "--pool", pool, f"--concurrency={concurrency}",
                               "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING",
                               f"--hostname=bench{i}@%h"], env=env, stdout=open(workdir / f"w{i}.log", "wb"),
                              stderr=subprocess.STDOUT, start_new_session=True) for i in range(workers)]
    try:
        time.sleep(8)  # the workers start
        load0 = os.getloadavg()[0]
        cpu0 = _cpu_seconds(pid for proc in procs for pid in _tree(proc.pid))
        wall0 = time.perf_counter()
        os.environ["CELERY_BROKER_URL"] = app.conf.broker_url = broker
        app.conf.task_always_eager = False
        ids = billing.due_ids(limit=n)
        for chunk in range(0, len(ids), batch):
            bill_subscriptions.apply_async(args=ids[chunk:chunk + batch])
        rss_mid = None
        while True:
            done = Subscription.objects.filter(account=account, cycles_billed=1, lease_until=None).count()
            if rss_mid is None and done >= n // 10:
                rss_mid = [round(_rss_mb(pid)) for proc in procs for pid in _tree(proc.pid)]
            # A charge refused with a 429 stays pending for payments' reconciliation sweep (beat, every
            # minute, not run here): counted apart, settled below once the run is timed.
            refused = (PaymentAttempt.objects.filter(payment__account=account, payment__status="pending",
                                                     error_code="rate_limited", lease_until=None).count()
                       if rate_limit else 0)
            if done + refused >= n:
                break
            time.sleep(0.5)
        wall = time.perf_counter() - wall0
        cpu = _cpu_seconds(pid for proc in procs for pid in _tree(proc.pid)) - cpu0
        rss_end = [round(_rss_mb(pid)) for proc in procs for pid in _tree(proc.pid)]
        load1 = os.getloadavg()[0]
    finally:
        for proc in procs:
            os.killpg(proc.pid, 9)
        redis.terminate()
    connection.close()
    for payment_id in Payment.objects.filter(account=account, status="pending").values_list("pk", flat=True):
        payment_reconcile(payment_id=payment_id)  # what the reconciliation sweep does with a 429's charge
    payments = Payment.objects.filter(account=account, purpose="subscription_cycle")
    assert payments.count() == n and payments.filter(status="succeeded").count() == n
    assert Sale.objects.filter(account=account).count() == n
    retried = PaymentAttempt.objects.filter(payment__in=payments, tries__gt=1).count()
    if rate_limit:
        print(f"| sandbox | answers in {latency_ms} ms, 429 above {rate_limit} requests/s; workers paced at "
              f"{env['PROCESSOR_RATE_LIMIT']}/s |\n"
              # A charge refused with a 429 is renewed later, by reconciliation: not counted in the rate.
              f"| renewals/s against the limit | {100 * (n - refused) / wall / rate_limit:.1f} % of {rate_limit}/s |\n"
              f"| charges refused with a 429, left to the reconciliation sweep | {refused} |\n"
              f"| charges sent more than once (a 429 or a lost answer) | {retried} |")
    print(f"| workers | {workers} × `celery worker --pool {pool} --concurrency {concurrency}`, {batch} ids a task |\n"
          f"| renewals/s | {n / wall:.1f} ({n} in {wall:.0f} s) |\n"
          f"| workers' CPU per renewal | {1000 * cpu / n:.0f} ms |\n"
          f"| worker RSS (MB) at {n // 10} done / at the end | {rss_mid} / {rss_end} |\n"
          f"| load average (1 min) at the start / at the end | {load0:.1f} / {load1:.1f} |\n"
          f"| pgbench tpcb-like, 4 clients, same run | {_pgbench(15)} |")


def _p95(samples) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(.95 * (len(ordered) - 1))))]


def run_pages(n: int, requests: int) -> None:
    """Manage subscriptions' list (first page, then filtered by status) and detail pages, server time
    through Django's test client, with N subscriptions in the account."""
    import datetime
    import random

    import time_machine
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from accounts.models import User
    from subscriptions import batch as billing_batch
    from subscriptions.models import Subscription

    started = time.perf_counter()
    account = seed(n)
    print(f"seeded {n} subscriptions in {time.perf_counter() - started:.1f} s")
    ids = list(Subscription.objects.filter(account=account).values_list("pk", flat=True))
    # The detail pages shown are of subscriptions a year old: twelve monthly payments and sales each in
    # their history (billed through the services, month after month), among N in the account.
    shown = random.sample(ids, min(len(ids), 100))
    now = timezone.now()
    for month in range(12):
        with time_machine.travel(now + datetime.timedelta(days=31 * month, hours=1), tick=False):
            billing_batch.bill_many(shown)
    paid = Subscription.objects.filter(pk__in=shown, cycles_billed=12).count()
    print(f"{paid} of the {len(shown)} subscriptions shown in detail billed 12 times")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    client = Client()
    client.force_login(User.objects.get(email=common.OWNER_EMAIL))
    pages = {"list": lambda: reverse("subscriptions:list"),
             "list, status filter": lambda: reverse("subscriptions:list") + "?status=active",
             "list, customer search": lambda: reverse("subscriptions:list") + f"?q={random.randrange(n):06d}",
             "detail (12 payments in its history)":
                 lambda: reverse("subscriptions:detail", kwargs={"subscription_id": random.choice(shown)})}
    for name, url in pages.items():
        assert client.get(url()).status_code == 200, name  # warm
        timings = []
        for _ in range(requests):
            began = time.perf_counter()
            response = client.get(url())
            timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
        print(f"| {name} at {n} subscriptions | p50 {sorted(timings)[len(timings) // 2]:.1f} ms, "
              f"p95 {_p95(timings):.1f} ms ({requests} requests) |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--sample-queries", type=int, default=200)
    parser.add_argument("--workers", type=int, default=0, help="real celery workers (0: in this process)")
    parser.add_argument("--pool", default="prefork")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=0, help="with --workers: the sandbox answers this late")
    parser.add_argument("--rate-limit", type=int, default=0, help="with --workers: the sandbox's requests/s limit")
    parser.add_argument("--pace", type=int, default=0,
                        help="with --rate-limit: the workers' requests/s (PROCESSOR_RATE_LIMIT; 5 %% under the limit)")
    parser.add_argument("--pages", type=int, default=0, help="time the Manage pages (this many requests each)")
    parser.add_argument("--profile", default="", help="in-process run: write cProfile stats to this file")
    options = parser.parse_args()
    if options.pages:
        run_pages(options.n, options.pages)
    elif options.workers:
        run_workers(options.n, options.workers, options.pool, options.concurrency, options.batch,
                    options.latency_ms, options.rate_limit, options.pace)
    else:
        run(options.n, options.sample_queries, options.batch, options.profile)
