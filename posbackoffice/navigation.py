"""The back-office menu, following the help-centre articles' menus. Each entry names its URL, the
permission that shows it and, for an optional feature, its add-on; the views check the same on the
server (tests/test_shell.py holds them to it). While the account is not active, only the entries whose
view stays open show (accounts.guard)."""

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, resolve, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str
    addon: str | None = None


@dataclass(frozen=True)
class NavSection:
    label: str
    items: list[NavItem] = field(default_factory=list)


MENU = [
    NavSection(_("Sell"), [
        NavItem(_("Sell"), "retail:sell", "sell"),
        NavItem(_("Sales history"), "retail:history", "sell"),
    ]),
    NavSection(_("Products"), [NavItem(_("Products"), "retail:products", "manage_products")]),
    NavSection(_("Customers"), [NavItem(_("Customers"), "retail:customers", "manage_customers")]),
    NavSection(_("Inventory"), [NavItem(_("Fulfilments"), "retail:fulfilments", "manage_fulfilments")]),
    NavSection(_("Reports"), [NavItem(_("Reports"), "retail:reports", "view_reports")]),
    NavSection(_("Subscriptions"), [
        NavItem(_("Manage plans"), "subscriptions:plans", "manage_subscriptions", addon="subscriptions"),
        NavItem(_("Subscribe a customer"), "subscriptions:subscribe", "manage_subscriptions", addon="subscriptions"),
        NavItem(_("Manage subscriptions"), "subscriptions:list", "manage_subscriptions", addon="subscriptions"),
        NavItem(_("Dashboard"), "subscriptions:dashboard", "manage_subscriptions", addon="subscriptions"),
        NavItem(_("Settings"), "subscriptions:settings", "manage_subscriptions", addon="subscriptions"),
    ]),
    NavSection(_("Finance"), [
        NavItem(_("Payments"), "payments:list", "view_payments"),
        NavItem(_("Payment links"), "paylinks:list", "manage_payment_links"),
    ]),
    NavSection(_("Setup"), [
        NavItem(_("General"), "setup:general", "manage_general_settings"),
        NavItem(_("Outlets and registers"), "setup:outlets", "manage_general_settings"),
        NavItem(_("Sales settings"), "retail:shop_settings", "manage_general_settings"),
        NavItem(_("Customer types"), "retail:customer_types", "manage_customers"),
        NavItem(_("Staff roles"), "setup:staff_roles", "manage_staff_roles"),
        NavItem(_("Billing"), "billing:setup", "manage_billing"),
        NavItem(_("Payments"), "payments:setup", "manage_payment_settings"),
        NavItem(_("On-account sales"), "paylinks:setup", "manage_payment_settings"),
        NavItem(_("Integrations"), "setup:integrations", "manage_integrations"),
        NavItem(_("Activity"), "setup:activity", "view_activity"),
    ]),
]


def _open_while_inactive(url: str, readable: frozenset = frozenset()) -> bool:
    """Open while the account is not active: declared so, or, on a read-only hold, a reports or exports
    page (`request.readable_permissions`, from the account guard)."""
    access = getattr(resolve(url).func, "access", None)
    return bool(access and (access.while_inactive or access.permission in readable))


def menu_for(request) -> list[dict]:
    """The sections and items this request's staff role may open, with their URLs: the role grants the
    item's permission, its add-on (if any) is on, and the account is active or the page stays open."""
    granted = getattr(request, "permissions", frozenset())
    addons = getattr(request, "addons", frozenset())
    account_active = getattr(request, "account_active", True)
    current = request.path
    sections = []
    for section in MENU:
        items = []
        for item in section.items:
            if item.permission not in granted or (item.addon is not None and item.addon not in addons):
                continue
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue
            if not account_active and not _open_while_inactive(url, getattr(request, "readable_permissions",
                                                                             frozenset())):
                continue
            active = current == url or (url != "/setup/" and current.startswith(url))
            items.append({"label": item.label, "url": url, "active": active})
        if items:
            # "Inventory › Fulfilments" keeps its heading; "Products › Products" would only repeat it.
            show_heading = len(items) > 1 or str(items[0]["label"]) != str(section.label)
            sections.append({"label": section.label, "items": items, "show_heading": show_heading})
    return sections


def first_page_for(request) -> str | None:
    for section in menu_for(request):
        return section["items"][0]["url"]
    return None
