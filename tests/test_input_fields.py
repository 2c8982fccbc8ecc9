"""The one way of reading ids and text from a request (posbackoffice.params) and the shared form fields with
their bounds (posbackoffice.forms): what a view or a form gets back for what a person or a tampered
request sends."""

import datetime

import pytest
from django import forms
from django.http import Http404
from django.utils import translation

from posbackoffice.forms import DateField, IdField, MoneyField, SearchField, WholeNumberField
from posbackoffice.params import clean_text, id_or_404, ids_or_404, parse_id


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize("value,expected", [
    ("42", 42), (" 42 ", 42), ("0042", 42), (str(2**63 - 1), 2**63 - 1),
    (str(2**63), None), ("99999999999999999999", None), ("0", None), ("-1", None), ("+1", None),
    ("²", None), ("١٢", None), ("１２", None), ("4\x002", None), ("1.0", None), ("abc", None), ("", None),
    (None, None), (42, None),
])
def test_an_id_is_ascii_digits_within_bigint(value, expected):
    assert parse_id(value) == expected


def test_an_id_that_is_not_one_is_not_found():
    assert id_or_404("7") == 7
    assert ids_or_404(["7", "8"]) == [7, 8]
    with pytest.raises(Http404):
        id_or_404("²")
    with pytest.raises(Http404):
        ids_or_404(["7", "abc"])


@pytest.mark.parametrize("value,expected", [
    ("jam", "jam"), ("  jam  ", "jam"), ("ja\x00m", "ja m"), ("jam\x00", "jam"), ("\x1b[2Jjam", "[2Jjam"),
    ("a\r\nb", "a  b"), (None, ""), ("x" * 500, "x" * 100), ("Léa Martin", "Léa Martin"),
])
def test_search_text_loses_its_control_characters(value, expected):
    assert clean_text(value) == expected


class Amounts(forms.Form):
    amount = MoneyField(required=False)
    counted = MoneyField(required=False, allow_negative=True)
    paid = MoneyField(required=False, allow_zero=False)


class Counts(forms.Form):
    quantity = WholeNumberField(required=False)
    delta = WholeNumberField(required=False, min_value=-10, max_value=10)
    card = IdField(required=False)
    day = DateField(required=False)
    q = SearchField(max_length=10)


@pytest.mark.parametrize("form_class,data,cleaned", [
    (Amounts, {"amount": "12.50"}, 1250),
    (Amounts, {"amount": "1,000,000,000.00"}, 100_000_000_000),
    (Amounts, {"counted": "-12.50"}, -1250),
    (Amounts, {"counted": "-1000000000"}, -100_000_000_000),
    (Counts, {"quantity": "12"}, 12),
    (Counts, {"quantity": " 007 "}, 7),
    (Counts, {"quantity": str(2**31 - 1)}, 2**31 - 1),
    (Counts, {"delta": "-10"}, -10),
    (Counts, {"card": "12"}, 12),
    (Counts, {"day": "2026-03-01"}, datetime.date(2026, 3, 1)),
    (Counts, {"q": "con\x00fiture d'abricot"}, "con fiture"),
])
def test_within_bounds_is_taken(form_class, data, cleaned):
    form = form_class(data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data[next(iter(data))] == cleaned


@pytest.mark.parametrize("form_class,data,error", [
    (Amounts, {"amount": "1000000000.01"}, "The amount cannot be more than €1,000,000,000.00."),
    (Amounts, {"amount": "99999999999999999999"}, "The amount cannot be more than €1,000,000,000.00."),
    (Amounts, {"amount": "9" * 5000}, "The amount cannot be more than €1,000,000,000.00."),
    (Amounts, {"counted": "-1000000000.01"}, "The amount cannot be less than -€1,000,000,000.00."),
    (Amounts, {"amount": "-1"}, "The amount cannot be negative."),
    (Amounts, {"paid": "0"}, "The amount must be more than zero."),
    (Amounts, {"amount": "１２"}, "“１２” is not a valid amount."),
    (Amounts, {"amount": "1\x00"}, "“1\ufffd” is not a valid amount."),
    (Amounts, {"amount": "x" * 100}, f"“{'x' * 40}…” is not a valid amount."),
    (Counts, {"quantity": "²"}, "Enter a whole number."),
    (Counts, {"quantity": "１２"}, "Enter a whole number."),
    (Counts, {"quantity": "1.5"}, "Enter a whole number."),
    (Counts, {"quantity": "9" * 400}, "Enter a whole number."),
    (Counts, {"quantity": "2147483648"}, "Ensure this value is less than or equal to 2147483647."),
    (Counts, {"quantity": "-1"}, "Ensure this value is greater than or equal to 0."),
    (Counts, {"delta": "11"}, "Ensure this value is less than or equal to 10."),
    (Counts, {"card": "²"}, "Select a valid choice. That choice is not one of the available choices."),
    (Counts, {"card": str(2**63)}, "Select a valid choice. That choice is not one of the available choices."),
    (Counts, {"day": "9999-12-31"}, "Choose a date between 01/01/2000 and 12/31/2099."),
    (Counts, {"day": "0001-01-01"}, "Choose a date between 01/01/2000 and 12/31/2099."),
    (Counts, {"day": "2026-02-30"}, "Enter a valid date."),
])
def test_out_of_bounds_is_a_message_on_the_field(form_class, data, error):
    form = form_class(data)
    assert not form.is_valid()
    assert form.errors[next(iter(data))] == [error]


def test_an_amount_typed_in_french_says_its_bound_in_french():
    with translation.override("fr"):
        form = Amounts({"amount": "2 000 000 000"})
        assert not form.is_valid()
        assert form.errors["amount"] == ["Le montant ne peut pas dépasser 1\u202f000\u202f000\u202f000,00\u00a0€."]
