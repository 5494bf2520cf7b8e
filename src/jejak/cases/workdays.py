"""Indonesian working days: Monday to Friday, neither a public holiday nor a joint holiday.

Joint holidays (*cuti bersama*) are the days the government adds around public holidays; the
``holidays`` package keeps them in its ``government`` category, the public holidays in
``public``. Deadlines count working days *after* the day of receipt and end at the end of the
last one (policy: 23:59:59 in Asia/Jakarta).

Example::

    >>> from datetime import date
    >>> add_working_days(date(2017, 2, 6), 15)   # 15 February 2017 was a public holiday
    datetime.date(2017, 2, 28)
    >>> is_working_day(date(2017, 2, 15))
    False
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

CATEGORIES = ("public", "government")


@functools.lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    days = holidays.country_holidays("ID", years=year, categories=CATEGORIES)
    return frozenset(days.keys())


def is_working_day(day: date) -> bool:
    """Monday to Friday and not an Indonesian public or joint holiday."""
    return day.weekday() < 5 and day not in _holidays(day.year)


def working_days_between(a: date, b: date) -> int:
    """Working days after ``a`` up to and including ``b`` (negative when ``b`` is before ``a``).

    Counted, not walked: the weekdays of the span less the holidays in it that fall on one.

    >>> working_days_between(date(2017, 2, 6), date(2017, 2, 28))
    15
    >>> working_days_between(date(2017, 2, 28), date(2017, 2, 6))
    -15
    """
    if b < a:
        return -working_days_between(b, a)
    days = (b - a).days
    weeks, rest = divmod(days, 7)
    n = 5 * weeks + sum(
        (a + timedelta(days=7 * weeks + i)).weekday() < 5 for i in range(1, rest + 1)
    )
    for year in range(a.year, b.year + 1):
        n -= sum(1 for h in _holidays(year) if a < h <= b and h.weekday() < 5)
    return n


def add_working_days(day: date, n: int) -> date:
    """The ``n``-th working day after ``day`` (``day`` itself does not count)."""
    if n < 0:
        raise ValueError("n must not be negative")
    d = day
    while n:
        d += timedelta(days=1)
        if is_working_day(d):
            n -= 1
    return d


def deadline(received: datetime, working_days: int, tz: str, end_of_day: time) -> datetime:
    """The end of the ``working_days``-th working day after the (local) day of ``received``."""
    zone = ZoneInfo(tz)
    local_day = received.astimezone(zone).date()
    due = add_working_days(local_day, working_days)
    return datetime.combine(due, end_of_day, tzinfo=zone)
