"""Who is due which reminder, and when: pure rules over dates, with ``today`` and a calendar passed in.

Stages (``Stages``, from ``app.config["REMINDERS"]``):

- **deadline** reminders ``before_days`` days before a task's or a target's due date (default 30, 7,
  1 and 0 = on the day);
- **chasers** (催办) after it: the first working day after the due date, then every
  ``chase_every_days`` days, at most ``max_chasers`` of them — nothing repeats endlessly;
- **escalation** (督办) to the coordinating offices once a task is overdue by more than
  ``escalate_after_days`` days, once per task and deadline;
- **check-in requests and chasers** (进展报送) are not decided here: they follow the one due rule
  (``tracker.tasks.due``) and go to whom ``tracker.tasks.duties`` says owes the report;
- after the plan period, check-in requests stop and each department gets one **final-assessment**
  request.

A stage that falls on a day off moves to the next working day. Nothing is sent on a day off. After
downtime only the *latest* stage that has come due is returned, so a catch-up sends one reminder per
task and department, not a flood; the unique key of each item makes it exactly-once. A chaser's
words count the chasers the department was actually sent for that deadline (``stage_label``'s
``count``), never the stage's place in the schedule: a catch-up's first chaser is the first.

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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext

from ..i18n import N_
from ..tasks.workdays import Workdays

__all__ = [
    "STAGE_LABELS",
    "Stages",
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
    "awaiting_head": N_("待单位负责人审核"),
    "instruction": N_("领导批示"),
    "final": N_("终期考核材料"),
}


@dataclass(frozen=True)
class Stages:
    before_days: tuple[int, ...] = (30, 7, 1, 0)
    chase_every_days: int = 7
    max_chasers: int = 4
    escalate_after_days: int = 14

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Stages:
        names = ("chase_every_days", "max_chasers", "escalate_after_days")
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


def stage_label(kind: str, stage: str, count: int | None = None) -> str:
    """A phrase for an item's stage, in the current language (Chinese outside a request); a chaser
    says it is the ``count``-th sent (the stage's own number when no count is given).

    >>> stage_label("deadline", "before-7"), stage_label("deadline", "before-0"), stage_label("chase", "after-2")
    ('距截止还有 7 天', '今天截止', '已逾期（第 2 次催办）')
    >>> stage_label("chase", "after-4", count=1)
    '已逾期（第 1 次催办）'
    """
    if stage.startswith("before-"):
        n = int(stage.split("-")[1])
        return gettext("今天截止") if n == 0 else gettext("距截止还有 %(n)s 天", n=n)
    if stage.startswith("after-"):
        return gettext("已逾期（第 %(n)s 次催办）", n=stage.split("-")[1] if count is None else count)
    return gettext(STAGE_LABELS[kind]) if kind in STAGE_LABELS else kind
