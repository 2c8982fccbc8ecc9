"""Invitations for the customer to enter their own card, on their phone (a QR code on the staff
screen) or from an e-mailed card-update link: a single-use, expiring link under /card/ whose token is
the invitation's random key, signed (a tampered or made-up token is refused before any lookup).
Subscriptions reuse the QR invitation for "Add a credit card"."""

import datetime
import secrets
import zoneinfo

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.services import audit_record, email_queue
from accounts.tenancy import scoped
from posbackoffice.errors import DomainError
from saved_cards.models import MAX_CARDS_PER_CUSTOMER, CardInvite, SavedCard
from saved_cards.services import limit_message, lock_customer, require_enabled

SALT = "saved_cards.card-invite"
LIFETIMES = {
    CardInvite.Kind.QR: datetime.timedelta(minutes=20),  # the customer is at the counter
    CardInvite.Kind.EMAIL: datetime.timedelta(days=3),  # the customer reads their mail when they can
}


def invite_token(invite: CardInvite) -> str:
    """The key, signed: the same link every time it is shown (the expiry is the invitation's own)."""
    return signing.Signer(salt=SALT).sign(invite.key)


def invite_path(invite: CardInvite) -> str:
    return reverse("saved_cards:card_page", kwargs={"token": invite_token(invite)})


def invite_url(invite: CardInvite) -> str:
    """The link the customer opens (QR code or e-mail), on SITE_URL: the address phones and mail readers
    reach us at, whatever address the staff screen showing the QR code was opened with."""
    return settings.SITE_URL + invite_path(invite)


def invite_from_token(token: str) -> CardInvite | None:
    """The invitation a /card/ token names, or None when the token is not one we signed."""
    try:
        key = signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        return None
    return CardInvite.objects.select_related("account", "customer").filter(key=key).first()


def invite_account(request, token: str, **url_kwargs):
    """The shop a /card/ link acts for (accounts.tenancy.merchant_public_view), or None for a token we
    did not sign or that names no invitation."""
    invite = invite_from_token(token)
    return invite.account if invite is not None else None


@transaction.atomic
def card_invite_create(*, actor, account, customer_id: int, kind: str, now=None) -> CardInvite:
    """A new invitation for this customer; an e-mailed one is sent to the customer's address (rendered
    now in the customer's language — the shop's when none is set —, delivered by the worker once
    committed)."""
    now = now or timezone.now()
    require_enabled(account)
    customer = lock_customer(account, customer_id)
    if kind not in CardInvite.Kind.values:
        raise DomainError(_("Unknown kind of invitation."))
    if scoped(SavedCard, account).filter(customer=customer).count() >= MAX_CARDS_PER_CUSTOMER:
        raise DomainError(limit_message())
    if kind == CardInvite.Kind.EMAIL and not customer.email:
        raise DomainError(_("This customer has no e-mail address. Add one to their profile first."))
    invite = CardInvite.objects.create(
        account=account, customer=customer, kind=kind, key=secrets.token_urlsafe(18),
        sent_to=customer.email if kind == CardInvite.Kind.EMAIL else "",
        created_by=actor if getattr(actor, "pk", None) else None, created_at=now, expires_at=now + LIFETIMES[kind])
    audit_record(account=account, actor=actor, action="card_invite.created", target=invite,
                 after={"customer": customer.pk, "kind": kind, "expires_at": invite.expires_at,
                        "sent_to": invite.sent_to}, at=now)
    if kind == CardInvite.Kind.EMAIL:
        _queue_email(invite)
    return invite


def _queue_email(invite: CardInvite) -> None:
    account = invite.account
    context = {"shop": account.name, "first_name": invite.customer.first_name,
               "url": invite_url(invite), "expires_at": invite.expires_at}
    language = invite.customer.language_or(account.language)
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(account.timezone)):
        subject = _("Add or update your payment card for %(shop)s") % {"shop": account.name}
        body = render_to_string("saved_cards/email/card_link.txt", context)
        html = render_to_string("saved_cards/email/card_link.html", context)
    email_queue(account=account, to=[invite.sent_to], subject=subject, text=body, html=html)
