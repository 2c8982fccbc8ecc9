"""A pay link's address: /pay/<token>/, the token being the link's random key (256 bits) signed, so a
made-up or tampered token is refused before any lookup. Links do not expire: they live until paid,
deactivated or replaced (seed 003). Absolute links use SITE_URL, never the request's host."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from paylinks.models import PayLink

SALT = "paylinks.pay-link"


def link_token(link: PayLink) -> str:
    return signing.Signer(salt=SALT).sign(link.key)


def link_path(link: PayLink) -> str:
    return reverse("paylinks:pay", kwargs={"token": link_token(link)})


def link_url(link: PayLink) -> str:
    return settings.SITE_URL + link_path(link)


def link_from_token(token: str) -> PayLink | None:
    """The link a /pay/ token names, or None for a token we did not sign (or a link that is gone)."""
    try:
        key = signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        return None
    return PayLink.objects.select_related("account", "sale__customer").filter(key=key).first()


def link_account(request, token: str, **url_kwargs):
    """The shop a /pay/ link acts for (accounts.tenancy.merchant_public_view), or None."""
    link = link_from_token(token)
    return link.account if link is not None else None
