"""Staff pages of saved payment methods: Setup › General's switch and the terms of use, and a customer's
cards — add one with the card-entry module (the customer's consent ticked), invite the customer to add
their own (QR code, e-mailed card-update link), and choose the default card and the cards to delete,
applied together by "Save changes".

Feature off: no page shows saved cards and every action here refuses with a message, changing nothing.
"""

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.tenancy import get_scoped_or_404, has_permission, scoped, staff_view
from payments.card_entry import card_entry_context, card_entry_page
from posbackoffice.errors import DomainError, NotAllowed
from posbackoffice.pages import render_page
from posbackoffice.params import id_or_404, ids_or_404
from retail.models import Customer
from saved_cards import invites, protection, selectors, services
from saved_cards.models import MAX_CARDS_PER_CUSTOMER, CardInvite, CardSetup, SavedCard
from saved_cards.terms import TERMS

# ---- Setup › General › Saved payment method ------------------------------------------------------


def may_switch(request) -> bool:
    """Only the Owner and Admin roles turn the feature on or off (the services check it too)."""
    membership = getattr(request, "membership", None)
    return membership is not None and membership.role.may_hold_reserved \
        and has_permission(request, "manage_general_settings")


def general_settings_section(request) -> dict | None:
    """The section of Setup › General (registered in accounts.settings_sections)."""
    if not may_switch(request):
        return None
    return {"settings": selectors.feature_settings(request.account)}


def _refuse_unless_may_switch(request) -> None:
    if not may_switch(request):
        raise PermissionDenied(_("Only the Owner and Admin roles can turn saved payment methods on or off."))


@require_POST
@staff_view("manage_general_settings")
def feature(request):
    """The section's checkbox: ticked, the terms of use come next; unticked, the feature goes off."""
    _refuse_unless_may_switch(request)
    wanted = request.POST.get("enabled") == "on"
    if wanted == selectors.feature_enabled(request.account):
        messages.info(request, _("Nothing changed."))
        return redirect("setup:general")
    if wanted:
        return redirect("saved_cards:terms")
    try:
        services.saved_cards_disable(actor=request.user, account=request.account)
    except NotAllowed as refused:
        raise PermissionDenied(refused.message) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Saved payment methods are off."))
    return redirect("setup:general")


@require_http_methods(["GET", "POST"])
@staff_view("manage_general_settings")
def terms(request):
    _refuse_unless_may_switch(request)
    if selectors.feature_enabled(request.account):
        return redirect("saved_cards:enabled")
    error = ""
    if request.method == "POST":
        try:
            services.saved_cards_enable(actor=request.user, account=request.account,
                                        accept_terms=request.POST.get("accept") == "1")
        except NotAllowed as refused:
            raise PermissionDenied(refused.message) from None
        except DomainError as refused:
            error = refused.message
        else:
            return redirect("saved_cards:enabled")
    return render(request, "saved_cards/terms.html", {"terms": TERMS, "error": error},
                  status=422 if error else 200)


@require_GET
@staff_view("manage_general_settings")
def enabled(request):
    """After the terms: staff roles need the new permissions before anyone can save or use cards."""
    _refuse_unless_may_switch(request)
    if not selectors.feature_enabled(request.account):
        return redirect("setup:general")
    return render(request, "saved_cards/enabled.html", {"settings": selectors.feature_settings(request.account)})


# ---- the customer profile ---------------------------------------------------------------------------

def profile_section(request, customer) -> dict | None:
    """The profile's "Saved payment methods" section (registered in retail.customer_extensions)."""
    account = request.account
    if not selectors.feature_enabled(account):
        return None
    cards = selectors.customer_cards(account, customer, selectors.shop_today(account))
    for card in cards:
        card.protected_because = " ".join(protection.reasons(card))
    return {"customer": customer, "cards": cards, "full": len(cards) >= MAX_CARDS_PER_CUSTOMER,
            "limit_message": services.limit_message(),
            "can_add": has_permission(request, "add_saved_payment_method"),
            "can_edit": has_permission(request, "edit_saved_payment_method")}


