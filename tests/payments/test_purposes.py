"""What a payment pays for (Payment.purpose) and who receives it (Payment.payee): the settlement handler
of its purpose is called once, in the settling transaction, whichever of the processor's answer, its
webhook or the reconciliation settles it; a purpose without a handler settles nothing; every processor
call goes to the payee's gateway."""

import json

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import AuditEvent
from payments import settlement
from payments.gateway import MERCHANT, PLATFORM, get_gateway, reset_gateway_cache, sandbox
from payments.gateway.base import PaymentStatus, ProcessorPayment
from payments.gateway.sandbox import SandboxGateway
from payments.gateway.stripe import StripeGateway
from payments.models import Payment, PaymentAttempt, WebhookEvent
from payments.sandbox import events
from payments.sandbox.events import sign
from payments.services.charges import payment_charge, payment_create
from payments.services.reconciling import payment_reconcile
from payments.services.refunds import payment_refund, refund_create, refund_send
from payments.services.settling import payment_settle
from posbackoffice.errors import DomainError
from posbackoffice.registry import NotRegistered, Registry
from retail.models import Sale
from tests.payments.builders import card, charge_attempt, payment

pytestmark = pytest.mark.django_db

SOURCES = ["api", "webhook", "reconciliation"]
PURPOSES = [Payment.Purpose.SALE, Payment.Purpose.SUBSCRIPTION_CYCLE, Payment.Purpose.MERCHANT_INVOICE,
            Payment.Purpose.NONE]
ACCEPTED, DECLINED = "4242424242424242", "4000000000000002"


@pytest.fixture
def handled(monkeypatch):
    """Every purpose's handler replaced by one that records its calls: [(outcome, purpose, payment id)]."""
    calls = []
    registry = Registry("settlement handlers")
    for purpose in Payment.Purpose.values:
        registry.register(purpose, settlement.SettlementHandler(
            succeeded=lambda payment, purpose=purpose: calls.append(("succeeded", purpose, payment.pk)),
            failed=lambda payment, purpose=purpose: calls.append(("failed", purpose, payment.pk))))
    monkeypatch.setattr(settlement, "HANDLERS", registry)
    return calls


def create(shop, purpose, *, sale=None, number=ACCEPTED) -> Payment:
    """A pending card payment of 49,00 € for `purpose` (a sale's payment pays `sale`)."""
    return payment_create(
        actor=shop.actor, account=shop.account, amount=4900, currency="EUR",
        method=Payment.Method.CARD_NOT_PRESENT, mode=Payment.Mode.ONLINE, payment_method_id=card(number),
        sale_id=sale.pk if purpose == Payment.Purpose.SALE else None,
        purpose=None if purpose == Payment.Purpose.SALE else purpose,
        purpose_ref=7 if purpose in Payment.REFERENCED_PURPOSES else None)


def settle_through(source, payment, capture) -> Payment:
    """Charge the payment; its outcome reaches us by `source`. For the webhook and the reconciliation,
    the processor's answer to our call is lost (it did the work), so the payment is still pending until
    that other way tells us."""
    if source == "api":
        return payment_charge(payment_id=payment.pk)
    with events.hold_events(), sandbox.faults("after", operation="create_card_payment", times=None):
        assert payment_charge(payment_id=payment.pk).status == Payment.Status.PENDING
    if source == "webhook":
        with capture(execute=True):
            events.events_deliver_pending()
    else:
        payment_reconcile(payment_id=payment.pk)
    settled = Payment.objects.get(pk=payment.pk)
    [settling] = AuditEvent.objects.filter(object_id=str(payment.pk), action=f"payment.{settled.status}")
    assert settling.after["source"] == source
    return settled


def every_other_answer(payment, capture) -> None:
    """The answers that come after the first: the webhook, the reconciliation, a charge sent again."""
    with capture(execute=True):
        events.events_deliver_pending()
    payment_reconcile(payment_id=payment.pk)
    payment_charge(payment_id=payment.pk)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("purpose", PURPOSES)
