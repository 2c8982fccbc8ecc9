"""A subscriptions billing run on real processes, for the billing fault scripts (billing_kill.py,
postgres_restart.py, processor_failures.py; issue 13, "Faults with real processes").

`BillingRun` starts a private PostgreSQL cluster and redis-server (servers.py), seeds N subscriptions due
now with cards saved at the sandbox (bench/subscription_seed.py, the billing benchmark's seed), starts
`--workers` `celery -A posbackoffice worker` processes and one `celery beat` (its sweeps every minute:
subscriptions due, payments to reconcile, webhook events), all with the private servers in their
environment, then publishes the first sweep itself (beat's first is a minute after its start). The script
breaks something while `wait` polls the progress, then `report` checks the money:

- at most one charge per idempotency key at the sandbox, and at most one succeeded payment per cycle
  (0 double charges);
- every paid cycle has its one sale, every sale a succeeded payment behind it, no two sales for a payment;
- every subscription billed exactly once (0 missing), no payment left pending;
- payments' reconciliation (`payments.reconciliation.compare`, what `manage.py reconcile` runs) finds no
  discrepancy between our payments and the sandbox's.

It prints the counts, the durations and the load average, and exits 1 when an invariant fails."""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FAULTS = Path(__file__).resolve().parent
BENCH = FAULTS.parent
for _path in (FAULTS, BENCH):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from servers import PrivatePostgres, PrivateRedis  # noqa: E402

DATABASE = "pbo_faults_billing"


