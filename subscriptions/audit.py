"""What the Activity page calls the audit actions of subscriptions."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "subscriptions.settings_changed": _("Subscription settings changed"),
    "plan.created": _("Subscription plan created"),
    "plan.updated": _("Subscription plan changed"),
    "plan.archived": _("Subscription plan archived"),
    "subscription.created": _("Customer subscribed"),
    "subscription.started": _("Subscription started"),
    "subscription.renewed": _("Subscription renewed"),
    "subscription.payment_failed": _("Subscription payment failed"),
    "subscription.paused": _("Subscription paused"),
    "subscription.resumed": _("Subscription resumed"),
    "subscription.hold_skipped": _("Subscription billing moved past the account's hold"),
    "subscription.paused_addon_off": _("Subscription paused: Subscriptions add-on removed"),
    "subscription.resumed_addon_on": _("Subscription resumed: Subscriptions add-on back"),
    "subscription.addon_skipped": _("Subscription billing moved past the time the add-on was off"),
    "subscription.cancelled": _("Subscription cancelled"),
    "subscription.cancel_scheduled": _("Subscription set to end at the end of the period"),
    "subscription.expired": _("Subscription expired"),
    "subscription.card_changed": _("Subscription card changed"),
    "subscription.notes_changed": _("Private notes about a subscriber changed"),
    "subscription.refunded": _("Subscription payment refunded"),
}
