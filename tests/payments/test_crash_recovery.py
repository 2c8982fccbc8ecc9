"""A process killed between our row and the processor's answer: the processor has charged, we never
heard. Reconciliation settles the payment from the processor's record of our key, the late webhook
changes nothing, and the card is charged exactly once."""

import datetime
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from payments.models import Payment, WebhookEvent
from payments.sandbox import services as processor
from payments.sandbox.events import events_deliver_pending
from payments.sandbox.models import SandboxEvent, SandboxPaymentIntent
from payments.services.charges import payment_create
from retail.models import Sale
from tests.jobs.workers import subprocess_database_url
from tests.retail import report_factories as rf

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]

# Runs in another process: charges the payment, and the process dies (as under kill -9) the moment the
# processor has recorded the charge, before the answer is back. Its events are held back: the crash
# happens before the processor's webhook reaches us.
CHARGE_THEN_DIE = textwrap.dedent("""
    import os, sys
    import django
    django.setup()
    from payments.gateway import sandbox
    from payments.services.charges import payment_charge

    original = sandbox.SandboxGateway._call

    def call_then_die(self, operation, run):
        result = original(self, operation, run)
        if operation == "create_card_payment":
            os._exit(9)
        return result

    sandbox.SandboxGateway._call = call_then_die
    with sandbox.hold_events():
        payment_charge(payment_id=int(sys.argv[1]))
    sys.exit("the charge should not have come back")
""")


def test_a_charge_killed_before_its_answer_is_settled_once_by_reconciliation(account):
    shop = rf.make_shop(account, cheque=False)
    rf.open_register(shop)
    scarf = rf.product(shop, sku="ECH-1", name="Écharpe", price=2450, rate_bp=2000)
    sale = rf.leave_in_progress(shop, [(scarf, 1)])
    method = processor.payment_method_create(number="4242424242424242", expiry="12/40", cvc="123")["id"]
    payment = payment_create(actor=shop.actor, account=account, amount=2450, currency="EUR",
                             method=Payment.Method.CARD_NOT_PRESENT, mode=Payment.Mode.INTEGRATED,
                             sale_id=sale.pk, payment_method_id=method)

    env = {**os.environ, "DATABASE_URL": subprocess_database_url(), "DJANGO_SETTINGS_MODULE": "posbackoffice.settings"}
    killed = subprocess.run([sys.executable, "-c", CHARGE_THEN_DIE, str(payment.pk)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == 9, killed.stderr

    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING and not payment.processor_payment_id
    assert SandboxPaymentIntent.objects.get().status == "succeeded"  # the processor did charge
    assert Sale.objects.get(pk=sale.pk).status == Sale.Status.OPEN

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2)):
        from payments.tasks import reconcile_payments

        assert reconcile_payments() == 1

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and payment.card_last4 == "4242"
    sale.refresh_from_db()
    assert (sale.status, sale.balance_due) == (Sale.Status.OPEN, 0)  # paid, for the cashier to complete

    # The processor's webhook arrives late: stored, handled, and it changes nothing.
    assert events_deliver_pending() == SandboxEvent.objects.count()
    assert WebhookEvent.objects.filter(type="payment_intent.succeeded").count() == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert SandboxPaymentIntent.objects.count() == 1  # charged exactly once
    assert Sale.objects.get(pk=sale.pk).payments.count() == 1
