"""The sandbox's objects as Stripe's API shows them (its JSON, as dicts): what the adapter converts
to the port's dataclasses, what idempotent replays return, and what events carry."""

from payments.sandbox.models import (
    SandboxCustomer,
    SandboxLocation,
    SandboxPaymentIntent,
    SandboxPaymentMethod,
    SandboxReader,
    SandboxRefund,
    SandboxSetupIntent,
)


def _ts(moment) -> int:
    return int(moment.timestamp())


def customer_object(customer: SandboxCustomer) -> dict:
    return {"id": customer.id, "object": "customer", "email": customer.email or None, "name": customer.name or None,
            "metadata": dict(customer.metadata), "created": _ts(customer.created_at), "livemode": False}


def payment_method_object(method: SandboxPaymentMethod) -> dict:
    return {
        "id": method.id, "object": "payment_method", "type": method.type, "customer": method.customer_id,
        method.type: {"brand": method.brand, "last4": method.last4, "exp_month": method.exp_month,
                      "exp_year": method.exp_year, "fingerprint": method.fingerprint, "funding": "credit"},
        "billing_details": {"address": {"postal_code": method.billing_postal_code or None}},
        "metadata": {}, "created": _ts(method.created_at), "livemode": False,
    }


def charge_id(intent: SandboxPaymentIntent) -> str:
    return "ch" + intent.id[2:]


def charge_object(intent: SandboxPaymentIntent) -> dict:
    return {
        "id": charge_id(intent), "object": "charge", "amount": intent.amount, "amount_captured": intent.amount,
        "amount_refunded": intent.amount_refunded, "currency": intent.currency.lower(), "status": "succeeded",
        "paid": True, "refunded": intent.amount_refunded >= intent.amount, "payment_intent": intent.id,
        "payment_method": intent.payment_method_id, "customer": intent.customer_id,
        "metadata": dict(intent.metadata), "created": _ts(intent.created_at), "livemode": False,
    }


def payment_intent_object(intent: SandboxPaymentIntent, *, expand: bool = False) -> dict:
    """As Stripe shows it; `expand` inlines payment_method and latest_charge (what the adapter asks
    for), events carry ids only."""
    succeeded = intent.status == SandboxPaymentIntent.Status.SUCCEEDED
    error = None
    if intent.failure_code:
        error = {"type": "card_error", "code": intent.failure_code, "decline_code": intent.decline_code or None,
                 "message": intent.failure_message, "payment_method": intent.payment_method_id}
    obj = {
        "id": intent.id, "object": "payment_intent", "amount": intent.amount,
        "amount_received": intent.amount if succeeded else 0, "currency": intent.currency.lower(),
        "status": intent.status, "client_secret": intent.client_secret, "customer": intent.customer_id,
        "payment_method": intent.payment_method_id, "description": intent.description or None,
        "metadata": dict(intent.metadata), "last_payment_error": error,
        "latest_charge": charge_id(intent) if succeeded else None,
        "next_action": ({"type": "use_stripe_sdk"} if intent.status == SandboxPaymentIntent.Status.REQUIRES_ACTION
                        else None),
        "payment_method_types": [intent.payment_method_type], "off_session": intent.off_session,
        "setup_future_usage": intent.setup_future_usage or None,
        "created": _ts(intent.created_at), "livemode": False,
    }
    if expand:
        obj["payment_method"] = payment_method_object(intent.payment_method) if intent.payment_method else None
        obj["latest_charge"] = charge_object(intent) if succeeded else None
    return obj


def setup_intent_object(setup: SandboxSetupIntent) -> dict:
    error = None
    if setup.failure_code:
        error = {"type": "card_error", "code": setup.failure_code, "decline_code": setup.decline_code or None,
                 "message": setup.failure_message, "payment_method": setup.payment_method_id}
    return {
        "id": setup.id, "object": "setup_intent", "status": setup.status, "client_secret": setup.client_secret,
        "customer": setup.customer_id, "payment_method": setup.payment_method_id, "usage": "off_session",
        "metadata": dict(setup.metadata), "last_setup_error": error,
        "next_action": ({"type": "use_stripe_sdk"} if setup.status == SandboxSetupIntent.Status.REQUIRES_ACTION
                        else None),
        "created": _ts(setup.created_at), "livemode": False,
    }


def refund_object(refund: SandboxRefund) -> dict:
    intent = refund.payment_intent
    return {
        "id": refund.id, "object": "refund", "amount": refund.amount, "currency": refund.currency.lower(),
        "status": refund.status, "payment_intent": intent.id, "charge": charge_id(intent), "reason": None,
        "metadata": {"comment": refund.reason} if refund.reason else {}, "created": _ts(refund.created_at),
    }


def location_object(location: SandboxLocation) -> dict:
    return {"id": location.id, "object": "terminal.location", "display_name": location.display_name,
            "address": dict(location.address), "metadata": dict(location.metadata), "livemode": False}


def reader_object(reader: SandboxReader, *, online: bool) -> dict:
    return {
        "id": reader.id, "object": "terminal.reader", "action": reader.action, "device_type": reader.device_type,
        "label": reader.label, "location": reader.location_id, "serial_number": reader.serial_number,
        "status": "online" if online else "offline", "metadata": dict(reader.metadata),
        "last_seen_at": int(reader.last_seen_at.timestamp() * 1000) if reader.last_seen_at else None,
        "device_sw_version": "2.42.0.0", "ip_address": "192.0.2.10", "livemode": False,
    }
