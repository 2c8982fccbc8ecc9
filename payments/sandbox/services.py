"""The sandbox processor: Stripe's operations on its own tables, answering with Stripe-shaped objects
(dicts, as Stripe's JSON would be) and refusing with our gateway errors (payments.gateway.errors).

Two callers:
- the SandboxGateway adapter (payments/gateway/sandbox.py): what our server asks the processor;
- the sandbox's browser endpoints (views.py): what the cardholder's browser asks it (turn a typed card
  into a payment method, confirm a setup or a payment when the bank asks).

Idempotency follows Stripe: the first completed request under a key is stored with its answer or the
card error it raised (a declined charge still creates its failed PaymentIntent, as Stripe's does) and
replayed for every repeat; the same key with other parameters raises IdempotencyConflict. A request
refused as invalid (InvalidRequest) stores nothing, changes nothing, and leaves the key unused.
Every state change emits an event (payments.sandbox.events), delivered once committed.
"""

import hashlib
import hmac
import json
import re
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from payments.gateway.errors import (
    AuthenticationRequired,
    CardDeclined,
    CardError,
    ExpiredCard,
    IdempotencyConflict,
    IncorrectCvc,
    InsufficientFunds,
    InvalidRequest,
    NotFound,
)
from payments.sandbox import cards
from payments.sandbox.events import event_emit, new_id
from payments.sandbox.models import (
    CardBehaviour,
    SandboxCustomer,
    SandboxIdempotencyKey,
    SandboxPaymentIntent,
    SandboxPaymentMethod,
    SandboxRefund,
    SandboxSetupIntent,
)
from payments.sandbox.objects import (
    charge_object,
    customer_object,
    payment_intent_object,
    payment_method_object,
    refund_object,
    setup_intent_object,
)

OBJECT_ID = re.compile(r"[A-Za-z0-9_]{1,255}")  # what new_id() makes, like Stripe's ids
MAX_AMOUNT = 99_999_999  # Stripe's ceiling for most currencies (999,999.99)

# behaviour -> (error class, Stripe error code, decline code, Stripe's message)
_CHARGE_DECLINES = {
    CardBehaviour.GENERIC_DECLINE: (CardDeclined, "card_declined", "generic_decline", "Your card was declined."),
    CardBehaviour.CHARGE_FAILS: (CardDeclined, "card_declined", "generic_decline", "Your card was declined."),
    CardBehaviour.INSUFFICIENT_FUNDS: (InsufficientFunds, "card_declined", "insufficient_funds",
                                       "Your card has insufficient funds."),
    CardBehaviour.EXPIRED_CARD: (ExpiredCard, "expired_card", "expired_card", "Your card has expired."),
    CardBehaviour.INCORRECT_CVC: (IncorrectCvc, "incorrect_cvc", "incorrect_cvc",
                                  "Your card's security code is incorrect."),
}
_OFF_SESSION_AUTHENTICATION = (AuthenticationRequired, "authentication_required", "authentication_required",
                               "Your card was declined. This transaction requires authentication.")
# Saving a card checks it with the bank: the same declines, except 0341 which only fails when charged.
_SETUP_DECLINES = {behaviour: outcome for behaviour, outcome in _CHARGE_DECLINES.items()
                   if behaviour != CardBehaviour.CHARGE_FAILS}
PAYMENT_AUTHENTICATION_FAILURE = "payment_intent_authentication_failure"
SETUP_AUTHENTICATION_FAILURE = "setup_intent_authentication_failure"

_REPLAYABLE_ERRORS = {cls.__name__: cls for cls in (CardError, CardDeclined, InsufficientFunds, ExpiredCard,
                                                    IncorrectCvc, AuthenticationRequired)}


# ---- idempotency ----------------------------------------------------------------------------------

