"""Billing dates. Periods are counted from the subscription's start date, never chained from the last
one, so a month end stays anchored: 31 Jan → 28/29 Feb → 31 Mar. Days are the shop's (its time zone)."""

import calendar
import datetime
import zoneinfo

from django.utils import timezone

# Interval code → (months, days) per period.
STEPS = {
    "weekly": (0, 7), "2weeks": (0, 14), "monthly": (1, 0), "2months": (2, 0), "3months": (3, 0),
    "6months": (6, 0), "yearly": (12, 0),
}
# Automatic retries after a failed charge: so many days after the first failure, then no more.
RETRY_DAYS = (3, 5, 7)


def add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_start(anchor: datetime.date, interval: str, period: int) -> datetime.date:
    months, days = STEPS[interval]
    if months:
        return add_months(anchor, months * period)
    return anchor + datetime.timedelta(days=days * period)


def first_period_from(anchor: datetime.date, interval: str, day: datetime.date, at_least: int = 0) -> int:
    """The index of the first period (not before `at_least`) that starts on or after `day`."""
    period = at_least
    months, days = STEPS[interval]
    if days:  # jump close first: a weekly plan resumed years later
        period = max(period, (day - anchor).days // days)
    elif months:
        period = max(period, ((day.year - anchor.year) * 12 + day.month - anchor.month) // months - 1)
    while period_start(anchor, interval, period) < day:
        period += 1
    return period


def shop_zone(account) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(account.timezone)


def shop_today(account, now: datetime.datetime) -> datetime.date:
    return timezone.localdate(now, shop_zone(account))


def day_start(account, day: datetime.date) -> datetime.datetime:
    """The first moment of `day` where the shop is (when the billing job finds it due)."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=shop_zone(account))
