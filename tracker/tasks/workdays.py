"""Chinese working days in Asia/Shanghai: statutory holidays, make-up working days (调休), local overrides.

The statutory calendar comes from the ``chinese_calendar`` package, which knows a fixed range of
years (2004–2026 in version 1.11). Outside that range we fall back to Monday–Friday and
``Workdays.fallback_years`` says which years were guessed, so the admin page and the CLI can say so.
Local changes (a day declared working or off by the city) are passed in as ``overrides``.

>>> cal = Workdays()
>>> cal.is_workday(date(2024, 10, 1)), cal.is_workday(date(2024, 9, 29))  # National Day; a 调休 Sunday
(False, True)
>>> cal.next_workday(date(2024, 10, 1))
datetime.date(2024, 10, 8)
>>> cal.workdays_before(date(2024, 6, 30), 5)  # 5 working days before the quarter closes
datetime.date(2024, 6, 24)
>>> Workdays({date(2024, 10, 8): False}).next_workday(date(2024, 10, 1))
datetime.date(2024, 10, 9)
>>> cal.is_workday(date(2040, 1, 2)), 2040 in cal.fallback_years
(True, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import chinese_calendar

__all__ = ["Workdays", "add_workdays", "statutory_years"]


def statutory_years() -> tuple[int, int]:
    """The first and last year the ``chinese_calendar`` package has statutory data for."""
    years = [d.year for d in chinese_calendar.constants.holidays]
    return min(years), max(years)


# The statutory calendar is fixed for the life of the process: each day's answer (is a working day, was
# guessed) is kept for every calendar. The package validates each date slowly, and a calendar is made per
# request (the city's overrides are data): a per-calendar cache started empty at every page.
_STATUTORY_DAYS: dict[date, tuple[bool, bool]] = {}


def _statutory(day: date) -> tuple[bool, bool]:
    try:
        return bool(chinese_calendar.is_workday(day)), False
    except NotImplementedError:  # the package has no data for this year: Monday to Friday, guessed
        return day.weekday() < 5, True


class Workdays:
    """Working-day arithmetic over the statutory calendar and ``overrides`` (day → is working day)."""

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self.overrides = dict(overrides or {})
        self.fallback_years: set[int] = set()
        # add_workdays's answers: the graph's critical chain and date conflicts ask for the same due
        # dates plus the same few lags tens of thousands of times.
        self._added: dict[tuple[date, int], date] = {}

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        known = _STATUTORY_DAYS.get(day)
        if known is None:
            known = _STATUTORY_DAYS[day] = _statutory(day)
        if known[1]:
            self.fallback_years.add(day.year)
        return known[0]

    def next_workday(self, day: date) -> date:
        """``day`` itself if it is a working day, else the next one."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def add_workdays(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``n`` ≥ 1)."""
        key = (day, n)
        found = self._added.get(key)
        if found is None:
            found = self._added[key] = self._counted(day, n)
        return found

    def _counted(self, day: date, n: int) -> date:
        while n > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                n -= 1
        return day

    def workdays_before(self, day: date, n: int) -> date:
        """The working day ``n`` working days before ``day``: ``n`` working days remain, ``day`` included."""
        count = 0
        while True:
            if self.is_workday(day):
                count += 1
                if count == n:
                    return day
            day -= timedelta(days=1)


_STATUTORY = Workdays()


def add_workdays(day: date, n: int) -> date:
    """``day`` moved ``n`` working days later on the statutory calendar (no local overrides): the default
    for pure callers such as the graph's lags; services pass ``city_workdays().add_workdays`` instead.

    >>> add_workdays(date(2025, 9, 30), 3)  # 国庆 1–8 October; Saturday 11 October is worked
    datetime.date(2025, 10, 11)
    >>> add_workdays(date(2025, 12, 31), 0)
    datetime.date(2025, 12, 31)
    """
    return _STATUTORY.add_workdays(day, n)
