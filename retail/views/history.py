"""Sales history: the filtered list (keyset pages, CSV export) and one sale's page, where staff void
it, take goods back, receive a later payment for an on-account sale, or create a shipping order."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Outlet, Register
from accounts.tenancy import get_scoped_or_404, has_permission, scoped, staff_view
from posbackoffice.errors import DomainError
from posbackoffice.export_requests import export_or_queue
from posbackoffice.keyset import cursor_arguments, query_without_cursor
from posbackoffice.money import format_input
from posbackoffice.pages import render_page
from retail import sale_extensions
from retail.forms.history import HistoryFilterForm, ReturnForm, TakePaymentForm, VoidForm
from retail.models import PaymentType, Sale
from retail.selectors import history as selectors
from retail.services import fulfilments as fulfilment_services
from retail.services import sale_reversals
from retail.services import sales as sale_services


def _filter_form(request):
    return HistoryFilterForm(request.GET, outlets=scoped(Outlet, request.account).order_by("name"),
                             registers=scoped(Register, request.account).select_related("outlet")
                             .order_by("outlet__name", "name"))


def _page_filters(form) -> dict:
    """The valid filters as values: the list filters on dates, whereas form.params() is the JSON-safe copy
    (dates as text) that an export job stores."""
    return {key: value for key, value in form.cleaned_data.items()
            if value not in (None, "") and key not in form.errors}


@require_GET
@staff_view("sell")
def history(request):
    form = _filter_form(request)
    valid = form.is_valid()
    page = selectors.history_page(request.account, _page_filters(form), **cursor_arguments(request.GET))
    context = {"form": form, "page": page, "query": query_without_cursor(request.GET),
               "currency": request.account.currency}
    return render_page(request, "retail/history/list.html", context,
                       status=200 if valid and not page.refused else 400)


@require_GET
@staff_view("export_data")
def history_export(request):
    form = _filter_form(request)
    form.is_valid()
    return export_or_queue(request, "sales", form.params())


def _refund_types(account):
    """Money goes back in cash or by a custom type; card refunds belong to Finance › Payments."""
    return scoped(PaymentType, account).filter(is_active=True, kind__in=[PaymentType.Kind.CASH,
                                                                         PaymentType.Kind.CUSTOM])


def _detail(request, sale_id, *, forms=None, error=None, status=200):
    account = request.account
    sale = get_scoped_or_404(Sale.objects.filter(status__in=selectors.HISTORY_STATUSES), account, pk=sale_id)
    sale = selectors.sale_detail(account, sale.pk)
    lines = list(sale.lines.all())
    forms = forms or {}
    payment_types = list(_refund_types(account))
    context = {
        "sale": sale,
        "lines": lines,
        "payments": list(sale.payments.all()),
        "standalone_types": sorted({payment.payment_type.name for payment in sale.payments.all()
                                    if payment.payment_type.records_standalone}),
        "returns": list(sale.returns.all()),
        "timeline": selectors.sale_timeline(account, sale),
        "fulfilments": list(sale.fulfilments.all()),
        "currency": sale.currency,
        "error": error,
        "void_form": forms.get("void") or VoidForm(),
        "return_form": forms.get("return") or ReturnForm(lines=lines, payment_types=payment_types),
        "payment_form": forms.get("payment") or TakePaymentForm(
            currency=sale.currency, payment_types=payment_types,
            initial={"amount": format_input(sale.balance_due, sale.currency)}),
        "can_void": has_permission(request, "void_refund_sales")
        and sale.status in (Sale.Status.COMPLETED, Sale.Status.ON_ACCOUNT),
        "can_return": has_permission(request, "void_refund_sales")
        and sale.status in (Sale.Status.COMPLETED, Sale.Status.ON_ACCOUNT)
        and any(line.quantity > line.returned_quantity for line in lines),
        "can_take_payment": sale.status == Sale.Status.ON_ACCOUNT and sale.balance_due > 0,
        "can_ship": has_permission(request, "manage_fulfilments") and sale.customer_id is not None
        and sale.status in (Sale.Status.COMPLETED, Sale.Status.ON_ACCOUNT),
        "sections": sale_extensions.DETAIL.shown(request, sale),
    }
    return render(request, "retail/history/detail.html", context, status=status)


@require_GET
@staff_view("sell")
def sale_detail(request, sale_id):
    return _detail(request, sale_id)


def _sale_for_action(request, sale_id) -> Sale:
    return get_scoped_or_404(Sale.objects.filter(status__in=selectors.HISTORY_STATUSES), request.account, pk=sale_id)


@require_POST
@staff_view("void_refund_sales")
def sale_void(request, sale_id):
    sale = _sale_for_action(request, sale_id)
    form = VoidForm(request.POST)
    if not form.is_valid():
        return _detail(request, sale.pk, forms={"void": form}, status=400)
    try:
        sale_reversals.sale_void(actor=request.user, account=request.account, sale_id=sale.pk,
                                reason=form.cleaned_data["reason"])
    except DomainError as error:
        return _detail(request, sale.pk, forms={"void": form}, error=error.message, status=400)
    messages.success(request, _("Sale %(receipt)s voided.") % {"receipt": sale.receipt})
    return redirect("retail:sale_detail", sale_id=sale.pk)


@require_POST
@staff_view("void_refund_sales")
def sale_return(request, sale_id):
    sale = _sale_for_action(request, sale_id)
    form = ReturnForm(request.POST, lines=list(sale.lines.all()), payment_types=_refund_types(request.account))
    if not form.is_valid():
        return _detail(request, sale.pk, forms={"return": form}, status=400)
    try:
        sale_reversals.sale_return(actor=request.user, account=request.account, sale_id=sale.pk,
                                  quantities=form.quantities(),
                                  refund_payment_type_id=form.cleaned_data["refund_payment_type"],
                                  reason=form.cleaned_data["reason"])
    except DomainError as error:
        return _detail(request, sale.pk, forms={"return": form}, error=error.message, status=400)
    messages.success(request, _("Return recorded."))
    return redirect("retail:sale_detail", sale_id=sale.pk)


@require_POST
@staff_view("sell")
def sale_take_payment(request, sale_id):
    sale = _sale_for_action(request, sale_id)
    form = TakePaymentForm(request.POST, currency=sale.currency, payment_types=_refund_types(request.account))
    if not form.is_valid():
        return _detail(request, sale.pk, forms={"payment": form}, status=400)
    try:
        sale_services.sale_take_payment(actor=request.user, account=request.account, sale_id=sale.pk,
                                        payment_type_id=form.cleaned_data["payment_type"],
                                        amount=form.cleaned_data["amount"])
    except DomainError as error:
        return _detail(request, sale.pk, forms={"payment": form}, error=error.message, status=400)
    messages.success(request, _("Payment recorded."))
    return redirect("retail:sale_detail", sale_id=sale.pk)


@require_POST
@staff_view("manage_fulfilments")
def sale_ship(request, sale_id):
    sale = _sale_for_action(request, sale_id)
    try:
        fulfilment_services.fulfilment_create(actor=request.user, account=request.account, sale_id=sale.pk)
    except DomainError as error:
        return _detail(request, sale.pk, error=error.message, status=400)
    messages.success(request, _("Shipping order created."))
    return redirect("retail:sale_detail", sale_id=sale.pk)


urlpatterns = [
    path("history/", history, name="history"),
    path("history/export/", history_export, name="history_export"),
    path("history/<int:sale_id>/", sale_detail, name="sale_detail"),
    path("history/<int:sale_id>/void/", sale_void, name="sale_void"),
    path("history/<int:sale_id>/return/", sale_return, name="sale_return"),
    path("history/<int:sale_id>/payments/", sale_take_payment, name="sale_take_payment"),
    path("history/<int:sale_id>/ship/", sale_ship, name="sale_ship"),
]
