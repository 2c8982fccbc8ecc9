from django import forms
from django.utils.translation import gettext_lazy as _

from posbackoffice.errors import DomainError
from posbackoffice.money import parse_money


class MoneyField(forms.CharField):
    """An amount typed by a person ("12,50", "€12.50"), cleaned to integer minor units."""

    def __init__(self, *args, currency: str = "EUR", allow_zero: bool = True, allow_negative: bool = False,
                 **kwargs):
        # A phone's decimal keypad has no minus sign: an amount that may be negative gets the full keyboard.
        attrs = {"autocomplete": "off"} if allow_negative else {"inputmode": "decimal", "autocomplete": "off"}
        kwargs.setdefault("widget", forms.TextInput(attrs=attrs))
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.allow_zero = allow_zero
        self.allow_negative = allow_negative

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            amount = parse_money(value, self.currency, allow_negative=self.allow_negative)
        except DomainError as error:
            raise forms.ValidationError(error.message) from None
        if not self.allow_zero and amount == 0:
            raise forms.ValidationError(_("The amount must be more than zero."))
        return amount


class OpenRegisterForm(forms.Form):
    opening_float = MoneyField(label=_("Opening float (cash in the drawer)"), initial="0")

    def __init__(self, *args, currency, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["opening_float"].currency = currency


class LineForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"))
    discount = MoneyField(label=_("Discount"), required=False)
    discount_percent = forms.DecimalField(label=_("Discount %"), required=False, min_value=0, max_value=100,
                                          decimal_places=2)

    def __init__(self, *args, currency, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["discount"].currency = currency


class PaymentForm(forms.Form):
    payment_type = forms.IntegerField(widget=forms.HiddenInput)
    amount = MoneyField(label=_("Amount"), allow_zero=False)

    def __init__(self, *args, currency, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].currency = currency


class QuickCustomerForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    email = forms.CharField(label=_("E-mail address"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)


class CloseRegisterForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, currency, payment_types, expected, **kwargs):
        super().__init__(*args, **kwargs)
        self.payment_types = payment_types
        for payment_type in payment_types:
            # Negative where the session paid out more than it took in; the service checks which.
            self.fields[f"counted_{payment_type.pk}"] = MoneyField(
                label=payment_type.name, currency=currency, required=payment_type.is_cash, allow_negative=True,
                help_text=None)
        self.expected = expected

    def rows(self):
        return [(pt, self[f"counted_{pt.pk}"], self.expected.get(pt.pk, 0)) for pt in self.payment_types]

    def counted(self) -> dict[int, int]:
        result = {}
        for payment_type in self.payment_types:
            value = self.cleaned_data.get(f"counted_{payment_type.pk}")
            if value is not None:
                result[payment_type.pk] = value
        return result
