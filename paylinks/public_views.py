"""/pay/<token>/: the customer pays an on-account sale from the link e-mailed with its receipt (seed 003), on
their phone as well as anywhere else. Public pages reached only through the signed token, rate limited per
address; the card goes from the browser to the processor's card fields (payments.card_entry), we receive a
payment method id only. A deactivated, replaced, paid or unknown link, or a sale whose balance changed since,
shows an error page and charges nothing; a shop whose account is not active shows the account guard's closed
page (merchant_public_view)."""

from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.tenancy import merchant_public_view
from paylinks import links, services
from paylinks.mailing import invoice_context, invoice_filename, invoice_pdf
from paylinks.models import PayLink
from payments.card_entry import card_entry_context, card_entry_page, pending_confirmation
from payments.messages import failure_message
from payments.models import Payment
from payments.services.charges import payment_charge, payment_finish_action
from posbackoffice import ratelimit
from posbackoffice.errors import DomainError
from posbackoffice.money import parse_money

# Requests to /pay/ pages per client address and minute: a customer paying needs a handful; someone trying
# tokens or hammering the card form is stopped.
RATE_LIMIT = 60
RATE_WINDOW = 60


def _client(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _limited(view):
    """Answer 429 (a page, or JSON for the page's script) once an address made too many requests."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not ratelimit.hit(f"paylink:{_client(request)}", limit=RATE_LIMIT, window=RATE_WINDOW):
            message = _("Too many attempts from your connection. Wait a minute, then try again.")
            if request.method == "POST":
                return JsonResponse({"status": "invalid", "message": message}, status=429)
            return render(request, "paylinks/public/unusable.html", {"shop": "", "message": message}, status=429)
        return view(request, *args, **kwargs)

    return wrapped


def _link_or_problem(token: str) -> tuple[PayLink | None, str, int]:
    link = links.link_from_token(token)
    if link is None:
        return None, services.link_problem(None), 404
    problem = services.link_problem(link)
    return link, problem, 410 if problem else 200


def _error_page(request, link, message, status):
    return render(request, "paylinks/public/unusable.html", {
        "shop": link.account.name if link else "", "message": message}, status=status)


def _in_language(view):
    """The customer reads the page in the language the link was sent in, unless they chose one with the
    page's language switch (its cookie wins)."""

    @wraps(view)
    def wrapped(request, token, *args, **kwargs):
        link = links.link_from_token(token)
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or (link.language if link else "")
        if language not in dict(settings.LANGUAGES):
            return view(request, token, *args, **kwargs)
        with translation.override(language):
            return view(request, token, *args, **kwargs)

    return wrapped


@merchant_public_view(links.link_account)
@require_GET
@never_cache
@_limited
@_in_language
@card_entry_page
def pay(request, token):
    link, problem, status = _link_or_problem(token)
    if problem:
        return _error_page(request, link, problem, status)
    context = invoice_context(link)
    return render(request, "paylinks/public/pay.html", context | {
        "shop": link.account.name, "token": token,
        "pay_url": reverse("paylinks:pay_start", kwargs={"token": token}),
        "invoice_url": reverse("paylinks:invoice", kwargs={"token": token}),
        **card_entry_context(),
    })


@merchant_public_view(links.link_account)
@require_GET
@never_cache
@_limited
def invoice(request, token):
    """The PDF invoice, to download from the pay page (and while the link lives)."""
    link = links.link_from_token(token)
    if link is None or link.status == PayLink.Status.DEACTIVATED:
        raise Http404
    response = HttpResponse(invoice_pdf(link), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice_filename(link)}"'
    return response


def _answer(token: str, payment: Payment) -> JsonResponse:
    if payment.status == Payment.Status.SUCCEEDED:
        return JsonResponse({"status": "succeeded", "redirect": reverse("paylinks:paid", kwargs={"token": token})})
    if payment.status == Payment.Status.FAILED:
        return JsonResponse({"status": "failed", "message": failure_message(payment.failure_code)})
    if client_secret := pending_confirmation(payment):
        return JsonResponse({
            "status": "requires_action", "client_secret": client_secret,
            "finish_url": reverse("paylinks:pay_finish", kwargs={"token": token, "payment_id": payment.pk}),
            "message": _("Your bank asks you to confirm the payment."),
        })
    return JsonResponse({"status": "pending", "message": failure_message("processor_unavailable")})


@merchant_public_view(links.link_account)
@require_POST
@never_cache
@_limited
@_in_language
def pay_start(request, token):
    link = links.link_from_token(token)
    if link is None:
        return JsonResponse({"status": "invalid", "message": services.link_problem(None)}, status=404)
    try:
        amount = parse_money(request.POST.get("amount", ""), link.currency)
        payment = services.pay_link_start_payment(
            link_id=link.pk, amount=amount, payment_method_id=request.POST.get("payment_method_id", "").strip()[:100])
    except DomainError as refused:
        return JsonResponse({"status": "invalid", "message": str(refused.message)}, status=422)
    payment = payment_charge(payment_id=payment.pk)
    return _answer(token, payment)


@merchant_public_view(links.link_account)
@require_POST
@never_cache
@_limited
@_in_language
def pay_finish(request, token, payment_id):
    """The customer answered their bank (3-D Secure): ask the processor how it ended."""
    link = links.link_from_token(token)
    payment = Payment.objects.filter(pk=payment_id, sale_id=link.sale_id, mode=Payment.Mode.ONLINE).first() \
        if link is not None else None
    if payment is None:
        return JsonResponse({"status": "invalid", "message": services.link_problem(None)}, status=404)
    payment = payment_finish_action(account=link.account, payment_id=payment.pk)
    return _answer(token, payment)


@merchant_public_view(links.link_account)
@require_GET
@never_cache
@_limited
@_in_language
def paid(request, token):
    """The thank-you page, once the link is paid."""
    link = links.link_from_token(token)
    if link is None:
        return _error_page(request, None, services.link_problem(None), 404)
    if link.status != PayLink.Status.COMPLETED:
        return _error_page(request, link, services.link_problem(link) or _("This invoice is not paid yet."), 409)
    return render(request, "paylinks/public/paid.html", invoice_context(link) | {"shop": link.account.name})
