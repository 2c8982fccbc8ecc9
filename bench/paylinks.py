"""Pay links benchmarks (issue 10, "Performance"): the pay page's server time and bytes, the PDF invoice's
render time for a 20-line sale, and pay-link e-mails (with their PDF) rendered per second on one core.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pbo_paylinks_bench .venv/bin/python bench/paylinks.py [-n 50]

It re-creates and migrates the database it is given, builds one shop with a 20-line on-account sale
and its link through the services, then measures in this process (Django's test client: server time, no
network). Prints a Markdown table."""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pbo_paylinks_bench")

from bench.common import ROOT, setup_django  # noqa: E402


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


def _percentile(samples, share):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=50)
    args = parser.parse_args()
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

    call_command("migrate", verbosity=0)
    shop, link = _shop()
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

    print("| What | Target | Measured |\n|---|---|---|")
    print(f"| pay page, server time (n={args.n}) | p95 ≤ 100 ms | p50 {statistics.median(page_ms):.1f} ms, "
          f"p95 {_percentile(page_ms, .95):.1f} ms, {len(queries)} SQL statements |")
    print(f"| pay page, bytes (HTML + our CSS/JS, uncompressed) | ≤ 100 KB | {(html_bytes + assets) / 1024:.1f} KB "
          f"({html_bytes / 1024:.1f} KB HTML) |")
    print(f"| PDF invoice, 20 lines (n={len(pdf_ms)}) | median ≤ 300 ms | median {statistics.median(pdf_ms):.0f} ms, "
          f"p95 {_percentile(pdf_ms, .95):.0f} ms |")
    print(f"| pay-link e-mails with their PDF, one core (n={len(rows)}) | report | {per_second:.1f} e-mails/s |")


if __name__ == "__main__":
    main()
