"""The one due rule: when a period's report is requested, when it is due, when it is chased, and which
periods a department owes. Every feature asks this module: the report form, 我的任务, reminders,
warning lights, calendar feeds, the dashboard and the assessment. Pure: ``today`` and the working-day
calendar are arguments.

The rule (defaults; each plan may set its own ``report_request_workdays`` and ``report_due_days``):

* a period's report is **requested** ``request_workdays`` working days before the period ends
  (5: on 2024-06-24 for 2024Q2);
* it is **due** ``due_days`` calendar days after the period ends (5: 2024-07-05 for 2024Q2);
* it is **chased** from the next working day after the due date (2024-07-08 for 2024Q2);
* a department **owes** every period of its reporting window that has been requested by today and
  for which it has no submitted or approved report, oldest first; the report form and 我的任务 open
  the oldest one it owes.

The reporting window of a task runs from its start to the later of its due date and the plan's end
(an unfinished task keeps reporting until the plan closes); a task that is done or closed owes nothing
more. After the plan's end no period is requested any more: the five-year assessment is what is due.

>>> from tracker.tasks.workdays import Workdays
>>> cal, rule = Workdays(), DueRule()
>>> d = period_due(parse_period("2024Q2"), rule, cal)
>>> d.requested, d.due, d.chased_from
(datetime.date(2024, 6, 24), datetime.date(2024, 7, 5), datetime.date(2024, 7, 8))
>>> [p.period.key for p in owed_periods(date(2024, 7, 1), "quarter", date(2024, 1, 1), date(2025, 12, 31),
...                                       {"2024Q1"}, rule, cal)]
['2024Q2']
>>> [p.period.key for p in owed_periods(date(2024, 6, 21), "quarter", date(2024, 1, 1), date(2025, 12, 31),
...                                       {"2024Q1"}, rule, cal)]
[]
>>> form_period(date(2024, 7, 1), "quarter", date(2021, 1, 1), date(2025, 12, 31), set(), rule, cal).key
'2021Q1'
>>> form_period(date(2024, 7, 1), "quarter", date(2021, 1, 1), date(2025, 12, 31),
...             {p.key for p in periods_between(date(2021, 1, 1), date(2024, 6, 30), "quarter")}, rule, cal).key
'2024Q3'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from .periods import Period, parse_period, period_for, periods_between  # noqa: F401 (parse_period: doctests)
from .workdays import Workdays

__all__ = [
    "DueRule",
    "PeriodDue",
    "due_state",
    "expected_period",
    "form_period",
    "owed_periods",
    "period_due",
    "plan_cycle",
    "reporting_window",
    "window_periods",
]


@dataclass(frozen=True)
class DueRule:
    """The settings of the due rule: working days before a period ends, calendar days after it."""

    request_workdays: int = 5
    due_days: int = 5

    @classmethod
    def of(cls, plan: Any) -> DueRule:
        """The rule of a plan: its own settings where it has them, the defaults elsewhere."""
        workdays = getattr(plan, "report_request_workdays", None)
        days = getattr(plan, "report_due_days", None)
        return cls(5 if workdays is None else int(workdays), 5 if days is None else int(days))


@dataclass(frozen=True, order=True)
class PeriodDue:
    """One period with the three dates of the rule."""

    period: Period
    requested: date
    due: date
    chased_from: date


@lru_cache(maxsize=8192)
def _period_due(period: Period, rule: DueRule, cal: Workdays) -> PeriodDue:
    requested = cal.workdays_before(period.end, rule.request_workdays)
    due = period.end + timedelta(days=rule.due_days)
    return PeriodDue(period, requested, due, cal.next_workday(due + timedelta(days=1)))


def period_due(period: Period, rule: DueRule, cal: Workdays) -> PeriodDue:
    """When ``period``'s report is requested, due and chased."""
    return _period_due(period, rule, cal)


def reporting_window(start: date, due: date, plan_end: date) -> tuple[date, date]:
    """The days a task reports over: from its start to the later of its due date and the plan's end.

    >>> reporting_window(date(2021, 1, 1), date(2022, 12, 31), date(2025, 12, 31))
    (datetime.date(2021, 1, 1), datetime.date(2025, 12, 31))
    """
    return start, max(due, plan_end)


