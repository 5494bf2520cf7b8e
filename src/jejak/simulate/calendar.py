"""The simulated operator's calendar: Indonesian working days, public holidays and day rhythms.

Public holidays come from the ``holidays`` package (``country_holidays("ID")``):
service centres close on them and on Sundays, self-service traffic rises on
them. Every instant the simulator handles is an integer: seconds since the
Unix epoch, UTC. Indonesia keeps no daylight saving time, so a local time is
the UTC instant plus a fixed offset per time zone (WIB +7, WITA +8, WIT +9).

Example::

    >>> from datetime import date
    >>> cal = Calendar(date(2016, 7, 1), 10)
    >>> cal.is_holiday(date(2016, 7, 6)), cal.holiday_name(date(2016, 7, 6))
    (True, 'Eid al-Fitr')
    >>> local_seconds(date(2016, 7, 18), 21 * 3600, 7) == epoch(date(2016, 7, 18)) + 14 * 3600
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import holidays as holidays_lib
import numpy as np

#: UTC offsets, in hours, of Indonesia's three time zones
TZ_OFFSETS: dict[str, int] = {"Asia/Jakarta": 7, "Asia/Makassar": 8, "Asia/Jayapura": 9}

#: relative self-service traffic per hour of the local day (0-23): quiet nights, an evening peak
HOURLY = np.array(
    [
        0.4,
        0.2,
        0.1,
        0.1,
        0.2,
        0.6,
        1.2,
        2.0,
        2.6,
        3.0,
        3.2,
        3.2,
        3.4,
        3.2,
        3.0,
        3.0,
        3.2,
        3.6,
        4.2,
        4.8,
        5.2,
        4.6,
        3.0,
        1.4,
    ]
)
HOURLY_P = HOURLY / HOURLY.sum()

#: relative traffic per weekday (Mon = 0): a little busier towards the weekend
WEEKDAY_FACTOR = (1.0, 0.97, 0.98, 1.0, 1.08, 1.12, 1.05)
HOLIDAY_FACTOR = 1.25

DAY = 86_400


def epoch(d: date) -> int:
    """Seconds since the epoch of midnight UTC starting ``d``."""
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def local_seconds(d: date, seconds_of_day: int, offset_hours: int) -> int:
    """The UTC instant of a local time of day on local date ``d`` in a zone ``offset_hours`` east."""
    return epoch(d) + seconds_of_day - offset_hours * 3600


def iso(ts: int, offset_hours: int = 7) -> str:
    """An instant as ISO 8601 local time with its offset: ``2016-07-18T21:14:40+07:00``."""
    local = datetime.fromtimestamp(ts, UTC) + timedelta(hours=offset_hours)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f"+{offset_hours:02d}:00"


def hhmm(seconds_of_day: int) -> str:
    return f"{seconds_of_day // 3600:02d}:{seconds_of_day % 3600 // 60:02d}"


@dataclass
class Calendar:
    """The simulated days, ``start`` and the ``days - 1`` that follow it."""

    start: date
    days: int
    _holidays: dict[date, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        years = range(self.start.year, self.end.year + 1)
        self._holidays = dict(holidays_lib.country_holidays("ID", years=list(years)).items())

    @property
    def end(self) -> date:
        """The last simulated day."""
        return self.start + timedelta(days=self.days - 1)

    @property
    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    @property
    def first_second(self) -> int:
        """The first instant of the window (midnight WIB of the first day)."""
        return local_seconds(self.start, 0, 7)

    @property
    def last_second(self) -> int:
        """The instant the window ends (midnight WIB after the last day)."""
        return local_seconds(self.end, DAY, 7)

    def is_holiday(self, d: date) -> bool:
        return d in self._holidays

    def holiday_name(self, d: date) -> str | None:
        return self._holidays.get(d)

    def is_working_day(self, d: date) -> bool:
        """Monday to Saturday and not a public holiday (service centres' days)."""
        return d.weekday() < 6 and not self.is_holiday(d)

    def traffic(self, d: date) -> float:
        """Relative self-service traffic of a day."""
        return WEEKDAY_FACTOR[d.weekday()] * (HOLIDAY_FACTOR if self.is_holiday(d) else 1.0)
