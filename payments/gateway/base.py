"""The gateway port: the one interface payments, saved cards, subscriptions, pay links and the
terminal use to move money. Plain dataclasses in, plain dataclasses out, errors from
`payments.gateway.errors`. Amounts are integer minor units; currencies are ISO codes in capitals.

Every operation that creates something at the processor takes an `idempotency_key`, derived by the
caller from its own database row (see payments.services): calling again with the same key returns
the same result and never charges twice; the same key with other parameters raises
IdempotencyConflict.
"""

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


@dataclass(frozen=True)
class ProcessorRefund:
    id: str
    payment_id: str
    amount: int
    status: str  # succeeded, pending, failed


class Gateway(Protocol):
    """One processor. Implementations: payments.gateway.sandbox.SandboxGateway (offline, the default)
    and payments.gateway.stripe.StripeGateway. Terminal reader actions join with the terminal issue."""

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

    # Browser
    def browser_config(self) -> dict:
        """What the card-entry module needs: {"driver": "sandbox"|"stripe", "publishable_key": ...,
        "tokenize_url": ...}. Rendered into a data- attribute, never into an inline script."""
        ...
