"""/card/<token>/: the customer adds their own card, on their phone (QR code at the counter) or from an
e-mailed card-update link. Public pages, reached only through the signed token; the invitation must
be unused, unexpired, with attempts left, and the shop must still save cards. A used, expired or
tampered link shows a clear error page and saves nothing. The card itself goes from the phone to the
processor (card-entry module); we receive a setup's confirmation only. While the shop's account is not
active, every /card/ page answers the account guard's closed page (merchant_public_view)."""

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.tenancy import merchant_public_view
from payments.card_entry import card_entry_context, card_entry_page
from posbackoffice.errors import DomainError
from saved_cards import invites, services
from saved_cards.models import CardInvite, SavedCard
from saved_cards.services import InviteUnusable
from saved_cards.views import setup_answer

SOURCES = {CardInvite.Kind.QR: SavedCard.Source.QR_INVITE, CardInvite.Kind.EMAIL: SavedCard.Source.UPDATE_LINK}


def _invitation(token: str) -> tuple[CardInvite | None, str, int]:
    """(invitation, why it cannot be used, HTTP status): a token we did not sign is 404, an invitation
    that cannot save a card any more 410 (gone)."""
    invite = invites.invite_from_token(token)
    if invite is None:
        return None, _("This link is not valid. Check that it was copied whole, or ask the shop for a new one."), 404
    try:
        services.invite_check(invite, timezone.now())
    except InviteUnusable as unusable:
        return invite, unusable.message, 410
    return invite, "", 200


def _error_page(request, invite, message, status):
    return render(request, "saved_cards/public/unusable.html", {
        "shop": invite.account.name if invite else "", "message": message}, status=status)


@merchant_public_view(invites.invite_account)
@require_GET
@never_cache
@card_entry_page
def card_page(request, token):
    invite, problem, status = _invitation(token)
    if problem:
        return _error_page(request, invite, problem, status)
    return render(request, "saved_cards/public/card.html", {
        "shop": invite.account.name, "first_name": invite.customer.first_name,
        "start_url": reverse("saved_cards:card_setup_start", kwargs={"token": token}),
        **card_entry_context(),
    })


@merchant_public_view(invites.invite_account)
@require_POST
@never_cache
def card_setup_start(request, token):
    invite, problem, status = _invitation(token)
    if problem:
        return JsonResponse({"status": "invalid", "message": str(problem)}, status=status)
    try:
        started = services.card_setup_start(actor=None, account=invite.account, customer_id=invite.customer_id,
                                            consent=request.POST.get("consent") == "1",
                                            source=SOURCES[invite.kind], invite_id=invite.pk)
    except DomainError as refused:
        return JsonResponse({"status": "invalid", "message": str(refused.message)}, status=422)
    return setup_answer(started, reverse("saved_cards:card_setup_finish",
                                         kwargs={"token": token, "setup_id": started.setup.pk}))


@merchant_public_view(invites.invite_account)
@require_POST
@never_cache
def card_setup_finish(request, token, setup_id):
    invite = invites.invite_from_token(token)
    if invite is None:
        return JsonResponse({"status": "invalid", "message": _("This link is not valid.")}, status=404)
    try:
        services.card_setup_finish(account=invite.account, setup_id=setup_id, invite_id=invite.pk)
    except DomainError as refused:
        return JsonResponse({"status": "invalid", "message": str(refused.message)}, status=422)
    return JsonResponse({"status": "saved"})
