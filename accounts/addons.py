"""The add-on catalogue: optional features an account switches on (Subscriptions first), and the one
read every app uses to ask whether one is on.

The codes an account has on are stored on `Account.addons`; `accounts.services.account_addon_enable`
and `account_addon_disable` change them (Owner and Admin, audited); billing prices and sells them. A
feature's views declare their add-on (`staff_view(permission, addon=...)`), its menu entry names it
(`posbackoffice.navigation.NavItem.addon`), and its tasks ask `account_has_addon` before doing anything.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from posbackoffice.registry import Registry


@dataclass(frozen=True)
class Addon:
    code: str
    label: str
    description: str


SUBSCRIPTIONS = "subscriptions"

CATALOGUE = [
    Addon(SUBSCRIPTIONS, _("Subscriptions"),
          _("Recurring sales: customers subscribe to a plan and their saved card is charged each period.")),
]

ALL_CODES = frozenset(addon.code for addon in CATALOGUE)

# Told, inside account_addon_enable / account_addon_disable's transaction (the account row locked), that
# an add-on was switched: `listener(*, actor, account, code, on, now)`. The apps above that own the
# feature register (subscriptions pauses its customers' subscriptions when its add-on goes, and resumes
# them, without back-charges, when it comes back). A listener may refuse with a DomainError: nothing changes.
CHANGE_LISTENERS: Registry[Callable[..., None]] = Registry("add-on change listeners")
BY_CODE = {addon.code: addon for addon in CATALOGUE}


def _known(code: str) -> str:
    if code not in ALL_CODES:
        raise ValueError(f"unknown add-on {code!r}")
    return code


def account_addons(account) -> frozenset[str]:
    """The codes of the add-ons this account has on (the middleware exposes them as request.addons)."""
    if account is None:
        return frozenset()
    return frozenset(account.addons or ()) & ALL_CODES


def account_has_addon(account, code: str) -> bool:
    """Whether this account has the add-on on. A code missing from the catalogue is a programming error."""
    return _known(code) in account_addons(account)


def addon_label(code: str) -> str:
    return str(BY_CODE[_known(code)].label)