def test_the_handler_of_the_purpose_is_called_once_when_the_payment_succeeds(
        shop, cart, handled, purpose, source, django_capture_on_commit_callbacks):
    payment = create(shop, purpose, sale=cart)

    settled = settle_through(source, payment, django_capture_on_commit_callbacks)
    every_other_answer(payment, django_capture_on_commit_callbacks)

    assert settled.status == Payment.Status.SUCCEEDED
    assert handled == [("succeeded", purpose, payment.pk)]


@pytest.mark.parametrize("source", SOURCES)
def test_the_handler_hears_of_a_failed_payment_once(shop, handled, source, django_capture_on_commit_callbacks):
    payment = create(shop, Payment.Purpose.SUBSCRIPTION_CYCLE, number=DECLINED)

    settled = settle_through(source, payment, django_capture_on_commit_callbacks)
    every_other_answer(payment, django_capture_on_commit_callbacks)

    assert settled.status == Payment.Status.FAILED and settled.failure_code == "generic_decline"
    assert handled == [("failed", "subscription_cycle", payment.pk)]


@pytest.mark.parametrize("source", SOURCES)
def test_a_sales_card_payment_is_recorded_on_the_sale_once(shop, cart, source, django_capture_on_commit_callbacks):
    payment = create(shop, Payment.Purpose.SALE, sale=cart)

    settle_through(source, payment, django_capture_on_commit_callbacks)
    every_other_answer(payment, django_capture_on_commit_callbacks)

    cart.refresh_from_db()
    assert [p.processor_payment_id for p in cart.payments.all()] == [payment.pk]
    # Paid, and left open for the cashier's "Complete sale", as after every way of paying.
    assert cart.status == Sale.Status.OPEN and cart.balance_due == 0


def test_a_payment_for_nothing_settles_with_no_side_effect(shop, cart):
    sales_before = list(Sale.objects.order_by("pk").values_list("pk", "status", "paid_total"))
    payment = create(shop, Payment.Purpose.NONE)
    audit_before = set(AuditEvent.objects.values_list("pk", flat=True))

    payment = payment_charge(payment_id=payment.pk)

    assert (payment.status, payment.purpose, payment.sale_id, payment.purpose_ref) == ("succeeded", "none", None, None)
    assert list(Sale.objects.order_by("pk").values_list("pk", "status", "paid_total")) == sales_before
    new_audit = AuditEvent.objects.exclude(pk__in=audit_before)
    assert list(new_audit.values_list("object_type", "action")) == [("payments.payment", "payment.succeeded")]


def _rows(payment):
    return (list(Payment.objects.filter(pk=payment.pk).values()),
            list(PaymentAttempt.objects.filter(payment=payment).values()), AuditEvent.objects.count())


def test_a_purpose_without_a_handler_raises_and_settles_nothing(shop, handled, monkeypatch):
    payment = create(shop, Payment.Purpose.SUBSCRIPTION_CYCLE)
    monkeypatch.setattr(settlement, "HANDLERS", Registry("settlement handlers"))  # nobody settles it now
    before = _rows(payment)
    answer = ProcessorPayment(id="pi_sbx_answer", status=PaymentStatus.SUCCEEDED, amount=4900, currency="EUR")

    with pytest.raises(NotRegistered, match="settlement handlers: nothing is registered under 'subscription_cycle'"):
        payment_settle(payment_id=payment.pk, result=answer)

    assert _rows(payment) == before and handled == []


def test_a_payment_cannot_be_created_for_a_purpose_nobody_settles(shop, monkeypatch):
    """Without its app's handler (subscriptions registers it), no payment for a cycle can be taken."""
    monkeypatch.setattr(settlement, "HANDLERS", Registry("settlement handlers"))
    with pytest.raises(NotRegistered):
        create(shop, Payment.Purpose.SUBSCRIPTION_CYCLE)

    assert not Payment.objects.exists() and not PaymentAttempt.objects.exists()