def window_periods(cycle: str, start: date, until: date) -> list[Period]:
    """Every period of the window, in order."""
    return periods_between(start, until, cycle)


def owed_periods(
    today: date,
    cycle: str,
    start: date,
    until: date,
    reported: Collection[str],
    rule: DueRule,
    cal: Workdays,
) -> list[PeriodDue]:
    """The periods requested by ``today`` that have no submitted or approved report, oldest first."""
    return [due for due in requested_periods(today, cycle, start, until, rule, cal) if due.period.key not in reported]


@lru_cache(maxsize=4096)
def requested_periods(
    today: date, cycle: str, start: date, until: date, rule: DueRule, cal: Workdays
) -> tuple[PeriodDue, ...]:
    """Every period of the window whose report has been requested by ``today``, oldest first.

    Cached: at province scale tens of thousands of reporters share a handful of windows, and the
    periods of a window do not depend on who reports.
    """
    out: list[PeriodDue] = []
    for due in _window_dues(cycle, start, until, rule, cal):
        if due.requested > today:
            break
        out.append(due)
    return tuple(out)


@lru_cache(maxsize=4096)
def _window_dues(cycle: str, start: date, until: date, rule: DueRule, cal: Workdays) -> tuple[PeriodDue, ...]:
    """Every period of a window with its dates, worked out once: the reminder sweep asks for the windows
    of 100,000 tasks, most of which share a few start and due dates."""
    return tuple(period_due(period, rule, cal) for period in periods_between(start, until, cycle))


def expected_period(
    today: date, cycle: str, start: date, until: date, rule: DueRule, cal: Workdays
) -> PeriodDue | None:
    """The latest period requested by ``today`` (what a leader counts as 本期应报送), or None before the first.

    >>> def key(day):
    ...     start, end = date(2021, 1, 1), date(2025, 12, 31)
    ...     return expected_period(day, "quarter", start, end, DueRule(), Workdays()).period.key
    >>> key(date(2024, 6, 21)), key(date(2024, 6, 24)), key(date(2026, 11, 29))
    ('2024Q1', '2024Q2', '2025Q4')
    """
    if today < start:
        return None
    last = period_for(min(today, until), cycle)
    for period in (last, period_for(last.start - timedelta(days=1), cycle)):
        if period.end < start:
            return None
        due = period_due(period, rule, cal)
        if due.requested <= today:
            return due
    return None


def form_period(
    today: date,
    cycle: str,
    start: date,
    until: date,
    reported: Collection[str],
    rule: DueRule,
    cal: Workdays,
) -> Period:
    """The period the report form opens: the oldest one owed; with nothing owed, the next one to report
    (the current period, or the window's first or last period when today is outside it)."""
    owed = owed_periods(today, cycle, start, until, reported, rule, cal)
    if owed:
        return owed[0].period
    return period_for(min(max(today, start), until), cycle)


def plan_cycle(cycles: Iterable[str]) -> str:
    """The cycle of a plan's consolidated reports: its tasks' most common reporting cycle, ties to the
    shorter one (reporting more often never misses a measure's period), quarter for a plan without tasks.

    >>> plan_cycle(["quarter", "year", "quarter"]), plan_cycle(["month", "year"]), plan_cycle([])
    ('quarter', 'month', 'quarter')
    """
    counts = Counter(cycles)
    if not counts:
        return "quarter"
    order = {"month": 0, "quarter": 1, "year": 2}
    return max(counts, key=lambda cycle: (counts[cycle], -order.get(cycle, 3)))


def due_state(due: PeriodDue, today: date) -> str:
    """``'upcoming'`` before the request, ``'requested'`` up to the due date, ``'late'`` until the chase,
    ``'chase'`` from then on.

    >>> d = period_due(parse_period("2024Q2"), DueRule(), Workdays())
    >>> [due_state(d, date(2024, 7, day)) for day in (1, 5, 6, 8)]
    ['requested', 'requested', 'late', 'chase']
    """
    if today < due.requested:
        return "upcoming"
    if today <= due.due:
        return "requested"
    if today < due.chased_from:
        return "late"
    return "chase"
