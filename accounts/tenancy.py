"""How a request is scoped to one merchant account, and how views declare who may use them.

- AccountMiddleware resolves request.account, request.membership and request.permissions for a
  signed-in user, and activates the user's language and the account's time zone.
- scoped(model_or_queryset, account) is the single way to query merchant data; an id from another
  account is simply not found (404).
- Every view is wrapped by exactly one of staff_view(...) or public_view; the wrappers record an
  Access on the view so tests can walk every URL and know what to expect.
"""

import zoneinfo
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

SESSION_ACCOUNT_KEY = "account_id"


@dataclass(frozen=True)
class Access:
    public: bool = False
    permission: str | None = None


class AccountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.account = None
        request.membership = None
        request.permissions = frozenset()
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            membership = _current_membership(request, user)
            if membership is not None:
                request.membership = membership
                request.account = membership.account
                request.permissions = membership.role.granted()
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


def staff_view(permission: str | None = None):
    """A page for signed-in staff of a merchant account; with `permission`, their role must grant it."""
    from accounts.permissions import ALL_CODES

    if permission is not None and permission not in ALL_CODES:
        raise ValueError(f"unknown permission {permission!r}")

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return _login_redirect(request)
            if request.account is None:
                raise PermissionDenied(_("Your user is not a member of any merchant account."))
            if permission is not None and not has_permission(request, permission):
                raise PermissionDenied(_("Your staff role does not allow this."))
            return view(request, *args, **kwargs)

        wrapper.access = Access(permission=permission)
        return wrapper

    return decorator


def public_view(view):
    """A page anyone may open (login, password reset, customer pages reached by signed links)."""
    view.access = Access(public=True)
    return view
