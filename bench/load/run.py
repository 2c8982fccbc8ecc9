"""Load test of issue 13: gunicorn, a Celery worker, PostgreSQL and Redis serving the bench database of
1,000,000 sales (`make -C bench seed`), under 50 cashiers selling on their own registers and 20 customers
paying pay links (bench/load/locustfile.py), next to pgbench's TPS on the same machine.

    make -C bench load ARGS="--duration 180"
    LOAD_DATABASE_URL=postgres://postgres@127.0.0.1:5432/pbo_load_bench .venv/bin/python bench/load/run.py -d 60

Steps: prepares the shop through the services (cashiers with their own register, open; online payments on;
fresh pay links for on-account sales; idempotent), empties the Celery queue of the broker database it is
given (the prepared links' e-mails are not sent: the load is about selling and paying), runs pgbench
(tpcb-like, its own database), starts gunicorn and one `celery worker`, runs Locust headless, and measures
over the steady window (after the warm-up, which covers the sign-ins): completed sales/s (from the database),
requests/s and p95 per request kind (from Locust's samples), CPU seconds of gunicorn's and the worker's
processes (/proc/<pid>/stat), PostgreSQL's backends of this database and Locust apart. Prints Markdown and
writes the raw figures to var/bench/load-<time>.json."""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from bench.common import BENCH_DATABASE_URL, OWNER_EMAIL, ROOT, setup_django  # noqa: E402

CASHIER_PASSWORD = "bench-cashier"  # noqa: S105 - the bench database's made-up cashiers
PGBENCH_DATABASE = "pbo_load_pgbench"
TICKS = os.sysconf("SC_CLK_TCK")


def _environment(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"  # side effects go to the worker, as in production
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    # Persistent connections in gunicorn's threads and the worker, as a production server keeps them.
    os.environ.setdefault("DB_CONN_MAX_AGE", "60")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://") or broker.rstrip("/").rsplit("/", 1)[1] in ("0", "1"):
        sys.exit("Set CELERY_BROKER_URL to a Redis database of your own (not 0 or 1): the run empties it.")


def prepare(*, cashiers: int, links: int) -> dict:
    """Cashiers `load-cashier-NN@bench.test`, each with register "Load NN" (open), spread over the outlets;
    online payments on; `links` new pay links for on-account sales not paid yet."""
    from django.db.models import Q

    from accounts.models import Membership, Outlet, Register, StaffRole
    from accounts.services import register_create, staff_member_add
    from paylinks.links import link_token
    from paylinks.models import PayLink
    from paylinks.services import pay_link_send, paylink_settings_update
    from retail.models import PaymentType, Product, Sale
    from retail.selectors.sell import open_session
    from retail.services.registers import register_open

    owner_membership = Membership.objects.select_related("account", "user").get(user__email=OWNER_EMAIL)
    account, owner = owner_membership.account, owner_membership.user
    role = StaffRole.objects.get(account=account, preset="cashier")
    outlets = list(Outlet.objects.filter(account=account).order_by("pk").values_list("pk", flat=True))
    plan_cashiers = []
    for number in range(1, cashiers + 1):
        email = f"load-cashier-{number:02}@bench.test"
        if not Membership.objects.filter(account=account, user__email=email).exists():
            staff_member_add(
                actor=owner,
                account=account,
                email=email,
                name=f"Caissier {number:02}",
                role_id=role.pk,
                password=CASHIER_PASSWORD,
            )
        outlet = outlets[number % len(outlets)]
        register = Register.objects.filter(account=account, name=f"Load {number:02}").first() or register_create(
            actor=owner, account=account, outlet_id=outlet, name=f"Load {number:02}"
        )
        if open_session(account, register) is None:
            register_open(actor=owner, account=account, register_id=register.pk, opening_float=0)
        _finish_cart(owner, account, register)
        plan_cashiers.append({"email": email, "register": register.pk})
    paylink_settings_update(actor=owner, account=account, online_payments_enabled=True, reminder_days=None)
    linked = PayLink.objects.filter(account=account).values("sale_id")
    sales = (
        Sale.objects.filter(account=account, status=Sale.Status.ON_ACCOUNT, customer__isnull=False)
        .exclude(Q(customer__email="") | Q(pk__in=linked))
        .order_by("-pk")
        .values_list("pk", flat=True)[:links]
    )
    tokens = [
        link_token(pay_link_send(actor=owner, account=account, sale_id=sale_id, email="load@bench.test"))
        for sale_id in sales
    ]
    products = list(
        Product.objects.filter(account=account, is_active=True, track_inventory=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return {
        "account": account.pk,
        "password": CASHIER_PASSWORD,
        "cashiers": plan_cashiers,
        "links": tokens,
        "products": products,
        "cash_share": 0.35,
        "cash_type": PaymentType.objects.get(account=account, kind=PaymentType.Kind.CASH).pk,
    }


def _finish_cart(owner, account, register) -> None:
    """A cart an earlier run left behind (stopped mid-sale): completed when paid, else thrown away, so the
    cashier starts on an empty cart."""
    from retail.selectors.sell import sale_in_progress
    from retail.services.sales import sale_complete, sale_discard

    cart = sale_in_progress(account, register.pk)
    if cart is None:
        return
    if cart.payments.exists() and cart.balance_due <= 0:
        sale_complete(actor=owner, account=account, sale_id=cart.pk)
    else:
        sale_discard(actor=owner, account=account, sale_id=cart.pk)


def empty_broker() -> None:
    import redis

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()


def pgbench(seconds: int, clients: int) -> dict:
    """pgbench's default tpcb-like script for `seconds` on its own scratch database (scale 10)."""
    import psycopg

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PGBENCH_DATABASE]).fetchone():
            connection.execute(f'CREATE DATABASE "{PGBENCH_DATABASE}"')
    common = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
    subprocess.run(["pgbench", *common, "-i", "-q", "-s", "10", PGBENCH_DATABASE], check=True, capture_output=True)
    load = os.getloadavg()[0]
    out = subprocess.run(
        ["pgbench", *common, "-c", str(clients), "-j", "2", "-T", str(seconds), PGBENCH_DATABASE],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    tps = next(float(line.split("=")[1].split()[0]) for line in out.splitlines() if line.startswith("tps"))
    latency = next((line.split("=")[1].strip() for line in out.splitlines() if line.startswith("latency average")), "")
    return {
        "tps": tps,
        "clients": clients,
        "seconds": seconds,
        "latency": latency,
        "load_before": load,
        "load_after": os.getloadavg()[0],
    }


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _tree(root: int) -> list[int]:
    tree, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def _cpu(pids) -> dict[int, float]:
    """CPU seconds (user + system) of each process still alive."""
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return seconds


def _backends(database: str) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database])
        return [row[0] for row in cursor.fetchall()]


