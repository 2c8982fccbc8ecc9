"""Card readers (issue 11, "Performance"): one worker drives 50 simulated WisePOS E taking payments at
once. Each reader gets a sale's card payment (sent by the cashier's request, as the sell screen does); then
50 cards are presented at the same moment, from 50 threads, as 50 customers would. The reader's result is
at the processor when `reader_present_card` returns; from then on nothing in this process drives anything:
the processor's webhook events go to one Celery worker, which settles the payments and the reader actions.
Warm, as in service: each presenting thread has first taken a payment on a warm-up reader of another shop
(the worker's pool too), and this process's web side keeps its database connections (DB_CONN_MAX_AGE).
Measured per reader: from the reader's result to our row saying "approved" (read every 20 ms), plus the
sell screen's polling interval (its status part asks every 500 ms: at worst that much more), or to the
sell screen's long-poll answering (BENCH_SCREENS=longpoll). Then: every payment succeeded once, one
PaymentIntent per payment, one card payment on each sale.

    .venv/bin/python bench/terminal_readers.py
On its own PostgreSQL cluster (bench/faults/servers.py: initdb in a temporary directory, a free port,
PostgreSQL's defaults but for max_connections, removed at the end), or on DATABASE_URL when set (the
database is created if missing); Redis from REDIS_URL / CELERY_BROKER_URL, or the bench defaults.

BENCH_READERS (50), BENCH_POOL (prefork) and BENCH_CONCURRENCY (2): the readers and the one worker's pool;
BENCH_CONN_MAX_AGE (60): the worker's DB_CONN_MAX_AGE (0: a new database connection per task, Django's
default); BENCH_SCREENS: "rows" (our rows read every 20 ms, the 500 ms poll added at worst) or "longpoll"
(50 sell screens long-polling their status part through the view, terminal.live). Also printed: the
worker's CPU per payment (its processes' user + system time over the run), the load average, and where the
time went (result → row ended by the worker → seen)."""

import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# The web side (the webhook view, the sell screens' requests) keeps its connections, as a deployment
# should (README, "Deploying"): a new PostgreSQL backend per request costs more than the request.
os.environ.setdefault("DB_CONN_MAX_AGE", "60")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"

from bench.common import ROOT, setup_django  # noqa: E402

READERS = int(os.environ.get("BENCH_READERS", "50"))  # 1: the same path without any contention
POLLING_SECONDS = 0.5  # the sell screen's status part (terminal/templates/terminal/sell_card_status.html)
# The one worker's pool: by default one process per core, no shared GIL (BENCH_POOL=threads
# BENCH_CONCURRENCY=4: as the Procfile).
POOL = os.environ.get("BENCH_POOL", "prefork")
CONCURRENCY = os.environ.get("BENCH_CONCURRENCY", "2")
# The worker's database connections: kept between tasks (seconds) or, with 0, one new connection per task
# (Django's default; Celery closes an obsolete connection before and after every task).
CONN_MAX_AGE = os.environ.get("BENCH_CONN_MAX_AGE", "60")
# How the sell screens learn the result: "rows" (one reader of our rows every 20 ms, plus the 500 ms poll
# at worst, as before) or "longpoll" (50 sell screens, each asking its status part with ?wait=1 through the
# view, in this process, as the browser's htmx does; terminal.live).
SCREENS = os.environ.get("BENCH_SCREENS", "rows")
if SCREENS == "longpoll":
    os.environ.setdefault("TERMINAL_LIVE_WAITERS", str(READERS + 10))  # the worker announces, the views wait


