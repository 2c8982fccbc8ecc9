"""Form fields every app's forms share, with sane bounds: whatever a person (or a tampered request) sends,
the field answers a value the database takes or a clear message on the form, never a server error.

- MoneyField: an amount as a person types it, in integer minor units, at most
  posbackoffice.money.MAX_AMOUNT_UNITS of the currency; negative only where the form asks for it.
- WholeNumberField: quantities, counts, receipt numbers: ASCII digits within the bounds given (within
  the database's int by default).
- IdField: an id from a hidden field (posbackoffice.params.parse_id).
- DateField: a date between FIRST_DATE and LAST_DATE (a whole day in any time zone stays a valid moment).
- SearchField: search text, control characters (NUL included) cleaned away.

`filter_params(form)` answers a filter form's valid values, JSON-safe, for the list and its export job.
"""

import datetime
import re

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from posbackoffice.errors import DomainError
from posbackoffice.money import parse_money
from posbackoffice.params import INT_MAX, SEARCH_MAX_LENGTH, clean_text, parse_id

FIRST_DATE = datetime.date(2000, 1, 1)
LAST_DATE = datetime.date(2099, 12, 31)
_WHOLE_NUMBER = re.compile(r"[-+]?[0-9]{1,30}")  # ASCII digits; more than 30 is no count of anything


class MoneyField(forms.CharField):
    """An amount typed by a person in their language ("12,50", "1 234,50 €", "€12.50"), cleaned to integer
    minor units of `currency` (the form sets it once it knows the account's). A typing mistake is a field
    error, never a rounding; above the bound, or negative unless `allow_negative`, is refused."""

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


class WholeNumberField(forms.IntegerField):
    """A whole number typed in ASCII digits, between `min_value` (0 by default) and `max_value` (the
    database's int by default): "²" or "１２" is not a number here, 2147483648 is out of bounds."""

    def __init__(self, *, min_value: int = 0, max_value: int = INT_MAX, **kwargs):
        kwargs.setdefault("widget", forms.NumberInput(attrs={"inputmode": "numeric"}))
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not _WHOLE_NUMBER.fullmatch(text):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(text)


class IdField(forms.Field):
    """The id of a row from a hidden field or a choice the view checks itself; whether the row exists, and
    is the account's, is the view's lookup (scoped: another account's id is not found)."""

    widget = forms.HiddenInput
    default_error_messages = {"invalid": _("Select a valid choice. That choice is not one of the available "
                                           "choices.")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = parse_id(str(value))
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class DateField(forms.DateField):
    """A date typed or picked (type="date" sends ISO dates whatever the language), between FIRST_DATE and
    LAST_DATE: a filter's whole days then stay valid moments in every time zone."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value is not None and not FIRST_DATE <= value <= LAST_DATE:
            raise forms.ValidationError(
                _("Choose a date between %(first)s and %(last)s.") % {
                    "first": formats.date_format(FIRST_DATE, "SHORT_DATE_FORMAT"),
                    "last": formats.date_format(LAST_DATE, "SHORT_DATE_FORMAT"),
                }, code="out_of_range")


class SearchField(forms.CharField):
    """What a person types into a search box; control characters (NUL included, which PostgreSQL refuses)
    are cleaned away rather than refused, and it is cut to a sane length."""

    def __init__(self, *, placeholder=None, **kwargs):
        kwargs.setdefault("required", False)
        attrs = {"type": "search", "autocomplete": "off"}
        if placeholder is not None:
            attrs["placeholder"] = placeholder
        kwargs.setdefault("widget", forms.TextInput(attrs=attrs))
        super().__init__(**kwargs)

    def to_python(self, value):
        return clean_text(super().to_python(value), self.max_length or SEARCH_MAX_LENGTH)


def filter_params(form: forms.Form) -> dict:
    """A filter form's valid values, JSON-safe (an export job stores them): an empty or invalid filter is
    left out, a date is in ISO format."""
    data = getattr(form, "cleaned_data", {})
    params = {}
    for key, value in data.items():
        if value in (None, "") or key in form.errors:
            continue
        params[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return params
