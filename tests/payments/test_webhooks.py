"""The processors' webhook endpoints over HTTP: a signed event is stored once and handled; a bad or
stale signature answers 400 and stores nothing; duplicates and events out of order change nothing."""

import datetime
import json
import time

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from payments.gateway import sandbox
from payments.models import Payment, WebhookEvent
from payments.sandbox import services as processor
from payments.sandbox.events import hold_events, payload_bytes, sign
from payments.sandbox.models import SandboxEvent, SandboxPaymentIntent
from payments.services.charges import payment_charge, payment_create
from posbackoffice import jobs
from tests.retail import report_factories as rf

pytestmark = pytest.mark.django_db
URL = "/webhooks/sandbox/"


@pytest.fixture
def pending(account):
    """A card payment whose processor events were held back: the processor charged (4000 0025 0000 3155:
    after the cardholder's confirmation), we have not heard yet. Returns (payment, [its events])."""
    shop = rf.make_shop(account, cheque=False)
    rf.open_register(shop)
    item = rf.product(shop, sku="ECH-1", name="Écharpe", price=2450, rate_bp=2000)
    sale = rf.leave_in_progress(shop, [(item, 1)])
    method = processor.payment_method_create(number="4000002500003155", expiry="12/40", cvc="123")["id"]
    with hold_events():
        payment = payment_create(actor=shop.actor, account=account, amount=2450, currency="EUR",
                                 method=Payment.Method.CARD_NOT_PRESENT, mode=Payment.Mode.INTEGRATED,
                                 sale_id=sale.pk, payment_method_id=method)
        payment = payment_charge(payment_id=payment.pk)
        intent = SandboxPaymentIntent.objects.get()
        processor.payment_intent_authenticate(payment_intent_id=intent.id, client_secret=intent.client_secret,
                                              approve=True)
    assert payment.status == Payment.Status.PENDING and payment.requires_action
    events = list(SandboxEvent.objects.filter(type__startswith="payment_intent.").order_by("pk"))
    assert [e.type for e in events] == ["payment_intent.requires_action", "payment_intent.succeeded"]
    return payment, events


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """POST to a webhook endpoint as the processor does; what the view queues on commit (the handling
    task, eager in tests) runs as it would after a real commit."""
    def send(client, payload: bytes, signature: str, url=URL):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)
    return send


def signed(event) -> tuple[bytes, str]:
    payload = payload_bytes(event)
    return payload, sign(payload, settings.SANDBOX_WEBHOOK_SECRET)


def state(payment):
    payment.refresh_from_db()
    return payment.status, WebhookEvent.objects.count(), AuditEvent.objects.filter(account=payment.account).count()


def test_a_signed_event_is_stored_and_settles_the_payment(client, pending, post):
    payment, (_, succeeded) = pending

    response = post(client, *signed(succeeded))

    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert (stored.event_id, stored.type, stored.outcome) == (succeeded.event_id, "payment_intent.succeeded",
                                                              "payment succeeded")
    assert stored.payment == payment and stored.processed_at is not None
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and payment.sale.balance_due == 0  # paid, still open


@pytest.mark.parametrize("tamper", ["secret", "payload", "missing", "garbage"])
def test_a_bad_signature_answers_400_and_stores_nothing(client, pending, tamper, post):
    payment, (_, succeeded) = pending
    payload, signature = signed(succeeded)
    if tamper == "secret":
        signature = sign(payload, "whsec_someone_else")
    elif tamper == "payload":
        payload = payload.replace(b"succeeded", b"succeedeX", 1)
    elif tamper == "missing":
        signature = ""
    else:
        signature = "t=1,v1=deadbeef"
    before = state(payment)

    response = post(client, payload, signature)

    assert response.status_code == 400
    assert state(payment) == before and not WebhookEvent.objects.exists()


def test_a_replayed_event_older_than_five_minutes_is_refused(client, pending, post):
    payment, (_, succeeded) = pending
    payload = payload_bytes(succeeded)
    before = state(payment)

    response = post(client, payload, sign(payload, settings.SANDBOX_WEBHOOK_SECRET, int(time.time()) - 301))

    assert response.status_code == 400 and state(payment) == before


