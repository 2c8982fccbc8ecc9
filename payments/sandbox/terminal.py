"""The sandbox processor's Stripe Terminal (server-driven): locations, simulated WisePOS E readers and
the actions the API hands them, following Stripe's action model.

- A reader is registered with the code a simulated WisePOS E shows, `simulated-wpe` (Stripe accepts it
  any number of times, each registration a new simulated reader); any other code is refused.
- A reader is online while its device keeps in touch: the simulated reader's page sends a heartbeat
  (`reader_heartbeat`); two minutes without one and it is offline (HEARTBEAT_SECONDS), and an action
  sent to it is refused with terminal_reader_offline, as Stripe does.
- One action at a time: while an action is in_progress, another is refused with terminal_reader_busy.
  An action ends succeeded or failed (with a failure_code), and the reader's webhook events
  terminal.reader.action_succeeded / terminal.reader.action_failed go out, with the PaymentIntent's own.
- What the person at the device does (present a card, type into a collect_inputs screen, skip) comes
  from the simulated reader's page through the device functions at the end (Stripe's test helpers
  present_payment_method and succeed_input_collection are the same for a simulated reader).
- Test amounts (Stripe Terminal's testing page): a card_present payment whose amount ends in 01 is
  declined call_issuer, 05 generic_decline, 55 incorrect_pin, 65 withdrawal_count_limit_exceeded, 75
  pin_try_exceeded; the usual test card numbers decline as they do online.
"""

import datetime
import secrets

from django.db import transaction
from django.utils import timezone

from payments.gateway.errors import InvalidRequest, NotFound, ReaderBusy, ReaderOffline
from payments.sandbox import cards
from payments.sandbox.events import event_emit, new_id
from payments.sandbox.models import (
    CardBehaviour,
    SandboxLocation,
    SandboxPaymentIntent,
    SandboxPaymentMethod,
    SandboxReader,
)
from payments.sandbox.objects import location_object, payment_intent_object, reader_object
from payments.sandbox.services import _CHARGE_DECLINES, _check_amount, _get, _idempotent

SIMULATED_CODE = "simulated-wpe"
HEARTBEAT_SECONDS = 120
# Stripe Terminal's test amounts: the cents of the amount decide the decline.
AMOUNT_DECLINES = {1: "call_issuer", 5: "generic_decline", 55: "incorrect_pin", 65: "withdrawal_count_limit_exceeded",
                   75: "pin_try_exceeded"}
IN_PROGRESS, SUCCEEDED, FAILED = "in_progress", "succeeded", "failed"


def _online(reader: SandboxReader, now) -> bool:
    return reader.last_seen_at is not None and now - reader.last_seen_at < datetime.timedelta(
        seconds=HEARTBEAT_SECONDS)


def _reader(reader_id: str, *, lock: bool = False) -> SandboxReader:
    reader = _get(SandboxReader, reader_id, "terminal.reader", lock=lock)
    if reader.deleted:
        raise NotFound(f"No such terminal.reader: {reader_id!r}")
    return reader


def _object(reader: SandboxReader, now=None) -> dict:
    return reader_object(reader, online=_online(reader, now or timezone.now()))


def location_create(*, display_name: str, address: dict, metadata: dict | None, idempotency_key: str) -> dict:
    params = {"display_name": display_name or "", "address": address or {}, "metadata": metadata or {}}

    def perform():
        if not params["display_name"]:
            raise InvalidRequest("Missing required param: display_name.")
        location = SandboxLocation.objects.create(id=new_id("tml"), **params)
        return location_object(location)

    return _idempotent(idempotency_key, "terminal_location_create", params, perform)


def reader_create(*, registration_code: str, label: str, location_id: str, metadata: dict | None,
                  idempotency_key: str) -> dict:
    params = {"registration_code": registration_code, "label": label or "", "location": location_id,
              "metadata": metadata or {}}

    def perform():
        now = timezone.now()
        if registration_code != SIMULATED_CODE:
            raise InvalidRequest("The registration code is invalid or has already been used.")
        location = _get(SandboxLocation, location_id, "terminal.location")
        # A freshly registered device is on and in touch; it goes offline when its page stops beating.
        reader = SandboxReader.objects.create(
            id=new_id("tmr"), label=params["label"], location=location, metadata=params["metadata"],
            serial_number="WSC513" + "".join(secrets.choice("0123456789") for _ in range(9)), last_seen_at=now,
            created_at=now)
        return _object(reader, now)

    return _idempotent(idempotency_key, "terminal_reader_create", params, perform)