@pytest.mark.parametrize("arguments", [
    {"purpose": "subscription_cycle"},  # its row is missing
    {"purpose": "none", "purpose_ref": 3},
    {"purpose": "sale"},  # a sale's payment names its sale
    {"purpose": "lottery"},
])
def test_a_purpose_without_what_it_pays_for_is_refused(shop, handled, arguments):
    with pytest.raises(ValueError):
        payment_create(actor=shop.actor, account=shop.account, amount=100, currency="EUR",
                       method=Payment.Method.CARD_NOT_PRESENT, mode=Payment.Mode.ONLINE,
                       payment_method_id=card(), **arguments)

    assert not Payment.objects.exists()


@pytest.mark.parametrize("fields", [
    {"purpose": "sale"},  # no sale
    {"purpose": "none", "purpose_ref": 4},
    {"purpose": "subscription_cycle"},  # no row
    {"purpose": "merchant_invoice", "purpose_ref": 4, "payee": "merchant"},  # the shop paying itself
    {"purpose": "subscription_cycle", "purpose_ref": 4, "payee": "platform"},  # a customer paying us
])
def test_the_database_keeps_purpose_reference_and_payee_consistent(account, fields):
    values = {"amount": 100, "currency": "EUR", "method": "card_not_present", "mode": "online",
              "processor": "sandbox"} | fields
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(account=account, **values)


# ---- payees -----------------------------------------------------------------------------------------

@pytest.fixture
def payees_called(monkeypatch):
    """The payee of every gateway the services and the webhook handling ask for, in order."""
    called = []

    def recording(payee):
        called.append(payee)
        return get_gateway(payee)

    monkeypatch.setattr("payments.services.attempts.get_gateway", recording)
    monkeypatch.setattr("payments.webhook_events.get_gateway", recording)
    return called


def test_what_the_merchant_pays_us_goes_to_the_platforms_processor_account_for_every_call(
        shop, handled, payees_called, django_capture_on_commit_callbacks):
    payment = create(shop, Payment.Purpose.MERCHANT_INVOICE)
    assert (payment.payee, payment.purpose, payment.purpose_ref) == ("platform", "merchant_invoice", 7)

    with events.hold_events(), sandbox.faults("after", operation="create_card_payment", times=None):
        payment_charge(payment_id=payment.pk)  # the charge, its answer lost
    payment_reconcile(payment_id=payment.pk)  # found with our key
    with django_capture_on_commit_callbacks(execute=True):
        events.events_deliver_pending()  # the webhook reads the payment again
    refund_send(refund_id=refund_create(
        actor=shop.actor, account=shop.account, payment_id=payment.pk, amount=900, payee=PLATFORM).pk)

    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PARTIALLY_REFUNDED
    assert len(payees_called) >= 4 and set(payees_called) == {PLATFORM}


def test_the_shops_customers_payments_go_to_the_merchants_account(shop, cart, payees_called):
    payment = payment_charge(payment_id=create(shop, Payment.Purpose.SALE, sale=cart).pk)

    assert (payment.payee, payment.status) == ("merchant", "succeeded") and set(payees_called) == {MERCHANT}


def test_staff_cannot_refund_what_the_shop_paid_the_platform(shop, handled):
    payment = payment_charge(payment_id=create(shop, Payment.Purpose.MERCHANT_INVOICE).pk)

    with pytest.raises(DomainError, match="This payment does not exist."):
        payment_refund(actor=shop.actor, account=shop.account, payment_id=payment.pk, amount=100)

    payment.refresh_from_db()
    assert payment.amount_refunded == 0 and not payment.refunds.exists()


