"""Products: the list (live search, filters, CSV export), the product form and stock takes per outlet."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Outlet
from accounts.tenancy import get_scoped_or_404, scoped, staff_view
from posbackoffice.errors import DomainError
from posbackoffice.export_requests import export_or_queue
from posbackoffice.pages import render_page
from posbackoffice.params import parse_id
from retail.forms.catalogue import ProductFilterForm, ProductForm, StockCountForm
from retail.models import Product
from retail.selectors import catalogue as selectors
from retail.services import catalogue as services


def _list_query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_GET
@staff_view("manage_products")
def products(request):
    account = request.account
    form = ProductFilterForm(request.GET, tax_rates=selectors.tax_rates(account))
    valid = form.is_valid()
    page = Paginator(selectors.filtered_products(account, form.params()).select_related("tax_rate"),
                     selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    query = _list_query(request)
    context = {
        "form": form, "page": page, "rows": selectors.product_page_rows(account, page.object_list),
        "query": query, "currency": account.currency,
    }
    return render_page(request, "retail/products/list.html", context, status=200 if valid else 400)


@require_GET
@staff_view("export_data")
def products_export(request):
    """The list's CSV with the same filters (small files at once, large ones through the worker)."""
    form = ProductFilterForm(request.GET, tax_rates=selectors.tax_rates(request.account))
    form.is_valid()
    return export_or_queue(request, selectors.PRODUCTS_EXPORT, form.params())


def _product_form(request, product=None):
    account = request.account
    initial = ProductForm.initial_from(product, account.currency) if product else None
    return ProductForm(request.POST if request.method == "POST" else None, initial=initial,
                       currency=account.currency, tax_rates=list(selectors.tax_rates(account)))


@require_http_methods(["GET", "POST"])
@staff_view("manage_products")
def product_create(request):
    form = _product_form(request)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(actor=request.user, account=request.account,
                                              **form.service_arguments())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Product “%(name)s” added.") % {"name": product.name})
            return redirect("retail:product_edit", product_id=product.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "retail/products/form.html", {"form": form, "product": None}, status=status)


def _stock_rows(request, product, bound_form=None):
    """[(outlet, quantity, form)] for the stock table; `bound_form` replaces its outlet's empty form."""
    if not product.track_inventory:
        return []
    outlets = list(scoped(Outlet, request.account).order_by("name", "id"))
    rows = []
    for outlet, quantity in selectors.stock_by_outlet(request.account, product):
        if bound_form is not None and bound_form.data.get("outlet") == str(outlet.pk):
            form = bound_form
        else:
            form = StockCountForm(initial={"outlet": outlet.pk, "quantity": quantity}, outlets=outlets,
                                  auto_id=f"stock-{outlet.pk}-%s")
        rows.append((outlet, quantity, form))
    return rows


def _edit_page(request, product, form, *, stock_form=None, status=200):
    return render(request, "retail/products/form.html", {
        "form": form, "product": product, "stock_rows": _stock_rows(request, product, stock_form),
        "stock_form": stock_form, "currency": request.account.currency,
    }, status=status)


@require_http_methods(["GET", "POST"])
@staff_view("manage_products")
def product_edit(request, product_id):
    product = get_scoped_or_404(Product.objects.select_related("tax_rate"), request.account, pk=product_id)
    form = _product_form(request, product)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_update(actor=request.user, account=request.account, product_id=product.pk,
                                               **form.service_arguments())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Changes to “%(name)s” saved.") % {"name": product.name})
            return redirect("retail:product_edit", product_id=product.pk)
    return _edit_page(request, product, form, status=400 if request.method == "POST" else 200)


def _product_form_for_display(request, product):
    account = request.account
    return ProductForm(initial=ProductForm.initial_from(product, account.currency), currency=account.currency,
                       tax_rates=list(selectors.tax_rates(account)))


@require_POST
@staff_view("manage_products")
def product_stock(request, product_id):
    """Set the counted quantity of the product at one outlet."""
    account = request.account
    product = get_scoped_or_404(Product.objects.select_related("tax_rate"), account, pk=product_id)
    outlets = list(scoped(Outlet, account).order_by("name", "id"))
    stock_form = StockCountForm(request.POST, outlets=outlets,
                                auto_id=f"stock-{parse_id(request.POST.get('outlet')) or 'unknown'}-%s")
    if stock_form.is_valid():
        try:
            services.stock_adjust(actor=request.user, account=account, product_id=product.pk,
                                  outlet_id=stock_form.cleaned_data["outlet"],
                                  new_quantity=stock_form.cleaned_data["quantity"])
        except DomainError as error:
            stock_form.add_error(None, error.message)
        else:
            outlet = next(o for o in outlets if o.pk == stock_form.cleaned_data["outlet"])
            messages.success(request, _("Stock of “%(name)s” at %(outlet)s set to %(quantity)s.") % {
                "name": product.name, "outlet": outlet.name, "quantity": stock_form.cleaned_data["quantity"]})
            return redirect("retail:product_edit", product_id=product.pk)
    return _edit_page(request, product, _product_form_for_display(request, product), stock_form=stock_form,
                      status=400)


urlpatterns = [
    path("products/", products, name="products"),
    path("products/new/", product_create, name="product_create"),
    path("products/export/", products_export, name="products_export"),
    path("products/<int:product_id>/", product_edit, name="product_edit"),
    path("products/<int:product_id>/stock/", product_stock, name="product_stock"),
]
