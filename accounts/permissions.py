"""The permission catalogue: every code a staff role can hold, grouped as on the Staff roles page.

Codes are stored on StaffRole.permissions; views declare the one they need (accounts.tenancy).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Permission:
    code: str
    section: str
    label: str
    # Reserved permissions can only be held by the Owner and Admin roles.
    reserved: bool = False


SECTIONS = {
    "sales": _("Sales"),
    "products": _("Products"),
    "customers": _("Customers"),
    "inventory": _("Inventory"),
    "reports": _("Reports"),
    "finance": _("Finance"),
    "subscriptions": _("Subscriptions"),
    "setup": _("Setup"),
}

CATALOGUE = [
    Permission("sell", "sales", _("Sell and view sales history")),
    Permission("void_refund_sales", "sales", _("Void and refund sales")),
    Permission("use_saved_payment_method", "sales", _("Use customer's saved payment method")),
    Permission("manage_products", "products", _("Manage products")),
    Permission("manage_customers", "customers", _("Manage customers")),
    Permission("add_saved_payment_method", "customers", _("Add saved payment method")),
    Permission("edit_saved_payment_method", "customers", _("Edit saved payment method")),
    Permission("manage_fulfilments", "inventory", _("Manage fulfilments")),
    Permission("view_reports", "reports", _("View reports")),
    Permission("export_data", "reports", _("Export data")),
    Permission("view_payments", "finance", _("View payments")),
    Permission("refund_payments", "finance", _("Refund payments")),
    Permission("manage_payment_links", "finance", _("Manage payment links")),
    Permission("manage_subscriptions", "subscriptions", _("Manage subscriptions")),
    Permission("manage_general_settings", "setup", _("Manage general settings")),
    Permission("manage_payment_settings", "setup", _("Manage payment settings")),
    Permission("manage_integrations", "setup", _("Manage integrations")),
    Permission("view_activity", "setup", _("View activity log")),
    Permission("manage_staff_roles", "setup", _("Manage staff roles"), reserved=True),
    Permission("manage_billing", "setup", _("Manage billing"), reserved=True),
]

ALL_CODES = frozenset(p.code for p in CATALOGUE)
RESERVED_CODES = frozenset(p.code for p in CATALOGUE if p.reserved)
BY_CODE = {p.code: p for p in CATALOGUE}

OWNER, ADMIN, MANAGER, CASHIER, CUSTOM = "owner", "admin", "manager", "cashier", "custom"

PRESET_PERMISSIONS = {
    OWNER: ALL_CODES,
    ADMIN: ALL_CODES,
    MANAGER: frozenset(
        {
            "sell",
            "void_refund_sales",
            "manage_products",
            "manage_customers",
            "manage_fulfilments",
            "view_reports",
            "export_data",
            "view_payments",
            "refund_payments",
            "manage_payment_links",
            "manage_subscriptions",
        }
    ),
    CASHIER: frozenset({"sell", "manage_customers"}),
}


def grouped():
    """[(section label, [Permission, ...]), ...] in catalogue order, for forms and pages."""
    sections: dict[str, list[Permission]] = {}
    for permission in CATALOGUE:
        sections.setdefault(permission.section, []).append(permission)
    return [(SECTIONS[key], items) for key, items in sections.items()]