def reader_retrieve(*, reader_id: str) -> dict:
    return _object(_reader(reader_id))


@transaction.atomic
def reader_update(*, reader_id: str, label: str) -> dict:
    reader = _reader(reader_id, lock=True)
    reader.label = label or ""
    reader.save(update_fields=["label"])
    return _object(reader)


@transaction.atomic
def reader_delete(*, reader_id: str) -> dict:
    reader = _reader(reader_id, lock=True)
    reader.deleted, reader.action = True, None
    reader.save(update_fields=["deleted", "action"])
    return {"id": reader.id, "object": "terminal.reader", "deleted": True}


def card_present_intent_create(*, amount: int, currency: str, description: str, metadata: dict | None,
                               idempotency_key: str) -> dict:
    """A PaymentIntent for a reader: requires_payment_method until a card is presented."""
    params = {"amount": amount, "currency": currency, "payment_method_types": ["card_present"],
              "description": description or "", "metadata": metadata or {}}

    def perform():
        _check_amount(amount, currency)
        intent_id = new_id("pi")
        intent = SandboxPaymentIntent.objects.create(
            id=intent_id, client_secret=f"{intent_id}_secret_{new_id('x')[6:]}", amount=amount,
            currency=currency.upper(), status=SandboxPaymentIntent.Status.REQUIRES_PAYMENT_METHOD,
            description=params["description"][:500], metadata=params["metadata"], idempotency_key=idempotency_key,
            payment_method_type="card_present")
        return payment_intent_object(intent, expand=True)

    return _idempotent(idempotency_key, "payment_intent_create_card_present", params, perform)


def _start(reader: SandboxReader, action: dict, now) -> dict:
    if not _online(reader, now):
        raise ReaderOffline("Reader is currently offline, please ensure the reader is powered on and connected "
                            "to the internet before retrying your request.")
    if reader.action and reader.action.get("status") == IN_PROGRESS:
        raise ReaderBusy("Reader is currently busy processing another request.")
    reader.action = {"status": IN_PROGRESS, "failure_code": None, "failure_message": None, **action}
    reader.save(update_fields=["action"])
    return _object(reader, now)


def reader_process_payment_intent(*, reader_id: str, payment_intent_id: str, idempotency_key: str) -> dict:
    params = {"reader": reader_id, "payment_intent": payment_intent_id}

    def perform():
        now = timezone.now()
        reader = _reader(reader_id, lock=True)
        intent = _get(SandboxPaymentIntent, payment_intent_id, "payment_intent", lock=True)
        if intent.payment_method_type != "card_present" or \
                intent.status != SandboxPaymentIntent.Status.REQUIRES_PAYMENT_METHOD:
            raise InvalidRequest("This PaymentIntent cannot be processed on a reader in its state.",
                                 code="intent_invalid_state")
        return _start(reader, {"type": "process_payment_intent",
                               "process_payment_intent": {"payment_intent": intent.id}}, now)

    return _idempotent(idempotency_key, "terminal_reader_process_payment_intent", params, perform)


def reader_collect_inputs(*, reader_id: str, inputs: list[dict], metadata: dict | None, idempotency_key: str) -> dict:
    params = {"reader": reader_id, "inputs": inputs, "metadata": metadata or {}}

    def perform():
        now = timezone.now()
        if not inputs or len(inputs) > 5:
            raise InvalidRequest("Between 1 and 5 inputs are required.")
        for entry in inputs:
            text = entry.get("custom_text") or {}
            if entry.get("type") not in ("email", "numeric", "phone", "selection", "signature", "text") \
                    or not 1 <= len(text.get("title") or "") <= 40 or len(text.get("skip_button") or "") > 14 \
                    or len(text.get("submit_button") or "") > 30:
                raise InvalidRequest("An input is not valid (type, or custom_text lengths).")
        reader = _reader(reader_id, lock=True)
        collected = [{**entry, "skipped": False} for entry in inputs]
        return _start(reader, {"type": "collect_inputs", "collect_inputs": {
            "inputs": collected, "metadata": params["metadata"]}}, now)

    return _idempotent(idempotency_key, "terminal_reader_collect_inputs", params, perform)


@transaction.atomic
def reader_cancel_action(*, reader_id: str) -> dict:
    """As Stripe: the action in progress is dropped (the reader answers with no action); refused when
    nothing is in progress. A presented card has already finished its action here."""
    reader = _reader(reader_id, lock=True)
    if not reader.action or reader.action.get("status") != IN_PROGRESS:
        raise InvalidRequest("This reader has no action in progress to cancel.")
    reader.action = None
    reader.save(update_fields=["action"])
    return _object(reader)


