"""Setup › Sales settings: prices with or without tax, the receipt footer, tax rates and payment types."""

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.tenancy import get_scoped_or_404, scoped, staff_view
from posbackoffice.errors import DomainError
from retail.forms.settings import (
    PaymentTypeActiveForm,
    PaymentTypeForm,
    ShopSettingsForm,
    TaxRateForm,
)
from retail.models import PaymentType, ShopSettings, TaxRate
from retail.pricing import format_rate
from retail.services import catalogue as catalogue_services
from retail.services import shop as shop_services


def _current_settings(account) -> ShopSettings:
    # An account that never sold has no row yet: show the defaults it will get.
    return scoped(ShopSettings, account).first() or ShopSettings(account=account)


def _page(request, *, settings_form=None, tax_form=None, payment_form=None, status=200):
    account = request.account
    current = _current_settings(account)
    tax_rates = list(scoped(TaxRate, account).annotate(product_count=Count("products")).order_by("rate_bp", "name"))
    for tax_rate in tax_rates:
        tax_rate.percent = format_rate(tax_rate.rate_bp)
    return render(request, "retail/settings/sales.html", {
        "settings_form": settings_form or ShopSettingsForm(initial={
            "prices_include_tax": current.prices_include_tax, "receipt_footer": current.receipt_footer}),
        "tax_form": tax_form or TaxRateForm(prefix="tax"),
        "payment_form": payment_form or PaymentTypeForm(prefix="payment"),
        "tax_rates": tax_rates,
        "payment_types": scoped(PaymentType, account).order_by("position", "name"),
        "custom_kind": PaymentType.Kind.CUSTOM,
    }, status=status)


@require_http_methods(["GET", "POST"])
@staff_view("manage_general_settings")
def shop_settings(request):
    if request.method == "GET":
        return _page(request)
    form = ShopSettingsForm(request.POST)
    if form.is_valid():
        try:
            if not scoped(ShopSettings, request.account).exists():
                shop_services.shop_setup(account=request.account, actor=request.user)
            shop_services.shop_settings_update(actor=request.user, account=request.account, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Sales settings saved."))
            return redirect("retail:shop_settings")
    return _page(request, settings_form=form, status=400)


@require_POST
@staff_view("manage_general_settings")
def tax_rate_create(request):
    form = TaxRateForm(request.POST, prefix="tax")
    if form.is_valid():
        try:
            tax_rate = catalogue_services.tax_rate_create(actor=request.user, account=request.account,
                                                          name=form.cleaned_data["name"],
                                                          rate_bp=form.cleaned_data["rate"])
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Tax rate “%(name)s” added.") % {"name": tax_rate.name})
            return redirect("retail:shop_settings")
    return _page(request, tax_form=form, status=400)


@require_POST
@staff_view("manage_general_settings")
def payment_type_create(request):
    form = PaymentTypeForm(request.POST, prefix="payment")
    if form.is_valid():
        try:
            payment_type = shop_services.payment_type_create(actor=request.user, account=request.account,
                                                             name=form.cleaned_data["name"],
                                                             records_standalone=form.cleaned_data["records_standalone"])
        except DomainError as error:
            form.add_error("name", error.message)
        else:
            messages.success(request, _("Payment type “%(name)s” added.") % {"name": payment_type.name})
            return redirect("retail:shop_settings")
    return _page(request, payment_form=form, status=400)


@require_POST
@staff_view("manage_general_settings")
def payment_type_set_active(request, payment_type_id):
    payment_type = get_scoped_or_404(PaymentType, request.account, pk=payment_type_id)
    form = PaymentTypeActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether to switch the payment type on or off."))
        return _page(request, status=400)
    active = form.cleaned_data["active"]
    try:
        shop_services.payment_type_set_active(actor=request.user, account=request.account,
                                              payment_type_id=payment_type.pk, active=active)
    except DomainError as error:
        messages.error(request, error.message)
        return _page(request, status=400)
    message = _("“%(name)s” switched on.") if active else _("“%(name)s” switched off.")
    messages.success(request, message % {"name": payment_type.name})
    return redirect("retail:shop_settings")


urlpatterns = [
    path("setup/sales/", shop_settings, name="shop_settings"),
    path("setup/sales/tax-rates/", tax_rate_create, name="tax_rate_create"),
    path("setup/sales/payment-types/", payment_type_create, name="payment_type_create"),
    path("setup/sales/payment-types/<int:payment_type_id>/active/", payment_type_set_active,
         name="payment_type_set_active"),
]
