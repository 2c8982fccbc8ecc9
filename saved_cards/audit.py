"""What the Activity page calls the audit actions of saved payment methods."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "saved_cards.enabled": _("Saved payment methods turned on (terms accepted)"),
    "saved_cards.disabled": _("Saved payment methods turned off"),
    "card_customer.created": _("Customer created at the card processor"),
    "card_setup.started": _("Card entry started (customer’s consent given)"),
    "saved_card.added": _("Saved card added"),
    "saved_card.replaced": _("Saved card replaced by the same card"),
    "saved_card.not_kept": _("Card not saved"),
    "saved_card.default_set": _("Default card changed"),
    "saved_card.deleted": _("Saved card deleted"),
    "saved_card.expired": _("Saved card expired"),
    "card_invite.created": _("Card invitation created"),
    "card_invite.used": _("Card invitation used"),
}
