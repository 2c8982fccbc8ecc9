"""Pay links benchmarks (issue 10, "Performance"): the pay page's server time and bytes, the PDF invoice's
render time for a 20-line sale, pay-link e-mails (with their PDF) rendered per second on one core, and
optionally e-mails through real Celery worker processes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pbo_paylinks_bench .venv/bin/python bench/paylinks.py [-n 50]
    .venv/bin/python bench/paylinks.py --seeded [--emails 1000 --workers 2 --pool prefork --concurrency 1]

By default it re-creates and migrates the database it is given, builds one shop with a 20-line on-account
sale and its link through the services. With --seeded it uses the bench database `make -C bench seed` made
(pos_bench, 1,000,000 sales; nothing is dropped): online payments are switched on for its shop and a link is
sent for its newest on-account sale. It then measures in this process (Django's test client: server time, no
network). With --emails N it also starts its own redis-server and `celery worker` processes (tests/jobs's
helpers) and times N pay-link e-mails, rendered with their PDF, queued in the outbox and delivered (to files),
from their publication to the last delivery. Prints a Markdown table."""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_DATABASE_URL, OWNER_EMAIL, ROOT, setup_django  # noqa: E402


def _database():
    import psycopg

    name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def _shop():
    from paylinks.services import pay_link_send, paylink_settings_update
    from tests.factories import AccountFactory
    from tests.retail.report_factories import customer, make_shop, open_register, product, sell

    account = AccountFactory(name=f"Bench liens {time.time_ns()}")
    shop = make_shop(account, cheque=False)
    open_register(shop)
    items = [(product(shop, sku=f"B-{n}", name=f"Article de démonstration n° {n}", price=1000 + n * 37,
                      rate_bp=2000), 1 + n % 3) for n in range(20)]
    sale = sell(shop, items, payments=[], buyer=customer(shop, email="bench@example.test"), on_account=True)
    paylink_settings_update(actor=shop.actor, account=account, online_payments_enabled=True, reminder_days=None)
    return shop, pay_link_send(actor=shop.actor, account=account, sale_id=sale.pk, email="bench@example.test")


def _seeded_shop():
    """The shop `make -C bench seed` made: online payments on, a link for its newest on-account sale."""
    from accounts.models import Membership
    from paylinks.services import pay_link_send, paylink_settings_update
    from retail.models import Sale

    membership = Membership.objects.select_related("account", "user").get(user__email=OWNER_EMAIL)
    account, owner = membership.account, membership.user
    paylink_settings_update(actor=owner, account=account, online_payments_enabled=True, reminder_days=None)
    sale = Sale.objects.filter(account=account, status=Sale.Status.ON_ACCOUNT).order_by("-pk").first()
    return pay_link_send(actor=owner, account=account, sale_id=sale.pk, email="bench@example.test")


def _through_workers(link, *, emails: int, workers: int, pool: str, concurrency: int) -> dict:
    """`emails` receipt e-mails of the link through `workers` real `celery worker` processes on a redis-server
    of our own: published at once, timed until the last is delivered (rendered with its PDF, queued in the
    outbox, then sent by the outbox's own task, on the same workers)."""
    from accounts.models import OutgoingEmail
    from paylinks.availability import email_row
    from paylinks.models import PayLinkEmail
    from paylinks.tasks import send_pay_link_email
    from posbackoffice import jobs
    from tests.jobs.workers import RedisServer, WorkerProcess, celery_app_on, eventually

    workdir = ROOT / "var" / "bench" / f"paylinks-workers-{time.time_ns()}"
    redis = RedisServer(workdir / "redis")
    redis.start()
    started = [WorkerProcess(redis, workdir, concurrency=concurrency, pool=pool) for _ in range(workers)]
    logs = [worker.log for worker in started]

    def run(count: int, timeout: float) -> float:
        rows = [email_row(link, PayLinkEmail.Kind.RECEIPT).pk for _ in range(count)]
        begun = time.perf_counter()
        for pk in rows:
            jobs.publish(send_pay_link_email, pk)

        def delivered():
            done = PayLinkEmail.objects.filter(pk__in=rows, email__isnull=False)
            return (done.count() == count
                    and not OutgoingEmail.objects.filter(pk__in=done.values("email_id"))
                    .exclude(status=OutgoingEmail.Status.SENT).exists())

        eventually(delivered, timeout=timeout, what=f"{count} e-mails delivered", logs=logs)
        return time.perf_counter() - begun

    try:
        with celery_app_on(redis.url(1)):
            run(workers * concurrency * 2, timeout=180)  # warm: every process has imported WeasyPrint
            load_before = os.getloadavg()[0]
            seconds = run(emails, timeout=3600)
            load_after = os.getloadavg()[0]
    finally:
        for worker in started:
            worker.kill()
        redis.stop()
    processes = workers * concurrency
    cores = min(os.cpu_count() or 1, processes)
    return {"seconds": seconds, "per_second": emails / seconds, "per_core": emails / seconds / cores,
            "processes": processes, "cores": cores, "load": (load_before, load_after)}


