"""Stripe-shaped objects (the JSON of Stripe's API, as dicts) -> the port's dataclasses. Both adapters
use them: the stripe adapter on Stripe's answers, the sandbox adapter on its processor's, which has the
same shape. A payment is read with `payment_method` and `latest_charge` expanded; unexpanded ids are
understood too."""

from payments.gateway.base import (
    CardDetails,
    CardSetup,
    ProcessorCustomer,
    ProcessorPayment,
    ProcessorRefund,
    SavedCard,
    SetupStatus,
)


def _id(value) -> str:
    """An expandable field: the object's id whether it came expanded or not."""
    if isinstance(value, dict):
        return value.get("id") or ""
    return value or ""


def card_details(method: dict | None) -> CardDetails:
    card = (method or {}).get("card") or {}
    return CardDetails(brand=card.get("brand") or "", last4=card.get("last4") or "", exp_month=card.get("exp_month"),
                       exp_year=card.get("exp_year"), fingerprint=card.get("fingerprint") or "")


def saved_card(method: dict) -> SavedCard:
    return SavedCard(id=method["id"], card=card_details(method), customer_id=_id(method.get("customer")))


def customer(obj: dict) -> ProcessorCustomer:
    return ProcessorCustomer(id=obj["id"], email=obj.get("email") or "", name=obj.get("name") or "")


def card_setup(obj: dict) -> CardSetup:
    error = obj.get("last_setup_error") or {}
    status = obj["status"]
    if status == "canceled" or (status == SetupStatus.REQUIRES_PAYMENT_METHOD and error):
        status = SetupStatus.FAILED  # the last attempt failed; the caller starts a new setup
    return CardSetup(id=obj["id"], status=status, client_secret=obj.get("client_secret") or "",
                     customer_id=_id(obj.get("customer")), payment_method_id=_id(obj.get("payment_method")),
                     failure_code=error.get("decline_code") or error.get("code") or "")


def payment(obj: dict, *, hidden_metadata: frozenset = frozenset()) -> ProcessorPayment:
    """`hidden_metadata`: keys an adapter keeps in the processor's metadata for itself."""
    method = obj.get("payment_method")
    charge = obj.get("latest_charge")
    error = obj.get("last_payment_error") or {}
    metadata = {key: value for key, value in (obj.get("metadata") or {}).items() if key not in hidden_metadata}
    return ProcessorPayment(
        id=obj["id"], status=obj["status"], amount=obj["amount"], currency=obj["currency"].upper(),
        amount_refunded=charge.get("amount_refunded", 0) if isinstance(charge, dict) else 0,
        client_secret=obj.get("client_secret") or "", payment_method_id=_id(method),
        customer_id=_id(obj.get("customer")), card=card_details(method if isinstance(method, dict) else None),
        failure_code=error.get("decline_code") or error.get("code") or "",
        metadata=metadata,
    )


def refund(obj: dict) -> ProcessorRefund:
    return ProcessorRefund(id=obj["id"], payment_id=_id(obj.get("payment_intent")), amount=obj["amount"],
                           status=obj["status"])
