"""Line and sale amounts, in integer minor units.

Rounding rule (documented for accountants): tax is computed per line, on the line's amount after
its discount, and rounded half up to the minor unit; the sale's tax is the sum of its lines' taxes.
- Prices including tax (the French default): the line total is the discounted amount and
  tax = round_half_up(total × rate / (1 + rate)).
- Prices excluding tax: tax = round_half_up(amount × rate) and the line total is amount + tax.
A percentage discount is converted to minor units with the same half-up rounding.
"""

from dataclasses import dataclass

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


def line_amounts(*, quantity: int, unit_price: int, discount: int, rate_bp: int,
                 prices_include_tax: bool) -> LineAmounts:
    gross = quantity * unit_price
    discount = max(0, min(discount, gross))
    amount = gross - discount
    if prices_include_tax:
        tax = round_half_up(amount * rate_bp, BASIS_POINTS + rate_bp)
        total = amount
    else:
        tax = round_half_up(amount * rate_bp, BASIS_POINTS)
        total = amount + tax
    return LineAmounts(gross=gross, discount=discount, tax=tax, total=total)


def share_of(total: int, part: int, whole: int) -> int:
    """The part of `total` that `part` out of `whole` stands for (e.g. 1 of 3 returned items)."""
    if whole <= 0:
        return 0
    return round_half_up(total * part, whole)
