"""What the person at the screen reads when the processor says no, in their language, by the
processor's code. The processor's own text is English, technical, and may echo what was sent to it
(an id, a typed value): it is neither stored nor logged."""

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "generic_decline": _("The card was declined. Ask the customer for another card."),
    "card_declined": _("The card was declined. Ask the customer for another card."),
    "do_not_honor": _("The card was declined. Ask the customer for another card."),
    "insufficient_funds": _("The card was declined: insufficient funds."),
    "expired_card": _("The card has expired."),
    "incorrect_cvc": _("The security code (CVC) is incorrect."),
    "incorrect_number": _("The card number is incorrect."),
    "authentication_required": _("The bank asks the cardholder to confirm this payment; it cannot be taken "
                                 "without them."),
    "payment_intent_authentication_failure": _("The cardholder did not confirm the payment with their bank."),
    "canceled": _("The card payment was cancelled; nothing was taken."),
    "never_arrived": _("The card processor never received this payment; nothing was taken."),
    "processor_unavailable": _("The card processor is not answering. The payment is pending: it will be "
                               "checked automatically and never taken twice."),
    "idempotency_conflict": _("This payment was already sent with other details."),
    "invalid_request": _("The card processor refused the request."),
    "resource_missing": _("The card processor does not know this payment."),
    "call_issuer": _("The card was declined: the customer should call their bank."),
    "incorrect_pin": _("The PIN is incorrect. Ask the customer to try again."),
    "pin_try_exceeded": _("Too many wrong PINs: the card was declined."),
    "withdrawal_count_limit_exceeded": _("The card was declined: the customer has reached their card's limit."),
    "terminal_reader_busy": _("The card reader is busy with another request. Wait for it to finish, or cancel "
                              "on the reader, then try again."),
    "terminal_reader_offline": _("The card reader is offline. Check that it is on and connected to the internet, "
                                 "then try again."),
    "terminal_reader_timeout": _("The card reader did not answer in time; nothing was taken. Try again."),
    "intent_invalid_state": _("This payment can no longer be taken on the card reader."),
    "card_not_present": _("The original card was not confirmed on the card reader: nothing was refunded."),
    "refund_refused": _("The refund was refused: nothing was refunded."),
    "invalid_amount": _("The amount typed on the card reader is not valid: type an amount above zero, within the "
                        "reader's limit."),
}


def failure_message(code: str) -> str:
    return str(MESSAGES.get(code or "", MESSAGES["generic_decline"]))


# Why a processor event we could not read was recorded as failed (WebhookEvent.failure_code). The owner
# reads these in Setup › Payments; nothing was changed by such an event.
WEBHOOK_FAILURES = {
    "object_unreadable": _("The event does not contain the object it is about."),
    "metadata_unreadable": _("The event's object has unreadable metadata."),
    "id_missing": _("The event's object has no identifier."),
    "amount_not_a_number": _("The event's amount is not a number."),
    "field_unreadable": _("A field of the event's object has the wrong type."),
}


def webhook_failure_message(code: str) -> str:
    return str(WEBHOOK_FAILURES.get(code or "", _("The event could not be read.")))


# What the reconciliation found (payments.reconciliation.Kind), as the owner reads it in Finance › Payments.
RECONCILIATION_KINDS = {
    "missing_at_processor": _("Paid here, unknown to the processor"),
    "not_paid_at_processor": _("Paid here, not paid at the processor"),
    "paid_at_processor": _("Failed here, paid at the processor"),
    "amount": _("Amounts differ"),
    "refunded": _("Refunded amounts differ"),
    "charged_twice": _("Charged more than once"),
    "unknown_payment": _("A payment at the processor we have no record of"),
    "refund_missing": _("Refunded here, unknown to the processor"),
    "refund_differs": _("Refunds differ"),
    "unknown_refund": _("A refund at the processor we have no record of"),
}


def reconciliation_kind_label(kind: str) -> str:
    return RECONCILIATION_KINDS.get(kind, kind)
