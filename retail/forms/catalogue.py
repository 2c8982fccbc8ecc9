from django import forms
from django.utils.translation import gettext_lazy as _

from posbackoffice.forms import MoneyField, SearchField, WholeNumberField
from posbackoffice.money import format_money
from retail.selectors.catalogue import KIND_INVENTORY, KIND_NON_INVENTORY, STATUS_ACTIVE, STATUS_INACTIVE

# A stock take counts what is on the shelves of one outlet: ten million of anything is a typing mistake.
MAX_STOCK_COUNT = 10_000_000


class ProductFilterForm(forms.Form):
    q = SearchField(label=_("Search"), max_length=100, placeholder=_("Name, SKU or barcode"))
    tax_rate = forms.TypedChoiceField(label=_("Tax rate"), required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(label=_("Type"), required=False, choices=[
        ("", _("All items")), (KIND_INVENTORY, _("Inventory items")), (KIND_NON_INVENTORY, _("Non-inventory items")),
    ])
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[
        ("", _("Active and inactive")), (STATUS_ACTIVE, _("Active")), (STATUS_INACTIVE, _("Inactive")),
    ])

    def __init__(self, *args, tax_rates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tax_rate"].choices = [("", _("All tax rates"))] + [(rate.pk, rate.name) for rate in tax_rates]

    def params(self) -> dict:
        """The valid filters, JSON-safe (an export job stores them); an invalid one is left out."""
        data = getattr(self, "cleaned_data", {})
        return {key: value for key, value in data.items() if value not in (None, "")}


class ProductForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    sku = forms.CharField(label=_("SKU"), max_length=64, help_text=_("Your own reference; unique in the catalogue."))
    barcode = forms.CharField(label=_("Barcode"), max_length=64, required=False,
                              help_text=_("What a scanner reads (EAN, UPC…); optional."))
    price = MoneyField(label=_("Price"))
    tax_rate = forms.TypedChoiceField(label=_("Tax rate"), coerce=int)
    track_inventory = forms.BooleanField(
        label=_("Inventory item (track stock per outlet)"), required=False, initial=True,
        help_text=_("Untick for fees and services that have no stock, such as a subscription fee."),
    )
    is_active = forms.BooleanField(label=_("Active (can be sold)"), required=False, initial=True)

    def __init__(self, *args, currency, tax_rates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["price"].currency = currency
        self.fields["price"].help_text = _("Amount in %(currency)s, e.g. %(example)s") % {
            "currency": currency, "example": format_money(1250, currency)}
        self.fields["tax_rate"].choices = [(rate.pk, rate.name) for rate in tax_rates]
        if not self.is_bound and "tax_rate" not in self.initial:
            default = next((rate for rate in tax_rates if rate.is_default), None)
            if default is not None:
                self.initial["tax_rate"] = default.pk

    @staticmethod
    def initial_from(product, currency: str) -> dict:
        return {
            "name": product.name, "sku": product.sku, "barcode": product.barcode,
            "price": format_money(product.price, currency), "tax_rate": product.tax_rate_id,
            "track_inventory": product.track_inventory, "is_active": product.is_active,
        }

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {"name": data["name"], "sku": data["sku"], "barcode": data["barcode"], "price": data["price"],
                "tax_rate_id": data["tax_rate"], "track_inventory": data["track_inventory"],
                "is_active": data["is_active"]}


class StockCountForm(forms.Form):
    """The counted quantity of a product at one outlet (a stock take)."""

    outlet = forms.TypedChoiceField(coerce=int, widget=forms.HiddenInput)
    quantity = WholeNumberField(label=_("Counted quantity"), max_value=MAX_STOCK_COUNT,
                                widget=forms.NumberInput(attrs={"class": "qty-count", "inputmode": "numeric"}))

    def __init__(self, *args, outlets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outlet"].choices = [(outlet.pk, outlet.name) for outlet in outlets]
