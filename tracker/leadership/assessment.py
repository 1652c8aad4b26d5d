"""Assessment (考核) of counties and departments per window, from a snapshot and the targets.

The rule and its weights are in :mod:`tracker.leadership.scoring`; this module only gathers each
unit's components. A report whose submission time is unknown (imported) counts as punctual;
milestones (targets without a number) are not part of target completion.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date

from ..i18n import N_
from ..models import Department, Task
from ..tasks.due import period_due, plan_cycle
from ..tasks.duties import owes_task_report
from ..tasks.periods import periods_between
from ..tasks.state import PlanState, first_submissions
from .rules import expected_share, path_start, target_share
from .scoring import ScoringRule, Window, score, target_component, windows
from .targets import TargetRow, target_spec

__all__ = ["Ranking", "UnitScore", "assess"]


@dataclass
class UnitScore:
    department: Department
    components: dict[str, float | None]
    detail: dict[str, str] = field(default_factory=dict)
    score: float | None = None
    rank: int | None = None


@dataclass
class Ranking:
    window: Window
    state: str
    counties: list[UnitScore]
    departments: list[UnitScore]


def _rank(units: list[UnitScore]) -> list[UnitScore]:
    ordered = sorted(units, key=lambda u: (u.score is None, -(u.score or 0), u.department.position))
    for i, u in enumerate(ordered, start=1):
        u.rank = i if u.score is not None else None
    return ordered


def assess(snap: PlanState, targets: list[TargetRow], rule: ScoringRule) -> list[Ranking]:
    today = snap.today
    plan = snap.plan
    lead_tasks: dict[int, list[int]] = {}
    owed: dict[int, list[Task]] = {}
    held: set[int] = set()
    for st in snap.states:
        roles = {a.role for a in st.task.assignments}
        for a in st.task.assignments:
            held.add(a.department_id)
            if a.role == "lead":
                lead_tasks.setdefault(a.department_id, []).append(st.task.id)
            if owes_task_report(a.role, roles):
                owed.setdefault(a.department_id, []).append(st.task)
    tasks = {st.task.id: st.task for st in snap.states}
    consolidated_ids = {duty.department.id for duty in snap.consolidated}
    county_cycle = plan_cycle(t.reporting_cycle for t in tasks.values())
    county_targets: dict[int, list[TargetRow]] = {}
    task_targets: dict[int, list[TargetRow]] = {}
    for r in targets:
        if r.target.county_id is not None and r.target.group.startswith("county"):
            county_targets.setdefault(r.target.county_id, []).append(r)
        if r.target.task_id is not None:
            task_targets.setdefault(r.target.task_id, []).append(r)

    def targets_of(d: Department) -> list[TargetRow]:
        if d.kind == "county" and d.county_id is not None:
            return county_targets.get(d.county_id, [])
        return [r for tid in lead_tasks.get(d.id, []) for r in task_targets.get(tid, [])]

    @functools.cache
    def owed_in_window(
        start: date, due: date, cycle: str, closed_on: date | None, w_start: date, w_end: date
    ) -> list[tuple[str, date]]:
        """The reports a task's reporter owed in a window, as (period, deadline): those of the one due
        rule, due on its due date, before today. The same for every task with the same dates."""
        begin, end = max(start, w_start), min(max(due, plan.end), w_end)
        if begin > end:
            return []
        out: list[tuple[str, date]] = []
        for p in periods_between(begin, end, cycle):
            deadline = period_due(p, snap.due_rule, snap.workdays).due
            if p.end > w_end or deadline >= today:
                continue
            if closed_on is not None and closed_on < p.start:
                continue
            out.append((p.key, deadline))
        return out

    def unit(d: Department, w: Window, first: dict[tuple[int, str], date]) -> UnitScore:
        """One unit's score in one window; ``first``: its reports' first submissions by (task, period)."""
        until = min(w.end, today)
        comps: dict[str, float | None] = {}
        detail: dict[str, str] = {}
        # targets
        parts = []
        for r in targets_of(d):
            t = r.target
            if t.is_milestone:
                continue
            values = [v for v in r.values if v.period_end <= until]
            share = target_share(target_spec(t), values[-1].value if values else None)
            expected = expected_share(until, path_start(t.baseline_year, plan.start), t.due)
            if values or expected > 0:
                parts.append(target_component(share, expected) or 0.0)
        comps["targets"] = sum(parts) / len(parts) if parts else None
        # stays Chinese: shown through the |label filter, which matches it
        detail["targets"] = N_("%(n)s 项目标") % {"n": len(parts)} if parts else "—"
        # punctuality
        due_reports = punctual = 0
        for task in owed.get(d.id, []):
            deadlines = owed_in_window(task.start, task.due, task.reporting_cycle, task.closed_on, w.start, w.end)
            due_reports += len(deadlines)
            # a report counts as punctual when any of its submissions was by the deadline: the earliest
            # (an unknown time, as of an imported report, counts as in time: date.min)
            for key, deadline in deadlines:
                if first.get((task.id, key), date.max) <= deadline:
                    punctual += 1
        # a county's consolidated 落实 report counts once per period, due on the rule's due date
        if d.id in consolidated_ids:
            for p in periods_between(max(plan.start, w.start), min(plan.end, w.end), county_cycle):
                deadline = period_due(p, snap.due_rule, snap.workdays).due
                if p.end > w.end or deadline >= today:
                    continue
                due_reports += 1
                if any(s is None or s <= deadline for s in snap.consolidated_submitted.get((d.id, p.key), [])):
                    punctual += 1
        comps["punctuality"] = punctual / due_reports if due_reports else None
        detail["punctuality"] = f"{punctual}/{due_reports}" if due_reports else "—"
        # tasks done on time
        due_tasks = [
            tasks[tid] for tid in lead_tasks.get(d.id, []) if w.start <= tasks[tid].original_due <= min(w.end, today)
        ]
        on_time = sum(1 for t in due_tasks if t.closed_on is not None and t.closed_on <= t.original_due)
        comps["on_time"] = on_time / len(due_tasks) if due_tasks else None
        detail["on_time"] = f"{on_time}/{len(due_tasks)}" if due_tasks else "—"
        return UnitScore(d, comps, detail, score(comps, rule))

    every = windows(plan.start, plan.end)
    live = [n for n, w in enumerate(every) if w.state(today) != "future"]
    assessed = {d.id: d for d in snap.departments if d.id in held or d.kind == "county"}
    scored: dict[int, dict[int, UnitScore]] = {}  # department id -> window -> its score there
    # department by department, each with its own reports' first submissions: the plan's hundreds of
    # thousands of reports are never in memory at once
    for dept_id, first in first_submissions(plan):
        if (d := assessed.get(dept_id)) is not None:
            scored[d.id] = {n: unit(d, every[n], first) for n in live}
    for d in assessed.values():
        if d.id not in scored:
            scored[d.id] = {n: unit(d, every[n], {}) for n in live}
    out: list[Ranking] = []
    for n, w in enumerate(every):
        state = w.state(today)
        if state == "future":
            out.append(Ranking(w, state, [], []))
            continue
        units = [scored[d.id][n] for d in snap.departments if d.id in scored]
        out.append(
            Ranking(
                w,
                state,
                _rank([u for u in units if u.department.kind == "county"]),
                _rank([u for u in units if u.department.kind != "county"]),
            )
        )
    return out