def _request_hash(operation: str, params: dict) -> str:
    body = json.dumps({"operation": operation, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def _error_record(error: CardError) -> dict:
    return {"class": type(error).__name__, "message": error.message, "code": error.code,
            "decline_code": error.decline_code, "payment_id": error.payment_id}


def _error_from(record: dict) -> CardError:
    cls = _REPLAYABLE_ERRORS.get(record.get("class"), CardError)
    return cls(record.get("message", ""), code=record.get("code"), decline_code=record.get("decline_code", ""),
               payment_id=record.get("payment_id", ""))


def _idempotent(key: str, operation: str, params: dict, perform: Callable[[], dict]) -> dict:
    """Run `perform` once per key; replay its answer (or its card error) for every repeat."""
    if not isinstance(key, str) or not 1 <= len(key) <= 255:
        raise InvalidRequest("An idempotency key of 1 to 255 characters is required.")
    request_hash = _request_hash(operation, params)
    with transaction.atomic():
        record, created = _key_take(key, operation, request_hash)
        if not created:
            record = SandboxIdempotencyKey.objects.select_for_update().get(pk=record.pk)
            if record.request_hash != request_hash:
                raise IdempotencyConflict(
                    "Keys for idempotent requests can only be used with the same parameters they were first "
                    f"used with (key {key!r} was first used for {record.operation}).")
        replay = not created and (record.response is not None or record.error is not None)
        card_error = None
        if replay:
            response = record.response
            card_error = _error_from(record.error) if record.error is not None else None
        else:
            try:
                response = perform()
            except CardError as error:  # the failed payment is kept, like Stripe's; other errors roll back
                response, card_error = None, error
                record.error = _error_record(error)
            else:
                record.response = response
            record.save(update_fields=["response", "error"])
    if card_error is not None:
        raise card_error
    return response


def _key_take(key: str, operation: str, request_hash: str) -> tuple[SandboxIdempotencyKey, bool]:
    """The key's row, made now (True) or made by an earlier request (False), in one statement when new:
    INSERT … ON CONFLICT DO NOTHING RETURNING (a concurrent first request waits on the unique index)."""
    record = SandboxIdempotencyKey(key=key, operation=operation, request_hash=request_hash)
    table = connection.ops.quote_name(SandboxIdempotencyKey._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (key, operation, request_hash, created_at) VALUES (%s, %s, %s, %s) "
                       "ON CONFLICT (key) DO NOTHING RETURNING id", [key, operation, request_hash, record.created_at])
        row = cursor.fetchone()
    if row is None:
        return SandboxIdempotencyKey.objects.get(key=key), False
    record.pk, record._state.adding = row[0], False
    return record, True


# ---- lookups --------------------------------------------------------------------------------------

def _get(model, object_id: str, label: str, *, lock: bool = False):
    queryset = model.objects.select_for_update() if lock else model.objects
    # Only the shape of our own ids is looked up ("pi_sbx_…"): anything else, NUL bytes included, is not found.
    found = queryset.filter(pk=object_id).first() if isinstance(object_id, str) and OBJECT_ID.fullmatch(object_id) \
        else None
    if found is None:
        raise NotFound(f"No such {label}: {object_id!r}")
    return found


def _check_secret(obj, client_secret: str) -> None:
    if not hmac.compare_digest(obj.client_secret.encode(), (client_secret or "").encode()):
        raise InvalidRequest("The client_secret provided does not match the client_secret associated with "
                             f"this {obj._meta.model_name.removeprefix('sandbox')}.")


def _check_amount(amount, currency: str) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidRequest("Amount must be a positive integer in minor units.")
    if amount > MAX_AMOUNT:
        raise InvalidRequest(f"Amount must be no more than {MAX_AMOUNT}.")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        raise InvalidRequest(f"Invalid currency: {currency!r}.")


# ---- customers ------------------------------------------------------------------------------------

def customer_create(*, email: str, name: str, metadata: dict | None, idempotency_key: str) -> dict:
    params = {"email": email or "", "name": name or "", "metadata": metadata or {}}

    def perform():
        customer = SandboxCustomer.objects.create(id=new_id("cus"), **params)
        obj = customer_object(customer)
        event_emit("customer.created", obj, now=customer.created_at)
        return obj

    return _idempotent(idempotency_key, "customer_create", params, perform)


@transaction.atomic
def customer_update(*, customer_id: str, email: str, name: str) -> dict:
    customer = _get(SandboxCustomer, customer_id, "customer", lock=True)
    previous = {"email": customer.email or None, "name": customer.name or None}
    customer.email, customer.name = email or "", name or ""
    customer.save(update_fields=["email", "name"])
    obj = customer_object(customer)
    if previous != {"email": obj["email"], "name": obj["name"]}:
        event_emit("customer.updated", obj, previous_attributes=previous)
    return obj


# ---- payment methods ------------------------------------------------------------------------------

def payment_method_create(*, number: str, expiry: str, cvc: str, postal_code: str | None = None,
                          now=None) -> dict:
    """The tokenizer: check the typed card (cards.CardRefused with a translated message) and keep only
    what Stripe would show us. `postal_code` is given when the card form asks for it (then required)
    and kept, like Stripe's billing details, for the bank's address check. `now` is the moment the card
    is typed (demo data types a card, since expired, in the past)."""
    now = now or timezone.now()
    card = cards.read_card(number=number, expiry=expiry, cvc=cvc, today=timezone.localdate(now))
    postcode = cards.read_postal_code(postal_code) if postal_code is not None else ""
    method = SandboxPaymentMethod.objects.create(
        id=new_id("pm"), brand=card.brand, last4=card.last4, exp_month=card.exp_month, exp_year=card.exp_year,
        fingerprint=card.fingerprint, behaviour=card.behaviour, billing_postal_code=postcode, created_at=now)
    return payment_method_object(method)


def payment_method_retrieve(*, payment_method_id: str) -> dict:
    return payment_method_object(_get(SandboxPaymentMethod, payment_method_id, "payment_method"))


def payment_method_list(*, customer_id: str) -> list[dict]:
    customer = _get(SandboxCustomer, customer_id, "customer")
    methods = customer.payment_methods.order_by("-attached_at", "-created_at")
    return [payment_method_object(method) for method in methods]


@transaction.atomic
def payment_method_detach(*, payment_method_id: str) -> dict:
    method = _get(SandboxPaymentMethod, payment_method_id, "payment_method", lock=True)
    if method.customer_id is None:
        raise InvalidRequest("The payment method you provided is not attached to a customer so detachment is "
                             "impossible.")
    previous = method.customer_id
    method.customer, method.attached_at = None, None
    method.save(update_fields=["customer", "attached_at"])
    obj = payment_method_object(method)
    event_emit("payment_method.detached", obj, previous_attributes={"customer": previous})
    return obj


# ---- saving a card (SetupIntent) ------------------------------------------------------------------

def setup_intent_create(*, customer_id: str, metadata: dict | None, idempotency_key: str) -> dict:
    params = {"customer": customer_id, "metadata": metadata or {}}

    def perform():
        customer = _get(SandboxCustomer, customer_id, "customer")
        setup_id = new_id("seti")
        setup = SandboxSetupIntent.objects.create(
            id=setup_id, client_secret=f"{setup_id}_secret_{new_id('x')[6:]}", customer=customer,
            metadata=params["metadata"])
        return setup_intent_object(setup)

    return _idempotent(idempotency_key, "setup_intent_create", params, perform)


def setup_intent_retrieve(*, setup_id: str) -> dict:
    return setup_intent_object(_get(SandboxSetupIntent, setup_id, "setup_intent"))


def _setup_succeed(setup: SandboxSetupIntent, method: SandboxPaymentMethod, now) -> None:
    if method.customer_id != setup.customer_id:
        method.customer_id, method.attached_at = setup.customer_id, now
        method.save(update_fields=["customer", "attached_at"])
        event_emit("payment_method.attached", payment_method_object(method), now=now)
    setup.status = SandboxSetupIntent.Status.SUCCEEDED
    setup.failure_code, setup.decline_code, setup.failure_message = "", "", ""
    setup.save(update_fields=["status", "payment_method", "failure_code", "decline_code", "failure_message"])
    event_emit("setup_intent.succeeded", setup_intent_object(setup), now=now)


@transaction.atomic
def setup_intent_confirm(*, setup_id: str, client_secret: str, payment_method_id: str) -> dict:
    """The browser confirms the setup with the card it just typed. The bank checks the card (a declining
    card fails here); a card that needs authentication waits for `setup_intent_authenticate`."""
    now = timezone.now()
    setup = _get(SandboxSetupIntent, setup_id, "setup_intent", lock=True)
    _check_secret(setup, client_secret)
    if setup.status != SandboxSetupIntent.Status.REQUIRES_PAYMENT_METHOD:
        raise InvalidRequest(f"This SetupIntent cannot be confirmed: its status is {setup.status}.")
    method = _get(SandboxPaymentMethod, payment_method_id, "payment_method", lock=True)
    if method.customer_id and method.customer_id != setup.customer_id:
        raise InvalidRequest("This payment method is attached to another customer.")
    setup.payment_method = method
    decline = _SETUP_DECLINES.get(method.behaviour)
    if decline is not None:
        _cls, code, decline_code, message = decline
        setup.failure_code, setup.decline_code, setup.failure_message = code, decline_code, message
        setup.save(update_fields=["payment_method", "failure_code", "decline_code", "failure_message"])
        event_emit("setup_intent.setup_failed", setup_intent_object(setup), now=now)
    elif method.behaviour == CardBehaviour.AUTHENTICATION_REQUIRED:
        setup.status = SandboxSetupIntent.Status.REQUIRES_ACTION
        setup.failure_code, setup.decline_code, setup.failure_message = "", "", ""
        setup.save(update_fields=["status", "payment_method", "failure_code", "decline_code", "failure_message"])
        event_emit("setup_intent.requires_action", setup_intent_object(setup), now=now)
    else:
        _setup_succeed(setup, method, now)
    return setup_intent_object(setup)


@transaction.atomic
def setup_intent_authenticate(*, setup_id: str, client_secret: str, approve: bool) -> dict:
    """The cardholder's answer to their bank (the sandbox's confirm step) for a card being saved."""
    now = timezone.now()
    setup = _get(SandboxSetupIntent, setup_id, "setup_intent", lock=True)
    _check_secret(setup, client_secret)
    if setup.status != SandboxSetupIntent.Status.REQUIRES_ACTION:
        raise InvalidRequest(f"This SetupIntent does not need authentication: its status is {setup.status}.")
    if approve:
        _setup_succeed(setup, SandboxPaymentMethod.objects.select_for_update().get(pk=setup.payment_method_id), now)
    else:
        setup.status = SandboxSetupIntent.Status.REQUIRES_PAYMENT_METHOD
        setup.failure_code, setup.decline_code = SETUP_AUTHENTICATION_FAILURE, ""
        setup.failure_message = ("The latest attempt to set up the payment method has failed because "
                                 "authentication failed.")
        setup.save(update_fields=["status", "failure_code", "decline_code", "failure_message"])
        event_emit("setup_intent.setup_failed", setup_intent_object(setup), now=now)
    return setup_intent_object(setup)


# ---- payments (PaymentIntent) ---------------------------------------------------------------------

def payment_intent_create(*, amount: int, currency: str, payment_method_id: str, customer_id: str = "",
                          off_session: bool, setup_future_usage: str = "", description: str = "",
                          metadata: dict | None = None, idempotency_key: str) -> dict:
    """Create and confirm at once. Off-session (a saved card, the cardholder absent) the customer must
    own the card and a bank asking for authentication is a decline; on-session it is `requires_action`.
    A decline records the failed PaymentIntent and raises the CardError with its id.
    On-session, a customer may come with a card not saved yet; `setup_future_usage="off_session"`
    (which needs the customer) saves it to them once the payment succeeds, as Stripe does."""
    params = {"amount": amount, "currency": currency, "payment_method": payment_method_id,
              "customer": customer_id or "", "off_session": bool(off_session), "description": description or "",
              "metadata": metadata or {}}
    if setup_future_usage:
        params["setup_future_usage"] = setup_future_usage

    def perform():
        now = timezone.now()
        _check_amount(amount, currency)
        if setup_future_usage not in ("", "off_session"):
            raise InvalidRequest(f"Invalid setup_future_usage: {setup_future_usage!r}.")
        if setup_future_usage and not customer_id:
            raise InvalidRequest("Saving the payment method for future usage needs a customer.")
        method = _get(SandboxPaymentMethod, payment_method_id, "payment_method")
        customer = None
        if customer_id:
            customer = _get(SandboxCustomer, customer_id, "customer")
            if method.customer_id != customer.id and (off_session or method.customer_id):
                raise InvalidRequest("The provided PaymentMethod does not belong to the Customer.")
        elif method.customer_id:
            customer = method.customer
        if off_session and customer is None:
            raise InvalidRequest("An off-session payment needs a customer's saved payment method.")
        intent_id = new_id("pi")
        intent = SandboxPaymentIntent(
            id=intent_id, client_secret=f"{intent_id}_secret_{new_id('x')[6:]}", amount=amount,
            currency=currency.upper(), payment_method=method, customer=customer, off_session=bool(off_session),
            setup_future_usage=setup_future_usage, description=(description or "")[:500],
            metadata=params["metadata"], idempotency_key=idempotency_key, created_at=now)
        decline = _CHARGE_DECLINES.get(method.behaviour)
        if decline is None and off_session and method.behaviour == CardBehaviour.AUTHENTICATION_REQUIRED:
            decline = _OFF_SESSION_AUTHENTICATION
        if decline is not None:
            error_class, code, decline_code, message = decline
            intent.status = SandboxPaymentIntent.Status.REQUIRES_PAYMENT_METHOD
            intent.failure_code, intent.decline_code, intent.failure_message = code, decline_code, message
            intent.save()
            event_emit("payment_intent.payment_failed", payment_intent_object(intent), now=now)
            raise error_class(message, decline_code=decline_code, payment_id=intent.id)
        if method.behaviour == CardBehaviour.AUTHENTICATION_REQUIRED:
            intent.status = SandboxPaymentIntent.Status.REQUIRES_ACTION
            intent.save()
            event_emit("payment_intent.requires_action", payment_intent_object(intent), now=now)
        else:
            intent.status = SandboxPaymentIntent.Status.SUCCEEDED
            intent.save()
            _save_for_future_usage(intent, now)
            event_emit("payment_intent.succeeded", payment_intent_object(intent), now=now)
        return payment_intent_object(intent, expand=True)

    return _idempotent(idempotency_key, "payment_intent_create", params, perform)


def _save_for_future_usage(intent: SandboxPaymentIntent, now) -> None:
    """A succeeded payment with setup_future_usage saves its card to its customer (Stripe attaches it)."""
    if not intent.setup_future_usage or intent.customer_id is None:
        return
    method = SandboxPaymentMethod.objects.select_for_update().get(pk=intent.payment_method_id)
    if method.customer_id != intent.customer_id:
        method.customer_id, method.attached_at = intent.customer_id, now
        method.save(update_fields=["customer", "attached_at"])
        event_emit("payment_method.attached", payment_method_object(method), now=now)


def payment_intent_retrieve(*, payment_intent_id: str) -> dict:
    intent = _get(SandboxPaymentIntent, payment_intent_id, "payment_intent")
    return payment_intent_object(intent, expand=True)


def payment_intent_find(*, idempotency_key: str) -> dict | None:
    intent = SandboxPaymentIntent.objects.filter(idempotency_key=idempotency_key).order_by("created_at").first() \
        if idempotency_key else None
    return payment_intent_object(intent, expand=True) if intent else None


def payment_intent_list(*, created_since=None) -> list[dict]:
    """Stripe's GET /v1/payment_intents, every page: newest first, `created[gte]` when given."""
    intents = SandboxPaymentIntent.objects.select_related("payment_method").order_by("-created_at", "-id")
    if created_since is not None:
        intents = intents.filter(created_at__gte=created_since)
    return [payment_intent_object(intent, expand=True) for intent in intents]


@transaction.atomic
def payment_intent_authenticate(*, payment_intent_id: str, client_secret: str, approve: bool) -> dict:
    """The cardholder's answer to their bank (the sandbox's confirm step) for a payment in the browser.
    Refused, the payment fails the way Stripe's does: requires_payment_method with
    payment_intent_authentication_failure."""
    now = timezone.now()
    intent = _get(SandboxPaymentIntent, payment_intent_id, "payment_intent", lock=True)
    _check_secret(intent, client_secret)
    if intent.status != SandboxPaymentIntent.Status.REQUIRES_ACTION:
        raise InvalidRequest(f"This PaymentIntent does not need authentication: its status is {intent.status}.")
    if approve:
        intent.status = SandboxPaymentIntent.Status.SUCCEEDED
        intent.save(update_fields=["status"])
        _save_for_future_usage(intent, now)
        event_emit("payment_intent.succeeded", payment_intent_object(intent), now=now)
    else:
        intent.status = SandboxPaymentIntent.Status.REQUIRES_PAYMENT_METHOD
        intent.failure_code, intent.decline_code = PAYMENT_AUTHENTICATION_FAILURE, ""
        intent.failure_message = ("The provided PaymentMethod has failed authentication. You can provide a new "
                                  "PaymentMethod to attempt to fulfill this PaymentIntent again.")
        intent.save(update_fields=["status", "failure_code", "decline_code", "failure_message"])
        event_emit("payment_intent.payment_failed", payment_intent_object(intent), now=now)
    return payment_intent_object(intent, expand=True)


@transaction.atomic
def payment_intent_cancel(*, payment_intent_id: str) -> dict:
    """Give up a payment that has not succeeded (e.g. the cardholder never answered their bank), as
    Stripe does: canceled, and never chargeable afterwards; a succeeded or canceled one is refused."""
    now = timezone.now()
    intent = _get(SandboxPaymentIntent, payment_intent_id, "payment_intent", lock=True)
    cancelable = (SandboxPaymentIntent.Status.REQUIRES_ACTION, SandboxPaymentIntent.Status.REQUIRES_PAYMENT_METHOD,
                  SandboxPaymentIntent.Status.PROCESSING)
    if intent.status not in cancelable:
        raise InvalidRequest(f"You cannot cancel this PaymentIntent because it has a status of {intent.status}.")
    intent.status = SandboxPaymentIntent.Status.CANCELED
    intent.save(update_fields=["status"])
    event_emit("payment_intent.canceled", payment_intent_object(intent), now=now)
    return payment_intent_object(intent, expand=True)


# ---- refunds --------------------------------------------------------------------------------------

def refund_create(*, payment_intent_id: str, amount: int, reason: str = "", idempotency_key: str) -> dict:
    """Refund part or all of what remains of a successful payment; more than that, or a payment that
    did not succeed, is an InvalidRequest that changes nothing. Card refunds succeed at once here."""
    params = {"payment_intent": payment_intent_id, "amount": amount, "reason": reason or ""}

    def perform():
        now = timezone.now()
        intent = _get(SandboxPaymentIntent, payment_intent_id, "payment_intent", lock=True)
        if intent.status != SandboxPaymentIntent.Status.SUCCEEDED:
            raise InvalidRequest(f"This PaymentIntent ({intent.id}) does not have a successful charge to refund.")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise InvalidRequest("Refund amount must be a positive integer in minor units.")
        remaining = intent.amount - intent.amount_refunded
        if amount > remaining:
            raise InvalidRequest(f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                                 f"({remaining}).")
        refund = SandboxRefund.objects.create(id=new_id("re"), payment_intent=intent, amount=amount,
                                              currency=intent.currency, reason=(reason or "")[:300], created_at=now)
        intent.amount_refunded += amount
        intent.save(update_fields=["amount_refunded"])
        obj = refund_object(refund)
        event_emit("refund.created", obj, now=now)
        event_emit("charge.refunded", charge_object(intent), now=now)
        return obj

    return _idempotent(idempotency_key, "refund_create", params, perform)


def refund_list(*, created_since=None) -> list[dict]:
    """Stripe's GET /v1/refunds, every page: newest first, `created[gte]` when given."""
    refunds = SandboxRefund.objects.select_related("payment_intent").order_by("-created_at", "-id")
    if created_since is not None:
        refunds = refunds.filter(created_at__gte=created_since)
    return [refund_object(refund) for refund in refunds]
