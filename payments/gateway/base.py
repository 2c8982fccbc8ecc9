"""The gateway port: the one interface payments, saved cards, subscriptions, pay links and the
terminal use to move money. Plain dataclasses in, plain dataclasses out, errors from
`payments.gateway.errors`. Amounts are integer minor units; currencies are ISO codes in capitals.

Every operation that creates something at the processor takes an `idempotency_key`, derived by the
caller from its own database row (see payments.services): calling again with the same key returns
the same result and never charges twice; the same key with other parameters raises
IdempotencyConflict.
"""

import datetime
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ProcessorCustomer:
    id: str
    email: str = ""
    name: str = ""


@dataclass(frozen=True)
class CardDetails:
    """What we may keep about a card: never its number or CVC."""

    brand: str = ""
    last4: str = ""
    exp_month: int | None = None
    exp_year: int | None = None
    fingerprint: str = ""


@dataclass(frozen=True)
class SavedCard:
    id: str  # the processor's payment method id
    card: CardDetails
    customer_id: str = ""


class SetupStatus:
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class CardSetup:
    """Saving a card for later: the browser confirms it with `client_secret`."""

    id: str
    status: str
    client_secret: str = ""
    customer_id: str = ""
    payment_method_id: str = ""
    failure_code: str = ""


class PaymentStatus:
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"  # not paid; a new card may be tried
    REQUIRES_ACTION = "requires_action"  # the cardholder must confirm in the browser (3-D Secure)
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


@dataclass(frozen=True)
class ProcessorPayment:
    id: str
    status: str
    amount: int
    currency: str
    amount_refunded: int = 0
    client_secret: str = ""
    payment_method_id: str = ""
    customer_id: str = ""
    card: CardDetails = field(default_factory=CardDetails)
    failure_code: str = ""
    metadata: dict = field(default_factory=dict)
    created: int = 0  # when the processor made it: seconds since the epoch (Stripe's `created`)


@dataclass(frozen=True)
class ProcessorRefund:
    id: str
    payment_id: str
    amount: int
    status: str  # succeeded, pending, failed
    created: int = 0


@dataclass(frozen=True)
class TerminalLocation:
    """Stripe Terminal's Location: where readers are registered (one per outlet)."""

    id: str
    display_name: str = ""


class ReaderActionStatus:
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class CollectedInput:
    """One answer of a collect_inputs action: its type (numeric, email, selection...), the value typed or
    chosen ("" when skipped) and whether the person skipped it."""

    type: str
    value: str = ""
    skipped: bool = False


@dataclass(frozen=True)
class ReaderAction:
    """What a server-driven reader is doing (Stripe's `reader.action`): `type` (process_payment_intent,
    collect_inputs), `status` (ReaderActionStatus), the failure's code when it failed, the payment it
    works on, and the answers of a finished collect_inputs."""

    type: str
    status: str
    failure_code: str = ""
    payment_id: str = ""
    inputs: tuple[CollectedInput, ...] = ()


@dataclass(frozen=True)
class TerminalReader:
    id: str
    label: str = ""
    serial_number: str = ""
    device_type: str = ""
    status: str = "offline"  # online | offline (never a reason to block a payment: try, and read the error)
    last_seen_at: object = None  # an aware datetime, or None
    location_id: str = ""
    action: ReaderAction | None = None


# The port's operations that reach the processor (browser_config is read locally): what the sandbox's
# fault injection and the rate limit's pacing (payments.gateway.pacing) apply to.
OPERATIONS = frozenset({
    "create_customer", "update_customer", "start_card_setup", "finish_card_setup", "list_cards", "get_card",
    "detach_card", "charge_saved_card", "create_card_payment", "retrieve_payment", "cancel_payment", "find_payment",
    "refund", "list_payments", "list_refunds",
    "create_terminal_location", "register_reader", "retrieve_reader", "update_reader", "delete_reader",
    "create_terminal_payment", "process_payment_on_reader", "collect_inputs_on_reader", "cancel_reader_action",
})


