from django.conf import settings

from accounts.models import Membership
from posbackoffice.navigation import menu_for


def shell(request):
    """What the base layout needs on every page: the menu, the account and its switcher."""
    if not getattr(request, "account", None):
        return {"debug_mail": settings.DEBUG}
    others = (
        Membership.objects.filter(user=request.user)
        .exclude(account=request.account)
        .select_related("account")
        .order_by("account__name")
    )
    return {
        "menu": menu_for(request),
        "current_account": request.account,
        "other_memberships": list(others),
        "debug_mail": settings.DEBUG,
    }
