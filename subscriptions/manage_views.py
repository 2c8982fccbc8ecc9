"""Subscriptions › Manage subscriptions: the list (status and customer filters, overdue ones
highlighted, a row menu), a subscription's page (everything the seed lists, Pause / Resume / Cancel,
private notes, the card), and one payment's page (Retry a failed one, Refund with a reason)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.tenancy import get_scoped_or_404, scoped
from payments.messages import failure_message
from payments.models import Payment
from posbackoffice.errors import DomainError
from posbackoffice.keyset import cursor_arguments, query_without_cursor
from posbackoffice.pages import render_page
from posbackoffice.params import parse_id
from saved_cards.models import SavedCard
from subscriptions import billing, hold, periods, selectors, services
from subscriptions.forms import NotesForm, RefundForm, SubscriptionFilterForm
from subscriptions.models import Subscription
from subscriptions.views import manage


@require_GET
@manage
def subscriptions(request):
    form = SubscriptionFilterForm(request.GET)
    valid = form.is_valid()
    page = selectors.subscription_page(request.account, form.params(), **cursor_arguments(request.GET))
    return render_page(request, "subscriptions/list.html", {
        "form": form, "page": page, "query": query_without_cursor(request.GET),
        "statuses": Subscription.Status,
    }, status=200 if valid and not page.refused else 400)


def _subscription(request, subscription_id) -> Subscription:
    return get_scoped_or_404(Subscription.objects.select_related("customer", "plan", "card", "customer_type",
                                                                 "outlet", "register"),
                             request.account, pk=subscription_id)


def _back(sub: Subscription):
    return redirect("subscriptions:detail", subscription_id=sub.pk)


@require_GET
@manage
def detail(request, subscription_id):
    account = request.account
    sub = _subscription(request, subscription_id)
    today = periods.shop_today(account, timezone.now())
    here = reverse("subscriptions:detail", kwargs={"subscription_id": sub.pk})
    return render(request, "subscriptions/detail.html", {
        "sub": sub, "currency": account.currency, "payments": selectors.cycle_payments(account, sub),
        "next_date": selectors.next_payment_date(sub, account), "next_amount": selectors.next_amount(sub),
        "per_interval": selectors.amount_per_interval(sub), "planned_end": selectors.planned_end(sub),
        "failed": selectors.failed_cycle(sub), "notes_form": NotesForm(initial={"notes": sub.notes}),
        "cards": [card for card in selectors.usable_cards(account, sub.customer, today) if card.pk != sub.card_id],
        "next_query": urlencode({"next": here}), "billing_moves": hold.billing_moves(account, sub),
    })


def _act(request, sub, action, done: str):
    try:
        action()
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, done)
    return _back(sub)


@require_http_methods(["GET", "POST"])
@manage
def pause(request, subscription_id):
    """Pause subscription › Pause (the seed's "Suspendre l'abonnement" › "Suspendre")."""
    sub = _subscription(request, subscription_id)
    if request.method == "GET":
        return render(request, "subscriptions/pause.html", {"sub": sub})
    return _act(request, sub, lambda: services.subscription_pause(
        actor=request.user, account=request.account, subscription_id=sub.pk),
        _("The subscription is paused: no charges and no orders to ship until it is resumed."))


@require_POST
@manage
def resume(request, subscription_id):
    sub = _subscription(request, subscription_id)
    return _act(request, sub, lambda: services.subscription_resume(
        actor=request.user, account=request.account, subscription_id=sub.pk),
        _("The subscription is active again; it is billed from the next interval."))


@require_http_methods(["GET", "POST"])
@manage
def cancel(request, subscription_id):
    """Cancel subscription: Immediately, or At the end of the period, then Confirm."""
    sub = _subscription(request, subscription_id)
    if request.method == "GET":
        return render(request, "subscriptions/cancel.html", {"sub": sub})
    when = request.POST.get("when", "")
    return _act(request, sub, lambda: services.subscription_cancel(
        actor=request.user, account=request.account, subscription_id=sub.pk, when=when),
        _("The subscription ends at the end of the period.") if when == services.CANCEL_AT_PERIOD_END
        else _("The subscription is cancelled."))


@require_POST
@manage
def notes(request, subscription_id):
    sub = _subscription(request, subscription_id)
    form = NotesForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("notes", [])))
        return _back(sub)
    return _act(request, sub, lambda: services.subscription_notes_update(
        actor=request.user, account=request.account, subscription_id=sub.pk, notes=form.cleaned_data["notes"]),
        _("Private notes saved."))


