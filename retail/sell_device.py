"""What the sell screen's pages share, retail's own and those other apps add to it (payments' manual
card entry, saved_cards' Saved payments): this browser's register and its sale in progress.

The register is a device: the browser remembers which one it is, across logins, in a cookie signed per
account. A page taking a payment for the sale in progress reads it here, never from another app's
views (docs/architecture.md, import layers)."""

from django.conf import settings

from accounts.models import Register
from accounts.tenancy import scoped
from retail.models import Sale
from retail.selectors import sell as selectors

REGISTER_COOKIE = "sell_register"
REGISTER_COOKIE_AGE = 365 * 24 * 3600
# The sale just completed, shown over the next empty cart (its receipt, change due).
SESSION_LAST_SALE = "sell_last_sale_id"


def _cookie_salt(request) -> str:
    return f"register-{request.account.pk}"


def chosen_register_id(request) -> str | None:
    return request.get_signed_cookie(REGISTER_COOKIE, default=None, salt=_cookie_salt(request)) or None


def chosen_register(request) -> Register | None:
    register_id = chosen_register_id(request)
    if not register_id:
        return None
    return scoped(Register, request.account).filter(pk=register_id, is_active=True) \
        .select_related("outlet").first()


def remember_register(request, response, register: Register) -> None:
    response.set_signed_cookie(REGISTER_COOKIE, str(register.pk), salt=_cookie_salt(request),
                               max_age=REGISTER_COOKIE_AGE, httponly=True, samesite="Lax",
                               secure=settings.SESSION_COOKIE_SECURE)


def forget_register(response) -> None:
    response.delete_cookie(REGISTER_COOKIE)


def sale_in_progress(request) -> Sale | None:
    """The open sale of this browser's register, with its register, outlet and customer, in one query;
    None when no register is chosen, the register is closed, or it has no sale yet."""
    register_id = chosen_register_id(request)
    return selectors.sale_in_progress(request.account, register_id) if register_id else None

