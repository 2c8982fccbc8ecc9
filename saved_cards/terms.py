"""The terms of use an Owner or Admin accepts to turn saved payment methods on (TERMS_VERSION in
services.py names this text; change both together)."""

from django.utils.translation import gettext_lazy as _

TERMS = [
    _("Ask the customer before saving their card, every time. Saving a card needs their consent: staff tick "
      "the box that confirms it, or the customer ticks it themselves when they add their own card."),
    _("Charge a saved card only for purchases the customer agreed to pay with it, and tell them the amount."),
    _("The card details are kept by the card processor. The shop keeps only the card's brand, last four "
      "digits, expiry date, who added it and when. Never write a card number or security code anywhere."),
    _("Delete a card when the customer asks. A customer can keep up to five cards."),
    _("Staff can only add, edit or use saved cards if their staff role allows it. Owner and Admin can do "
      "everything; give the other roles only what they need."),
    _("Turning the feature off hides saved cards everywhere and stops their use; the cards stay saved until "
      "they are deleted."),
]
