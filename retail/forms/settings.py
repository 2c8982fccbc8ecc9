import re

from django import forms
from django.utils.translation import gettext_lazy as _

# "20", "5,5", "5.5", "2,10", "20 %": up to three digits, then at most two decimals.
_RATE = re.compile(r"([0-9]{1,3})(?:[.,]([0-9]{1,2}))?")  # ASCII digits: \d also takes "١٢"
_RATE_NOISE = re.compile(r"[\s\u00a0\u202f%]")


TAX_RATE_TOO_HIGH = _("A tax rate must be between 0 and 100 %.")


def parse_rate(text: str, *, too_high=TAX_RATE_TOO_HIGH) -> int:
    """A percentage typed by a person ("5,5", "20", "2.1 %") as integer basis points (550, 2000,
    210), read with integers only so nothing is ever rounded; above 100 % is refused with `too_high`."""
    raw = (text or "").strip()
    match = _RATE.fullmatch(_RATE_NOISE.sub("", raw))
    if match is None:
        raise forms.ValidationError(
            _("“%(value)s” is not a valid rate. Type a percentage such as 20 or 5,5 (at most two decimals)."),
            params={"value": raw},
        )
    rate_bp = int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))
    if rate_bp > 10_000:
        raise forms.ValidationError(too_high)
    return rate_bp


class RateField(forms.CharField):
    """A percentage with at most two decimals, cleaned to integer basis points (tax rates, discounts)."""

    def __init__(self, *args, too_high=TAX_RATE_TOO_HIGH, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(*args, **kwargs)
        self.too_high = too_high

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        return parse_rate(value, too_high=self.too_high)


class ShopSettingsForm(forms.Form):
    prices_include_tax = forms.BooleanField(
        label=_("Prices include tax"), required=False,
        help_text=_("Ticked: the price of a product is what the customer pays, and the tax is taken out of it "
                    "(usual in France). Unticked: tax is added on top at the till."),
    )
    receipt_footer = forms.CharField(
        label=_("Receipt footer"), max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Printed at the bottom of every receipt, e.g. opening hours or a returns policy."),
    )


class TaxRateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, help_text=_("As it appears on receipts, e.g. TVA 8,5 %"))
    rate = RateField(label=_("Rate (%)"), help_text=_("e.g. 20 or 5,5"))


class PaymentTypeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80,
                           help_text=_("e.g. Paiement terminal autonome, Chèque, Ticket restaurant"))
    records_standalone = forms.BooleanField(
        label=_("Records standalone card payments"), required=False,
        help_text=_("For card payments taken on the terminal in standalone mode, so they count in your daily "
                    "totals. Voiding or refunding a sale paid with this type does not refund the card: refund "
                    "the card from Finance › Payments."))


class PaymentTypeActiveForm(forms.Form):
    active = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda value: value == "1")
