"""The account guard: the one place that reads `Account.status` and says what an account that is not
active may still do.

Three kinds of entry point ask it, each in one place:
- staff pages: `accounts.tenancy.staff_view` answers `staff_refusal` (the "account not active" page,
  or an HX-Redirect to it for htmx) unless the view is declared `while_inactive` — Setup › Billing
  (the merchant's own bill with the platform, the way back), the account switcher and the page itself;
  login, logout and the language switch are public;
- customer pages that act for a merchant: `accounts.tenancy.merchant_public_view` answers
  `customer_refusal` (a closed page with the shop's name; JSON for the page's scripts) before the view
  runs, so nothing is saved;
- services and tasks that move the merchant's customers' money: services call
  `require_customer_money_allowed` (an `AccountInactive` domain error), tasks ask
  `money_task_may_run` (False with a log line: the task returns without doing anything).

Not stopped, on purpose: the steps of a payment or refund already created (charge, settle, reconcile,
the webhook task) finish whatever the account's state, so no customer's money is left half-way; and
payments whose payee is the platform (the merchant paying its own bill, which is how an account comes
back) never ask the guard — only money between the merchant and its customers does.
"""

import logging

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.addons import account_has_addon
from accounts.models import Account
from posbackoffice.errors import DomainError

logger = logging.getLogger(__name__)

# What an account does, by kind of entry point.
STAFF_PAGES = "staff_pages"  # the back-office (staff_view)
CUSTOMER_PAGES = "customer_pages"  # customer pages that act for the merchant (merchant_public_view)
CUSTOMER_MONEY = "customer_money"  # new charges and refunds of the merchant's customers (services, tasks)
# Reading reports and exports (the staff pages whose permission is in READABLE_PERMISSIONS, GET only):
# what a "read-only hold" keeps. STAFF_PAGES includes it.
READ_REPORTS = "read_reports"
ACTIVITIES = frozenset({STAFF_PAGES, CUSTOMER_PAGES, CUSTOMER_MONEY, READ_REPORTS})
READABLE_PERMISSIONS = frozenset({"view_reports", "export_data"})

# What each status allows; a status missing here allows nothing. An account on hold (billing) runs
# nothing: no staff page but Setup › Billing and reactivation, no customer page, no customer money; the
# read-only hold keeps the reports and exports readable (beyond the seed).
ALLOWED = {
    Account.Status.ACTIVE: ACTIVITIES,
    Account.Status.SUSPENDED: frozenset(),
    Account.Status.ON_HOLD: frozenset(),
    Account.Status.ON_HOLD_READABLE: frozenset({READ_REPORTS}),
}
ON_HOLD_STATUSES = frozenset({Account.Status.ON_HOLD, Account.Status.ON_HOLD_READABLE})

REASONS = {
    Account.Status.SUSPENDED: gettext_lazy("The account “%(shop)s” is suspended."),
    Account.Status.ON_HOLD: gettext_lazy("The account “%(shop)s” is on hold."),
    Account.Status.ON_HOLD_READABLE: gettext_lazy(
        "The account “%(shop)s” is on hold: only its reports and exports can be read."),
}


class AccountInactive(DomainError):
    """A service refused to move a customer's money because the merchant's account is not active."""


def account_allows(account: Account, activity: str) -> bool:
    if activity not in ACTIVITIES:
        raise ValueError(f"unknown activity {activity!r}")
    return activity in ALLOWED.get(account.status, frozenset())


def account_on_hold(account: Account) -> bool:
    """Whether the merchant put the account on hold (billing's hold; reactivated from Setup › Billing)."""
    return account.status in ON_HOLD_STATUSES


def readable_permissions(account: Account) -> frozenset[str]:
    """The permissions whose pages (GET) stay open while the account is not active: the reports and
    exports of a read-only hold; none otherwise."""
    if account is None or account_allows(account, STAFF_PAGES) or not account_allows(account, READ_REPORTS):
        return frozenset()
    return READABLE_PERMISSIONS


