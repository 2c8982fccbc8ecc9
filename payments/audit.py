"""Activity page labels of the audit actions the payments core writes (see accounts.audit)."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "payment.created": _("Payment started"),
    "payment.pending": _("Payment pending"),
    "payment.succeeded": _("Payment succeeded"),
    "payment.failed": _("Payment failed"),
    "payment.refunded": _("Payment refunded"),
    "payment.partially_refunded": _("Payment partly refunded"),
    "payment.refund_requested": _("Refund requested"),
    "payment.refund_pending": _("Refund pending"),
    "payment.refund_succeeded": _("Refund succeeded"),
    "payment.refund_failed": _("Refund failed"),
    "payment_settings.changed": _("Payment settings changed"),
    "payment.attached_to_sale": _("Standalone payment added to a sale"),
    "payment.reconciled": _("Payments compared with the processor"),
}
