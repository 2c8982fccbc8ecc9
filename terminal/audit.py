"""Activity page labels of the audit actions the card readers write (see accounts.audit)."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "reader.registered": _("Card reader registered"),
    "reader.renamed": _("Card reader renamed"),
    "reader.removed": _("Card reader removed"),
    "reader.mode_changed": _("Card reader mode changed"),
    "reader.action_canceled": _("Card payment cancelled on the reader"),
    "reader.refund_requested": _("Refund on the card reader requested"),
}