def inactive_reason(account: Account) -> str:
    """Why the account refuses, in the reader's language."""
    reason = REASONS.get(account.status) or gettext_lazy("The account “%(shop)s” is not active.")
    return str(reason) % {"shop": account.name}


def _stored(account) -> Account:
    """The account as stored now: a service or a task may hold an Account (or an id) read long ago."""
    return Account.objects.only("name", "status", "addons").get(pk=getattr(account, "pk", account))


# ---- services and tasks --------------------------------------------------------------------------

def require_customer_money_allowed(account) -> None:
    """First thing of every service that starts moving money between the merchant and its customers
    (payment_create, refund_create, a feature's charge): refused with AccountInactive while the account
    is not active. Not for the later steps of a payment already created, nor for the platform's own
    billing of the merchant (see the module's docstring)."""
    stored = _stored(account)
    if not account_allows(stored, CUSTOMER_MONEY):
        raise AccountInactive(
            _("%(reason)s No card payment or refund can be made for its customers until it is active again.")
            % {"reason": inactive_reason(stored)}, code="account_inactive")


def money_task_may_run(account, *, task: str, addon: str | None = None, **ids) -> bool:
    """Asked first by every task that moves the merchant's customers' money (and, with `addon`, belongs
    to that add-on): False, with a log line saying which task skipped what and why, when the account is
    not active or the add-on is off; the task then returns without doing anything."""
    stored = _stored(account)
    refs = " ".join(f"{name}={value}" for name, value in sorted(ids.items()))
    if not account_allows(stored, CUSTOMER_MONEY):
        logger.info("%s skipped (%s): account %s is not active (%s)", task, refs, stored.pk, stored.status)
        return False
    if addon is not None and not account_has_addon(stored, addon):
        logger.info("%s skipped (%s): the %s add-on is off for account %s", task, refs, addon, stored.pk)
        return False
    return True


# ---- pages ---------------------------------------------------------------------------------------

def inactive_page(request, *, status: int = 200) -> HttpResponse:
    """What every staff page of an account that is not active shows: why, and what to do — the way
    to Setup › Billing for whoever may open it (Owner, Admin), asking the owner for everyone else."""
    return render(request, "accounts/account_inactive.html", {
        "reason": inactive_reason(request.account),
        "may_reactivate": "manage_billing" in getattr(request, "permissions", frozenset()),
        "on_hold": account_on_hold(request.account),
    }, status=status)


def staff_refusal(request, permission: str | None = None) -> HttpResponse | None:
    """The answer of a staff page when the signed-in account is not active (None when it is): the page
    in place with 403, or for htmx an HX-Redirect to it (htmx follows it whatever the target). A read-only
    hold still serves the reading (GET) of the pages whose permission is a reports or exports one."""
    if account_allows(request.account, STAFF_PAGES):
        return None
    if request.method in ("GET", "HEAD") and permission in readable_permissions(request.account):
        return None
    if getattr(request, "htmx", False):
        response = HttpResponse(status=403)
        response["HX-Redirect"] = reverse("account_inactive")
        return response
    return inactive_page(request, status=403)


def customer_refusal(request, account: Account) -> HttpResponse | None:
    """The answer of a customer page acting for `account` when the account is not active (None when it
    is): a closed page with the shop's name, or the same message as JSON for the page's own scripts."""
    if account_allows(account, CUSTOMER_PAGES):
        return None
    message = _("%(shop)s is not taking payments online at the moment.") % {"shop": account.name}
    if request.get_preferred_type(["text/html", "application/json"]) == "application/json":
        nothing_saved = _("Nothing was saved.")
        response = JsonResponse({"status": "closed", "message": f"{message} {nothing_saved}"}, status=403)
    else:
        response = render(request, "accounts/closed.html", {"shop": account.name, "message": message},
                          status=403)
    add_never_cache_headers(response)
    return response
