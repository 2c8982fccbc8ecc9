from django import forms
from django.utils.translation import gettext_lazy as _

from posbackoffice.forms import IdField, MoneyField, WholeNumberField
from retail.services.sales import MAX_QUANTITY


def sale_quantity(**kwargs) -> WholeNumberField:
    """A line's quantity, 1 to MAX_QUANTITY, refused in the words the sale services use."""
    return WholeNumberField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY, error_messages={
        "invalid": _("The quantity must be a whole number."),
        "min_value": _("The quantity must be at least 1."),
        "max_value": _("The quantity cannot be above %(limit_value)s."),
    }, **kwargs)


class OpenRegisterForm(forms.Form):
    opening_float = MoneyField(label=_("Opening float (cash in the drawer)"), initial="0")

    def __init__(self, *args, currency, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["opening_float"].currency = currency


class AddProductForm(forms.Form):
    """The quantity sent with a product to add (the product itself is looked up by the view: a
    tampered id is not found)."""

    quantity = sale_quantity(required=False)


class LineForm(forms.Form):
    quantity = sale_quantity()
    discount = MoneyField(label=_("Discount"), required=False)
    discount_percent = forms.DecimalField(label=_("Discount %"), required=False, min_value=0, max_value=100,
                                          decimal_places=2)

    def __init__(self, *args, currency, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["discount"].currency = currency


class PaymentForm(forms.Form):
    payment_type = IdField()
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
