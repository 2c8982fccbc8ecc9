"""Reading a card typed into the sandbox's card-entry stand-in, as a processor's tokenizer would: the
number, expiry and CVC are checked here and then dropped. What survives is what Stripe would show us
(brand, last 4, expiry, a fingerprint) and the behaviour Stripe's documented test number asks for.

Nothing in this module logs or keeps the number or the CVC, and no error carries them.
"""

import datetime
import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from payments.sandbox.models import CardBehaviour

# https://docs.stripe.com/testing: the numbers the sandbox knows; any other number that passes the
# Luhn check succeeds like 4242424242424242.
TEST_CARDS = {
    "4242424242424242": CardBehaviour.SUCCEED,
    "5555555555554444": CardBehaviour.SUCCEED,
    "4000000000000002": CardBehaviour.GENERIC_DECLINE,
    "4000000000009995": CardBehaviour.INSUFFICIENT_FUNDS,
    "4000000000000069": CardBehaviour.EXPIRED_CARD,
    "4000000000000127": CardBehaviour.INCORRECT_CVC,
    "4000000000000341": CardBehaviour.CHARGE_FAILS,
    "4000002500003155": CardBehaviour.AUTHENTICATION_REQUIRED,
    "4000002760003184": CardBehaviour.AUTHENTICATION_REQUIRED,
}

# Longest prefixes first within each brand; enough to name the usual cards.
_BRANDS = (
    ("amex", ("34", "37")),
    ("diners", ("300", "301", "302", "303", "304", "305", "36", "38")),
    ("discover", ("6011", "644", "645", "646", "647", "648", "649", "65")),
    ("jcb", ("35",)),
    ("unionpay", ("62",)),
    ("mastercard", ("51", "52", "53", "54", "55", "22", "23", "24", "25", "26", "27")),
    ("visa", ("4",)),
)
_SEPARATORS = re.compile(r"[\s-]+")
_EXPIRY = re.compile(r"^\s*([0-9]{1,2})\s*/\s*([0-9]{2}|[0-9]{4})\s*$")
MAX_YEARS_AHEAD = 20


class CardRefused(Exception):
    """What the tokenizer tells the person typing: a translated message and the field it is about."""

    def __init__(self, message, *, code: str, param: str):
        super().__init__(code)  # the code only: the message is for the screen, never for a log
        self.message = message
        self.code = code
        self.param = param


@dataclass(frozen=True)
class ReadCard:
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    fingerprint: str
    behaviour: str


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def brand_of(digits: str) -> str:
    for brand, prefixes in _BRANDS:
        if digits.startswith(prefixes):
            return brand
    return "unknown"


def fingerprint_of(digits: str) -> str:
    """The same card always gives the same fingerprint, and it cannot be turned back into the number."""
    key = hashlib.sha256(f"sandbox-card-fingerprint:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()[:16]


def _number(raw: str) -> str:
    digits = _SEPARATORS.sub("", raw or "")
    if not digits:
        raise CardRefused(_("Enter the card number."), code="incorrect_number", param="number")
    if not digits.isascii() or not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn_valid(digits):
        raise CardRefused(_("The card number is incorrect."), code="incorrect_number", param="number")
    return digits


def _expiry(raw: str, today: datetime.date) -> tuple[int, int]:
    match = _EXPIRY.match(raw or "")
    if not match or not 1 <= int(match.group(1)) <= 12:
        raise CardRefused(_("Enter the expiry date as MM/YY."), code="invalid_expiry", param="expiry")
    month, year = int(match.group(1)), int(match.group(2))
    if year < 100:
        year += 2000
    if (year, month) < (today.year, today.month):
        raise CardRefused(_("The card has expired."), code="invalid_expiry_year", param="expiry")
    if year > today.year + MAX_YEARS_AHEAD:
        raise CardRefused(_("Enter the expiry date as MM/YY."), code="invalid_expiry_year", param="expiry")
    return month, year


def _cvc(raw: str, brand: str) -> None:
    cvc = (raw or "").strip()
    if not cvc:
        raise CardRefused(_("Enter the security code (CVC)."), code="invalid_cvc", param="cvc")
    length = 4 if brand == "amex" else 3
    if not cvc.isascii() or not cvc.isdigit() or len(cvc) != length:
        raise CardRefused(_("The security code (CVC) is incorrect."), code="invalid_cvc", param="cvc")


_POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,8}[A-Za-z0-9]$")


def read_postal_code(raw: str) -> str:
    """A postcode as typed under the card (letters, digits, spaces and dashes, 3 to 10 characters)."""
    postcode = (raw or "").strip()
    if not postcode:
        raise CardRefused(_("Enter the postcode."), code="incomplete_zip", param="postal_code")
    if not postcode.isascii() or not _POSTAL_CODE.match(postcode):
        raise CardRefused(_("The postcode is incorrect."), code="invalid_zip", param="postal_code")
    return postcode.upper()


def read_card(*, number: str, expiry: str, cvc: str, today: datetime.date) -> ReadCard:
    """Check what was typed, in the order a person reads the fields; CardRefused on the first problem."""
    digits = _number(number)
    exp_month, exp_year = _expiry(expiry, today)
    brand = brand_of(digits)
    _cvc(cvc, brand)
    return ReadCard(brand=brand, last4=digits[-4:], exp_month=exp_month, exp_year=exp_year,
                    fingerprint=fingerprint_of(digits), behaviour=TEST_CARDS.get(digits, CardBehaviour.SUCCEED))
