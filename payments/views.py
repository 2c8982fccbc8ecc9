"""Finance › Payments: every payment of the account (keyset pages, search, filters, CSV export), one
payment's page with its timeline and the refund form; Setup › Payments: the account's processor,
cash discount programme and payout schedule."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.tenancy import has_permission, staff_view
from payments import refund_routes, selectors, settings_sections
from payments.forms import PaymentFilterForm, PaymentSettingsForm, RefundForm
from payments.messages import MESSAGES
from payments.messages import failure_message as card_failure_message
from payments.models import Refund
from payments.services.refunds import payment_refund
from payments.settings_services import payment_settings_of, payment_settings_update
from posbackoffice.errors import DomainError
from posbackoffice.export_requests import export_or_queue
from posbackoffice.keyset import cursor_arguments, query_without_cursor
from posbackoffice.money import format_input, format_money
from posbackoffice.pages import render_page

GATEWAY_LABELS = {"sandbox": gettext_lazy("Sandbox (test mode)"), "stripe": gettext_lazy("Stripe")}


def _filter_form(request):
    return PaymentFilterForm(request.GET, currency=request.account.currency)


@require_GET
@staff_view("view_payments")
def payment_list(request):
    form = _filter_form(request)
    valid = form.is_valid()
    page = selectors.payments_page(request.account, form.params(), **cursor_arguments(request.GET))
    context = {"form": form, "page": page, "query": query_without_cursor(request.GET)}
    membership = getattr(request, "membership", None)
    if membership is not None and membership.role.is_owner:
        context["reconciliation"], context["discrepancies"] = selectors.last_reconciliation(request.account)
    return render_page(request, "payments/list.html", context, status=200 if valid and not page.refused else 400)


@require_GET
@staff_view("export_data")
def payment_export(request):
    form = _filter_form(request)
    form.is_valid()
    return export_or_queue(request, selectors.PAYMENTS_EXPORT, form.params())


def _detail(request, payment_id, *, refund_form=None, status=200):
    account = request.account
    payment = selectors.payment_detail(account, payment_id)
    remaining = selectors.refundable_now(payment)
    can_refund = has_permission(request, "refund_payments") and payment.refundable > 0 and remaining > 0
    context = {
        "payment": payment,
        "currency": payment.currency,
        "timeline": selectors.payment_timeline(account, payment),
        "failure_text": card_failure_message(payment.failure_code) if payment.failure_code else "",
        "remaining": remaining,
        "refund_pending": payment.refundable - remaining,
        "can_refund": can_refund,
        "refund_form": refund_form or RefundForm(currency=payment.currency, remaining=remaining,
                                                 initial={"amount": format_input(remaining, payment.currency)}),
        "can_see_sale": has_permission(request, "sell") and payment.sale_id and payment.sale.receipt_number,
        "refund_url": refund_routes.route_for(payment),
    }
    return render(request, "payments/detail.html", context, status=status)


@require_GET
@staff_view("view_payments")
def payment_detail(request, payment_id):
    payment = selectors.shop_payment_or_404(request.account, payment_id)
    return _detail(request, payment.pk)


def _refund_outcome_message(request, refund: Refund, currency: str) -> None:
    amount = format_money(refund.amount, currency)
    if refund.status == Refund.Status.SUCCEEDED:
        messages.success(request, _("Refund of %(amount)s done.") % {"amount": amount})
    elif refund.status == Refund.Status.PENDING:
        messages.warning(request, _("Refund of %(amount)s sent; waiting for the processor's answer. It will be "
                                    "checked automatically and never sent twice.") % {"amount": amount})
    else:
        reason = str(MESSAGES[refund.failure_code]) if refund.failure_code in MESSAGES else ""
        messages.error(request, " ".join(filter(None, [
            _("The processor refused the refund of %(amount)s.") % {"amount": amount}, reason])))


@require_POST
@staff_view("refund_payments")
def payment_refund_view(request, payment_id):
    if not has_permission(request, "view_payments"):
        raise PermissionDenied(_("Your staff role does not allow this."))
    payment = selectors.shop_payment_or_404(request.account, payment_id)
    if refund_routes.route_for(payment):
        messages.error(request, _("This payment is refunded on the card reader: use the refund form of its page."))
        return redirect("payments:detail", payment_id=payment.pk)
    form = RefundForm(request.POST, currency=payment.currency, remaining=selectors.refundable_now(payment))
    if not form.is_valid():
        return _detail(request, payment.pk, refund_form=form, status=400)
    try:
        refund = payment_refund(actor=request.user, account=request.account, payment_id=payment.pk,
                                amount=form.cleaned_data["amount"], comment=form.cleaned_data["comment"])
    except DomainError as error:
        form.add_error(None, error.message)
        return _detail(request, payment.pk, refund_form=form, status=400)
    _refund_outcome_message(request, refund, payment.currency)
    return redirect("payments:detail", payment_id=payment.pk)


def _settings_page(request, form, status=200):
    return render(request, "payments/settings.html", {
        "form": form, "gateway": GATEWAY_LABELS.get(settings.PAYMENTS_GATEWAY, settings.PAYMENTS_GATEWAY),
        "failed_events": selectors.failed_processor_events(request.account),
        "can_view_payments": has_permission(request, "view_payments"),
        "sections": settings_sections.PAYMENTS.shown(request),
    }, status=status)


@require_http_methods(["GET", "POST"])
@staff_view("manage_payment_settings")
def payment_settings(request):
    if request.method == "GET":
        current = payment_settings_of(request.account)
        return _settings_page(request, PaymentSettingsForm(initial={
            "processor": current.processor, "cash_discount_enabled": current.cash_discount_enabled,
            "payout_schedule": current.payout_schedule, "standalone_enabled": current.standalone_enabled}))
    form = PaymentSettingsForm(request.POST)
    if form.is_valid():
        try:
            payment_settings_update(actor=request.user, account=request.account, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Payment settings saved."))
            return redirect("payments:setup")
    return _settings_page(request, form, status=400)
