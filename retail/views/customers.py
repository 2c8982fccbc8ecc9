"""Customers: the list (live search, filters, CSV export), profiles, the customer form, and the
customer types (groups) under Setup."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.tenancy import get_scoped_or_404, staff_view
from posbackoffice.errors import DomainError
from posbackoffice.export_requests import export_or_queue
from posbackoffice.keyset import cursor_arguments, query_without_cursor
from posbackoffice.pages import render_page
from retail import customer_extensions
from retail.forms.customers import CustomerFilterForm, CustomerForm, CustomerTypeForm
from retail.models import Customer, CustomerType
from retail.selectors import customers as selectors
from retail.services import customers as services


@require_GET
@staff_view("manage_customers")
def customers(request):
    account = request.account
    form = CustomerFilterForm(request.GET, customer_types=selectors.customer_types(account), account=account)
    valid = form.is_valid()
    page, count = selectors.customer_page(account, form.params(), **cursor_arguments(request.GET))
    context = {"form": form, "page": page, "count": count, "query": query_without_cursor(request.GET),
               "currency": account.currency}
    return render_page(request, "retail/customers/list.html", context,
                       status=200 if valid and not page.refused else 400)


@require_GET
@staff_view("export_data")
def customers_export(request):
    """The list's CSV with the same filters (small files at once, large ones through the worker)."""
    form = CustomerFilterForm(request.GET, customer_types=selectors.customer_types(request.account),
                              account=request.account)
    form.is_valid()
    return export_or_queue(request, selectors.CUSTOMERS_EXPORT, form.params())


@require_GET
@staff_view("manage_customers")
def customer_detail(request, customer_id):
    account = request.account
    customer = get_scoped_or_404(Customer.objects.select_related("customer_type"), account, pk=customer_id)
    return render(request, "retail/customers/detail.html", {
        "customer": customer, "sales": selectors.latest_sales(account, customer), "currency": account.currency,
        "sections": customer_extensions.PROFILE.shown(request, customer),
        "customer_language": dict(settings.LANGUAGES)[customer.language_or(account.language)],
    })


def _customer_form(request, customer=None):
    return CustomerForm(request.POST if request.method == "POST" else None,
                        initial=CustomerForm.initial_from(customer) if customer else None,
                        customer_types=list(selectors.customer_types(request.account)), account=request.account)


@require_http_methods(["GET", "POST"])
@staff_view("manage_customers")
def customer_create(request):
    form = _customer_form(request)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(actor=request.user, account=request.account,
                                                **form.service_arguments())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Customer “%(name)s” added.") % {"name": customer})
            return redirect("retail:customer_detail", customer_id=customer.pk)
    return render(request, "retail/customers/form.html", {"form": form, "customer": None},
                  status=400 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
@staff_view("manage_customers")
def customer_edit(request, customer_id):
    customer = get_scoped_or_404(Customer, request.account, pk=customer_id)
    form = _customer_form(request, customer)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_update(actor=request.user, account=request.account,
                                                customer_id=customer.pk, **form.service_arguments())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Changes to “%(name)s” saved.") % {"name": customer})
            return redirect("retail:customer_detail", customer_id=customer.pk)
    return render(request, "retail/customers/form.html", {"form": form, "customer": customer},
                  status=400 if request.method == "POST" else 200)


# ---- Customer types (Setup) ------------------------------------------------------------------------

def _types_page(request, *, add_form=None, rename_form=None, failed_id=None, delete_error="", status=200):
    """The types page; `failed_id` is the type whose rename or delete was refused, shown with its error."""
    rows = []
    for customer_type in selectors.customer_types_with_counts(request.account):
        failed = customer_type.pk == failed_id
        form = rename_form if failed and rename_form is not None else CustomerTypeForm(
            initial=CustomerTypeForm.initial_from(customer_type), auto_id=f"type-{customer_type.pk}-%s")
        rows.append({"type": customer_type, "form": form, "delete_error": delete_error if failed else ""})
    return render(request, "retail/customers/types.html", {
        "rows": rows, "add_form": add_form or CustomerTypeForm(auto_id="new-type-%s"),
    }, status=status)


@require_http_methods(["GET", "POST"])
@staff_view("manage_customers")
def customer_types(request):
    """The list of customer types, and adding one."""
    if request.method == "GET":
        return _types_page(request)
    form = CustomerTypeForm(request.POST, auto_id="new-type-%s")
    if form.is_valid():
        try:
            customer_type = services.customer_type_create(actor=request.user, account=request.account,
                                                          **form.service_arguments())
        except DomainError as error:
            form.add_error("name", error.message)
        else:
            messages.success(request, _("Customer type “%(name)s” added.") % {"name": customer_type.name})
            return redirect("retail:customer_types")
    return _types_page(request, add_form=form, status=400)


@require_POST
@staff_view("manage_customers")
def customer_type_update(request, customer_type_id):
    """A row of the list saved: the type's name and discount."""
    customer_type = get_scoped_or_404(CustomerType, request.account, pk=customer_type_id)
    form = CustomerTypeForm(request.POST, auto_id=f"type-{customer_type.pk}-%s")
    if form.is_valid():
        try:
            updated = services.customer_type_update(actor=request.user, account=request.account,
                                                    customer_type_id=customer_type.pk, **form.service_arguments())
        except DomainError as error:
            form.add_error("name", error.message)
        else:
            messages.success(request, _("Customer type “%(name)s” saved.") % {"name": updated.name})
            return redirect("retail:customer_types")
    return _types_page(request, rename_form=form, failed_id=customer_type.pk, status=400)


@require_POST
@staff_view("manage_customers")
def customer_type_delete(request, customer_type_id):
    customer_type = get_scoped_or_404(CustomerType, request.account, pk=customer_type_id)
    try:
        services.customer_type_delete(actor=request.user, account=request.account, customer_type_id=customer_type.pk)
    except DomainError as error:
        return _types_page(request, failed_id=customer_type.pk, delete_error=error.message, status=400)
    messages.success(request, _("Customer type “%(name)s” deleted.") % {"name": customer_type.name})
    return redirect("retail:customer_types")


urlpatterns = [
    path("customers/", customers, name="customers"),
    path("customers/new/", customer_create, name="customer_create"),
    path("customers/export/", customers_export, name="customers_export"),
    path("customers/<int:customer_id>/", customer_detail, name="customer_detail"),
    path("customers/<int:customer_id>/edit/", customer_edit, name="customer_edit"),
    path("setup/customer-types/", customer_types, name="customer_types"),
    path("setup/customer-types/<int:customer_type_id>/", customer_type_update, name="customer_type_update"),
    path("setup/customer-types/<int:customer_type_id>/delete/", customer_type_delete, name="customer_type_delete"),
]
