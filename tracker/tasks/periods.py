"""Reporting periods (月 / 季 / 年): pure date arithmetic shared by check-ins, dashboards and reminders.

>>> p = period_for(date(2024, 5, 20), "quarter")
>>> p.key, p.start, p.end, p.label
('2024Q2', datetime.date(2024, 4, 1), datetime.date(2024, 6, 30), '2024年第二季度')
>>> period_for(date(2024, 2, 29), "month").key
'2024-02'
>>> previous(p).key
'2024Q1'
>>> parse_period("2023").end
datetime.date(2023, 12, 31)
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from flask_babel import gettext as _

__all__ = ["Period", "parse_period", "period_for", "periods_between", "previous"]

_QUARTER_NAMES = "一二三四"


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: its cycle, key (``2024Q2``, ``2024-05``, ``2024``) and inclusive dates."""

    start: date
    end: date
    cycle: str
    key: str

    @property
    def label(self) -> str:
        """The Chinese label, as stored and as the plan writes it; ``i18n.period`` translates it for display."""
        if self.cycle == "quarter":
            return f"{self.start.year}年第{_QUARTER_NAMES[(self.start.month - 1) // 3]}季度"
        if self.cycle == "month":
            return f"{self.start.year}年{self.start.month}月"
        return f"{self.start.year}年度"


def period_for(day: date, cycle: str) -> Period:
    """The period of ``cycle`` that contains ``day``."""
    if cycle == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return Period(date(day.year, day.month, 1), date(day.year, day.month, last), cycle, f"{day:%Y-%m}")
    if cycle == "quarter":
        q = (day.month - 1) // 3
        start = date(day.year, 3 * q + 1, 1)
        end_month = 3 * q + 3
        end = date(day.year, end_month, calendar.monthrange(day.year, end_month)[1])
        return Period(start, end, cycle, f"{day.year}Q{q + 1}")
    if cycle == "year":
        return Period(date(day.year, 1, 1), date(day.year, 12, 31), cycle, str(day.year))
    raise ValueError(f"unknown reporting cycle {cycle!r}")


def previous(period: Period) -> Period:
    """The period just before ``period``."""
    return period_for(period.start - timedelta(days=1), period.cycle)


def parse_period(key: str) -> Period:
    """The period named by ``key`` (``2024Q2``, ``2024-05`` or ``2024``); ``ValueError`` if malformed."""
    try:
        if "Q" in key:
            year, q = key.split("Q")
            if not 1 <= int(q) <= 4:
                raise ValueError
            return period_for(date(int(year), 3 * int(q), 1), "quarter")
        if "-" in key:
            year, month = key.split("-")
            return period_for(date(int(year), int(month), 1), "month")
        return period_for(date(int(key), 1, 1), "year")
    except (ValueError, OverflowError):
        raise ValueError(_("无效的报送期：%(key)s（应为 2024Q2、2024-05 或 2024）", key=repr(key))) from None


def periods_between(start: date, end: date, cycle: str) -> list[Period]:
    """Every period of ``cycle`` that overlaps ``start``..``end``, in order."""
    return list(_periods_between(start, end, cycle))


@lru_cache(maxsize=8192)
def _periods_between(start: date, end: date, cycle: str) -> tuple[Period, ...]:
    # Cached: the assessment and the due rules ask for the same few windows tens of thousands of times.
    out: list[Period] = []
    period = period_for(start, cycle)
    while period.start <= end:
        out.append(period)
        period = period_for(period.end + timedelta(days=1), cycle)
    return tuple(out)
