"""The processor ids a browser may hand us, checked before anything is stored.

A card-entry page posts us the payment method id the processor's card fields made. Anything else in
that field (a card number typed or pasted into the wrong place, a script's garbage) is refused before
a row is written, so it can never end up in our database, our logs or a processor's error message
that we would keep.

Accepted shapes:
- Stripe: `pm_` followed by letters, digits and underscores (`pm_1PgT3x2eZvKYlo2C…`, and the test
  shortcuts such as `pm_card_visa`);
- the sandbox: `pm_sbx_` followed by 24 letters and digits (payments.sandbox.events.new_id), a
  special case of the same shape.
A run of twelve digits or more is never part of an id: it is refused as a card number would be.
"""

import re

from django.utils.translation import gettext as _

from posbackoffice.errors import DomainError

PAYMENT_METHOD_ID = re.compile(r"pm_[A-Za-z0-9_]{1,96}", re.ASCII)
CARD_NUMBER_LIKE = re.compile(r"[0-9]{12}", re.ASCII)


class InvalidProcessorId(DomainError):
    pass


def payment_method_id_clean(value) -> str:
    """The payment method id, or InvalidProcessorId (a message in our own words, never the value)."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidProcessorId(_("Enter the card details."), code="payment_method_missing")
    if not PAYMENT_METHOD_ID.fullmatch(text) or CARD_NUMBER_LIKE.search(text):
        raise InvalidProcessorId(_("The card details did not come from the card form. Enter the card again in "
                                   "the card fields."), code="payment_method_invalid")
    return text
