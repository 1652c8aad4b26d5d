"""The dashboard (驾驶舱): counts, lights, tasks at risk, reporting rate, pending reviews, progress.

Everything is derived from one :class:`~tracker.tasks.state.PlanState`, so the page runs a
fixed number of queries. The reporting rate (报送率) is reported / expected over every (task,
department) pair that owes the period a leader counts as 本期应报送 (``TaskState.expected``, from the
one due rule in :mod:`tracker.tasks.due`; who owes: :mod:`tracker.tasks.duties`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Department, Task
from ..models.plan import TASK_STATUSES
from ..tasks.state import CheckInRow, PlanState, TaskState
from .rules import plan_phase, plan_progress

__all__ = ["Dashboard", "build_dashboard"]

STATUS_COLOURS = {
    "not_started": "#9aa3ad",
    "in_progress": "#0b5cad",
    "done": "#2e7d32",
    "lagging": "#c62828",
    "blocked": "#7f1010",
}
LIGHT_COLOURS = {"red": "#c62828", "yellow": "#f0b400", "green": "#2e7d32"}


@dataclass
class DepartmentReporting:
    department: Department
    expected: int
    reported: int
    missing: list[Task] = field(default_factory=list)
    consolidated_missing: bool = False  # a county's consolidated 落实 report of the expected period

    @property
    def rate(self) -> float | None:
        return self.reported / self.expected if self.expected else None


@dataclass
class Dashboard:
    state: PlanState
    status_counts: dict[str, int]
    light_counts: dict[str, int]
    at_risk: list[TaskState]
    reporting: list[DepartmentReporting]
    expected: int
    reported: int
    pending: list[tuple[CheckInRow, Task, Department]]
    progress: float | None
    phase: str
    days_left: int
    days_to_start: int
    done_on_time: int
    top_level: int

    @property
    def rate(self) -> float | None:
        return self.reported / self.expected if self.expected else None

    @property
    def not_reported(self) -> list[DepartmentReporting]:
        return [r for r in self.reporting if r.missing or r.consolidated_missing]


def build_dashboard(snap: PlanState) -> Dashboard:
    states = snap.states
    status_counts = dict.fromkeys(TASK_STATUSES, 0)
    light_counts = {"red": 0, "yellow": 0, "green": 0}
    for st in states:
        status_counts[st.task.status] = status_counts.get(st.task.status, 0) + 1
        light_counts[st.light] += 1
    order = {"red": 0, "yellow": 1}
    at_risk = sorted(
        (st for st in states if st.light in order), key=lambda st: (order[st.light], st.task.due, st.task.position)
    )

    by_id = {d.id: d for d in snap.departments}
    per_dept: dict[int, DepartmentReporting] = {}
    expected = reported = 0
    for st in states:
        if st.expected is None or st.task.status == "done" or st.task.closed_on is not None:
            continue
        missing_ids = {d.id for d in st.missing}
        for d in st.reporters:
            rep = per_dept.setdefault(d.id, DepartmentReporting(by_id[d.id], 0, 0))
            rep.expected += 1
            expected += 1
            if d.id in missing_ids:
                rep.missing.append(st.task)
            else:
                rep.reported += 1
                reported += 1
    for duty in snap.consolidated:
        if duty.expected is None:
            continue
        rep = per_dept.setdefault(duty.department.id, DepartmentReporting(duty.department, 0, 0))
        rep.expected += 1
        expected += 1
        if duty.missing:
            rep.consolidated_missing = True
        else:
            rep.reported += 1
            reported += 1
    reporting = sorted(per_dept.values(), key=lambda r: (r.rate if r.rate is not None else 1, r.department.position))

    tasks = {st.task.id: st.task for st in states}
    pending = [(c, tasks[c.task_id], by_id[c.department_id]) for c in snap.pending_review if c.task_id in tasks]
    top = [st.task for st in states if st.task.parent_id is None]
    plan = snap.plan
    done_on_time = sum(1 for t in top if t.closed_on is not None and t.closed_on <= t.original_due)
    return Dashboard(
        state=snap,
        status_counts=status_counts,
        light_counts=light_counts,
        at_risk=at_risk,
        reporting=reporting,
        expected=expected,
        reported=reported,
        pending=pending,
        progress=plan_progress((t.progress, t.status) for t in top),
        phase=plan_phase(snap.today, plan.start, plan.end),
        days_left=(plan.end - snap.today).days,
        days_to_start=(plan.start - snap.today).days,
        done_on_time=done_on_time,
        top_level=len(top),
    )
