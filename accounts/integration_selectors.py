"""Reads of Setup › Integrations and of the hold checklist's sections."""

from dataclasses import dataclass

from accounts.accounting import sources
from accounts.models import AccountingConnection, AppConnection, ThirdPartyApp
from accounts.tenancy import scoped

# Unposted items listed per kind on a page (the count says how many there are in all).
LISTED = 10


def accounting_connection(account) -> AccountingConnection | None:
    return scoped(AccountingConnection, account).first()


def posting_status(account) -> list[dict]:
    """Per kind (register closures, on-account sales): its label, how many are not posted, the oldest."""
    return sources.unposted(account, limit=LISTED)


def connected_apps(account) -> list[AppConnection]:
    return list(scoped(AppConnection, account).filter(cancelled_at__isnull=True).select_related("app")
                .order_by("app__name"))


@dataclass(frozen=True)
class MonthlyTotal:
    amount: int
    currency: str


def monthly_totals(connections) -> list[MonthlyTotal]:
    """The connected apps' monthly charges summed per currency."""
    totals: dict[str, int] = {}
    for connection in connections:
        totals[connection.app.currency] = totals.get(connection.app.currency, 0) + connection.app.monthly_charge
    return [MonthlyTotal(amount, currency) for currency, amount in sorted(totals.items())]


def app_catalogue(account, connections) -> list[ThirdPartyApp]:
    """The offered apps the account has not connected."""
    taken = {connection.app_id for connection in connections}
    return [app for app in ThirdPartyApp.objects.filter(is_active=True).order_by("name") if app.pk not in taken]
