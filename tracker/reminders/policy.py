"""Who is due which reminder, and when: pure rules over dates, with ``today`` and a calendar passed in.

Stages (``Stages``, from ``app.config["REMINDERS"]``):

- **deadline** reminders ``before_days`` days before a task's or a target's due date (default 30, 7,
  1 and 0 = on the day);
- **chasers** (催办) after it: the first working day after the due date, then every
  ``chase_every_days`` days, at most ``max_chasers`` of them — nothing repeats endlessly;
- **escalation** (督办) to the coordinating offices once a task is overdue by more than
  ``escalate_after_days`` days, once per task and deadline;
- **check-in requests** (进展报送): ``checkin_workdays_before`` working days before the reporting period
  closes, and one chaser for the period just closed when its report is missing;
- after the plan period, check-in requests stop and each department gets one **final-assessment**
  request.

A stage that falls on a day off moves to the next working day. Nothing is sent on a day off. After
downtime only the *latest* stage that has come due is returned, so a catch-up sends one reminder per
task and department, not a flood; the unique key of each item makes it exactly-once.

>>> from tracker.tasks.workdays import Workdays
>>> cal, s = Workdays(), Stages()
>>> deadline_stage(date(2025, 12, 31), date(2025, 12, 24), s, cal)
'before-7'
>>> deadline_stage(date(2025, 12, 31), date(2025, 11, 30), s, cal) is None
True
>>> deadline_stage(date(2024, 10, 31), date(2024, 10, 1), s, cal) is None  # National Day: not sent
True
>>> deadline_stage(date(2024, 10, 31), date(2024, 10, 8), s, cal)  # 30 days before fell on 10-01
'before-30'
>>> deadline_stage(date(2025, 12, 31), date(2026, 1, 5), s, cal)
'after-1'
>>> deadline_stage(date(2022, 12, 31), date(2025, 6, 3), s, cal)  # capped: the last chaser, once
'after-4'
>>> is_escalated(date(2025, 12, 31), date(2026, 1, 15), s)
True
>>> checkin_due(date(2024, 6, 24), "quarter", date(2021, 1, 1), date(2025, 12, 31), {"2024Q1"}, s, cal)
[('request', '2024Q2')]
>>> checkin_due(date(2024, 6, 21), "quarter", date(2021, 1, 1), date(2025, 12, 31), {"2024Q1"}, s, cal)
[]
>>> checkin_due(date(2024, 7, 1), "quarter", date(2021, 1, 1), date(2025, 12, 31), {"2024Q2"}, s, cal)
[]
>>> checkin_due(date(2024, 7, 1), "quarter", date(2021, 1, 1), date(2025, 12, 31), set(), s, cal)
[('chase', '2024Q2')]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext

from ..i18n import N_
from ..tasks.periods import period_for, previous
from ..tasks.workdays import Workdays

__all__ = [
    "STAGE_LABELS",
    "Stages",
    "checkin_due",
    "deadline_stage",
    "is_escalated",
    "is_open",
    "stage_dates",
    "stage_label",
]

STAGE_LABELS = {
    "deadline": N_("到期提醒"),
    "chase": N_("逾期催办"),
    "escalation": N_("逾期督办"),
    "checkin": N_("进展报送提醒"),
    "checkin_chase": N_("进展报送催报"),
    "returned": N_("报送被退回"),
    "final": N_("终期考核材料"),
}


@dataclass(frozen=True)
class Stages:
    before_days: tuple[int, ...] = (30, 7, 1, 0)
    chase_every_days: int = 7
    max_chasers: int = 4
    escalate_after_days: int = 14
    checkin_workdays_before: int = 5

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Stages:
        names = ("chase_every_days", "max_chasers", "escalate_after_days", "checkin_workdays_before")
        values: dict[str, Any] = {name: int(config[name]) for name in names if name in config}
        if "before_days" in config:
            values["before_days"] = tuple(sorted({int(d) for d in config["before_days"]}, reverse=True))
        return cls(**values)


def is_open(status: str, closed_on: date | None) -> bool:
    """Closed or done tasks get no reminders at all."""
    return status != "done" and closed_on is None


def stage_dates(due: date, stages: Stages, cal: Workdays) -> list[tuple[str, date]]:
    """Every stage of a deadline with the working day it goes out on, earliest first.

    >>> from tracker.tasks.workdays import Workdays
    >>> [(s, d.isoformat()) for s, d in stage_dates(date(2024, 10, 6), Stages(max_chasers=2), Workdays())]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('before-30', '2024-09-06'), ('before-7', '2024-09-29'), ('before-1', '2024-10-08'),
     ('before-0', '2024-10-08'), ('after-1', '2024-10-08'), ('after-2', '2024-10-15')]
    """
    out = [(f"before-{n}", cal.next_workday(due - timedelta(days=n))) for n in sorted(stages.before_days, reverse=True)]
    first = cal.next_workday(due + timedelta(days=1))
    for k in range(stages.max_chasers):
        out.append((f"after-{k + 1}", cal.next_workday(first + timedelta(days=k * stages.chase_every_days))))
    return out


def deadline_stage(due: date, today: date, stages: Stages, cal: Workdays) -> str | None:
    """The latest stage of ``due`` that has come due by ``today`` (a working day), or None."""
    if not cal.is_workday(today):
        return None
    passed = [stage for stage, day in stage_dates(due, stages, cal) if day <= today]
    return passed[-1] if passed else None


def is_escalated(due: date, today: date, stages: Stages) -> bool:
    """Overdue by more than ``escalate_after_days`` calendar days."""
    return (today - due).days > stages.escalate_after_days


def checkin_due(
    today: date,
    cycle: str,
    start: date,
    until: date,
    reported: set[str],
    stages: Stages,
    cal: Workdays,
) -> list[tuple[str, str]]:
    """Check-in items due for one task and department: ``('request' | 'chase', period key)``.

    ``start``..``until`` is when the task reports (from its start to the later of its due date and
    the plan's end); ``reported`` holds the periods with a submitted or approved report.
    """
    if not cal.is_workday(today):
        return []
    out: list[tuple[str, str]] = []
    current = period_for(today, cycle)
    last = previous(current)
    closed_in_time = last.end >= start and last.start <= until and last.key not in reported
    if closed_in_time and today >= cal.next_workday(last.end + timedelta(days=1)):
        out.append(("chase", last.key))
    open_in_time = current.end >= start and current.start <= until and current.key not in reported
    if open_in_time and today >= cal.workdays_before(current.end, stages.checkin_workdays_before):
        out.append(("request", current.key))
    return out


def stage_label(kind: str, stage: str) -> str:
    """A phrase for an item's stage, in the current language (Chinese outside a request).

    >>> stage_label("deadline", "before-7"), stage_label("deadline", "before-0"), stage_label("chase", "after-2")
    ('距截止还有 7 天', '今天截止', '已逾期（第 2 次催办）')
    """
    if stage.startswith("before-"):
        n = int(stage.split("-")[1])
        return gettext("今天截止") if n == 0 else gettext("距截止还有 %(n)s 天", n=n)
    if stage.startswith("after-"):
        return gettext("已逾期（第 %(n)s 次催办）", n=stage.split("-")[1])
    return gettext(STAGE_LABELS[kind]) if kind in STAGE_LABELS else kind
