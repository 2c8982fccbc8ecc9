"""What a plan costs an account, and the arithmetic of periods and proration. Plain reads and integer
arithmetic: no state changes here (billing.services and billing.runs make them).

- A period starts on a day and ends the day before the same day of the next month (or year), counted
  from the first period's start and never chained, so month ends stay anchored (31 Jan → 28/29 Feb →
  31 Mar); `period_end` is the first day after the period.
- Proration credits the days left of a paid period, to the day: paid × days left ÷ days of the period,
  rounded half-up to the minor unit.
"""

import calendar
import datetime
import zoneinfo
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from accounts import addons as addon_catalogue
from accounts.models import Outlet, Register
from accounts.tenancy import scoped
from billing.features import feature_label
from billing.models import AddonPrice, Frequency, HoldFee, Licence, Plan, PlanPrice
from posbackoffice.errors import DomainError

MONTHS = {Frequency.MONTHLY: 1, Frequency.YEARLY: 12}


class SubscriptionMismatch(DomainError):
    """The plan, licences and add-ons do not make a subscription we can bill (a price missing for the
    account's currency, a plan without licences): nothing is charged; the account manager sorts it out."""


def add_months(day: datetime.date, months: int, anchor: int | None = None) -> datetime.date:
    """`day` moved by whole months, on the anchor's day of the month (the last day when shorter)."""
    anchor = anchor or day.day
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return datetime.date(year, month + 1, min(anchor, calendar.monthrange(year, month + 1)[1]))


def period_bounds(first_start: datetime.date, frequency: str, index: int) -> tuple[datetime.date, datetime.date]:
    """Period number `index` (0 first) of a plan whose first period started on `first_start`."""
    step = MONTHS[frequency]
    return (add_months(first_start, step * index, first_start.day),
            add_months(first_start, step * (index + 1), first_start.day))


def next_period(start: datetime.date, end: datetime.date, frequency: str) -> tuple[datetime.date, datetime.date]:
    """The period after [start, end): anchored on `start`'s day of the month."""
    return end, add_months(start, 2 * MONTHS[frequency], start.day)


def prorated(paid: int, *, start: datetime.date, end: datetime.date, today: datetime.date) -> int:
    """What is left of `paid` for the period [start, end) from `today` on, to the day, half-up."""
    days = (end - start).days
    if days <= 0 or paid <= 0:
        return 0
    left = min(max((end - max(today, start)).days, 0), days)
    return (2 * paid * left + days) // (2 * days)


def local_today(account, now: datetime.datetime) -> datetime.date:
    return now.astimezone(zoneinfo.ZoneInfo(account.timezone)).date()


def local_midnight(account, day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, zoneinfo.ZoneInfo(account.timezone))


# ---- the price of a plan -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    description: str
    quantity: int
    unit_amount: int

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_amount


@dataclass(frozen=True)
class Quote:
    currency: str
    lines: list[Line] = field(default_factory=list)

    @property
    def total(self) -> int:
        return max(sum(line.amount for line in self.lines), 0)


def licences(account) -> tuple[int, int]:
    """The account's licences: (outlets, registers)."""
    return scoped(Outlet, account).count(), scoped(Register, account).count()


def billed_addons(plan: Plan, addon_codes) -> list[str]:
    """The add-ons paid for on this plan: those on, minus those the plan includes."""
    included = set(plan.included_addons or ())
    return sorted(code for code in set(addon_codes) & addon_catalogue.ALL_CODES if code not in included)


def quote(account, *, plan: Plan, frequency: str, addons, outlets: int, registers: int,
          discount_percent: int = 0) -> Quote:
    """The lines of one period of `plan`. SubscriptionMismatch when it cannot be billed as asked."""
    mismatch = _("The plan, licences or add-ons do not match a subscription we can bill. Nothing was charged: "
                 "contact your account manager.")
    currency = account.currency
    if frequency not in Frequency.values or outlets < 1 or registers < 1:
        raise SubscriptionMismatch(mismatch, code="subscription_mismatch")
    prices = {price.licence: price.amount for price in
              PlanPrice.objects.filter(plan=plan, frequency=frequency, currency=currency)}
    if set(prices) != set(Licence.values):
        raise SubscriptionMismatch(mismatch, code="subscription_mismatch")
    lines = [Line(_("%(plan)s — outlet licences") % {"plan": plan.name}, outlets, prices[Licence.OUTLET]),
             Line(_("%(plan)s — register licences") % {"plan": plan.name}, registers, prices[Licence.REGISTER])]
    for code in billed_addons(plan, addons):
        price = AddonPrice.objects.filter(addon=code, frequency=frequency, currency=currency).first()
        if price is None:
            raise SubscriptionMismatch(mismatch, code="subscription_mismatch")
        lines.append(Line(_("Add-on: %(addon)s") % {"addon": addon_catalogue.addon_label(code)}, 1, price.amount))
    subtotal = sum(line.amount for line in lines)
    if discount_percent:
        discount = (subtotal * discount_percent + 50) // 100
        lines.append(Line(_("Discount (%(percent)s %%)") % {"percent": discount_percent}, 1, -discount))
    return Quote(currency=currency, lines=lines)


def hold_fee(account) -> int:
    """The monthly fee of this account on hold: its country's in its currency, else the currency's
    default (country left empty); 0 when the platform set none."""
    fees = {fee.country: fee.amount for fee in HoldFee.objects.filter(currency=account.currency,
                                                                      country__in=[account.country, ""])}
    return fees.get(account.country, fees.get("", 0))


def closest_current_plan(old: Plan, old_addons) -> tuple[Plan, list[str]]:
    """The current plan closest to `old` and the add-ons to match: the cheapest-ranked current plan that
    has every feature the old one had, else the one sharing the most; add-ons the old plan included or
    the account had that the new plan does not include are added."""
    current = list(Plan.objects.filter(legacy=False).order_by("rank", "code"))
    if not current:
        raise SubscriptionMismatch(_("No current plan is available. Contact your account manager."),
                                   code="subscription_mismatch")
    if not old.legacy:
        best = old
    else:
        wanted = set(old.features or ())
        best = max(current, key=lambda plan: (wanted <= set(plan.features or ()),
                                              len(wanted & set(plan.features or ())), -plan.rank))
        covering = [plan for plan in current if wanted <= set(plan.features or ())]
        if covering:
            best = covering[0]
    had = set(old.included_addons or ()) | set(old_addons or ())
    return best, sorted(code for code in had & addon_catalogue.ALL_CODES
                        if code not in set(best.included_addons or ()))


def lost_features(old: Plan, old_addons, new: Plan, new_addons) -> list[str]:
    """What the merchant had (features, add-ons) that the new choice does not give."""
    lost = [feature_label(feature) for feature in old.features or () if feature not in set(new.features or ())]
    kept_addons = set(new.included_addons or ()) | set(new_addons or ())
    had_addons = set(old.included_addons or ()) | set(old_addons or ())
    lost += [addon_catalogue.addon_label(code) for code in sorted(had_addons - kept_addons)
             if code in addon_catalogue.ALL_CODES]
    return lost
