"""Card readers (issue 11, "Performance"): one worker drives 50 simulated WisePOS E taking payments at
once. Each reader gets a sale's card payment (sent by the cashier's request, as the sell screen does); then
50 cards are presented at the same moment, from 50 threads, as 50 customers would. The reader's result is
at the processor when `reader_present_card` returns; from then on nothing in this process drives anything:
the processor's webhook events go to one Celery worker (threads pool), which settles the payments and the
reader actions. Measured per reader: from the reader's result to our row saying "approved" (read every
20 ms), plus the sell screen's polling interval (its status part asks every 500 ms: at worst that much
more). Then: every payment succeeded once, one PaymentIntent per payment, one card payment on each sale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pos_bench_terminal .venv/bin/python bench/terminal_readers.py
(the database is created if missing; Redis from REDIS_URL / CELERY_BROKER_URL, or the bench defaults)."""

import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pos_bench_terminal")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"

from bench.common import ROOT, setup_django  # noqa: E402

READERS = int(os.environ.get("BENCH_READERS", "50"))  # 1: the same path without any contention
POLLING_SECONDS = 0.5  # the sell screen's status part (terminal/templates/terminal/sell_card_status.html)
# The one worker's pool (BENCH_POOL=prefork BENCH_CONCURRENCY=2: one process per core, no shared GIL).
POOL = os.environ.get("BENCH_POOL", "threads")
CONCURRENCY = os.environ.get("BENCH_CONCURRENCY", "16")


def ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    ensure_database()
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from payments.models import Payment
    from payments.sandbox import terminal as device
    from payments.sandbox.models import SandboxPaymentIntent
    from retail.models import SalePayment
    from terminal import driver, services
    from terminal.models import ReaderAction
    from tests.factories import AccountFactory, UserFactory, owner_of
    from tests.retail import report_factories as rf

    run = f"{time.time():.0f}"
    account = AccountFactory(name=f"Bench readers {run}", owner=UserFactory(email=f"owner-{run}@bench.test"))
    actions = []
    for number in range(READERS):
        shop = rf.make_shop(account, cheque=False)
        rf.open_register(shop)
        scarf = rf.product(shop, sku=f"B-{number}", name="Écharpe", price=2450, rate_bp=2000)
        sale = rf.leave_in_progress(shop, [(scarf, 1)])
        reader = services.reader_register(actor=owner_of(account), account=account, outlet_id=shop.outlet.pk,
                                          register_id=shop.register.pk, registration_code="simulated-wpe",
                                          label=f"Reader {number}")
        action = services.sale_payment_start(actor=shop.actor, account=account, sale_id=sale.pk,
                                             register_id=shop.register.pk)
        actions.append((reader, driver.action_send(action_id=action.pk)))
    assert all(action.status == "in_progress" for _reader, action in actions)

    log = open(ROOT / "var" / "bench-terminal-worker.log", "wb")
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "posbackoffice", "worker", "--pool", POOL,
         "--concurrency", CONCURRENCY, "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--loglevel=WARNING"],
        cwd=ROOT, env=os.environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    time.sleep(12)  # the worker starts and connects to the broker
    start = threading.Barrier(READERS)

    result_at = {}

    def customer(pair):
        reader, action = pair
        start.wait()
        try:
            device.reader_present_card(reader_id=reader.processor_reader_id, number="4242424242424242")
            result_at[action.pk] = time.monotonic()
        finally:
            connection.close()

    shown_at = {}
    try:
        with ThreadPoolExecutor(READERS) as pool:
            list(pool.map(customer, actions))
            deadline = time.monotonic() + 60
            # One reader of our rows (as the sell screens' polling reads them), every 20 ms.
            while len(shown_at) < READERS and time.monotonic() < deadline:
                done = ReaderAction.objects.filter(pk__in=[a.pk for _r, a in actions], status="succeeded") \
                    .values_list("pk", flat=True)
                now = time.monotonic()
                for pk in done:
                    shown_at.setdefault(pk, now)
                time.sleep(0.02)
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=20)
    latencies = [shown_at[pk] - result_at[pk] if pk in shown_at and pk in result_at else None
                 for pk in (a.pk for _r, a in actions)]
    settled = [latency for latency in latencies if latency is not None]
    payments = Payment.objects.filter(account=account)
    keys = [f"payment-{pk}-charge" for pk in payments.values_list("pk", flat=True)]
    print(f"readers {READERS}, worker pool {POOL} x {CONCURRENCY}, settled {len(settled)}")
    if settled:
        p95 = statistics.quantiles(settled, n=20)[-1] if len(settled) > 1 else settled[0]
        print(f"result -> our row: median {statistics.median(settled) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
              f"max {max(settled) * 1000:.0f} ms; with the sell screen's polling (worst case): "
              f"p95 {(p95 + POLLING_SECONDS) * 1000:.0f} ms")
    print(f"payments succeeded {payments.filter(status='succeeded').count()} of {payments.count()}; "
          f"PaymentIntents {SandboxPaymentIntent.objects.filter(idempotency_key__in=keys).count()} for "
          f"{len(keys)} payments; "
          f"card payments on sales {SalePayment.objects.filter(sale__account=account).count()}")


if __name__ == "__main__":
    main()