def _finish(reader: SandboxReader, now, *, failure_code: str = "", failure_message: str = "") -> None:
    action = dict(reader.action)
    action["status"] = FAILED if failure_code else SUCCEEDED
    action["failure_code"], action["failure_message"] = failure_code or None, failure_message or None
    reader.action = action
    reader.last_seen_at = now
    reader.save(update_fields=["action", "last_seen_at"])
    event_emit("terminal.reader.action_failed" if failure_code else "terminal.reader.action_succeeded",
               _object(reader, now), now=now)


# ---- the device: what the person at the simulated reader does ---------------------------------------

@transaction.atomic
def reader_heartbeat(*, reader_id: str) -> dict:
    reader = _reader(reader_id, lock=True)
    reader.last_seen_at = timezone.now()
    reader.save(update_fields=["last_seen_at"])
    return _object(reader, reader.last_seen_at)


def _in_progress(reader: SandboxReader, kind: str) -> dict:
    action = reader.action or {}
    if action.get("type") != kind or action.get("status") != IN_PROGRESS:
        raise InvalidRequest(f"The reader has no {kind} action in progress.")
    return action


@transaction.atomic
def reader_present_card(*, reader_id: str, number: str) -> dict:
    """A card is presented to the reader (Stripe's present_payment_method test helper with a card_present
    number): the PaymentIntent succeeds or is declined, and the action ends accordingly."""
    now = timezone.now()
    reader = _reader(reader_id, lock=True)
    action = _in_progress(reader, "process_payment_intent")
    intent = SandboxPaymentIntent.objects.select_for_update().get(pk=action["process_payment_intent"]["payment_intent"])
    digits = "".join(character for character in str(number) if character.isascii() and character.isdigit())
    if not 12 <= len(digits) <= 19:
        raise InvalidRequest("Unknown test card.")
    method = SandboxPaymentMethod.objects.create(
        id=new_id("pm"), brand=cards.brand_of(digits), last4=digits[-4:], exp_month=12, exp_year=now.year + 3,
        fingerprint=cards.fingerprint_of(digits), behaviour=cards.TEST_CARDS.get(digits, CardBehaviour.SUCCEED),
        type="card_present", created_at=now)
    intent.payment_method = method
    decline = _CHARGE_DECLINES.get(method.behaviour)
    decline_code = decline[2] if decline else AMOUNT_DECLINES.get(intent.amount % 100, "")
    if decline_code:
        intent.failure_code, intent.decline_code = "card_declined", decline_code
        intent.failure_message = "Your card was declined."
        intent.save(update_fields=["payment_method", "failure_code", "decline_code", "failure_message"])
        event_emit("payment_intent.payment_failed", payment_intent_object(intent), now=now)
        _finish(reader, now, failure_code="card_declined", failure_message="Your card was declined.")
    else:
        intent.status = SandboxPaymentIntent.Status.SUCCEEDED
        intent.failure_code = intent.decline_code = intent.failure_message = ""
        intent.save(update_fields=["payment_method", "status", "failure_code", "decline_code", "failure_message"])
        event_emit("payment_intent.succeeded", payment_intent_object(intent), now=now)
        _finish(reader, now)
    return _object(reader, now)


@transaction.atomic
def reader_enter_inputs(*, reader_id: str, values: list) -> dict:
    """The person answers the collect_inputs screen: one value per input, None for a skipped one (only
    an input that is not required may be skipped)."""
    now = timezone.now()
    reader = _reader(reader_id, lock=True)
    action = _in_progress(reader, "collect_inputs")
    entries = action["collect_inputs"]["inputs"]
    if len(values) != len(entries):
        raise InvalidRequest("One value per input is expected.")
    answered = []
    for entry, value in zip(entries, values, strict=True):
        kind = entry["type"]
        if value is None:
            if entry.get("required"):
                raise InvalidRequest("This input is required.")
            answered.append({**entry, "skipped": True})
        elif kind == "selection":
            choices = {choice["id"]: choice.get("text", "") for choice in (entry.get("selection") or {}).get(
                "choices", [])}
            if value not in choices:
                raise InvalidRequest("Choose one of the choices.")
            answered.append({**entry, "skipped": False, "selection": {**entry["selection"], "id": value,
                                                                      "text": choices[value]}})
        else:
            answered.append({**entry, "skipped": False, kind: {"value": str(value)[:500]}})
    reader.action = {**action, "collect_inputs": {**action["collect_inputs"], "inputs": answered}}
    _finish(reader, now)
    return _object(reader, now)