class Gateway(Protocol):
    """One processor. Implementations: payments.gateway.sandbox.SandboxGateway (offline, the default)
    and payments.gateway.stripe.StripeGateway."""

    name: str  # "sandbox" or "stripe": the webhook endpoint and the browser driver follow it

    # Customers
    def create_customer(self, *, email: str, name: str, idempotency_key: str,
                        metadata: dict | None = None) -> ProcessorCustomer: ...

    def update_customer(self, customer_id: str, *, email: str, name: str) -> ProcessorCustomer: ...

    # Saving a card: the browser confirms the setup with the client secret (card data never reaches us)
    def start_card_setup(self, *, customer_id: str, idempotency_key: str,
                         metadata: dict | None = None) -> CardSetup: ...

    def finish_card_setup(self, setup_id: str) -> CardSetup: ...

    def list_cards(self, customer_id: str) -> list[SavedCard]: ...

    def get_card(self, payment_method_id: str) -> SavedCard: ...

    def detach_card(self, payment_method_id: str) -> None: ...

    # Charges
    def charge_saved_card(self, *, customer_id: str, payment_method_id: str, amount: int, currency: str,
                          idempotency_key: str, description: str = "",
                          metadata: dict | None = None) -> ProcessorPayment:
        """Off-session: succeeds, or raises a CardError (AuthenticationRequired when the bank asks
        for 3-D Secure). Raises ProcessorUnavailable when the outcome is unknown."""
        ...

    def create_card_payment(self, *, amount: int, currency: str, payment_method_id: str, idempotency_key: str,
                            description: str = "", metadata: dict | None = None, customer_id: str = "",
                            save_card: bool = False) -> ProcessorPayment:
        """Card not present, confirmed at once with a payment method the browser created. Returns
        SUCCEEDED or REQUIRES_ACTION (then the browser confirms with client_secret and we call
        retrieve_payment); raises a CardError on decline.

        With `save_card`, the card is saved to the processor customer `customer_id` (required then)
        once the payment succeeds, for later off-session charges — Stripe's PaymentIntent with
        `customer` and `setup_future_usage="off_session"`. A declined or unconfirmed payment saves
        nothing. A card already saved to another customer is an InvalidRequest."""
        ...

    def retrieve_payment(self, payment_id: str) -> ProcessorPayment: ...

    def cancel_payment(self, payment_id: str) -> ProcessorPayment:
        """Give up a payment that has not succeeded (waiting for the cardholder, or declined): it can
        never be charged afterwards. Raises InvalidRequest for a succeeded or canceled one."""
        ...

    def find_payment(self, *, idempotency_key: str) -> ProcessorPayment | None:
        """The payment created with this key, if any (reconciliation after a crash)."""
        ...

    def refund(self, *, payment_id: str, amount: int, idempotency_key: str, reason: str = "") -> ProcessorRefund: ...

    # Listing, for the reconciliation (payments.reconciliation): what the processor holds, in any order
    def list_payments(self, *, created_since: datetime.datetime | None = None) -> list[ProcessorPayment]:
        """Every payment (card and card present, whatever its status) created at or after `created_since`
        (an aware datetime; None: all), with its card and what was refunded of it."""
        ...

    def list_refunds(self, *, created_since: datetime.datetime | None = None) -> list[ProcessorRefund]:
        """Every refund created at or after `created_since` (None: all)."""
        ...

    # Browser
    def browser_config(self) -> dict:
        """What the card-entry module needs: {"driver": "sandbox"|"stripe", "publishable_key": ...,
        "tokenize_url": ...}. Rendered into a data- attribute, never into an inline script."""
        ...

    # Terminal (Stripe Terminal's server-driven API: a WisePOS E takes orders from the server)
    def create_terminal_location(self, *, display_name: str, address: dict, idempotency_key: str,
                                 metadata: dict | None = None) -> TerminalLocation: ...

    def register_reader(self, *, registration_code: str, label: str, location_id: str, idempotency_key: str,
                        metadata: dict | None = None) -> TerminalReader:
        """A reader shows its registration code; registering it ties it to our location. An unknown or
        used code is an InvalidRequest."""
        ...

    def retrieve_reader(self, reader_id: str) -> TerminalReader: ...

    def update_reader(self, reader_id: str, *, label: str) -> TerminalReader: ...

    def delete_reader(self, reader_id: str) -> None: ...

    def create_terminal_payment(self, *, amount: int, currency: str, idempotency_key: str, description: str = "",
                                metadata: dict | None = None) -> ProcessorPayment:
        """A card_present payment waiting for a reader (status requires_payment_method, captured
        automatically once the card is accepted)."""
        ...

    def process_payment_on_reader(self, *, reader_id: str, payment_id: str, idempotency_key: str) -> TerminalReader:
        """Hand the payment to the reader, which asks for the card; the outcome comes later as the
        reader's action (webhook terminal.reader.action_* or retrieve_reader). ReaderBusy, ReaderOffline;
        ReaderTimeout (an unknown outcome) is retried with the same key."""
        ...

    def collect_inputs_on_reader(self, *, reader_id: str, inputs: list[dict], idempotency_key: str,
                                 metadata: dict | None = None) -> TerminalReader:
        """Ask the person at the reader for values (Stripe's collect_inputs: each input a dict with
        `type` numeric|email|selection|text, `custom_text` {title, description, submit_button,
        skip_button}, `required`, `selection` {choices}). The answers come as the action's `inputs`."""
        ...

    def cancel_reader_action(self, reader_id: str) -> TerminalReader:
        """Stop what the reader is doing; refused (InvalidRequest) once the card was presented."""
        ...