def _next_url(request) -> str:
    """Where to go once the card is added when another page sent the staff here (subscribing a
    customer): a path on this site only; empty otherwise (the profile)."""
    url = (request.POST.get("next") or request.GET.get("next") or "")[:2000]
    if url.startswith("/") and not url.startswith("//") and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url
    return ""


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _customer(request, customer_id) -> Customer:
    return get_scoped_or_404(Customer, request.account, pk=customer_id)


def _back_to_profile(customer, anchor=True):
    url = reverse("retail:customer_detail", kwargs={"customer_id": customer.pk})
    return redirect(f"{url}#saved-cards" if anchor else url)


def _refused_page(request, customer, message):
    """A refused page or form action: the message on the profile, nothing changed."""
    messages.error(request, message)
    return _back_to_profile(customer, anchor=selectors.feature_enabled(request.account))


def _json_refused(message, status=422) -> JsonResponse:
    return JsonResponse({"status": "invalid", "message": str(message)}, status=status)


@require_GET
@staff_view("add_saved_payment_method")
@card_entry_page
def card_add(request, customer_id):
    """+ Add: the card-entry module and the consent box; "Add card and save"."""
    customer = _customer(request, customer_id)
    if not selectors.feature_enabled(request.account):
        return _refused_page(request, customer, services.FeatureOff().message)
    if selectors.card_count(request.account, customer) >= MAX_CARDS_PER_CUSTOMER:
        return _refused_page(request, customer, services.limit_message())
    next_url = _next_url(request)
    return render(request, "saved_cards/add.html", {
        "customer": customer, "next": next_url,
        "start_url": _with_next(reverse("saved_cards:setup_start", kwargs={"customer_id": customer.pk}), next_url),
        **card_entry_context(),
    })


def setup_answer(started: services.StartedSetup, finish_url: str) -> JsonResponse:
    """What the card-setup script needs to confirm the card with the processor in the browser."""
    return JsonResponse({"status": "ready", "client_secret": started.client_secret, "finish_url": finish_url})


@require_POST
@staff_view("add_saved_payment_method")
def setup_start(request, customer_id):
    customer = _customer(request, customer_id)
    try:
        started = services.card_setup_start(actor=request.user, account=request.account, customer_id=customer.pk,
                                            consent=request.POST.get("consent") == "1",
                                            source=SavedCard.Source.PROFILE)
    except DomainError as refused:
        return _json_refused(refused.message)
    return setup_answer(started, _with_next(reverse("saved_cards:setup_finish", kwargs={
        "customer_id": customer.pk, "setup_id": started.setup.pk}), _next_url(request)))


@require_POST
@staff_view("add_saved_payment_method")
def setup_finish(request, customer_id, setup_id):
    customer = _customer(request, customer_id)
    setup = get_scoped_or_404(CardSetup, request.account, pk=setup_id, customer=customer, invite__isnull=True)
    try:
        card = services.card_setup_finish(account=request.account, setup_id=setup.pk)
    except DomainError as refused:
        return _json_refused(refused.message)
    messages.success(request, _("%(card)s saved for %(customer)s.") % {"card": card, "customer": customer})
    back = _next_url(request) or reverse("retail:customer_detail", kwargs={"customer_id": customer.pk})
    return JsonResponse({"status": "saved", "redirect": back})


