"""Builders for the Finance › Payments tests: Payment rows written straight with the ORM (as the
services leave them once settled), a completed sale to link them to, a stand-in gateway for
refunds, and a snapshot of everything a refused refund must leave untouched."""

import datetime
import itertools
import zoneinfo

from django.utils import timezone

from accounts.models import AuditEvent
from payments.gateway.base import ProcessorRefund
from payments.gateway.errors import GatewayError
from payments.models import Payment, PaymentAttempt, Refund, WebhookEvent
from tests.factories import owner_of
from tests.retail.builders import page_text  # noqa: F401 - the payments tests read pages the same way

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
_numbers = itertools.count(1)


def paris(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime.datetime:
    """A moment in the shop's time zone."""
    return datetime.datetime(year, month, day, hour, minute, tzinfo=PARIS)


def payment(account, *, at: datetime.datetime | None = None, **fields) -> Payment:
    """A settled card payment (succeeded by default) of €12.50 by Visa •••• 4242, for the sale given (or
    nothing), to the shop."""
    number = next(_numbers)
    status = fields.pop("status", Payment.Status.SUCCEEDED)
    values = {
        "amount": 1250, "currency": account.currency, "method": Payment.Method.CARD_NOT_PRESENT,
        "mode": Payment.Mode.INTEGRATED, "processor": "sandbox", "processor_payment_id": f"pi_test_{number}",
        "card_brand": "visa", "card_last4": "4242", "card_exp_month": 12, "card_exp_year": 2030,
        "payout_status": Payment.Payout.PENDING if status != Payment.Status.FAILED else Payment.Payout.NONE,
        "created_by": owner_of(account), "created_at": at or timezone.now(),
    }
    values.update(fields)
    values.setdefault("purpose", Payment.Purpose.SALE if values.get("sale") else Payment.Purpose.NONE)
    if status != Payment.Status.PENDING:
        values.setdefault("settled_at", values["created_at"])
    return Payment.objects.create(account=account, status=status, **values)


def completed_sale(account, *, price: int = 1250):
    """A sale completed at a new register (it gets a receipt number), through the real services."""
    from tests.retail.report_factories import make_shop, open_register, product, sell

    shop = make_shop(account, cheque=False)
    open_register(shop)
    item = product(shop, sku=f"PAY-{shop.register.pk}", name="Article", price=price, rate_bp=2000)
    return sell(shop, [(item, 1)])


def charge_attempt(payment: Payment, *, at: datetime.datetime, outcome=PaymentAttempt.Outcome.SUCCEEDED,
                   tries: int = 1) -> PaymentAttempt:
    return PaymentAttempt.objects.create(
        account=payment.account, payment=payment, kind=PaymentAttempt.Kind.CHARGE,
        idempotency_key=f"payment-{payment.pk}-charge", request={"amount": payment.amount}, outcome=outcome,
        tries=tries, created_at=at, finished_at=at)


def webhook_event(payment: Payment, *, at: datetime.datetime, type: str = "payment_intent.succeeded",
                  outcome: str = "payment succeeded") -> WebhookEvent:
    return WebhookEvent.objects.create(
        processor=payment.processor, event_id=f"evt_test_{next(_numbers)}", type=type,
        payload={"type": type}, account=payment.account, payment=payment, received_at=at, processed_at=at,
        outcome=outcome)


class FakeGateway:
    """What payments.services needs from the processor to refund: `refund(...)`. Answers with
    `status` ("succeeded", "pending", "failed"), or raises `error`; remembers every call."""

    name = "sandbox"

    def __init__(self, status: str = "succeeded", error: GatewayError | None = None):
        self.status, self.error, self.calls = status, error, []

    def refund(self, *, payment_id: str, amount: int, idempotency_key: str, reason: str = "") -> ProcessorRefund:
        self.calls.append({"payment_id": payment_id, "amount": amount, "idempotency_key": idempotency_key,
                           "reason": reason})
        if self.error is not None:
            raise self.error
        return ProcessorRefund(id=f"re_test_{len(self.calls)}", payment_id=payment_id, amount=amount,
                               status=self.status)


def use_gateway(monkeypatch, gateway: FakeGateway) -> FakeGateway:
    monkeypatch.setattr("payments.services.attempts.get_gateway", lambda payee: gateway)
    return gateway


def payments_state(account) -> dict:
    """Everything a refund could change, for "a refused refund changed nothing"."""
    return {
        "payments": list(Payment.objects.filter(account=account).order_by("pk")
                         .values_list("pk", "status", "amount", "amount_refunded")),
        "refunds": list(Refund.objects.filter(account=account).order_by("pk").values_list("pk", "status", "amount")),
        "attempts": PaymentAttempt.objects.filter(account=account).count(),
        "audit": AuditEvent.objects.filter(account=account).count(),
    }



def card(number: str = "4242424242424242") -> str:
    """What the browser's card entry hands us for a test card: the sandbox's payment method id."""
    from payments.sandbox import services as processor

    return processor.payment_method_create(number=number, expiry="12/40", cvc="123")["id"]
