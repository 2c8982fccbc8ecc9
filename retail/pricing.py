"""Line and sale amounts, in integer minor units.

Rounding rule (documented for accountants): tax is computed per line, on the line's amount after
its discount, and rounded half up to the minor unit; the sale's tax is the sum of its lines' taxes.
- Prices including tax (the French default): the line total is the discounted amount and
  tax = round_half_up(total × rate / (1 + rate)).
- Prices excluding tax: tax = round_half_up(amount × rate) and the line total is amount + tax.
A percentage discount is converted to minor units with the same half-up rounding.
A customer type's discount (a percentage, in basis points) is taken from what is left of the line after
the cashier's discount, rounded the same way, before the tax: the tax is on what the customer pays.
"""

from dataclasses import dataclass

from django.utils.translation import get_language

BASIS_POINTS = 10_000


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers only."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


def percent_discount(gross: int, percent_bp: int) -> int:
    return round_half_up(gross * percent_bp, BASIS_POINTS)


@dataclass(frozen=True)
class LineAmounts:
    gross: int  # quantity × unit price
    discount: int
    tax: int
    total: int  # what the customer pays for the line
    customer_discount: int = 0


def line_amounts(*, quantity: int, unit_price: int, discount: int, rate_bp: int,
                 prices_include_tax: bool, customer_discount_bp: int = 0) -> LineAmounts:
    gross = quantity * unit_price
    discount = max(0, min(discount, gross))
    customer_discount = percent_discount(gross - discount, max(0, min(customer_discount_bp, BASIS_POINTS)))
    amount = gross - discount - customer_discount
    if prices_include_tax:
        tax = round_half_up(amount * rate_bp, BASIS_POINTS + rate_bp)
        total = amount
    else:
        tax = round_half_up(amount * rate_bp, BASIS_POINTS)
        total = amount + tax
    return LineAmounts(gross=gross, discount=discount, tax=tax, total=total, customer_discount=customer_discount)


def share_of(total: int, part: int, whole: int) -> int:
    """The part of `total` that `part` out of `whole` stands for (e.g. 1 of 3 returned items)."""
    if whole <= 0:
        return 0
    return round_half_up(total * part, whole)


def format_rate(rate_bp: int, language: str | None = None) -> str:
    """Basis points as a percentage in the reader's language: 550 → "5,5 %" (French), "5.5%" (English)."""
    whole, fraction = divmod(rate_bp, 100)
    french = (language or get_language() or "en").startswith("fr")
    number = str(whole)
    if fraction:
        number += ("," if french else ".") + f"{fraction:02d}".rstrip("0")
    return f"{number}\u00a0%" if french else f"{number}%"
