"""The sandbox's events: Stripe-shaped, stored, signed exactly like Stripe's and delivered once the
change that emitted them is committed."""

import hmac
import json

import pytest
import stripe
from django.conf import settings

from payments.gateway.errors import CardDeclined
from payments.gateway.sandbox import SandboxGateway
from payments.sandbox import events, services
from payments.sandbox.models import SandboxEvent
from posbackoffice.registry import Registry

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway():
    return SandboxGateway()


def receivers(monkeypatch, **receiver) -> None:
    """The sandbox's receivers replaced by these (none: nobody subscribed)."""
    monkeypatch.setattr(events, "RECEIVERS", Registry("sandbox event receivers"))
    for key, function in receiver.items():
        events.RECEIVERS.register(key, function)


@pytest.fixture
def received(monkeypatch):
    """What a receiver registered with the sandbox (payments' webhook handling) would have been given."""
    calls = []
    receivers(monkeypatch, test=lambda payload, signature: calls.append((payload, signature)))
    return calls


def card(number="4242424242424242") -> str:
    return services.payment_method_create(number=number, expiry="12/40", cvc="123")["id"]


def types() -> list[str]:
    return list(SandboxEvent.objects.values_list("type", flat=True))


def test_events_are_delivered_after_commit_signed_like_stripe(gateway, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        payment = gateway.create_card_payment(amount=1200, currency="EUR", payment_method_id=card(),
                                              idempotency_key="k1", metadata={"payment": "41"})
    assert received == []  # nothing before the commit

    for callback in pending:
        callback()

    [(payload, signature)] = received
    assert isinstance(payload, bytes)
    stripe.WebhookSignature.verify_header(payload.decode(), signature, settings.SANDBOX_WEBHOOK_SECRET, tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(payload.decode(), signature, "whsec_other", tolerance=300)
    event = json.loads(payload)
    assert event["id"].startswith("evt_sbx_") and event["type"] == "payment_intent.succeeded"
    assert isinstance(event["created"], int) and event["object"] == "event"
    obj = event["data"]["object"]
    assert obj | {"created": 0, "client_secret": ""} == obj | {
        "id": payment.id, "object": "payment_intent", "status": "succeeded", "amount": 1200, "currency": "eur",
        "metadata": {"payment": "41"}, "created": 0, "client_secret": ""}
    assert SandboxEvent.objects.get().delivered_at is not None


def test_every_state_change_emits_its_event(gateway, received):
    customer = gateway.create_customer(email="a@example.test", name="A", idempotency_key="c")
    gateway.update_customer(customer.id, email="b@example.test", name="B")
    setup = gateway.start_card_setup(customer_id=customer.id, idempotency_key="s")
    services.setup_intent_confirm(setup_id=setup.id, client_secret=setup.client_secret,
                                  payment_method_id=card("4000002500003155"))
    services.setup_intent_authenticate(setup_id=setup.id, client_secret=setup.client_secret, approve=True)
    method = gateway.finish_card_setup(setup.id).payment_method_id
    paid = gateway.create_card_payment(amount=1000, currency="EUR", payment_method_id=card(), idempotency_key="p")
    with pytest.raises(CardDeclined):
        gateway.create_card_payment(amount=1000, currency="EUR", payment_method_id=card("4000000000000002"),
                                    idempotency_key="d")
    confirm = gateway.create_card_payment(amount=500, currency="EUR", payment_method_id=card("4000002500003155"),
                                          idempotency_key="3ds")
    services.payment_intent_authenticate(payment_intent_id=confirm.id, client_secret=confirm.client_secret,
                                         approve=True)
    gateway.refund(payment_id=paid.id, amount=400, idempotency_key="r")
    gateway.detach_card(method)

    assert types() == [
        "customer.created", "customer.updated", "setup_intent.requires_action", "payment_method.attached",
        "setup_intent.succeeded", "payment_intent.succeeded", "payment_intent.payment_failed",
        "payment_intent.requires_action", "payment_intent.succeeded", "refund.created", "charge.refunded",
        "payment_method.detached",
    ]
    by_type = {event.type: event.payload["data"] for event in SandboxEvent.objects.all()}
    refund = by_type["refund.created"]["object"]
    assert (refund["object"], refund["amount"], refund["status"], refund["payment_intent"]) == (
        "refund", 400, "succeeded", paid.id)
    charge = by_type["charge.refunded"]["object"]
    assert (charge["amount_refunded"], charge["refunded"], charge["payment_intent"]) == (400, False, paid.id)
    failed = by_type["payment_intent.payment_failed"]["object"]
    assert failed["status"] == "requires_payment_method"
    assert failed["last_payment_error"]["decline_code"] == "generic_decline"
    assert by_type["payment_method.detached"]["previous_attributes"] == {"customer": customer.id}


def test_a_replayed_request_emits_nothing_new(gateway, received):
    method = card()
    gateway.create_card_payment(amount=1000, currency="EUR", payment_method_id=method, idempotency_key="same")
    gateway.create_card_payment(amount=1000, currency="EUR", payment_method_id=method, idempotency_key="same")
    assert types() == ["payment_intent.succeeded"]


def test_held_events_are_delivered_later_in_order(gateway, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), events.hold_events():
        payment = gateway.create_card_payment(amount=1000, currency="EUR", payment_method_id=card(),
                                              idempotency_key="held")
        gateway.refund(payment_id=payment.id, amount=1000, idempotency_key="held-refund")
    assert received == [] and SandboxEvent.objects.filter(delivered_at__isnull=True).count() == 3

    assert events.events_deliver_pending() == 3

    assert [json.loads(payload)["type"] for payload, _ in received] == [
        "payment_intent.succeeded", "refund.created", "charge.refunded"]
    assert events.events_deliver_pending() == 0


def test_a_failing_receiver_does_not_break_the_processor(gateway, monkeypatch, django_capture_on_commit_callbacks):
    def broken(payload, signature):
        raise RuntimeError("webhook handling is down")

    receivers(monkeypatch, broken=broken)
    with django_capture_on_commit_callbacks(execute=True):
        payment = gateway.create_card_payment(amount=1000, currency="EUR", payment_method_id=card(),
                                              idempotency_key="k")

    assert gateway.retrieve_payment(payment.id).status == "succeeded"
    event = SandboxEvent.objects.get()
    assert event.delivered_at is None and event.delivery_error == "RuntimeError"


def test_without_a_receiver_events_wait(gateway, monkeypatch, django_capture_on_commit_callbacks):
    receivers(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        gateway.create_card_payment(amount=1000, currency="EUR", payment_method_id=card(), idempotency_key="k")

    assert SandboxEvent.objects.get().delivered_at is None


def test_the_signature_is_stripes():
    payload = b'{"id":"evt_sbx_1"}'
    header = events.sign(payload, "whsec_test", timestamp=1_700_000_000)
    assert header == "t=1700000000,v1=" + hmac.new(b"whsec_test", b"1700000000." + payload, "sha256").hexdigest()
    stripe.WebhookSignature.verify_header(payload.decode(), events.sign(payload, "whsec_test"), "whsec_test",
                                          tolerance=300)


def test_events_reach_our_webhook_handling(gateway, django_capture_on_commit_callbacks):
    """The real receiver (payments.webhooks) verifies the signature with the code it uses for Stripe."""
    from payments.models import WebhookEvent

    with django_capture_on_commit_callbacks(execute=True):
        payment = gateway.create_card_payment(amount=1000, currency="EUR", payment_method_id=card(),
                                              idempotency_key="k")

    stored = WebhookEvent.objects.get(processor="sandbox")
    assert stored.type == "payment_intent.succeeded" and stored.payload["data"]["object"]["id"] == payment.id
    assert SandboxEvent.objects.get().delivered_at is not None


def test_every_receiver_registered_with_the_sandbox_gets_each_event_until_all_accepted_it(
        gateway, monkeypatch, django_capture_on_commit_callbacks):
    """Like Stripe with several endpoints: an event refused by one receiver is sent again later."""
    first, second, refusing = [], [], [True]

    def flaky(payload, signature):
        second.append(json.loads(payload)["type"])
        if refusing[0]:
            raise ConnectionError("endpoint down")

    receivers(monkeypatch, first=lambda payload, signature: first.append(json.loads(payload)["type"]), second=flaky)
    with django_capture_on_commit_callbacks(execute=True):
        gateway.create_card_payment(amount=1000, currency="EUR", payment_method_id=card(), idempotency_key="k")
    assert first == second == ["payment_intent.succeeded"]
    assert SandboxEvent.objects.get().delivered_at is None

    refusing[0] = False
    assert events.events_deliver_pending() == 1

    assert len(first) == len(second) == 2 and SandboxEvent.objects.get().delivered_at is not None
