"""What accounts tells the hold (accounts.hold_hooks): the integrations an account has connected, checked
against a plan's allowed integrations at reactivation, and the checklist's sections."""

from django.urls import reverse

from accounts.hold_hooks import IntegrationInUse
from accounts.models import AccountingConnection, AppConnection
from accounts.tenancy import scoped

XERO = "xero"


def app_key(slug: str) -> str:
    return f"app:{slug}"


def integrations_in_use(account) -> list[IntegrationInUse]:
    """Xero when connected ("xero") and each connected app ("app:<slug>"), removed in Setup › Integrations."""
    manage_url = reverse("setup:integrations")
    found = []
    if scoped(AccountingConnection, account).exists():
        found.append(IntegrationInUse(key=XERO, label="Xero", manage_url=manage_url))
    for slug, name in (scoped(AppConnection, account).filter(cancelled_at__isnull=True)
                       .values_list("app__slug", "app__name").order_by("app__name")):
        found.append(IntegrationInUse(key=app_key(slug), label=name, manage_url=manage_url))
    return found
