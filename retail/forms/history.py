"""Forms of the sales history: the list's filters and the actions on one sale."""

from django import forms
from django.utils.translation import gettext_lazy as _

from posbackoffice.forms import DateField, MoneyField, SearchField, WholeNumberField, filter_params
from posbackoffice.params import BIGINT_MAX
from retail.forms.filters import RegisterFilterMixin, register_field
from retail.models import Sale
from retail.selectors.history import HISTORY_STATUSES


class HistoryFilterForm(RegisterFilterMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    date_from = DateField(label=_("From"), required=False)
    date_to = DateField(label=_("To"), required=False)
    outlet = forms.TypedChoiceField(label=_("Outlet"), required=False, coerce=int, empty_value=None)
    register = register_field()
    customer_q = SearchField(label=_("Customer"), max_length=100, placeholder=_("Name, e-mail or phone"))
    receipt = WholeNumberField(label=_("Receipt number"), required=False, min_value=1, max_value=BIGINT_MAX)

    def __init__(self, *args, outlets, registers, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_registers(registers)
        labels = dict(Sale.Status.choices)
        self.fields["status"].choices = [("", _("All statuses"))] + [(s.value, labels[s]) for s in HISTORY_STATUSES]
        self.fields["outlet"].choices = [("", _("All outlets"))] + [(o.pk, o.name) for o in outlets]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        self.check_register_at_outlet(cleaned)
        return cleaned

    def params(self) -> dict:
        """The valid filters, JSON-safe (an export job stores them)."""
        return filter_params(self)


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class TakePaymentForm(forms.Form):
    payment_type = forms.TypedChoiceField(label=_("Payment type"), coerce=int)
    amount = MoneyField(label=_("Amount"), allow_zero=False)

    def __init__(self, *args, currency, payment_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].currency = currency
        self.fields["payment_type"].choices = [(t.pk, t.name) for t in payment_types]


class ReturnForm(forms.Form):
    """One quantity field per line that still has goods to bring back, plus how to refund."""

    refund_payment_type = forms.TypedChoiceField(label=_("Give money back by"), coerce=int, required=False,
                                                 empty_value=None)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args, lines, payment_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.returnable = []
        for line in lines:
            left = line.quantity - line.returned_quantity
            if left <= 0:
                continue
            name = f"line_{line.pk}"
            self.fields[name] = WholeNumberField(label=line.name, max_value=left, initial=0, required=False)
            self.returnable.append((line, name, left))
        self.fields["refund_payment_type"].choices = [(t.pk, t.name) for t in payment_types]

    def line_fields(self):
        return [(line, self[name], left) for line, name, left in self.returnable]

    def quantities(self) -> dict[int, int]:
        return {line.pk: self.cleaned_data.get(name) or 0 for line, name, _left in self.returnable}
