"""Filters of the report pages. Each form cleans to the JSON-safe parameters the report selectors
(retail.selectors.reports) and their CSV exports take, so a page and its export read the same data."""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from posbackoffice.forms import DateField
from retail.forms.filters import RegisterFilterMixin, register_field
from retail.selectors.reports import GROUP_BY_CUSTOMER_TYPE, GROUP_BY_DAY, GROUP_BY_PAYMENT, GROUP_BY_PRODUCT

DEFAULT_DAYS = 30
MAX_DAYS_BY_DAY = 366


class ReportFilterForm(forms.Form):
    """Date range (inclusive local dates) and outlet. With `default_days`, a missing date falls back
    to the last `default_days` days ending today in the account's time zone."""

    date_from = DateField(label=_("From"), required=False)
    date_to = DateField(label=_("To"), required=False)
    outlet = forms.TypedChoiceField(label=_("Outlet"), required=False, coerce=int, empty_value=None)

    def __init__(self, data=None, *, outlets, today: datetime.date, default_days: int | None = DEFAULT_DAYS,
                 **kwargs):
        data = data.copy() if data is not None else {}
        if default_days:
            defaults = {"date_from": today - datetime.timedelta(days=default_days - 1), "date_to": today}
            for name, value in defaults.items():
                if not data.get(name):
                    data[name] = value.isoformat()
        super().__init__(data, **kwargs)
        self.fields["outlet"].choices = [("", _("All outlets"))] + [(o.pk, o.name) for o in outlets]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data

    def params(self) -> dict:
        """The cleaned filters as JSON-safe values (a queued export stores them as JSON)."""
        data = self.cleaned_data
        return {
            "date_from": data["date_from"].isoformat() if data.get("date_from") else None,
            "date_to": data["date_to"].isoformat() if data.get("date_to") else None,
            "outlet": data.get("outlet"),
        }


class SalesReportForm(ReportFilterForm):
    group_by = forms.ChoiceField(label=_("Group by"), required=False, choices=[
        (GROUP_BY_DAY, _("Day")), (GROUP_BY_PRODUCT, _("Product")), (GROUP_BY_PAYMENT, _("Payment type")),
        (GROUP_BY_CUSTOMER_TYPE, _("Customer type")),
    ])

    def clean_group_by(self):
        return self.cleaned_data.get("group_by") or GROUP_BY_DAY

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if data.get("group_by") == GROUP_BY_DAY and start and end and start <= end \
                and (end - start).days + 1 > MAX_DAYS_BY_DAY:
            raise forms.ValidationError(
                _("A day-by-day report covers at most %(days)s days; group by product, payment type or customer "
                  "type for a longer period.") % {"days": MAX_DAYS_BY_DAY})
        return data

    def params(self) -> dict:
        return {**super().params(), "group_by": self.cleaned_data["group_by"]}


class ClosureFilterForm(RegisterFilterMixin, ReportFilterForm):
    """Closed registers: the dates are optional (all closures by default)."""

    register = register_field()

    def __init__(self, data=None, *, outlets, registers, today, **kwargs):
        super().__init__(data, outlets=outlets, today=today, default_days=None, **kwargs)
        self.set_registers(registers)

    def clean(self):
        data = super().clean()
        self.check_register_at_outlet(data)
        return data

    def params(self) -> dict:
        return {**super().params(), "register": self.cleaned_data.get("register")}
