"""How a request is scoped to one merchant account, and how views declare who may use them.

- AccountMiddleware resolves request.account, request.membership and request.permissions for a
  signed-in user, and activates the user's language and the account's time zone.
- scoped(model_or_queryset, account) is the single way to query merchant data; an id from another
  account is simply not found (404).
- Every view is wrapped by exactly one of staff_view(...), public_view or merchant_public_view(...);
  the wrappers record an Access on the view so tests can walk every URL and know what to expect.
- staff_view and merchant_public_view ask the account guard (accounts.guard) whether the account may
  be served, and staff_view whether the view's add-on is on (accounts.addons).
"""

import zoneinfo
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import addons, guard

SESSION_ACCOUNT_KEY = "account_id"


@dataclass(frozen=True)
class Access:
    public: bool = False
    permission: str | None = None
    addon: str | None = None
    # A staff page still served while the account is not active (accounts.guard).
    while_inactive: bool = False
    # A public page that acts for a merchant account, closed while that account is not active.
    merchant: bool = False


class AccountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.account = None
        request.membership = None
        request.permissions = frozenset()
        request.addons = frozenset()
        request.account_active = False
        request.readable_permissions = frozenset()
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            membership = _current_membership(request, user)
            if membership is not None:
                request.membership = membership
                request.account = membership.account
                request.permissions = membership.role.granted()
                request.addons = addons.account_addons(membership.account)
                request.account_active = guard.account_allows(membership.account, guard.STAFF_PAGES)
                request.readable_permissions = guard.readable_permissions(membership.account)
                timezone.activate(zoneinfo.ZoneInfo(membership.account.timezone))
            language = user.language or (membership.account.language if membership else None)
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _current_membership(request, user):
    from accounts.models import Membership

    memberships = Membership.objects.select_related("account", "role").filter(user=user).order_by("id")
    wanted = request.session.get(SESSION_ACCOUNT_KEY)
    if wanted is not None:
        chosen = memberships.filter(account_id=wanted).first()
        if chosen is not None:
            return chosen
    return memberships.first()


def scoped(model_or_queryset, account) -> QuerySet:
    """Rows of this merchant account (an Account or its id) only. Every query of merchant data goes
    through here; tests/test_tenancy_guard.py finds any that filters on the account by hand."""
    if account is None:
        raise PermissionDenied("no merchant account")
    queryset = model_or_queryset if isinstance(model_or_queryset, QuerySet) else model_or_queryset.objects.all()
    return queryset.filter(account=account)


def get_scoped_or_404(model_or_queryset, account, **lookup) -> Model:
    return get_object_or_404(scoped(model_or_queryset, account), **lookup)


def has_permission(request, code: str) -> bool:
    return code in getattr(request, "permissions", frozenset())


def _login_redirect(request):
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = f"{_login_url()}?next={request.path}"
        return response
    return redirect_to_login(request.get_full_path())


def _login_url():
    from django.conf import settings
    from django.shortcuts import resolve_url

    return resolve_url(settings.LOGIN_URL)


def _addon_off(request, code: str):
    """A page of an add-on the account does not have on: said plainly, never the feature. htmx reloads
    the page it came from, which then shows this."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=403)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "accounts/addon_off.html", {
        "addon": addons.addon_label(code), "may_switch": has_permission(request, "manage_billing"),
    }, status=403)


def staff_view(permission: str | None = None, *, addon: str | None = None, while_inactive: bool = False):
    """A page for signed-in staff of a merchant account. The account must be active (accounts.guard)
    unless the view is declared `while_inactive`; with `addon`, the account must have that add-on on;
    with `permission`, their role must grant it."""
    from accounts.permissions import ALL_CODES

    if permission is not None and permission not in ALL_CODES:
        raise ValueError(f"unknown permission {permission!r}")
    if addon is not None and addon not in addons.ALL_CODES:
        raise ValueError(f"unknown add-on {addon!r}")

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return _login_redirect(request)
            if request.account is None:
                raise PermissionDenied(_("Your user is not a member of any merchant account."))
            if not while_inactive and (refusal := guard.staff_refusal(request, permission)) is not None:
                return refusal
            if addon is not None and addon not in request.addons:
                return _addon_off(request, addon)
            if permission is not None and not has_permission(request, permission):
                raise PermissionDenied(_("Your staff role does not allow this."))
            return view(request, *args, **kwargs)

        wrapper.access = Access(permission=permission, addon=addon, while_inactive=while_inactive)
        return wrapper

    return decorator


def public_view(view):
    """A page anyone may open (login, password reset, webhooks). A customer page that acts for a
    merchant is a merchant_public_view."""
    view.access = Access(public=True)
    return view


def merchant_public_view(account_of):
    """A customer page that acts for a merchant account, reached by a signed link (/card/, /pay/):
    `account_of(request, **url_kwargs)` names that account from the link, or None when the link names
    none (the view then answers its own "not valid"). While the account is not active the customer
    gets the guard's closed page instead of the view, and nothing is saved."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            account = account_of(request, **kwargs)
            if account is not None and (refusal := guard.customer_refusal(request, account)) is not None:
                return refusal
            return view(request, *args, **kwargs)

        wrapper.access = Access(public=True, merchant=True)
        return wrapper

    return decorator
