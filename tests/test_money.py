import pytest
from django.utils import translation

from posbackoffice.money import (
    InvalidAmount,
    decimal_formatter,
    format_decimal,
    format_money,
    parse_money,
)

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.mark.parametrize("amount,currency,language,text", [
    (50, "EUR", "fr", f"0,50{NBSP}€"),
    (123456, "EUR", "fr", f"1{NNBSP}234,56{NBSP}€"),
    (-5, "EUR", "fr", f"-0,05{NBSP}€"),
    (50, "EUR", "en", "€0.50"),
    (123456789, "EUR", "en", "€1,234,567.89"),
    (1200, "JPY", "en", "¥1,200"),
    (1500, "CHF", "en", f"CHF{NBSP}15.00"),
])
def test_format_money_follows_the_language(amount, currency, language, text):
    assert format_money(amount, currency, language) == text


@pytest.mark.parametrize("amount,currency,text", [
    (0, "EUR", "0.00"), (5, "EUR", "0.05"), (-5, "EUR", "-0.05"), (123456, "EUR", "1234.56"),
    (-123456, "EUR", "-1234.56"), (1200, "JPY", "1200"), (-1200, "JPY", "-1200"), (1005, "KWD", "1.005"),
])
def test_plain_decimals_for_csv(amount, currency, text):
    assert format_decimal(amount, currency) == text
    assert decimal_formatter(currency)(amount) == text
    assert decimal_formatter(currency, ",")(amount) == text.replace(".", ",")


def test_format_uses_the_active_language():
    with translation.override("fr"):
        assert format_money(50, "EUR") == f"0,50{NBSP}€"
    with translation.override("en"):
        assert format_money(50, "EUR") == "€0.50"


@pytest.mark.parametrize("text,language,amount", [
    ("12,50", "fr", 1250), ("12.50", "fr", 1250), ("1 234,56 €", "fr", 123456), ("0,5", "fr", 50),
    ("€1,234.56", "en", 123456), ("12", "en", 1200), ("1,5", "en", 150), ("1,234", "en", 123400),
    (f"1{NNBSP}234,56{NBSP}€", "fr", 123456),
])
def test_parse_money(text, language, amount):
    assert parse_money(text, "EUR", language) == amount


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "12.345,6.7", "--1", "1..2", "12,345", "1.", "€"])
def test_parse_money_refuses_what_is_not_an_amount(text):
    with pytest.raises(InvalidAmount):
        parse_money(text, "EUR", "fr")


@pytest.mark.parametrize("text,language", [("0.500", "fr"), ("0.005", "fr"), ("0,500", "en"), ("0012.345", "fr")])
def test_a_leading_zero_is_never_read_as_thousands(text, language):
    with translation.override("en"), pytest.raises(InvalidAmount, match="more than 2 decimals"):
        parse_money(text, "EUR", language)


def test_parse_money_refuses_negative_unless_allowed():
    with pytest.raises(InvalidAmount):
        parse_money("-5", "EUR", "en")
    assert parse_money("-5", "EUR", "en", allow_negative=True) == -500


def test_formatting_never_takes_floats():
    with pytest.raises(TypeError):
        format_money(0.5, "EUR", "en")
    assert format_decimal(-123450, "EUR") == "-1234.50"


@pytest.mark.parametrize("text,currency,amount", [
    ("1000000000", "EUR", 100_000_000_000), ("1000000000", "JPY", 1_000_000_000), ("1000000000", "KWD", 10**12),
    ("-1000000000", "EUR", -100_000_000_000),
])
def test_parse_money_takes_up_to_a_billion_of_the_currency(text, currency, amount):
    assert parse_money(text, currency, "en", allow_negative=True) == amount


@pytest.mark.parametrize("text,currency,message", [
    ("1000000000.01", "EUR", "The amount cannot be more than €1,000,000,000.00."),
    ("1000000001", "JPY", "The amount cannot be more than ¥1,000,000,000."),
    ("99999999999999999999", "EUR", "The amount cannot be more than €1,000,000,000.00."),
    ("-1000000000.01", "EUR", "The amount cannot be less than -€1,000,000,000.00."),
])
def test_parse_money_refuses_more_than_a_billion(text, currency, message):
    with translation.override("en"), pytest.raises(InvalidAmount) as refused:
        parse_money(text, currency, "en", allow_negative=True)
    assert refused.value.message == message
