"""N subscriptions due now, each with a card saved at the sandbox processor, in a new database: what the
billing benchmark (subscriptions.py) and the fault scripts (faults/) bill. Django must be set up; the
database of DATABASE_URL is dropped and re-created."""

import datetime
import os


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
    item = product_create(
        actor=owner, account=account, sku="BOX", name="Box", price=2500, tax_rate_id=rate.pk, track_inventory=False
    )
    plan = services.plan_create(
        actor=owner, account=account, name="Box", interval="monthly", lines=[(item.pk, 1, None)]
    )
    now = timezone.now()
    customers = Customer.objects.bulk_create(
        [
            Customer(account=account, first_name="Client", last_name=f"{i:06d}", email=f"c{i}@bench.test")
            for i in range(n)
        ],
        batch_size=5000,
    )
    SandboxCustomer.objects.bulk_create([SandboxCustomer(id=f"cus_sbx_b{c.pk}") for c in customers], batch_size=5000)
    SandboxPaymentMethod.objects.bulk_create(
        [
            SandboxPaymentMethod(
                id=f"pm_sbx_b{c.pk}",
                brand="visa",
                last4="4242",
                exp_month=12,
                exp_year=2040,
                fingerprint=f"fp{c.pk}",
                customer_id=f"cus_sbx_b{c.pk}",
                attached_at=now,
            )
            for c in customers
        ],
        batch_size=5000,
    )
    cards = SavedCard.objects.bulk_create(
        [
            SavedCard(
                account=account,
                customer=c,
                processor="sandbox",
                processor_customer_id=f"cus_sbx_b{c.pk}",
                payment_method_id=f"pm_sbx_b{c.pk}",
                brand="visa",
                last4="4242",
                exp_month=12,
                exp_year=2040,
                expires_on=datetime.date(2040, 12, 31),
                is_default=True,
                source=SavedCard.Source.PROFILE,
            )
            for c in customers
        ],
        batch_size=5000,
    )
    register = registers[0]
    Subscription.objects.bulk_create(
        [
            Subscription(
                account=account,
                customer=c,
                plan=plan,
                outlet_id=register.outlet_id,
                register=register,
                card=card,
                status=Subscription.Status.ACTIVE,
                start_date=now.date(),
                next_billing_date=now.date(),
                due_at=now,
                created_by=owner,
            )
            for c, card in zip(customers, cards, strict=True)
        ],
        batch_size=5000,
    )
    return account
