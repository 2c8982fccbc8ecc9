"""Reports: sales, taxes, register closures, gift cards and store credit. Every page answers
"?export=csv" with the CSV of exactly what it shows (posbackoffice.export_requests.export_or_queue), and
htmx refreshes of the filter form with its "results" partial."""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from accounts import selectors as account_selectors
from accounts.tenancy import staff_view
from posbackoffice.export_requests import export_or_queue
from posbackoffice.pages import render_page
from retail.forms.reports import ClosureFilterForm, ReportFilterForm, SalesReportForm
from retail.selectors import report_balances, report_chart
from retail.selectors import reports as selectors

CLOSURES_PER_PAGE = 50
PRODUCTS_PER_PAGE = 100
BALANCES_PER_PAGE = 50


def _wants_csv(request) -> bool:
    return request.GET.get("export") == "csv"


def _export_query(params: dict) -> str:
    """The link to the CSV: the cleaned filters spelled out, so the file matches the page even
    when the page used default dates."""
    return urlencode({**{k: v for k, v in params.items() if v is not None}, "export": "csv"})


def _page_query(request) -> str:
    query = request.GET.copy()
    for key in ("page", "export"):
        query.pop(key, None)
    return query.urlencode()


def _outlet_name(form) -> str:
    outlet = form.cleaned_data.get("outlet")
    return str(dict(form.fields["outlet"].choices).get(outlet, "")) if outlet else ""


def _render(request, template: str, context: dict, status: int = 200):
    context = {**context, "currency": request.account.currency}
    return render_page(request, template, context, status=status)


@require_GET
@staff_view("view_reports")
def reports(request):
    return render(request, "retail/reports/index.html")


@require_GET
@staff_view("view_reports")
def sales_report(request):
    account = request.account
    form = SalesReportForm(request.GET, outlets=selectors.outlets(account), today=selectors.account_today(account))
    context = {"form": form}
    if not form.is_valid():
        return _render(request, "retail/reports/sales.html", context, status=400)
    params = form.params()
    if _wants_csv(request):
        return export_or_queue(request, selectors.SALES_EXPORTS[params["group_by"]], params)
    context.update(group_by=params["group_by"], export_query=_export_query(params), query=_page_query(request),
                   outlet_name=_outlet_name(form))
    if params["group_by"] == selectors.GROUP_BY_DAY:
        days = selectors.sales_by_day(account, params)
        context.update(days=days, totals=selectors.day_totals(days), chart=report_chart.net_sales_chart(days))
    elif params["group_by"] == selectors.GROUP_BY_PRODUCT:
        page = Paginator(selectors.product_groups(account, params), PRODUCTS_PER_PAGE).get_page(request.GET.get("page"))
        context.update(page=page, products=list(selectors.with_snapshots(account, page.object_list)),
                       totals=selectors.line_totals(account, params))
    elif params["group_by"] == selectors.GROUP_BY_CUSTOMER_TYPE:
        customer_types = selectors.sales_by_customer_type(account, params)
        context.update(customer_types=customer_types, totals=selectors.customer_type_totals(customer_types))
    else:
        payments = selectors.sales_by_payment_type(account, params)
        context.update(payments=payments, payments_total=sum(row.amount for row in payments))
    return _render(request, "retail/reports/sales.html", context)


@require_GET
@staff_view("view_reports")
def taxes_report(request):
    account = request.account
    form = ReportFilterForm(request.GET, outlets=selectors.outlets(account), today=selectors.account_today(account))
    context = {"form": form}
    if not form.is_valid():
        return _render(request, "retail/reports/taxes.html", context, status=400)
    params = form.params()
    if _wants_csv(request):
        return export_or_queue(request, selectors.TAXES_EXPORT, params)
    rows = selectors.taxes_by_rate(account, params)
    context.update(rows=rows, totals=selectors.tax_totals(rows), export_query=_export_query(params),
                   outlet_name=_outlet_name(form))
    return _render(request, "retail/reports/taxes.html", context)


@require_GET
@staff_view("view_reports")
def closures_report(request):
    account = request.account
    registers = list(account_selectors.registers(account).order_by("outlet__name", "name"))
    form = ClosureFilterForm(request.GET, outlets=selectors.outlets(account), registers=registers,
                             today=selectors.account_today(account))
    context = {"form": form}
    if not form.is_valid():
        return _render(request, "retail/reports/closures.html", context, status=400)
    params = form.params()
    if _wants_csv(request):
        return export_or_queue(request, report_balances.CLOSURES_EXPORT, params)
    page = Paginator(report_balances.closures(account, params), CLOSURES_PER_PAGE).get_page(request.GET.get("page"))
    context.update(page=page, query=_page_query(request), export_query=_export_query(params),
                   outlet_name=_outlet_name(form))
    return _render(request, "retail/reports/closures.html", context)


@require_GET
@staff_view("view_reports")
def closure_detail(request, session_id):
    detail = report_balances.closure_detail(request.account, session_id)
    return render(request, "retail/reports/closure_detail.html",
                  {"detail": detail, "session": detail.session, "currency": request.account.currency})


@require_GET
@staff_view("view_reports")
def gift_cards_report(request):
    account = request.account
    if _wants_csv(request):
        return export_or_queue(request, report_balances.GIFT_CARDS_EXPORT, {})
    page = Paginator(report_balances.gift_cards(account), BALANCES_PER_PAGE).get_page(request.GET.get("page"))
    return _render(request, "retail/reports/gift_cards.html", {
        "page": page, "totals": report_balances.gift_card_totals(account), "today": selectors.account_today(account),
        "query": _page_query(request), "export_query": _export_query({}),
    })


@require_GET
@staff_view("view_reports")
def store_credit_report(request):
    account = request.account
    if _wants_csv(request):
        return export_or_queue(request, report_balances.STORE_CREDIT_EXPORT, {})
    customers = report_balances.store_credit_customers(account)
    page = Paginator(customers, BALANCES_PER_PAGE).get_page(request.GET.get("page"))
    return _render(request, "retail/reports/store_credit.html", {
        "page": page, "total": report_balances.store_credit_total(account), "query": _page_query(request),
        "export_query": _export_query({}),
    })


urlpatterns = [
    path("reports/", reports, name="reports"),
    path("reports/sales/", sales_report, name="report_sales"),
    path("reports/taxes/", taxes_report, name="report_taxes"),
    path("reports/register-closures/", closures_report, name="report_closures"),
    path("reports/register-closures/<int:session_id>/", closure_detail, name="report_closure_detail"),
    path("reports/gift-cards/", gift_cards_report, name="report_gift_cards"),
    path("reports/store-credit/", store_credit_report, name="report_store_credit"),
]
