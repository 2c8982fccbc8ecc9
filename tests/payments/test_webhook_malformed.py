"""A validly signed processor event whose body cannot be read (its object not an object, an amount that is
not a number, metadata that is not a mapping, ...) is recorded as failed with the reason, changes nothing,
and its task ends normally; the owner sees it in Setup › Payments and on the payment's page."""

import json

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import AuditEvent
from payments.models import Payment, Refund, WebhookEvent
from payments.sandbox.events import sign
from payments.services.charges import payment_charge, payment_create
from payments.services.refunds import refund_create
from tests.factories import owner_of
from tests.payments.builders import card
from tests.retail import report_factories as rf
from tests.retail.builders import in_english, page_text

pytestmark = pytest.mark.django_db
URL = "/webhooks/sandbox/"


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """Send an event as the processor does, signed with the sandbox's secret; the handling task (eager in
    tests) runs on commit, so an exception in it would fail the test here."""
    def send(event: dict):
        payload = json.dumps(event).encode()
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, payload, content_type="application/json",
                               HTTP_STRIPE_SIGNATURE=sign(payload, settings.SANDBOX_WEBHOOK_SECRET))
    return send


@pytest.fixture
def paid(account):
    """A card payment of 24,50 € that succeeded, with a refund of 5,00 € asked and not answered yet."""
    shop = rf.make_shop(account, cheque=False)
    rf.open_register(shop)
    item = rf.product(shop, sku="ECH-1", name="Écharpe", price=2450, rate_bp=2000)
    sale = rf.leave_in_progress(shop, [(item, 1)])
    payment = payment_create(actor=shop.actor, account=account, amount=2450, currency="EUR",
                             method=Payment.Method.CARD_NOT_PRESENT, mode=Payment.Mode.INTEGRATED,
                             sale_id=sale.pk, payment_method_id=card())
    payment = payment_charge(payment_id=payment.pk)
    assert payment.status == Payment.Status.SUCCEEDED
    refund = refund_create(actor=shop.actor, account=account, payment_id=payment.pk, amount=500)
    return payment, refund


def event(type_: str, obj, event_id: str = "evt_sbx_malformed1") -> dict:
    return {"id": event_id, "object": "event", "type": type_, "data": {"object": obj}}


def money_state(payment: Payment) -> tuple:
    payment.refresh_from_db()
    return (payment.status, payment.amount_refunded, list(Refund.objects.values_list("status", "amount")),
            AuditEvent.objects.filter(account=payment.account).count())


def test_an_amount_that_is_not_a_number_fails_the_event_with_its_reason(post, paid, client):
    payment, refund = paid
    before = money_state(payment)

    response = post(event("refund.updated", {"id": "re_sbx_x", "object": "refund", "amount": "five euros",
                                             "status": "succeeded", "payment_intent": payment.processor_payment_id,
                                             "metadata": {"refund": str(refund.pk)}}))

    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert (stored.outcome, stored.failure_code) == ("failed", "amount_not_a_number")
    assert stored.processed_at is not None
    assert (stored.account_id, stored.payment_id) == (payment.account_id, payment.pk)
    assert money_state(payment) == before  # the refund is still waiting, nothing moved

    client.force_login(in_english(owner_of(payment.account)))
    setup = page_text(client.get(reverse("payments:setup")))
    assert "Processor events that could not be read" in setup
    assert "refund.updated" in setup and "evt_sbx_malformed1" in setup
    assert "The event's amount is not a number." in setup
    detail = page_text(client.get(reverse("payments:detail", args=[payment.pk])))
    assert "The event's amount is not a number." in detail


@pytest.mark.parametrize("obj,reason", [
    ([1, 2, 3], "object_unreadable"),
    ("pi_sbx_x", "object_unreadable"),
    (None, "object_unreadable"),
    ({"object": "payment_intent", "status": "succeeded"}, "id_missing"),
    ({"id": 42, "object": "payment_intent"}, "id_missing"),
    ({"id": "pi_sbx_x", "metadata": "payment=1"}, "metadata_unreadable"),
])
def test_an_unreadable_payment_event_fails_and_the_task_ends_normally(post, paid, obj, reason):
    payment, _ = paid
    before = money_state(payment)

    response = post(event("payment_intent.succeeded", obj))

    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert (stored.outcome, stored.failure_code, stored.processed_at is not None) == ("failed", reason, True)
    assert money_state(payment) == before


def test_the_owner_of_an_unreadable_event_is_found_from_its_metadata(post, paid, client, other_account):
    payment, _ = paid
    account = payment.account

    post(event("payment_intent.payment_failed", {"id": 7, "metadata": {"payment": str(payment.pk),
                                                                       "account": str(account.pk)}}))
    post(event("payment_intent.payment_failed", {"id": None, "metadata": {"account": str(account.pk)}},
               event_id="evt_sbx_malformed2"))
    post(event("payment_intent.payment_failed", {"metadata": {"payment": "²", "account": "¹"}},
               event_id="evt_sbx_malformed3"))

    assert list(WebhookEvent.objects.order_by("event_id").values_list("event_id", "account_id", "payment_id")) == [
        ("evt_sbx_malformed1", account.pk, payment.pk), ("evt_sbx_malformed2", account.pk, None),
        ("evt_sbx_malformed3", None, None)]
    client.force_login(in_english(owner_of(other_account)))
    elsewhere = page_text(client.get(reverse("payments:setup")))
    assert "Processor events that could not be read" not in elsewhere and "evt_sbx_malformed" not in elsewhere


@pytest.mark.parametrize("body", [
    {"id": 12, "type": "payment_intent.succeeded", "data": {"object": {}}},
    {"id": "evt_sbx_x", "type": ["payment_intent.succeeded"], "data": {"object": {}}},
])
def test_an_event_without_a_textual_id_or_type_is_not_an_event(post, body):
    response = post(body)

    assert response.status_code == 400 and not WebhookEvent.objects.exists()