def _percentile(samples, share):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=50)
    parser.add_argument("--seeded", action="store_true", help="use pos_bench as `make -C bench seed` made it")
    parser.add_argument("--emails", type=int, default=0, help="e-mails through real workers (0: none)")
    parser.add_argument("--workers", type=int, default=2, help="`celery worker` processes")
    parser.add_argument("--pool", default="prefork", help="their pool (prefork, threads, solo)")
    parser.add_argument("--concurrency", type=int, default=1, help="each worker's concurrency")
    args = parser.parse_args()
    if args.seeded:
        os.environ.setdefault("DATABASE_URL", BENCH_DATABASE_URL)
    else:
        os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pbo_paylinks_bench")
        _database()
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from paylinks.availability import email_row
    from paylinks.links import link_token
    from paylinks.mailing import invoice_pdf, pay_link_email_run
    from retail.models import Sale

    call_command("migrate", verbosity=0)
    link = _seeded_shop() if args.seeded else _shop()[1]
    sales = Sale.objects.filter(account=link.account).count()
    lines = link.sale.lines.count()
    client = Client(REMOTE_ADDR="198.51.100.1")
    url = reverse("paylinks:pay", kwargs={"token": link_token(link)})
    client.get(url)  # warm
    page_ms, html_bytes = [], 0
    for number in range(args.n):
        started = time.perf_counter()
        response = Client(REMOTE_ADDR=f"198.51.100.{number % 250 + 2}").get(url)
        page_ms.append((time.perf_counter() - started) * 1000)
        html_bytes = len(response.content)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    assets = 0
    import re

    for asset in set(re.findall(r'(?:src|href)="(/static/[^"]+)"', response.content.decode())):
        assets += (ROOT / "static" / asset.removeprefix("/static/")).stat().st_size if \
            (ROOT / "static" / asset.removeprefix("/static/")).exists() else 0
    pdf_ms = []
    for _ in range(max(10, args.n // 2)):
        started = time.perf_counter()
        invoice_pdf(link)
        pdf_ms.append((time.perf_counter() - started) * 1000)
    rows = [email_row(link, "reminder") for _ in range(max(10, args.n // 2))]
    started = time.perf_counter()
    for row in rows:
        pay_link_email_run(email_id=row.pk)
    per_second = len(rows) / (time.perf_counter() - started)
    workers = (_through_workers(link, emails=args.emails, workers=args.workers, pool=args.pool,
                                concurrency=args.concurrency) if args.emails else None)

    print(f"{os.environ['DATABASE_URL'].rsplit('/', 1)[1]}: the shop has {sales:,} sales; the link's sale "
          f"has {lines} lines; load average {os.getloadavg()[0]:.2f}\n")
    print("| What | Target | Measured |\n|---|---|---|")
    print(f"| pay page, server time (n={args.n}, {sales:,} sales) | p95 ≤ 100 ms | "
          f"p50 {statistics.median(page_ms):.1f} ms, "
          f"p95 {_percentile(page_ms, .95):.1f} ms, {len(queries)} SQL statements |")
    print(f"| pay page, bytes (HTML + our CSS/JS, uncompressed) | ≤ 100 KB | {(html_bytes + assets) / 1024:.1f} KB "
          f"({html_bytes / 1024:.1f} KB HTML) |")
    print(f"| PDF invoice, {lines} lines (n={len(pdf_ms)}) | median ≤ 300 ms | "
          f"median {statistics.median(pdf_ms):.0f} ms, "
          f"p95 {_percentile(pdf_ms, .95):.0f} ms |")
    print(f"| pay-link e-mails with their PDF, one core (n={len(rows)}) | report | {per_second:.1f} e-mails/s |")
    if workers:
        print(f"| {args.emails:,} pay-link e-mails with their PDF, {workers['processes']} worker processes "
              f"({args.workers} × `celery worker --pool {args.pool} --concurrency {args.concurrency}`) on "
              f"{workers['cores']} cores | report e-mails/s per core | {workers['seconds']:.1f} s: "
              f"{workers['per_second']:.1f} e-mails/s, {workers['per_core']:.1f} per core (load average "
              f"{workers['load'][0]:.2f} → {workers['load'][1]:.2f}) |")


if __name__ == "__main__":
    main()
