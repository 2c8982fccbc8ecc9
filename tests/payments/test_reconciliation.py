"""`manage.py reconcile`: our payments and refunds compared with the processor's records (the sandbox's, through
the gateway's list operations), each discrepancy listed, the last result shown to the owner in Finance ›
Payments. The randomized integrity test (tests/integrity/) runs the same comparison after every step."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts import permissions as perms
from accounts.models import AuditEvent
from payments.models import Payment, ReconciliationReport, Refund
from payments.reconciliation import Kind, compare
from payments.sandbox import services as processor
from payments.sandbox.models import SandboxPaymentIntent
from payments.services.charges import payment_charge, payment_create
from payments.services.refunds import payment_refund, refund_create, refund_send
from tests.factories import member, owner_of
from tests.payments.builders import page_text

pytestmark = pytest.mark.django_db


def card_payment(account, amount=2000, number="4242424242424242") -> Payment:
    """A card payment taken through the services (our row, then the sandbox processor)."""
    method = processor.payment_method_create(number=number, expiry="12/40", cvc="123")["id"]
    payment = payment_create(actor=owner_of(account), account=account, amount=amount, currency="EUR",
                             method=Payment.Method.CARD_NOT_PRESENT, mode=Payment.Mode.ONLINE,
                             payment_method_id=method)
    return payment_charge(payment_id=payment.pk)


def reconcile(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("reconcile", *args, stdout=out)
    except SystemExit as exit:
        return exit.code, out.getvalue()
    return 0, out.getvalue()


def test_records_that_match_the_processor_have_no_discrepancy(account):
    paid = card_payment(account, 2000)
    payment_refund(actor=owner_of(account), account=account, payment_id=paid.pk, amount=500)
    card_payment(account, 700, number="4000000000000002")  # declined: failed here, not paid there

    code, out = reconcile()

    assert code == 0 and "2 payments and 1 refunds compared, 0 in flight, 0 discrepancies." in out
    report = ReconciliationReport.objects.get(account=account)
    assert (report.payments_checked, report.refunds_checked, report.discrepancies) == (2, 1, [])
    assert AuditEvent.objects.filter(account=account, action="payment.reconciled").count() == 1


def test_each_difference_is_listed_and_stored(account, other_account):
    amount_changed = card_payment(account, 2000)
    Payment.objects.filter(pk=amount_changed.pk).update(amount=2100)
    said_failed = card_payment(account, 1500)
    Payment.objects.filter(pk=said_failed.pk).update(status=Payment.Status.FAILED)
    refunded_behind_our_back = card_payment(account, 3000)
    processor.refund_create(payment_intent_id=refunded_behind_our_back.processor_payment_id, amount=1000,
                            idempotency_key="made-at-the-processor")
    unknown = processor.payment_intent_create(
        amount=900, currency="EUR", customer_id="", off_session=False, idempotency_key="not-ours",
        payment_method_id=processor.payment_method_create(number="4242424242424242", expiry="12/40", cvc="123")["id"],
        metadata={"account": str(account.pk)})
    card_payment(other_account, 800)  # the other shop's, matching: nothing listed for it

    code, out = reconcile("--account", str(account.pk))

    found = {(item.kind, item.payment_id) for item in compare(account=account).discrepancies}
    assert found == {(Kind.AMOUNT, amount_changed.pk), (Kind.PAID_AT_PROCESSOR, said_failed.pk),
                     (Kind.REFUNDED, refunded_behind_our_back.pk), (Kind.UNKNOWN_REFUND, refunded_behind_our_back.pk),
                     (Kind.UNKNOWN_PAYMENT, None)}
    assert code == 1 and "5 discrepancies" in out and unknown["id"] in out
    assert f"amount: account {account.pk}, payment {amount_changed.pk}" in out
    assert len(ReconciliationReport.objects.get(account=account).discrepancies) == 5
    assert not ReconciliationReport.objects.filter(account=other_account).exists()


def test_pending_payments_and_refunds_are_in_flight_not_discrepancies(account):
    from payments.gateway import sandbox

    paid = card_payment(account, 2000)
    refund = refund_create(actor=None, account=account, payment_id=paid.pk, amount=400)
    with sandbox.faults("after", operation="refund", times=None), sandbox.hold_events():
        refund_send(refund_id=refund.pk)  # the processor refunded; the answer was lost
    method = processor.payment_method_create(number="4242424242424242", expiry="12/40", cvc="123")["id"]
    lost = payment_create(actor=None, account=account, amount=600, currency="EUR", payment_method_id=method,
                          method=Payment.Method.CARD_NOT_PRESENT, mode=Payment.Mode.ONLINE)
    with sandbox.faults("after", operation="create_card_payment", times=None), sandbox.hold_events():
        payment_charge(payment_id=lost.pk)

    assert Refund.objects.get(pk=refund.pk).status == Refund.Status.PENDING
    assert Payment.objects.get(pk=lost.pk).status == Payment.Status.PENDING
    result = compare(account=account)
    assert (result.in_flight, result.discrepancies) == (2, [])


def test_since_leaves_older_records_out(account):
    with time_machine.travel(timezone.now() - datetime.timedelta(days=5)):
        old = card_payment(account, 1000)
    Payment.objects.filter(pk=old.pk).update(amount=1100)  # differs, but before the date asked
    card_payment(account, 500)
    since = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()

    code, out = reconcile("--account", str(account.pk), "--since", since)

    assert code == 0 and "1 payments and 0 refunds compared" in out
    assert reconcile("--account", str(account.pk))[0] == 1


def test_a_double_charge_for_one_payment_is_found(account):
    paid = card_payment(account, 1200)
    twin = SandboxPaymentIntent.objects.get(id=paid.processor_payment_id)
    twin.pk, twin.idempotency_key = "pi_sbx_twin", "another-key"
    twin.save(force_insert=True)  # as if a retry had been sent with another key

    assert [item.kind for item in compare(account=account).discrepancies] == [Kind.CHARGED_TWICE]


def test_bad_arguments_are_refused_with_a_message(account):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="No account"):
        call_command("reconcile", "--account", "999999")
    with pytest.raises(CommandError, match="--since takes a date"):
        call_command("reconcile", "--since", "yesterday")


def test_the_owner_sees_the_last_result_in_finance_payments_and_a_manager_does_not(client, account):
    paid = card_payment(account, 2000)
    Payment.objects.filter(pk=paid.pk).update(amount=2500)
    reconcile("--account", str(account.pk))
    owner = owner_of(account)
    owner.language = "en"
    owner.save(update_fields=["language"])

    client.force_login(owner)
    page = client.get(reverse("payments:list"))

    text = page_text(page)
    assert "Check against the processor" in text and "1 discrepancy" in text and "Amounts differ" in text
    assert reverse("payments:detail", args=[paid.pk]) in page.content.decode()

    client.force_login(member(account, perms.MANAGER, language="en"))
    page = client.get(reverse("payments:list"))
    assert page.status_code == 200 and "Check against the processor" not in page_text(page)