@require_POST
@manage
def change_card(request, subscription_id):
    sub = _subscription(request, subscription_id)
    card_id = parse_id(request.POST.get("card"))
    if card_id is None or not scoped(SavedCard, request.account).filter(pk=card_id).exists():
        messages.error(request, _("Choose a saved card of this customer, or add one."))
        return _back(sub)
    return _act(request, sub, lambda: services.subscription_card_change(
        actor=request.user, account=request.account, subscription_id=sub.pk, card_id=card_id),
        _("The subscription's card was changed."))


def _payment(request, sub, payment_id) -> Payment:
    try:
        return services.subscription_payment(request.account, sub.pk, payment_id)
    except Payment.DoesNotExist:
        from django.http import Http404

        raise Http404 from None


@require_GET
@manage
def payment(request, subscription_id, payment_id):
    """A payment's transaction: its details, Retry (a failed payment of the overdue cycle), Refund."""
    sub = _subscription(request, subscription_id)
    paid = _payment(request, sub, payment_id)
    return _payment_page(request, sub, paid, RefundForm(currency=request.account.currency))


def _payment_page(request, sub, paid, form, status=200):
    failed = selectors.failed_cycle(sub)
    paid.card_text = paid.card_label or selectors.card_labels(request.account, sub).get(paid.payment_method_id, "")
    retry = (sub.status == Subscription.Status.OVERDUE and failed is not None and failed.payment_id == paid.pk)
    return render(request, "subscriptions/payment.html", {
        "sub": sub, "payment": paid, "form": form, "retry": retry, "currency": request.account.currency,
        "refunds": paid.refunds.order_by("-created_at"),
        "failure": failure_message(paid.failure_code) if paid.status == Payment.Status.FAILED else "",
    }, status=status)


@require_POST
@manage
def retry(request, subscription_id, payment_id):
    sub = _subscription(request, subscription_id)
    _payment(request, sub, payment_id)
    try:
        result = billing.subscription_retry(actor=request.user, account=request.account, subscription_id=sub.pk)
    except DomainError as refused:
        messages.error(request, refused.message)
        return redirect("subscriptions:payment", subscription_id=sub.pk, payment_id=payment_id)
    if result.status == Payment.Status.SUCCEEDED:
        messages.success(request, _("The payment went through: the subscription is active and its sale was made."))
    elif result.status == Payment.Status.FAILED:
        messages.error(request, _("The payment failed again: %(reason)s") % {
            "reason": failure_message(result.failure_code)})
    else:
        messages.info(request, _("The payment is pending; its result will show here."))
    return redirect("subscriptions:payment", subscription_id=sub.pk, payment_id=result.pk)


@require_POST
@manage
def refund(request, subscription_id, payment_id):
    sub = _subscription(request, subscription_id)
    paid = _payment(request, sub, payment_id)
    form = RefundForm(request.POST, currency=request.account.currency)
    if form.is_valid():
        try:
            services.subscription_refund(actor=request.user, account=request.account, subscription_id=sub.pk,
                                         payment_id=paid.pk, amount=form.cleaned_data["amount"],
                                         reason=form.cleaned_data["reason"])
        except DomainError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("The payment was refunded to the card used for it. It reaches the "
                                        "customer's card within three business days."))
            return redirect("subscriptions:payment", subscription_id=sub.pk, payment_id=paid.pk)
    paid.refresh_from_db()
    return _payment_page(request, sub, paid, form, status=400)