def test_each_payee_has_its_own_processor_account(settings):
    settings.PAYMENTS_GATEWAY = "sandbox"
    settings.PLATFORM_PAYMENTS_GATEWAY = "stripe"
    settings.PLATFORM_STRIPE_SECRET_KEY = "sk_test_platform"
    settings.PLATFORM_STRIPE_PUBLISHABLE_KEY = "pk_test_platform"
    reset_gateway_cache()
    try:
        assert isinstance(get_gateway(MERCHANT), SandboxGateway)
        platform = get_gateway(PLATFORM)
        assert isinstance(platform, StripeGateway) and platform.publishable_key == "pk_test_platform"
        with pytest.raises(ValueError, match="unknown payee 'customer'"):
            get_gateway("customer")
    finally:
        reset_gateway_cache()


# ---- the platform's webhooks --------------------------------------------------------------------------

@pytest.fixture
def stripe_secrets(settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_merchant_account"
    settings.PLATFORM_STRIPE_WEBHOOK_SECRET = "whsec_platform_account"


def receive(client, url_name, event: dict, secret: str, capture):
    payload = json.dumps(event).encode()
    with capture(execute=True):
        return client.post(reverse(url_name), payload, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=sign(payload, secret))


def test_the_platforms_stripe_events_come_to_their_own_endpoint_with_their_own_secret(
        client, stripe_secrets, django_capture_on_commit_callbacks):
    event = {"id": "evt_1SameId", "object": "event", "type": "customer.created", "data": {"object": {}}}

    wrong = receive(client, "webhooks:platform_stripe", event, "whsec_merchant_account",
                    django_capture_on_commit_callbacks)
    assert wrong.status_code == 400 and not WebhookEvent.objects.exists()

    for url_name, secret in (("webhooks:platform_stripe", "whsec_platform_account"),
                             ("webhooks:stripe", "whsec_merchant_account")):
        assert receive(client, url_name, event, secret, django_capture_on_commit_callbacks).status_code == 200
    assert sorted(WebhookEvent.objects.values_list("processor", "payee", "event_id")) == [
        ("stripe", "merchant", "evt_1SameId"), ("stripe", "platform", "evt_1SameId")]


class PlatformAccount:
    """The platform's Stripe account as the webhook handling reads it: the payment has succeeded."""

    def __init__(self):
        self.asked = []

    def retrieve_payment(self, payment_id):
        self.asked.append(payment_id)
        return ProcessorPayment(id=payment_id, status=PaymentStatus.SUCCEEDED, amount=2900, currency="EUR")


def test_only_the_platforms_own_events_settle_what_the_shop_pays_it(
        client, account, stripe_secrets, handled, monkeypatch, django_capture_on_commit_callbacks):
    charge = payment(account, purpose=Payment.Purpose.MERCHANT_INVOICE, purpose_ref=12, payee=Payment.Payee.PLATFORM,
                     status=Payment.Status.PENDING, processor="stripe", processor_payment_id="pi_1Platform",
                     amount=2900)
    charge_attempt(charge, at=charge.created_at, outcome=PaymentAttempt.Outcome.PENDING)
    platform = PlatformAccount()
    monkeypatch.setattr("payments.webhook_events.get_gateway", lambda payee: platform if payee == PLATFORM else None)
    succeeded = {"object": "event", "type": "payment_intent.succeeded",
                 "data": {"object": {"id": "pi_1Platform", "object": "payment_intent"}}}

    receive(client, "webhooks:stripe", succeeded | {"id": "evt_1FromTheShop"}, "whsec_merchant_account",
            django_capture_on_commit_callbacks)
    assert WebhookEvent.objects.get(payee="merchant").outcome == "unknown payment"
    assert Payment.objects.get(pk=charge.pk).status == Payment.Status.PENDING and handled == []

    receive(client, "webhooks:platform_stripe", succeeded | {"id": "evt_1FromThePlatform"}, "whsec_platform_account",
            django_capture_on_commit_callbacks)
    assert WebhookEvent.objects.get(payee="platform").outcome == "payment succeeded"
    assert Payment.objects.get(pk=charge.pk).status == Payment.Status.SUCCEEDED
    assert platform.asked == ["pi_1Platform"] and handled == [("succeeded", "merchant_invoice", charge.pk)]
