"""Forms of Finance › Payments (the list's filters, the refund form) and Setup › Payments."""

from django import forms
from django.utils.translation import gettext_lazy as _

from payments.models import Payment, PaymentSettings
from payments.selectors import PAYOUT_NONE
from posbackoffice.errors import DomainError
from posbackoffice.forms import DateField, MoneyField, SearchField, filter_params
from posbackoffice.money import format_money, parse_money


class PaymentFilterForm(forms.Form):
    q = SearchField(label=_("Search"), max_length=100, placeholder=_("Customer, receipt, last 4 digits or amount"))
    date_from = DateField(label=_("From"), required=False)
    date_to = DateField(label=_("To"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    mode = forms.ChoiceField(label=_("Mode"), required=False)
    payout = forms.ChoiceField(label=_("Payout"), required=False)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["status"].choices = [("", _("All statuses")), *Payment.Status.choices]
        self.fields["mode"].choices = [("", _("All modes")), *Payment.Mode.choices]
        payouts = [(PAYOUT_NONE if value == "" else value, label) for value, label in Payment.Payout.choices]
        self.fields["payout"].choices = [("", _("All payouts")), *payouts]

    def clean_q(self):
        return " ".join(self.cleaned_data["q"].split())

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def params(self) -> dict:
        """The valid filters, JSON-safe (an export job stores them). The search text is also read as
        an amount here, in the reader's language ("12,50" or "12.50"), so the worker finds the same rows."""
        params = filter_params(self)
        if params.get("q"):
            try:
                params["q_amount"] = parse_money(params["q"], self.currency)
            except DomainError:
                pass
        return params


class RefundForm(forms.Form):
    amount = MoneyField(label=_("Amount to refund"), allow_zero=False)
    comment = forms.CharField(label=_("Comment"), max_length=300, required=False,
                              help_text=_("Why the money goes back; kept with the refund."))

    def __init__(self, *args, currency: str, remaining: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].currency = currency
        self.fields["amount"].help_text = _("At most %(amount)s.") % {"amount": format_money(remaining, currency)}


class PaymentSettingsForm(forms.Form):
    processor = forms.ChoiceField(
        label=_("Payment processor"), choices=PaymentSettings.Processor.choices, widget=forms.RadioSelect,
        help_text=_("Integrated payments take cards at the till, online and by pay link. Choosing Tyro turns off "
                    "pay links, which need integrated payments."),
    )
    cash_discount_enabled = forms.BooleanField(
        label=_("Cash discount programme"), required=False,
        help_text=_("Customers who pay in cash get the card processing fee taken off."),
    )
    payout_schedule = forms.ChoiceField(
        label=_("Payout schedule"), choices=PaymentSettings.PayoutSchedule.choices,
        help_text=_("When card takings are paid into your bank account."),
    )
    standalone_enabled = forms.BooleanField(
        label=_("Standalone mode"), required=False,
        help_text=_("Take card payments on your WisePOS E without starting a sale in the POS: the amount is "
                    "typed on the terminal. Standalone payments are not in the sales history and do not move "
                    "stock; they are listed only in Finance › Payments (Mode › Standalone). Standalone mode "
                    "with the WisePOS E needs a stable internet connection."),
    )