def test_a_duplicate_changes_nothing_the_second_time(client, pending, post):
    payment, (_, succeeded) = pending
    assert post(client, *signed(succeeded)).status_code == 200
    after_first = state(payment)

    again = post(client, *signed(succeeded))  # Stripe retries; the same event id comes back

    assert again.status_code == 200
    assert state(payment) == after_first
    assert WebhookEvent.objects.filter(event_id=succeeded.event_id).count() == 1


def test_events_out_of_order_never_move_a_payment_backwards(client, pending, post):
    payment, (requires_action, succeeded) = pending

    assert post(client, *signed(succeeded)).status_code == 200
    settled = state(payment)
    assert post(client, *signed(requires_action)).status_code == 200  # the older event, late

    assert state(payment)[0] == Payment.Status.SUCCEEDED
    assert state(payment)[2] == settled[2]  # no audit row: nothing changed
    payment.refresh_from_db()
    assert not payment.requires_action


def test_an_event_we_do_not_handle_is_stored_and_ignored(client, post):
    event = {"id": "evt_sbx_unhandled", "object": "event", "type": "customer.created", "data": {"object": {}}}
    payload = json.dumps(event).encode()

    response = post(client, payload, sign(payload, settings.SANDBOX_WEBHOOK_SECRET))

    assert response.status_code == 200
    assert WebhookEvent.objects.get().outcome == "ignored"


def test_the_stripe_endpoint_checks_with_its_own_secret(client, settings, pending, post):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_stripe_test"
    payment, (_, succeeded) = pending
    payload = payload_bytes(succeeded)

    signed_for_sandbox = post(client, payload, sign(payload, settings.SANDBOX_WEBHOOK_SECRET),
                              url=reverse("webhooks:stripe"))

    assert signed_for_sandbox.status_code == 400 and not WebhookEvent.objects.exists()


def test_the_endpoints_take_only_posts_without_a_csrf_token(client, post):
    assert client.get(URL).status_code == 405
    csrf_client = client.__class__(enforce_csrf_checks=True)
    payload = json.dumps({"id": "evt_sbx_x", "type": "customer.created", "data": {"object": {}}}).encode()
    assert post(csrf_client, payload, sign(payload, settings.SANDBOX_WEBHOOK_SECRET)).status_code == 200


# ---- the stored event is its own outbox (posbackoffice.jobs) --------------------------------------------

def test_an_event_whose_task_was_lost_is_swept_and_handled(client, pending, django_capture_on_commit_callbacks):
    from payments.tasks import sweep_webhook_events

    payment, (_, succeeded) = pending
    payload, signature = signed(succeeded)
    response = client.post(URL, payload, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=signature)  # its enqueue on commit never ran
    stored = WebhookEvent.objects.get()
    assert response.status_code == 200 and stored.processed_at is None

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=1)), \
            django_capture_on_commit_callbacks(execute=True):
        assert sweep_webhook_events() == 1

    stored.refresh_from_db()
    assert stored.outcome == "payment succeeded" and stored.tries == 1
    assert state(payment)[0] == Payment.Status.SUCCEEDED


def test_an_event_the_processor_cannot_confirm_now_is_retried_with_backoff_up_to_its_tries(client, pending, post):
    from payments.webhook_events import webhook_event_handle, webhook_events_due

    payment, (_, succeeded) = pending
    with sandbox.faults("before", operation="retrieve_payment", times=None):
        assert post(client, *signed(succeeded)).status_code == 200
        stored = WebhookEvent.objects.get()
        held_for = (stored.lease_until - timezone.now()).total_seconds()
        assert (stored.processed_at, stored.tries) == (None, 1) and 2 < held_for <= 5  # first backoff: 2.5–5 s
        assert webhook_events_due(timezone.now() + datetime.timedelta(seconds=31)) == [stored.pk]
        for _ in range(WebhookEvent.MAX_TRIES - 1):
            WebhookEvent.objects.update(lease_until=timezone.now())  # its retry is due
            with pytest.raises(jobs.TryLater):
                webhook_event_handle(event_id=stored.pk)

    stored.refresh_from_db()
    assert (stored.processed_at, stored.tries) == (None, WebhookEvent.MAX_TRIES)
    assert webhook_events_due(timezone.now() + datetime.timedelta(hours=1)) == []  # given up: no longer swept
    assert state(payment)[0] == Payment.Status.PENDING  # the reconciliation still settles it
