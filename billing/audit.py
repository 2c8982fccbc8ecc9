"""Activity page labels of the audit actions billing writes (see accounts.audit)."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "billing.card_setup_started": _("Billing card entry started"),
    "billing.card_updated": _("Billing card updated"),
    "billing.plan_changed": _("Plan changed"),
    "billing.invoice_paid": _("Invoice paid"),
    "billing.invoice_failed": _("Invoice payment failed"),
    "billing.reactivation_started": _("Reactivation payment started"),
    "account.put_on_hold": _("Account put on hold"),
    "account.reactivated": _("Account reactivated"),
}
