"""Billing dates: counted from the start date so month ends stay anchored."""

import datetime

from subscriptions import periods

D = datetime.date


def test_month_end_stays_anchored():
    dates = [periods.period_start(D(2028, 1, 31), "monthly", n) for n in range(4)]
    assert dates == [D(2028, 1, 31), D(2028, 2, 29), D(2028, 3, 31), D(2028, 4, 30)]
    assert periods.period_start(D(2027, 1, 31), "monthly", 1) == D(2027, 2, 28)


def test_every_interval():
    start = D(2027, 8, 31)
    assert periods.period_start(start, "weekly", 2) == D(2027, 9, 14)
    assert periods.period_start(start, "2weeks", 1) == D(2027, 9, 14)
    assert periods.period_start(start, "2months", 1) == D(2027, 10, 31)
    assert periods.period_start(start, "3months", 2) == D(2028, 2, 29)
    assert periods.period_start(start, "6months", 1) == D(2028, 2, 29)
    assert periods.period_start(D(2028, 2, 29), "yearly", 1) == D(2029, 2, 28)
    assert periods.period_start(D(2028, 2, 29), "yearly", 4) == D(2032, 2, 29)


def test_first_period_from_a_day():
    start = D(2028, 1, 31)
    assert periods.first_period_from(start, "monthly", D(2028, 3, 1)) == 2  # 31 March
    assert periods.first_period_from(start, "monthly", D(2028, 3, 31)) == 2
    assert periods.first_period_from(start, "monthly", D(2028, 4, 1)) == 3
    assert periods.first_period_from(start, "weekly", D(2030, 1, 1)) * 7 >= (D(2030, 1, 1) - start).days
    assert periods.first_period_from(start, "monthly", D(2027, 1, 1), at_least=5) == 5


def test_day_start_is_the_shops_midnight():
    class Shop:
        timezone = "Europe/Paris"

    moment = periods.day_start(Shop, D(2028, 7, 1))
    assert moment.astimezone(datetime.UTC) == datetime.datetime(2028, 6, 30, 22, 0, tzinfo=datetime.UTC)
