"""Billing run of subscriptions (issue 9, "Performance"): N subscriptions due now, each with a card saved
at the sandbox processor, billed by `subscriptions.billing.bill` — the work of one task — in this one
process, one after the other (the sandbox answers at once, in the same database). It measures renewals
per second, CPU per renewal, SQL statements per renewal, and peak Python memory, then checks that each
subscription was charged once and has exactly one sale.

    .venv/bin/python bench/subscriptions.py --n 2000

Its own database (`pos_bench_subs`, dropped and re-created), unless DATABASE_URL is exported."""

import argparse
import datetime
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pos_bench_subs")

import common  # noqa: E402

common.setup_django()


def seed(n: int):
    import seed as pos_seed
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.addons import SUBSCRIPTIONS
    from accounts.services import account_addon_enable
    from payments.sandbox.models import SandboxCustomer, SandboxPaymentMethod
    from retail.models import Customer, TaxRate
    from retail.services.catalogue import product_create
    from saved_cards.models import SavedCard
    from saved_cards.services import saved_cards_enable
    from subscriptions import services
    from subscriptions.models import Subscription

    pos_seed.recreate_database(os.environ["DATABASE_URL"])
    call_command("migrate", verbosity=0)
    owner, account, registers = pos_seed.create_shop()
    account_addon_enable(actor=owner, account=account, code=SUBSCRIPTIONS)
    saved_cards_enable(actor=owner, account=account, accept_terms=True)
    rate = TaxRate.objects.filter(account=account).first()
    item = product_create(actor=owner, account=account, sku="BOX", name="Box", price=2500, tax_rate_id=rate.pk,
                          track_inventory=False)
    plan = services.plan_create(actor=owner, account=account, name="Box", interval="monthly",
                                lines=[(item.pk, 1, None)])
    now = timezone.now()
    customers = Customer.objects.bulk_create(
        [Customer(account=account, first_name="Client", last_name=f"{i:06d}", email=f"c{i}@bench.test")
         for i in range(n)], batch_size=5000)
    SandboxCustomer.objects.bulk_create([SandboxCustomer(id=f"cus_sbx_b{c.pk}") for c in customers], batch_size=5000)
    SandboxPaymentMethod.objects.bulk_create(
        [SandboxPaymentMethod(id=f"pm_sbx_b{c.pk}", brand="visa", last4="4242", exp_month=12, exp_year=2040,
                              fingerprint=f"fp{c.pk}", customer_id=f"cus_sbx_b{c.pk}", attached_at=now)
         for c in customers], batch_size=5000)
    cards = SavedCard.objects.bulk_create(
        [SavedCard(account=account, customer=c, processor="sandbox", processor_customer_id=f"cus_sbx_b{c.pk}",
                   payment_method_id=f"pm_sbx_b{c.pk}", brand="visa", last4="4242", exp_month=12, exp_year=2040,
                   expires_on=datetime.date(2040, 12, 31), is_default=True, source=SavedCard.Source.PROFILE)
         for c in customers], batch_size=5000)
    register = registers[0]
    Subscription.objects.bulk_create(
        [Subscription(account=account, customer=c, plan=plan, outlet_id=register.outlet_id, register=register,
                      card=card, status=Subscription.Status.ACTIVE, start_date=now.date(),
                      next_billing_date=now.date(), due_at=now, created_by=owner)
         for c, card in zip(customers, cards, strict=True)], batch_size=5000)
    return account


def run(n: int, sample_queries: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from payments.models import Payment
    from retail.models import Sale
    from subscriptions import billing

    started = time.perf_counter()
    account = seed(n)
    print(f"seeded {n} due subscriptions in {time.perf_counter() - started:.1f} s")
    ids = billing.due_ids(limit=n)
    assert len(ids) == n
    with CaptureQueriesContext(connection) as queries:
        for pk in ids[:sample_queries]:
            billing.bill(pk)
    per_renewal = len(queries.captured_queries) / sample_queries
    tracemalloc.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for pk in ids[sample_queries:]:
        billing.bill(pk)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    timed = n - sample_queries
    payments = Payment.objects.filter(account=account, purpose="subscription_cycle")
    sales = Sale.objects.filter(account=account)
    assert payments.count() == n and payments.filter(status="succeeded").count() == n and sales.count() == n
    print(f"| renewals | {timed} |\n| wall | {wall:.1f} s |\n"
          f"| renewals/s (1 process, sequential) | {timed / wall:.0f} |\n"
          f"| CPU of this process per renewal | {1000 * cpu / timed:.1f} ms |\n"
          f"| SQL statements per renewal | {per_renewal:.0f} |\n| peak traced Python memory | {peak / 1e6:.1f} MB |\n"
          f"| max RSS | {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--sample-queries", type=int, default=20)
    options = parser.parse_args()
    run(options.n, options.sample_queries)