def options(description: str, *, n: int) -> argparse.ArgumentParser:
    """The scripts' common options; each adds its own and parses."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=n, help=f"due subscriptions (default {n})")
    parser.add_argument("--workers", type=int, default=2, help="celery worker processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=2, help="prefork pool processes per worker (default 2)")
    parser.add_argument("--timeout", type=float, default=3600, help="give up after this many seconds of billing")
    return parser


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Spread:
    """`count` faults spread over a run: the k-th once k/(count + 1) of the subscriptions are billed, at
    least `gap` seconds after the one before (what it broke is back up and busy again)."""

    def __init__(self, run: "BillingRun", count: int, *, gap: float = 10):
        self.run, self.count, self.gap = run, count, gap
        self.made, self.last = 0, 0.0

    def take(self, state: dict) -> int | None:
        """The number (1-based) of the fault to make now, or None."""
        if self.made >= self.count or self.run.elapsed() - self.last < self.gap:
            return None
        if state["billed"] < (self.made + 1) * self.run.n / (self.count + 1):
            return None
        self.made += 1
        self.last = self.run.elapsed()
        return self.made

    def status(self, money: int) -> int:
        """The script's exit status: the money's (BillingRun.report), or 1 when no fault was made at all
        (the run proved nothing); fewer faults than asked (a run too small for them) is said, not failed."""
        if self.made < self.count:
            print(
                f"only {self.made} of the {self.count} faults were made before the run ended: a larger --n "
                "spreads them all over the run"
            )
        return money if self.made else 1


class BillingRun:
    def __init__(
        self, n: int, *, workers: int = 2, concurrency: int = 2, worker_env: dict | None = None, declining: int = 0
    ):
        """`declining`: that many subscriptions (every n/declining-th) have a card the processor declines."""
        self.n, self.worker_count, self.concurrency, self.declining = n, workers, concurrency, declining
        self.worker_env = worker_env or {}
        self.workdir = Path(tempfile.mkdtemp(prefix="pbo-faults-billing-"))
        self.workers: list[subprocess.Popen | None] = [None] * workers
        self.beat: subprocess.Popen | None = None
        self.account = None
        self.started = self.finished = 0.0
        self.events: list[str] = []
        self.keep_logs = False

    # ---- servers, seed, processes ------------------------------------------------------------------

    def __enter__(self) -> "BillingRun":
        self.pg = PrivatePostgres(max_connections=100).__enter__()
        try:
            self.redis = PrivateRedis().__enter__()
        except BaseException:
            self.pg.__exit__(None, None, None)
            raise
        os.environ.update(
            {
                "DATABASE_URL": self.pg.url(DATABASE),
                "REDIS_URL": self.redis.url(0),
                "CELERY_BROKER_URL": self.redis.url(1),
                "CELERY_TASK_ALWAYS_EAGER": "false",
                "VAR_DIR": str(self.workdir),
                "LOG_LEVEL": "WARNING",
            }
        )
        import common

        common.setup_django()
        from subscription_seed import seed

        print(f"load average at the start: {_loadavg()}", flush=True)
        began = time.perf_counter()
        self.account = seed(self.n)
        self._decline_some()
        print(
            f"seeded {self.n} due subscriptions in {time.perf_counter() - began:.0f} s "
            f"(PostgreSQL on port {self.pg.port}, redis-server on {self.redis.port})",
            flush=True,
        )
        from django.db import connection

        connection.close()  # the workers start with the seed committed; this process reconnects when it asks
        return self

    def _decline_some(self) -> None:
        from payments.sandbox.models import CardBehaviour, SandboxPaymentMethod
        from subscriptions.models import Subscription

        subs = list(
            Subscription.objects.filter(account=self.account)
            .order_by("pk")
            .values_list("pk", "card__payment_method_id")
        )
        chosen = subs[:: max(1, self.n // self.declining)][: self.declining] if self.declining else []
        SandboxPaymentMethod.objects.filter(pk__in=[method for _pk, method in chosen]).update(
            behaviour=CardBehaviour.CHARGE_FAILS
        )
        self.declining_ids = [pk for pk, _method in chosen]

    def __exit__(self, *exc) -> None:
        for index in range(self.worker_count):
            self._kill(self.workers[index])
        self._kill(self.beat)
        from django.db import connection

        connection.close()
        self.redis.__exit__(*exc)
        self.pg.__exit__(*exc)
        if not self.keep_logs and exc[0] is None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _celery(self, *arguments: str, log: str) -> subprocess.Popen:
        celery = str(Path(sys.executable).parent / "celery")
        # Its own session: a SIGKILL to the group reaches the worker and its pool processes at once.
        return subprocess.Popen(
            [celery, "-A", "posbackoffice", *arguments, "--loglevel=WARNING"],
            env={**os.environ, **self.worker_env},
            cwd=BENCH.parent,
            stdout=open(self.workdir / log, "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_worker(self, index: int) -> None:
        self.workers[index] = self._celery(
            "worker",
            "--pool",
            "prefork",
            f"--concurrency={self.concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname=faults{index}@%h",
            log=f"worker{index}.log",
        )

    @staticmethod
    def _kill(process: subprocess.Popen | None) -> None:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)

    def kill_worker(self, index: int) -> None:
        """SIGKILL to the worker and its pool processes (a power cut, the OOM killer), then a new one."""
        self._kill(self.workers[index])
        self.start_worker(index)

    def start(self) -> None:
        for index in range(self.worker_count):
            self.start_worker(index)
        self.beat = self._celery("beat", "--schedule", str(self.workdir / "beat-schedule"), log="beat.log")
        from subscriptions.batch import BATCH_SIZE
        from subscriptions.tasks import sweep_due_subscriptions

        self.started = time.perf_counter()
        # The first sweep now (beat's comes a minute after it starts), in at least 50 messages so that the
        # faults of a small run (--n 200) fall between messages too; beat's sweeps then use BATCH_SIZE.
        sweep_due_subscriptions.delay(max(1, min(BATCH_SIZE, self.n // 50)))

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def note(self, event: str) -> None:
        line = f"{self.elapsed():6.0f} s  {event}"
        self.events.append(line)
        print(line, flush=True)

    # ---- progress ----------------------------------------------------------------------------------

    def progress(self) -> dict:
        from django.utils import timezone

        from payments.models import Payment
        from subscriptions.models import Subscription

        subs = Subscription.objects.filter(account=self.account)
        return {
            "billed": subs.filter(cycles_billed__gte=1).count(),
            "due": subs.filter(due_at__lte=timezone.now(), status__in=Subscription.BILLABLE).count(),
            "pending": Payment.objects.filter(account=self.account, status=Payment.Status.PENDING).count(),
        }

    def wait(self, timeout: float, on_progress=None) -> dict:
        """Poll every second until nothing is due and no payment is pending; `on_progress(state)` after
        each poll (where the script breaks something). A poll the database refuses (it is restarting) is
        tried again."""
        from django.db import connection
        from django.db.utils import Error as DatabaseError

        last_print, state = 0.0, {}
        while self.elapsed() < timeout:
            try:
                state = self.progress()
            except DatabaseError:
                connection.close()
                time.sleep(1)
                continue
            if self.elapsed() - last_print >= 30:
                last_print = self.elapsed()
                self.note(
                    f"billed {state['billed']}/{self.n}, due {state['due']}, pending {state['pending']}, "
                    f"load {_loadavg()}"
                )
            if state["due"] == 0 and state["pending"] == 0:
                self.finished = self.elapsed()
                return state
            if on_progress is not None:
                on_progress(state)
            time.sleep(1)
        self.finished = self.elapsed()
        self.note(f"timed out: {state}")
        return state

    # ---- the money ---------------------------------------------------------------------------------

    def checks(self) -> dict[str, int]:
        """Each invariant's count of violations (all must be 0)."""
        from django.db.models import Count

        from payments import reconciliation
        from payments.models import Payment, PaymentAttempt
        from payments.sandbox.models import SandboxPaymentIntent
        from retail.models import Sale, SalePayment
        from subscriptions.models import Subscription, SubscriptionCycle

        payments = Payment.objects.filter(account=self.account, purpose=Payment.Purpose.SUBSCRIPTION_CYCLE)
        succeeded = payments.filter(status=Payment.Status.SUCCEEDED)
        cycles = SubscriptionCycle.objects.filter(account=self.account)
        paid = cycles.filter(status=SubscriptionCycle.Status.PAID)
        sale_payments = SalePayment.objects.filter(account=self.account)
        subs = Subscription.objects.filter(account=self.account)
        found = reconciliation.compare(account=self.account)
        self.reconciled = found.payments_checked
        return {
            "idempotency keys charged more than once at the sandbox": SandboxPaymentIntent.objects.exclude(
                idempotency_key=""
            )
            .values("idempotency_key")
            .annotate(charges=Count("id"))
            .filter(charges__gt=1)
            .count(),
            "cycles with more than one succeeded payment (double charges)": succeeded.values("purpose_ref")
            .annotate(charges=Count("id"))
            .filter(charges__gt=1)
            .count(),
            "paid cycles without their sale": paid.filter(sale__isnull=True).count(),
            "payments behind more than one sale": sale_payments.exclude(processor_payment_id=None)
            .values("processor_payment_id")
            .annotate(sales=Count("sale_id", distinct=True))
            .filter(sales__gt=1)
            .count(),
            "sales without a succeeded payment": Sale.objects.filter(account=self.account)
            .exclude(pk__in=sale_payments.filter(processor_payment_id__in=succeeded.values("pk")).values("sale_id"))
            .count(),
            "succeeded payments without a paid cycle": succeeded.exclude(purpose_ref__in=paid.values("pk")).count(),
            "failed payments charged at the sandbox": PaymentAttempt.objects.filter(
                payment__in=payments.filter(status=Payment.Status.FAILED),
                kind=PaymentAttempt.Kind.CHARGE,
                idempotency_key__in=SandboxPaymentIntent.objects.filter(status="succeeded").values("idempotency_key"),
            ).count(),
            "subscriptions not billed (missing)": subs.exclude(pk__in=self.declining_ids)
            .exclude(cycles_billed=1)
            .count(),
            "subscriptions billed more than once": subs.filter(cycles_billed__gt=1).count(),
            "declined subscriptions billed, or without their failed cycle": subs.filter(pk__in=self.declining_ids)
            .exclude(cycles_billed=0, status=Subscription.Status.OVERDUE)
            .count()
            + len(self.declining_ids)
            - cycles.filter(subscription_id__in=self.declining_ids, status=SubscriptionCycle.Status.FAILED).count(),
            "payments still pending": payments.filter(status=Payment.Status.PENDING).count(),
            "reconciliation discrepancies (payments.reconciliation)": len(found.discrepancies),
        }

    def counts(self) -> dict[str, int]:
        from payments.models import Payment
        from payments.sandbox.models import SandboxPaymentIntent
        from retail.models import Sale

        payments = Payment.objects.filter(account=self.account, purpose=Payment.Purpose.SUBSCRIPTION_CYCLE)
        return {
            "subscriptions": self.n,
            "… of which with a card the processor declines": self.declining,
            "payments (tries)": payments.count(),
            "payments succeeded": payments.filter(status=Payment.Status.SUCCEEDED).count(),
            "payments failed": payments.filter(status=Payment.Status.FAILED).count(),
            "sandbox charges": SandboxPaymentIntent.objects.count(),
            "sales": Sale.objects.filter(account=self.account).count(),
            "payments compared by the reconciliation": self.reconciled,
        }

    def log_lines(self, text: str) -> int:
        """How many lines of the workers' logs contain `text`."""
        return sum(
            text in line
            for path in self.workdir.glob("worker*.log")
            for line in path.read_text(errors="replace").splitlines()
        )

    def report(self, title: str, extra: dict | None = None) -> int:
        """Print the figure; 0 when every invariant holds, 1 otherwise."""
        from django.db import connection

        connection.close()
        problems = self.checks()
        print(
            f"\n{title}: {self.n} subscriptions, {self.worker_count} × `celery worker --pool prefork "
            f"--concurrency {self.concurrency}` + beat, billed in {self.finished:.0f} s; "
            f"load average at the end {_loadavg()}"
        )
        print("| What | Count |\n|---|---|")
        for name, value in {**self.counts(), **(extra or {})}.items():
            print(f"| {name} | {value} |")
        for name, value in problems.items():
            print(f"| {name} | **{value}** |")
        failed = [name for name, value in problems.items() if value]
        print("OK: every invariant holds" if not failed else f"FAILED: {', '.join(failed)}", flush=True)
        if failed:
            self.keep_logs = True
            print(f"(the workers' logs are kept in {self.workdir})")
        return 1 if failed else 0
