"""The sandbox processor's confirm endpoints: an intent waiting for the cardholder's answer. The
sandbox is the processor, not a merchant: its objects belong to no account."""

from payments.sandbox import services

NEEDS_AUTHENTICATION = "4000002500003155"


def _card() -> str:
    return services.payment_method_create(number=NEEDS_AUTHENTICATION, expiry="12/40", cvc="123")["id"]


def _payment_intent(account):
    intent = services.payment_intent_create(amount=1000, currency=account.currency, payment_method_id=_card(),
                                            off_session=False, idempotency_key=f"url-walk-payment-{account.pk}")
    return {"intent_id": intent["id"]}


def _setup_intent(account):
    customer = services.customer_create(email="walk@example.test", name="Walk", metadata=None,
                                        idempotency_key=f"url-walk-customer-{account.pk}")
    setup = services.setup_intent_create(customer_id=customer["id"], metadata=None,
                                         idempotency_key=f"url-walk-setup-{account.pk}")
    return {"intent_id": setup["id"]}


SAMPLES = {
    "payments_sandbox:payment_intent_confirm": _payment_intent,
    "payments_sandbox:setup_intent_confirm": _setup_intent,
}