@require_POST
@staff_view("edit_saved_payment_method")
def cards_save(request, customer_id):
    """"Save changes" under the saved cards: the card picked with "Set as default" and those confirmed
    with "Delete saved payment method", applied together (nothing changed before this button)."""
    customer = _customer(request, customer_id)
    # A tampered form (not an id), another shop's card or another customer's: not found.
    default_id = id_or_404(request.POST["default"]) if request.POST.get("default") else None
    delete_ids = ids_or_404(request.POST.getlist("delete"))
    wanted = {default_id, *delete_ids} - {None}
    if scoped(SavedCard, request.account).filter(customer=customer, pk__in=wanted).count() != len(wanted):
        raise Http404
    try:
        changes = services.customer_cards_update(actor=request.user, account=request.account,
                                                 customer_id=customer.pk, default_card_id=default_id,
                                                 delete_card_ids=delete_ids)
    except DomainError as refused:
        return _refused_page(request, customer, refused.message)
    if changes.default is not None:
        messages.success(request, _("%(card)s is now the default card.") % {"card": changes.default})
    for card in changes.deleted:
        messages.success(request, _("%(card)s deleted.") % {"card": card})
    if changes.promoted is not None:
        messages.info(request, _("%(card)s is now the default card.") % {"card": changes.promoted})
    if changes.default is None and not changes.deleted:
        messages.info(request, _("Nothing changed."))
    return _back_to_profile(customer)


# ---- inviting the customer to add their own card ----------------------------------------------------

@require_POST
@staff_view("add_saved_payment_method")
def invite_create(request, customer_id):
    """"Invite customer to add their own card": a new QR code on this screen."""
    customer = _customer(request, customer_id)
    try:
        invite = invites.card_invite_create(actor=request.user, account=request.account, customer_id=customer.pk,
                                            kind=CardInvite.Kind.QR)
    except DomainError as refused:
        return _refused_page(request, customer, refused.message)
    return redirect(_with_next(reverse("saved_cards:invite", kwargs={"customer_id": customer.pk,
                                                                     "invite_id": invite.pk}), _next_url(request)))


def _invite_state(invite: CardInvite, now) -> str:
    if invite.used_at is not None:
        return "added"
    if invite.expires_at <= now or invite.attempts >= services.MAX_INVITE_ATTEMPTS:
        return "expired"
    return "waiting"


def qr_svg(url: str) -> str:
    """The QR code of `url` as inline SVG, drawn here (no outside service); white around it so any
    camera reads it."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathFillImage, border=4)
    return image.to_string(encoding="unicode")


@require_GET
@staff_view("add_saved_payment_method")
def invite(request, customer_id, invite_id):
    """The QR code for the customer's phone. The status part polls (htmx) and answers 204 while
    nothing changed, then "Card added" with Continue."""
    customer = _customer(request, customer_id)
    invitation = get_scoped_or_404(CardInvite, request.account, pk=invite_id, customer=customer,
                                   kind=CardInvite.Kind.QR)
    if not selectors.feature_enabled(request.account):
        return _refused_page(request, customer, services.FeatureOff().message)
    state = _invite_state(invitation, timezone.now())
    if request.htmx and request.GET.get("since") == state:
        return HttpResponse(status=204)
    url = invites.invite_url(invitation)
    context = {"customer": customer, "invite": invitation, "state": state, "url": url, "next": _next_url(request),
               "card": invitation.saved_card,
               "qr": mark_safe(qr_svg(url)) if state == "waiting" else ""}  # our own SVG  # nosec B308 B703
    return render_page(request, "saved_cards/invite.html", context, partial="status")


@require_POST
@staff_view("add_saved_payment_method")
def update_link(request, customer_id):
    """E-mail the customer a card-update link (the same /card/ page, for when they are not here)."""
    customer = _customer(request, customer_id)
    try:
        invitation = invites.card_invite_create(actor=request.user, account=request.account,
                                                customer_id=customer.pk, kind=CardInvite.Kind.EMAIL)
    except DomainError as refused:
        return _refused_page(request, customer, refused.message)
    messages.success(request, _("A card-update link was e-mailed to %(email)s; it works once, for %(days)d days.")
                     % {"email": invitation.sent_to, "days": invites.LIFETIMES[CardInvite.Kind.EMAIL].days})
    return _back_to_profile(customer)