def _machine_busy() -> tuple[float, float]:
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / TICKS, sum(fields) / TICKS


def _counts(account_id: int, registers: list[int], since: datetime, until: datetime) -> dict:
    from payments.models import Payment
    from retail.models import Sale

    completed = Sale.objects.filter(
        account_id=account_id,
        register_id__in=registers,
        status=Sale.Status.COMPLETED,
        completed_at__gte=since,
        completed_at__lt=until,
    ).count()
    online = Payment.objects.filter(
        account_id=account_id,
        mode=Payment.Mode.ONLINE,
        status=Payment.Status.SUCCEEDED,
        created_at__gte=since,
        created_at__lt=until,
    ).count()
    return {"completed_sales": completed, "paylink_payments": online}


def _warm_up(plan: dict, *, since: datetime, settle: float, limit: float) -> float:
    """Wait until every cashier has signed in (sign-ins hash passwords: they stay out of the measured
    window), then `settle` seconds more for the cashiers to be selling."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    began = time.monotonic()
    emails = [cashier["email"] for cashier in plan["cashiers"]]
    while True:
        time.sleep(2)
        signed_in = get_user_model().objects.filter(email__in=emails, last_login__gte=since).count()
        connection.close()
        if signed_in == len(emails):
            break
        if time.monotonic() - began > limit:
            sys.exit(f"only {signed_in} of {len(emails)} cashiers signed in in {limit:.0f} s")
    time.sleep(settle)
    return time.monotonic() - began


class Processes:
    """gunicorn and the Celery worker, each in its own process group, stopped together."""

    def __init__(self, *, port: int, workers: int, threads: int, concurrency: int, log_dir: Path):
        venv = ROOT / ".venv" / "bin"
        self.commands = {
            "gunicorn": [
                str(venv / "gunicorn"),
                "posbackoffice.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(workers),
                "-k",
                "gthread",
                "--threads",
                str(threads),
                "--backlog",
                "256",
                "--log-level",
                "warning",
            ],
            "worker": [
                str(venv / "celery"),
                "-A",
                "posbackoffice",
                "worker",
                "--loglevel=WARNING",
                "--pool=threads",
                f"--concurrency={concurrency}",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],
        }
        self.log_dir = log_dir
        self.started: dict[str, subprocess.Popen] = {}

    def start(self):
        for name, command in self.commands.items():
            log = open(self.log_dir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
            self.started[name] = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def pids(self, name: str) -> list[int]:
        return _tree(self.started[name].pid)

    def stop(self):
        for process in self.started.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.started.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own local server
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def request_table(samples: list, since: float, until: float) -> list[dict]:
    kinds: dict[str, list] = {}
    for name, started, milliseconds, ok in samples:
        if since <= started < until:
            kinds.setdefault(name, []).append((milliseconds, ok))
    seconds = until - since
    rows = []
    for name, measured in sorted(kinds.items(), key=lambda item: -len(item[1])):
        times = [ms for ms, _ in measured]
        rows.append(
            {
                "kind": name,
                "count": len(times),
                "per_second": len(times) / seconds,
                "failures": sum(1 for _, ok in measured if not ok),
                "p50": statistics.median(times),
                "p95": percentile(times, 0.95),
                "max": max(times),
            }
        )
    return rows


def main() -> None:  # noqa: PLR0915 - one run, step by step
    parser = argparse.ArgumentParser()
    parser.add_argument("-d", "--duration", type=int, default=180, help="measured seconds (after the warm-up)")
    parser.add_argument(
        "--warmup", type=int, default=30, help="seconds of selling after every cashier has signed in, before measuring"
    )
    parser.add_argument("--cashiers", type=int, default=50)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--think", type=float, default=0.4, help="a cashier's mean pause between two clicks (s)")
    parser.add_argument("--customer-pacing", type=float, default=6.0, help="seconds between a customer's payments")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker threads")
    parser.add_argument("--port", type=int, default=8713)
    parser.add_argument("--pgbench-seconds", type=int, default=30, help="0: no pgbench")
    parser.add_argument("--pgbench-clients", type=int, default=8)
    args = parser.parse_args()

    database_url = os.environ.get("LOAD_DATABASE_URL", BENCH_DATABASE_URL)
    _environment(database_url)
    setup_django()
    from django.utils import timezone

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    log_dir = ROOT / "var" / "bench" / f"load-{stamp}"
    log_dir.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    load_start = Path("/proc/loadavg").read_text().strip()
    print(f"{stamp} UTC, commit {commit}, load average {load_start}", flush=True)

    began = time.monotonic()
    links_needed = int(args.customers * (args.warmup + args.duration + 90) / args.customer_pacing * 1.2) + 10
    plan = prepare(cashiers=args.cashiers, links=links_needed if args.customers else 0)
    plan["customers"] = args.customers
    plan_path = log_dir / "plan.json"
    plan_path.write_text(json.dumps(plan))
    empty_broker()
    print(
        f"prepared in {time.monotonic() - began:.0f} s: {len(plan['cashiers'])} cashiers, "
        f"{len(plan['links'])} pay links",
        flush=True,
    )

    bench = pgbench(args.pgbench_seconds, args.pgbench_clients) if args.pgbench_seconds else None
    if bench:
        print(f"pgbench: {bench['tps']:.0f} TPS ({bench['clients']} clients, {bench['seconds']} s)", flush=True)

    from django.db import connection

    connection.close()
    servers = Processes(
        port=args.port, workers=args.workers, threads=args.threads, concurrency=args.concurrency, log_dir=log_dir
    )
    samples_path = log_dir / "samples.json"
    locust = None
    try:
        servers.start()
        _wait_for(f"http://127.0.0.1:{args.port}/login/")
        env = {
            **os.environ,
            "LOAD_PLAN": str(plan_path),
            "LOAD_SAMPLES": str(samples_path),
            "LOAD_THINK": str(args.think),
            "LOAD_CUSTOMER_PACING": str(args.customer_pacing),
        }
        users = args.cashiers + args.customers
        locust = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "locust"),
                "-f",
                str(ROOT / "bench" / "load" / "locustfile.py"),
                "--headless",
                "--only-summary",
                "-u",
                str(users),
                "-r",
                "10",
                "--host",
                f"http://127.0.0.1:{args.port}",
                "--stop-timeout",
                "10",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=open(log_dir / "locust.log", "w"),
            stderr=subprocess.STDOUT,
        )  # noqa: SIM115
        warm = _warm_up(plan, since=timezone.now(), settle=args.warmup, limit=600)
        print(f"warmed up in {warm:.0f} s: every cashier signed in, then {args.warmup} s of selling", flush=True)

        def snapshot():
            return {
                "wall": time.time(),
                "at": timezone.now(),
                "gunicorn": _cpu(servers.pids("gunicorn")),
                "worker": _cpu(servers.pids("worker")),
                "postgres": _cpu(_backends(connection.settings_dict["NAME"])),
                "locust": _cpu(_tree(locust.pid)),
                "machine": _machine_busy(),
                "load": Path("/proc/loadavg").read_text().strip(),
            }

        first = snapshot()
        connection.close()
        time.sleep(args.duration)
        last = snapshot()
        connection.close()
        locust.send_signal(signal.SIGTERM)  # Locust writes its samples as it quits
        locust.wait(timeout=120)
    finally:
        if locust is not None and locust.poll() is None:
            locust.terminate()
            locust.wait(timeout=30)
        servers.stop()

    def spent(key):
        # Processes that started during the window count from zero.
        return sum(seconds - first[key].get(pid, 0.0) for pid, seconds in last[key].items())

    seconds = last["wall"] - first["wall"]
    counts = _counts(plan["account"], [c["register"] for c in plan["cashiers"]], first["at"], last["at"])
    samples = json.loads(samples_path.read_text())
    rows = request_table(samples, first["wall"], last["wall"])
    requests = sum(row["count"] for row in rows)
    gunicorn_cpu, worker_cpu = spent("gunicorn"), spent("worker")
    servers_cpu, postgres_cpu, locust_cpu = gunicorn_cpu + worker_cpu, spent("postgres"), spent("locust")
    machine_busy = last["machine"][0] - first["machine"][0]
    sales = counts["completed_sales"]
    result = {
        "stamp": stamp,
        "commit": commit,
        "args": vars(args),
        "warm_up_seconds": warm,
        "database": connection.settings_dict["NAME"],
        "load_average": {
            "start": load_start,
            "window_start": first["load"],
            "window_end": last["load"],
            "end": Path("/proc/loadavg").read_text().strip(),
        },
        "pgbench": bench,
        "seconds": seconds,
        **counts,
        "requests": requests,
        "rows": rows,
        "cpu_seconds": {
            "servers": servers_cpu,
            "gunicorn": gunicorn_cpu,
            "worker": worker_cpu,
            "postgres_backends": postgres_cpu,
            "locust": locust_cpu,
            "machine_busy": machine_busy,
        },
    }
    (ROOT / "var" / "bench" / f"load-{stamp}.json").write_text(json.dumps(result, indent=1, default=str))

    print(
        f"\nWindow {seconds:.0f} s after a {warm:.0f} s warm-up; {args.cashiers} cashiers (think "
        f"{args.think} s), {args.customers} customers (one payment per {args.customer_pacing} s each); gunicorn "
        f"{args.workers} workers × {args.threads} threads (gthread), Celery worker threads × {args.concurrency}"
    )
    print(
        f"load average: start {load_start} | window start {first['load']} | window end {last['load']} | "
        f"end {result['load_average']['end']}\n"
    )

    def per_sale(cpu: float) -> str:
        return f"{cpu / sales * 1000:.0f} ms" if sales else "–"

    print("| What | Measured |\n|---|---|")
    print(f"| completed sales/s | {sales / seconds:.2f} ({sales} in {seconds:.0f} s) |")
    print(f"| pay-link payments/s | {counts['paylink_payments'] / seconds:.2f} |")
    print(f"| requests/s | {requests / seconds:.1f} ({sum(r['failures'] for r in rows)} failed) |")
    print(
        f"| CPU of gunicorn + Celery worker per completed sale | {per_sale(servers_cpu)} "
        f"({servers_cpu:.1f} s over the window, {servers_cpu / seconds * 100:.0f} % of one core: gunicorn "
        f"{gunicorn_cpu:.1f} s, worker {worker_cpu:.1f} s) |"
    )
    print(
        f"| CPU of PostgreSQL's backends of this database per sale | {per_sale(postgres_cpu)} ({postgres_cpu:.1f} s) |"
    )
    print(f"| Locust's own CPU (apart) | {locust_cpu:.1f} s ({locust_cpu / seconds * 100:.0f} % of one core) |")
    print(f"| whole machine busy (everyone's) | {machine_busy:.1f} CPU s of {2 * seconds:.0f} |")
    if bench:
        print(
            f"| pgbench tpcb-like, scale 10, {bench['clients']} clients, {bench['seconds']} s, right before | "
            f"{bench['tps']:.0f} TPS (latency average {bench['latency']}; load {bench['load_before']:.2f} → "
            f"{bench['load_after']:.2f}) |"
        )
    print("\n| Request | n | per s | failed | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['kind']} | {row['count']} | {row['per_second']:.1f} | {row['failures']} | {row['p50']:.0f} | "
            f"{row['p95']:.0f} | {row['max']:.0f} |"
        )
    everything = [ms for name, started, ms, ok in samples if first["wall"] <= started < last["wall"]]
    if everything:
        print(
            f"| **all** | {len(everything)} | {len(everything) / seconds:.1f} | | "
            f"{statistics.median(everything):.0f} | {percentile(everything, 0.95):.0f} | {max(everything):.0f} |"
        )


if __name__ == "__main__":
    main()
