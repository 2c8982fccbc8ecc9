"""What can go wrong when we talk to a card processor, in our own terms.

Adapters translate their processor's errors into these; services turn them into a translated message
for the person in front of the screen (see `payments.messages`)."""


class GatewayError(Exception):
    """Base class. `code` is stable and machine-readable; `message` is the processor's English text, which
    may echo what was sent to it (an id, a typed value): never shown, stored or logged. The exception's
    own text (what a log line or a traceback prints) is therefore the code alone."""

    code = "processor_error"

    def __init__(self, message: str = "", *, code: str | None = None, payment_id: str = ""):
        if code:
            self.code = code
        super().__init__(self.code)
        self.message = message
        self.payment_id = payment_id  # the processor's payment id, when the failure created one


class CardError(GatewayError):
    """The card was refused; nothing will change by trying again with the same card."""

    code = "card_declined"

    def __init__(self, message: str = "", *, decline_code: str = "", **kwargs):
        super().__init__(message, **kwargs)
        self.decline_code = decline_code or self.code


class CardDeclined(CardError):
    code = "card_declined"


class InsufficientFunds(CardError):
    code = "insufficient_funds"


class ExpiredCard(CardError):
    code = "expired_card"


class IncorrectCvc(CardError):
    code = "incorrect_cvc"


class AuthenticationRequired(CardError):
    """The bank wants the cardholder to confirm (3-D Secure): impossible off-session."""

    code = "authentication_required"


class ProcessorUnavailable(GatewayError):
    """Timeout, 5xx, 429 or no connection: the outcome is unknown; retry with the same key."""

    code = "processor_unavailable"


class IdempotencyConflict(GatewayError):
    """The same idempotency key was used with different parameters."""

    code = "idempotency_conflict"


class InvalidRequest(GatewayError):
    """Our request was wrong (unknown id, amount above what can be refunded...)."""

    code = "invalid_request"


class NotFound(InvalidRequest):
    code = "resource_missing"


class ReaderBusy(GatewayError):
    """The reader is already doing something (another payment, a customer typing)."""

    code = "terminal_reader_busy"


class ReaderOffline(GatewayError):
    """The reader has not been in touch with the processor lately."""

    code = "terminal_reader_offline"


class ReaderTimeout(ProcessorUnavailable):
    """The reader did not answer the processor in time: the action may or may not have reached it (a false
    negative is possible), so it is retried with the same key, never as a new request."""

    code = "terminal_reader_timeout"