def _process_cpu(session: int) -> float:
    """CPU seconds (user + system) of every live process of the worker's session (its pool children too)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = (Path("/proc") / entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:  # fields after the name: state ppid pgrp session ...
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def _machine_busy() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine so far, every core (/proc/stat)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / ticks, idle / ticks


def _quantiles(values: list[float]) -> str:
    if not values:
        return "-"
    p95 = statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
    return f"{statistics.median(values) * 1000:.0f} / {p95 * 1000:.0f} / {max(values) * 1000:.0f} ms"


def ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def paying_reader(account, label: str):
    """A shop of the account with its register, a sale in progress (one scarf) and a simulated reader whose
    card payment for the sale was sent to it (as the cashier's request does): (reader, action, cashier)."""
    from terminal import driver, services
    from tests.factories import owner_of
    from tests.retail import report_factories as rf

    shop = rf.make_shop(account, cheque=False)
    rf.open_register(shop)
    scarf = rf.product(shop, sku=f"B-{label}", name="Écharpe", price=2450, rate_bp=2000)
    sale = rf.leave_in_progress(shop, [(scarf, 1)])
    reader = services.reader_register(actor=owner_of(account), account=account, outlet_id=shop.outlet.pk,
                                      register_id=shop.register.pk, registration_code="simulated-wpe", label=label)
    action = services.sale_payment_start(actor=shop.actor, account=account, sale_id=sale.pk,
                                         register_id=shop.register.pk)
    return reader, driver.action_send(action_id=action.pk), shop.actor


def main() -> None:
    ensure_database()
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    call_command("migrate", verbosity=0)
    from payments.models import Payment
    from payments.sandbox import terminal as device
    from payments.sandbox.models import SandboxPaymentIntent
    from retail.models import SalePayment
    from terminal.models import ReaderAction
    from tests.factories import AccountFactory, UserFactory

    run = f"{time.time():.0f}"
    account = AccountFactory(name=f"Bench readers {run}", owner=UserFactory(email=f"owner-{run}@bench.test"))
    warm_account = AccountFactory(name=f"Bench warm-up {run}", owner=UserFactory(email=f"warm-{run}@bench.test"))
    actions, cashiers = [], {}
    for number in range(READERS):
        reader, action, cashier = paying_reader(account, f"Reader {number}")
        actions.append((reader, action))
        cashiers[action.pk] = cashier
    assert all(action.status == "in_progress" for _reader, action in actions)

    from posbackoffice.celery import app

    # Messages left on this broker by earlier runs (or tests publishing to it) would be worked off first.
    print(f"messages purged from the broker before the run: {app.control.purge()}")
    log = open(ROOT / "var" / "bench-terminal-worker.log", "wb")
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "posbackoffice", "worker", "--pool", POOL,
         "--concurrency", CONCURRENCY, "--without-gossip", "--without-mingle", "--without-heartbeat",
         f"--loglevel={os.environ.get('BENCH_LOGLEVEL', 'WARNING')}"],
        cwd=ROOT, env={**os.environ, "DB_CONN_MAX_AGE": CONN_MAX_AGE}, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    waited = time.monotonic()
    while not app.control.ping(timeout=1.0):  # the worker is up, connected and consuming
        if time.monotonic() - waited > 180:
            raise SystemExit("the worker did not start")
    time.sleep(2)  # its first messages (none) and its pool's threads settle
    print(f"worker ready after {time.monotonic() - waited:.1f} s")
    # Warm, as in service: each presenting thread first takes a payment on its own warm-up reader (another
    # shop's), so that its connection (the processor's side and our webhook view, here in this process)
    # is open and has read its tables, and the worker's pool has taken payments (its first tasks pay for
    # imports and connections, about 0.2 s each); those settle before the measured cards.
    warm = [paying_reader(warm_account, f"Warm-up {number}")[:2] for number in range(READERS)]
    warmed, start = threading.Barrier(READERS + 1), threading.Barrier(READERS + 1)

    result_at, result_wall = {}, {}

    def customer(pair, warm_pair):
        reader, action = pair
        try:
            device.reader_present_card(reader_id=warm_pair[0].processor_reader_id, number="4242424242424242")
            warmed.wait()
            start.wait()
            device.reader_present_card(reader_id=reader.processor_reader_id, number="4242424242424242")
            result_at[action.pk] = time.monotonic()
            if os.environ.get("BENCH_TRACE"):
                print(f"result {action.pk} at {result_at[action.pk]:.3f}", flush=True)
            result_wall[action.pk] = time.time()
        finally:
            connection.close()

    customers = ThreadPoolExecutor(READERS)
    presented = [customers.submit(customer, pair, warm_pair) for pair, warm_pair in zip(actions, warm, strict=True)]
    warmed.wait(timeout=120)
    deadline = time.monotonic() + 60
    warm_ids = [action.pk for _r, action in warm]
    while ReaderAction.objects.filter(pk__in=warm_ids, status="succeeded").count() < READERS:
        if time.monotonic() > deadline:
            raise SystemExit("the warm-up payments did not settle")
        time.sleep(0.05)
    time.sleep(2)  # the warm-up's reader events too

    shown_at = {}

    def screen(client, action_id):
        """One sell screen's status part, long-polling as htmx does (falls back to 500 ms if refused)."""
        url = reverse("terminal:sell_card_status", args=[action_id]) + "?wait=1"
        deadline = time.monotonic() + 70
        try:
            client.get(url.split("?")[0])  # the page itself first, as the browser loads it before its part
            while time.monotonic() < deadline:
                asked = time.monotonic()
                content = client.get(url, HTTP_HX_REQUEST="true").content
                if os.environ.get("BENCH_TRACE"):
                    print(f"screen {action_id}: asked {asked:.3f}, answered {time.monotonic():.3f}, "
                          f"{b'succeeded' in content}", flush=True)
                if b'data-status="succeeded"' in content:
                    shown_at[action_id] = time.monotonic()
                    return
                if b"?wait=1" not in content:
                    time.sleep(0.5)
        finally:
            connection.close()

    screens = None
    if SCREENS == "longpoll":
        clients = {}
        for _reader, action in actions:
            clients[action.pk] = Client()
            clients[action.pk].force_login(cashiers[action.pk])
        screens = ThreadPoolExecutor(READERS)
        waiting = [screens.submit(screen, clients[action.pk], action.pk) for _reader, action in actions]
        time.sleep(3)  # every screen is waiting
    load_before = os.getloadavg()
    cpu_before = _process_cpu(worker.pid)
    bench_before, wall_before = time.process_time(), time.monotonic()
    machine_before = _machine_busy()
    if os.environ.get("BENCH_STATEMENTS"):
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            cursor.execute("SELECT pg_stat_statements_reset()")
    try:
        start.wait(timeout=30)
        with customers:
            for future in presented:
                future.result()
            deadline = time.monotonic() + 60
            if screens is not None:
                for future in waiting:
                    future.result(timeout=max(deadline - time.monotonic(), 0) + 15)
                screens.shutdown()
            # One reader of our rows (as the sell screens' polling reads them), every 20 ms.
            while screens is None and len(shown_at) < READERS and time.monotonic() < deadline:
                done = ReaderAction.objects.filter(pk__in=[a.pk for _r, a in actions], status="succeeded") \
                    .values_list("pk", flat=True)
                now = time.monotonic()
                for pk in done:
                    shown_at.setdefault(pk, now)
                time.sleep(0.02)
        worker_cpu = _process_cpu(worker.pid) - cpu_before
        bench_cpu, wall = time.process_time() - bench_before, time.monotonic() - wall_before
        machine_busy, machine_idle = (after - before for after, before in zip(_machine_busy(), machine_before,
                                                                                strict=True))
        load_after = os.getloadavg()
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=20)
    if os.environ.get("BENCH_STATEMENTS"):
        with connection.cursor() as cursor:
            cursor.execute("SELECT calls, total_exec_time + total_plan_time, "
                           "left(regexp_replace(query, '\\s+', ' ', 'g'), 150) "
                           "FROM pg_stat_statements ORDER BY 2 DESC LIMIT 30")
            rows = cursor.fetchall()
            cursor.execute("SELECT sum(calls), sum(total_exec_time + total_plan_time) FROM pg_stat_statements")
            calls, spent = cursor.fetchone()
        print(f"PostgreSQL over the cards: {calls} statements, {spent:.0f} ms planning and running them")
        for calls, spent, query in rows:
            print(f"  {calls:5d} {spent:8.1f} ms  {query}")
    latencies = [shown_at[pk] - result_at[pk] if pk in shown_at and pk in result_at else None
                 for pk in (a.pk for _r, a in actions)]
    settled = [latency for latency in latencies if latency is not None]
    payments = Payment.objects.filter(account=account)
    keys = [f"payment-{pk}-charge" for pk in payments.values_list("pk", flat=True)]
    print(f"readers {READERS}, worker pool {POOL} x {CONCURRENCY}, DB_CONN_MAX_AGE {CONN_MAX_AGE}, "
          f"settled {len(settled)}")
    print(f"worker CPU {worker_cpu * 1000:.0f} ms in all, {worker_cpu * 1000 / max(len(settled), 1):.1f} ms per "
          f"payment; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    # The two cores' time over the run (until the last screen saw its result): who used it.
    print(f"over {wall * 1000:.0f} ms of wall time (x 2 cores): the machine busy {machine_busy * 1000:.0f} ms, idle "
          f"{machine_idle * 1000:.0f} ms; of the busy time: worker {worker_cpu * 1000:.0f} ms, this process "
          f"{bench_cpu * 1000:.0f} ms (the processor's side, the webhook view, the screens), the rest "
          f"{(machine_busy - worker_cpu - bench_cpu) * 1000:.0f} ms (PostgreSQL, Redis, the kernel)")
    # Where the time went, per reader (wall clock): the result at the processor → its row ended by the
    # worker (queue wait and handling of the events in front of it and of its own) → seen by our reader.
    ended = dict(ReaderAction.objects.filter(pk__in=result_wall).values_list("pk", "finished_at"))
    to_row = [ended[pk].timestamp() - result_wall[pk] for pk in result_wall if ended.get(pk)]
    if result_wall and ended:
        first = min(result_wall.values())
        print(f"results at the processor from 0 to {(max(result_wall.values()) - first) * 1000:.0f} ms, rows ended "
              f"from {(min(v.timestamp() for v in ended.values() if v) - first) * 1000:.0f} to "
              f"{(max(v.timestamp() for v in ended.values() if v) - first) * 1000:.0f} ms")
    print(f"breakdown, median / p95 / max: result -> row ended {_quantiles(to_row)}; row ended -> seen "
          f"{_quantiles([shown_at[pk] - result_at[pk] - (ended[pk].timestamp() - result_wall[pk])
                         for pk in result_wall if ended.get(pk) and pk in shown_at])}")
    if settled:
        p95 = statistics.quantiles(settled, n=20)[-1] if len(settled) > 1 else settled[0]
        if SCREENS == "longpoll":
            print(f"result -> the sell screen's long-poll answered: median {statistics.median(settled) * 1000:.0f} "
                  f"ms, p95 {p95 * 1000:.0f} ms, max {max(settled) * 1000:.0f} ms")
        else:
            print(f"result -> our row: median {statistics.median(settled) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
                  f"max {max(settled) * 1000:.0f} ms; with the sell screen's polling (worst case): "
                  f"p95 {(p95 + POLLING_SECONDS) * 1000:.0f} ms")
    print(f"payments succeeded {payments.filter(status='succeeded').count()} of {payments.count()}; "
          f"PaymentIntents {SandboxPaymentIntent.objects.filter(idempotency_key__in=keys).count()} for "
          f"{len(keys)} payments; "
          f"card payments on sales {SalePayment.objects.filter(sale__account=account).count()}")


if __name__ == "__main__":
    if os.environ.get("DATABASE_URL"):
        main()
    else:
        # Its own PostgreSQL (PostgreSQL's defaults, fsync on, as the shared one), for the connections:
        # 50 screens long-polling and 50 presenting threads, each with its own, pass the shared server's 100.
        from bench.faults.servers import PrivatePostgres

        # BENCH_STATEMENTS=1: PostgreSQL's time per statement over the measured cards (pg_stat_statements).
        statements = "-c shared_preload_libraries=pg_stat_statements" if os.environ.get("BENCH_STATEMENTS") else ""
        with PrivatePostgres(max_connections=READERS * 2 + 50, durable=True, options=statements) as postgres:
            postgres.create_database("terminal")
            os.environ["DATABASE_URL"] = postgres.url("terminal")
            main()
