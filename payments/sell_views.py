"""Sell screen › Other payments › Credit/Debit › Manual entry: a card-not-present payment for the
sale in progress. The card fields belong to the processor's card-entry module (Stripe Elements or the
sandbox stand-in): the browser turns them into a payment method id, and only that id reaches us."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.tenancy import scoped, staff_view
from payments import card_saving
from payments.card_entry import card_entry_context, card_entry_page, pending_confirmation
from payments.messages import failure_message
from payments.models import Payment
from payments.selectors import shop_payment_or_404
from payments.services.charges import payment_cancel, payment_charge, payment_create, payment_finish_action
from payments.services.reconciling import payment_check
from posbackoffice.errors import DomainError
from posbackoffice.money import format_input, format_money, parse_money
from posbackoffice.pages import refusals
from retail.sell_actions import CartNotice, CartNoticeAction
from retail.sell_device import sale_in_progress


@require_GET
@staff_view("sell")
@card_entry_page
def card(request):
    sale = sale_in_progress(request)
    if sale is None or sale.balance_due <= 0 or not sale.lines.exists():
        messages.info(request, _("Add products to the sale before taking a card payment."))
        return redirect("retail:sell")
    saver = card_saving.current()
    return render(request, "payments_sell/card.html", {
        "sale": sale, "currency": sale.currency, "amount": format_input(sale.balance_due, sale.currency),
        "save_card": saver.offer(request, sale) if saver is not None else None, **card_entry_context(),
    })


def _saving_customer(request, sale) -> str:
    """"Save payment details for future purchases" was ticked: the processor customer the card is saved
    to, if saving is offered for this sale (DomainError otherwise)."""
    saver = card_saving.current()
    offer = saver.offer(request, sale) if saver is not None else None
    if offer is None:
        raise DomainError(_("Saving cards is not available here."))
    if offer.refused:
        raise DomainError(offer.refused)
    return saver.prepare(actor=request.user, account=request.account, sale=sale)


def _answer(request, payment: Payment) -> JsonResponse:
    if payment.status == Payment.Status.SUCCEEDED:  # the sell screen then offers "Complete sale"
        messages.success(request, _("Card payment of %(amount)s accepted.") % {
            "amount": format_money(payment.amount, payment.currency)})
        return JsonResponse({"status": "succeeded", "redirect": reverse("retail:sell")})
    if payment.status == Payment.Status.FAILED:
        return JsonResponse({"status": "failed", "message": failure_message(payment.failure_code)})
    if client_secret := pending_confirmation(payment):
        return JsonResponse({
            "status": "requires_action", "client_secret": client_secret,
            "finish_url": reverse("payments_sell:card_finish", kwargs={"payment_id": payment.pk}),
            "message": _("The cardholder must confirm the payment with their bank."),
        })
    return JsonResponse({"status": "pending", "message": failure_message("processor_unavailable")})


def _card_refused(request, message) -> JsonResponse:
    """A refused card payment (posbackoffice.pages.refusals): the page's script shows the reason."""
    return JsonResponse({"status": "invalid", "message": str(message)})


@require_POST
@staff_view("sell")
@refusals(_card_refused)
def card_pay(request):
    sale = sale_in_progress(request)
    if sale is None:
        raise DomainError(_("There is no sale in progress on this register."))
    amount = parse_money(request.POST.get("amount", ""), sale.currency)
    save_card = request.POST.get("save_card") == "1"
    processor_customer_id = _saving_customer(request, sale) if save_card else ""
    payment = payment_create(
        actor=request.user, account=request.account, amount=amount, currency=sale.currency,
        method=Payment.Method.CARD_NOT_PRESENT, mode=Payment.Mode.INTEGRATED, sale_id=sale.pk,
        payment_method_id=request.POST.get("payment_method_id", "").strip()[:100],
        description=_("Sale on %(register)s") % {"register": sale.register.name},
        processor_customer_id=processor_customer_id, save_card=save_card,
    )
    payment = payment_charge(payment_id=payment.pk)
    return _answer(request, payment)


@require_POST
@staff_view("sell")
def card_finish(request, payment_id):
    payment = shop_payment_or_404(request.account, payment_id)
    payment = payment_finish_action(account=request.account, payment_id=payment.pk)
    return _answer(request, payment)


def _settled_message(request, payment: Payment) -> None:
    if payment.status == Payment.Status.SUCCEEDED:
        messages.success(request, _("Card payment of %(amount)s accepted.") % {
            "amount": format_money(payment.amount, payment.currency)})
    elif payment.status == Payment.Status.FAILED:
        messages.error(request, failure_message(payment.failure_code))
    else:
        messages.info(request, _("The card payment is still pending."))


@require_POST
@staff_view("sell")
def card_check(request, payment_id):
    payment = shop_payment_or_404(request.account, payment_id)
    try:
        payment = payment_check(account=request.account, payment_id=payment.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        _settled_message(request, payment)
    return redirect("retail:sell")


@require_POST
@staff_view("sell")
def card_cancel(request, payment_id):
    payment = shop_payment_or_404(request.account, payment_id)
    try:
        payment = payment_cancel(actor=request.user, account=request.account, payment_id=payment.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        _settled_message(request, payment)
    return redirect("retail:sell")


def pending_card_notices(request, sale) -> list[CartNotice]:
    """The sell screen's notice for a card payment of this sale that is not settled yet."""
    if sale is None or sale.pk is None:
        return []
    notices = []
    for payment in scoped(Payment, request.account).filter(sale=sale, status=Payment.Status.PENDING):
        amount = format_money(payment.amount, payment.currency)
        check = CartNoticeAction(_("Check again"), reverse("payments_sell:card_check", args=[payment.pk]))
        if payment.requires_action:
            notices.append(CartNotice(
                _("A card payment of %(amount)s is waiting for the cardholder to confirm it with their bank.")
                % {"amount": amount},
                [check, CartNoticeAction(_("Cancel the card payment"),
                                         reverse("payments_sell:card_cancel", args=[payment.pk]),
                                         confirm=_("Cancel this card payment? Nothing will be taken."))]))
        else:
            notices.append(CartNotice(
                _("A card payment of %(amount)s is pending: the card processor has not answered yet. It is "
                  "checked automatically and never taken twice.") % {"amount": amount}, [check]))
    return notices


app_name = "payments_sell"
urlpatterns = [
    path("sell/card/", card, name="card"),
    path("sell/card/pay/", card_pay, name="card_pay"),
    path("sell/card/<int:payment_id>/finish/", card_finish, name="card_finish"),
    path("sell/card/<int:payment_id>/check/", card_check, name="card_check"),
    path("sell/card/<int:payment_id>/cancel/", card_cancel, name="card_cancel"),
]
