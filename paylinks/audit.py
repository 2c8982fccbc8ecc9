"""What the Activity page calls the audit actions of pay links."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "paylinks.settings_changed": _("On-account settings changed (online payments)"),
    "pay_link.sent": _("Receipt with pay link e-mailed"),
    "pay_link.deactivated": _("Payment link deactivated"),
    "pay_link.paid": _("Payment link paid online"),
    "pay_link.reminded": _("Payment link reminder e-mailed"),
}
