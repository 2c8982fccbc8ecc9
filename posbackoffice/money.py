"""Money: an integer number of minor units plus an ISO 4217 currency. No floats anywhere.

format_money() is the one place amounts become text; parse_money() the one place text becomes an
amount. Both follow the active language: "0,50 €" and "1 234,56 €" in French, "€0.50" and
"€1,234.56" in English.
"""

import re
from collections.abc import Callable

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from posbackoffice.errors import DomainError

# Digits after the decimal separator for the currencies we format; ISO 4217 minor units.
CURRENCY_EXPONENTS = {
    "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "NZD": 2, "SEK": 2, "NOK": 2,
    "DKK": 2, "PLN": 2, "MAD": 2, "TND": 3, "XOF": 0, "XAF": 0, "XPF": 0, "JPY": 0, "KWD": 3,
}
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CAD": "$", "AUD": "$", "NZD": "$"}
NBSP = "\u00a0"
NARROW_NBSP = "\u202f"
# The largest amount anyone types, in the currency's units (1,000,000,000.00 €): far above any price,
# sale or till, far below what the database's bigint holds in minor units. parse_money refuses more.
MAX_AMOUNT_UNITS = 1_000_000_000


class InvalidAmount(DomainError):
    pass


def exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise ValueError(f"unsupported currency {currency!r}") from None


def max_amount(currency: str) -> int:
    """The largest amount a person may type, in minor units: MAX_AMOUNT_UNITS of the currency."""
    return MAX_AMOUNT_UNITS * 10 ** exponent(currency)


def _group(digits: str, separator: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return separator.join(parts)


def _language(language: str | None) -> str:
    return (language or get_language() or "en").split("-")[0]


def format_money(amount: int, currency: str, language: str | None = None) -> str:
    """Format minor units for display, e.g. format_money(50, "EUR", "fr") == "0,50 €"."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("format_money takes an int of minor units")
    exp = exponent(currency)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**exp)
    lang = _language(language)
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    if lang == "fr":
        number = _group(str(whole), NARROW_NBSP) + ("," + str(fraction).zfill(exp) if exp else "")
        return f"{sign}{number}{NBSP}{symbol}"
    number = _group(str(whole), ",") + ("." + str(fraction).zfill(exp) if exp else "")
    if len(symbol) > 1:  # a code rather than a symbol reads better after a space: "CHF 12.00"
        return f"{sign}{symbol}{NBSP}{number}"
    return f"{sign}{symbol}{number}"


def decimal_formatter(currency: str, point: str = ".") -> Callable[[int], str]:
    """format_decimal for many amounts of one currency (a CSV export's column): the currency's exponent
    is looked up once; `point` is the decimal separator ("," for a French spreadsheet)."""
    exp = exponent(currency)
    scale = 10**exp
    pattern = f"%d{point.replace('%', '%%')}%0{exp}d" if exp else "%d%.0s"  # whole part, separator, fraction

    def formatted(amount: int) -> str:
        if amount < 0:
            return "-" + pattern % divmod(-amount, scale)
        return pattern % divmod(amount, scale)

    return formatted


def format_decimal(amount: int, currency: str) -> str:
    """Plain machine-readable decimal for CSV exports: "-1234.50" (dot, no grouping, no symbol)."""
    return decimal_formatter(currency)(amount)


def format_input(amount: int, currency: str) -> str:
    """The amount as a person types it in an amount field, in the current language ("12,50" in French,
    "12.50" in English); nothing for zero or less (an empty field to fill in)."""
    if amount <= 0:
        return ""
    text = format_decimal(amount, currency)
    return text.replace(".", ",") if _language(None) == "fr" else text


_STRIP = re.compile(r"[\s\u00a0\u202f'’]")


def parse_money(text: str, currency: str, language: str | None = None, *, allow_negative: bool = False) -> int:
    """Parse what a person typed ("12,50", "1 234,5 €", "€1,234.56", "12") into minor units.

    A separator followed by exactly three digits is read as thousands grouping when it is the
    language's grouping character; otherwise the last separator is the decimal point. More
    decimals than the currency has is an error, never a rounding.
    """
    exp = exponent(currency)
    raw = (text or "").strip()
    cleaned = _STRIP.sub("", raw)
    for symbol in {CURRENCY_SYMBOLS.get(currency, ""), currency, currency.lower()} - {""}:
        cleaned = cleaned.replace(symbol, "")
    negative = False
    if cleaned.startswith("-"):
        negative, cleaned = True, cleaned[1:]
    elif cleaned.startswith("+"):
        cleaned = cleaned[1:]
    # What was typed, not a page of it, and no control character (NUL…) echoed into the page.
    shown = "".join(char if char.isprintable() else "\ufffd" for char in raw[:40]) + ("…" if len(raw) > 40 else "")
    invalid = InvalidAmount(_("“%(value)s” is not a valid amount.") % {"value": shown})
    if not cleaned or not re.fullmatch(r"[0-9.,]+", cleaned) or not cleaned[0].isdigit():
        raise invalid
    grouping = "," if _language(language) == "en" else "."
    positions = [i for i, ch in enumerate(cleaned) if ch in ".,"]
    decimal_at = None
    if positions:
        last = positions[-1]
        trailing = len(cleaned) - last - 1
        # "1.234" is a thousand in French, but "0.500" or "0012.345" cannot be grouped thousands:
        # the leading group has one to three digits and no leading zero.
        head = cleaned[: positions[0]]
        leading_group = 1 <= len(head) <= 3 and head[0] != "0"
        is_grouping = (cleaned[last] == grouping and trailing == 3 and leading_group
                       and (exp != 3 or len(positions) > 1))
        if not is_grouping:
            decimal_at = last
    whole_part = cleaned if decimal_at is None else cleaned[:decimal_at]
    fraction = "" if decimal_at is None else cleaned[decimal_at + 1 :]
    if any(ch in ".," for ch in fraction) or (decimal_at is not None and not fraction):
        raise invalid
    groups = whole_part.split(grouping)
    badly_grouped = len(groups) > 1 and any(len(g) != 3 for g in groups[1:])
    if any(not g.isdigit() for g in groups) or badly_grouped:
        raise invalid
    if len(fraction) > exp:
        raise InvalidAmount(
            _("“%(value)s” has more than %(digits)s decimals.") % {"value": shown, "digits": exp}
        )
    if negative and not allow_negative:
        raise InvalidAmount(_("The amount cannot be negative."))
    whole = "".join(groups).lstrip("0") or "0"
    limit = max_amount(currency)
    # Digits counted first: int() of thousands of digits is slow, and refused beyond 4,300.
    amount = int(whole) * 10**exp + int(fraction.ljust(exp, "0") or "0") if len(whole) <= len(str(limit)) else None
    if amount is None or amount > limit:
        bound = format_money(-limit if negative else limit, currency, language)
        if negative:
            raise InvalidAmount(_("The amount cannot be less than %(amount)s.") % {"amount": bound})
        raise InvalidAmount(_("The amount cannot be more than %(amount)s.") % {"amount": bound})
    return -amount if negative else amount
