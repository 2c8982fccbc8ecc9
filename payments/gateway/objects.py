"""Stripe-shaped objects (the JSON of Stripe's API, as dicts) -> the port's dataclasses. Both adapters
use them: the stripe adapter on Stripe's answers, the sandbox adapter on its processor's, which has the
same shape. A payment is read with `payment_method` and `latest_charge` expanded; unexpanded ids are
understood too."""

import datetime

from payments.gateway.base import (
    CardDetails,
    CardSetup,
    CollectedInput,
    ProcessorCustomer,
    ProcessorPayment,
    ProcessorRefund,
    ReaderAction,
    SavedCard,
    SetupStatus,
    TerminalLocation,
    TerminalReader,
)


def _id(value) -> str:
    """An expandable field: the object's id whether it came expanded or not."""
    if isinstance(value, dict):
        return value.get("id") or ""
    return value or ""


def card_details(method: dict | None) -> CardDetails:
    method = method or {}
    card = method.get("card") or method.get("card_present") or {}
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
        metadata=metadata, created=obj.get("created") or 0,
    )


def refund(obj: dict) -> ProcessorRefund:
    return ProcessorRefund(id=obj["id"], payment_id=_id(obj.get("payment_intent")), amount=obj["amount"],
                           status=obj["status"], created=obj.get("created") or 0)


def location(obj: dict) -> TerminalLocation:
    return TerminalLocation(id=obj["id"], display_name=obj.get("display_name") or "")


def _input_value(entry: dict) -> str:
    kind = entry.get("type") or ""
    answer = entry.get(kind) if isinstance(entry.get(kind), dict) else {}
    value = answer.get("value")
    if value is None and kind == "selection":
        value = answer.get("id")
    return "" if value is None else str(value)


def reader_action(obj: dict | None) -> ReaderAction | None:
    if not obj:
        return None
    kind = obj.get("type") or ""
    payment_id = ""
    if kind == "process_payment_intent":
        payment_id = _id((obj.get("process_payment_intent") or {}).get("payment_intent"))
    inputs = tuple(
        CollectedInput(type=entry.get("type") or "", value=_input_value(entry), skipped=bool(entry.get("skipped")))
        for entry in ((obj.get("collect_inputs") or {}).get("inputs") or []))
    return ReaderAction(type=kind, status=obj.get("status") or "", failure_code=obj.get("failure_code") or "",
                        payment_id=payment_id, inputs=inputs)


def reader(obj: dict) -> TerminalReader:
    seen = obj.get("last_seen_at")  # milliseconds since the epoch
    last_seen = (datetime.datetime.fromtimestamp(seen / 1000, tz=datetime.UTC)
                 if isinstance(seen, int | float) and not isinstance(seen, bool) else None)
    return TerminalReader(id=obj["id"], label=obj.get("label") or "", serial_number=obj.get("serial_number") or "",
                          device_type=obj.get("device_type") or "", status=obj.get("status") or "offline",
                          last_seen_at=last_seen, location_id=_id(obj.get("location")),
                          action=reader_action(obj.get("action")))
