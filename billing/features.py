"""What plans give, by key (Plan.features holds keys): the labels people read, translated."""

from django.utils.translation import gettext_lazy as _

FEATURES = {
    "sell": _("Sell screen and sales history"),
    "catalogue": _("Products and customers"),
    "reports": _("Sales, tax and register reports"),
    "pay_links": _("Payment links"),
    "gift_cards": _("Gift cards and store credit"),
    "fulfilments": _("Fulfilments"),
    "accounting": _("Accounting integration (Xero)"),
    "advanced_reports": _("Advanced reports"),
    "third_party_apps": _("Third-party apps"),
    "priority_support": _("Priority support"),
}


def feature_label(key: str) -> str:
    return str(FEATURES.get(key, key))


def feature_labels(keys) -> list[str]:
    return [feature_label(key) for key in keys or ()]
