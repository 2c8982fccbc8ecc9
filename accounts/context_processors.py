from django.conf import settings
from django.utils.functional import SimpleLazyObject

from accounts import selectors
from accounts.models import Membership
from posbackoffice.navigation import menu_for


def shell(request):
    """What the base layout needs on every page: the menu, the account and its switcher. Lazy, so an
    htmx partial, which shows neither, costs no query and no URL reversing for them."""
    if not getattr(request, "account", None):
        return {"debug_mail": settings.DEBUG}
    others = (
        Membership.objects.filter(user=request.user)
        .exclude(account=request.account)
        .select_related("account")
        .order_by("account__name")
    )
    return {
        "menu": SimpleLazyObject(lambda: menu_for(request)),
        "current_account": request.account,
        "other_memberships": SimpleLazyObject(lambda: list(others)),
        "debug_mail": settings.DEBUG,
        "bell": SimpleLazyObject(lambda: selectors.bell(request.user, request.account)),
    }
