"""The final assessment (五年考核) of a plan after its end date: what was achieved, as plain data.

``final_assessment(snap, targets, rankings)`` reads nothing and writes nothing: it takes the plan's
state (``tracker.tasks.state``, whose ``today`` is passed in), its targets with their approved actuals
(``tracker.leadership.targets``) and the assessment windows (``tracker.leadership.assessment``), and
returns a JSON-ready dict. The same dict is shown live during the final assessment and frozen in
``Plan.final_results`` when the plan is closed (``tracker.leadership.closing``), so the page after
closing shows exactly the figures that were approved.

The rules are the existing ones, not second copies:

* a target is **met** when the target-progress rule says ``reached`` (``TargetRow.track``: share ≥ 1,
  or a milestone done); **no figure** when no approved actual exists; otherwise **not met**;
* a measure (top-level task) is **closed on time** when closed no later than its original deadline
  (extensions do not excuse, as in ``closure_label``), **late** when closed after it, **never** when
  still open: its light and reasons come from the lights rule, with the days overdue counted;
  a measure marked done with no closing date recorded (imported) counts as on time, as a report
  with an unknown submission time counts as punctual in the assessment;
* the county and department assessment of the whole period is the five-year window of ``assess``.
"""

from __future__ import annotations

from typing import Any

from ..models.plan import TARGET_GROUPS
from ..tasks.state import PlanState, TaskState
from .assessment import Ranking, UnitScore
from .targets import TargetRow

__all__ = ["OUTCOMES", "final_assessment", "target_outcome"]

OUTCOMES = ("met", "not_met", "no_figure")
MEASURE_KINDS = ("on_time", "late", "never")


def target_outcome(row: TargetRow, plan_start: Any) -> str:
    """``'met'``, ``'not_met'`` or ``'no_figure'`` by the target-progress rule."""
    if row.actual is None:
        return "no_figure"
    return "met" if row.track(plan_start) == "reached" else "not_met"


def _target(row: TargetRow, plan_start: Any) -> dict[str, Any]:
    t = row.target
    latest = row.latest
    return {
        "id": t.id,
        "key": t.key,
        "group": t.group,
        "name": t.name,
        "county": row.county,
        "task_code": row.task_code,
        "task_label": row.task_label,
        "comparison": t.comparison,
        "comparison_label": t.comparison_label,
        "value": t.value,
        "value_min": t.value_min,
        "value_max": t.value_max,
        "unit": t.unit,
        "baseline": t.baseline,
        "baseline_year": t.baseline_year,
        "final": row.actual,
        "period": latest.period if latest else None,
        "share": row.share,
        "outcome": target_outcome(row, plan_start),
    }


def _measure(st: TaskState, today: Any) -> tuple[str, dict[str, Any]]:
    task = st.task
    entry: dict[str, Any] = {
        "id": task.id,
        "code": task.code,
        "label": task.label,
        "title": task.title,
        "original_due": task.original_due.isoformat(),
        "due": task.due.isoformat(),
        "closed_on": task.closed_on.isoformat() if task.closed_on else None,
        "status": task.status,
        "progress": task.progress,
        "leads": [d.name for d in st.leads],
    }
    if task.closed_on is not None:
        late = (task.closed_on - task.original_due).days
        entry["days_late"] = max(0, late)
        return ("late" if late > 0 else "on_time"), entry
    if task.status == "done":
        return "on_time", entry
    entry["light"] = st.light
    entry["reasons"] = list(st.reasons)
    entry["days_overdue"] = max(0, (today - task.due).days)
    return "never", entry


def _unit(u: UnitScore) -> dict[str, Any]:
    return {
        "department_id": u.department.id,
        "name": u.department.name,
        "rank": u.rank,
        "score": u.score,
        "components": dict(u.components),
        "detail": dict(u.detail),
    }


def final_assessment(snap: PlanState, targets: list[TargetRow], rankings: list[Ranking]) -> dict[str, Any]:
    """The whole period's results as a JSON-ready dict (see the module docstring)."""
    plan = snap.plan
    rows = [_target(r, plan.start) for r in targets]
    target_counts = dict.fromkeys(OUTCOMES, 0)
    for r in rows:
        target_counts[r["outcome"]] += 1
    measures: dict[str, list[dict[str, Any]]] = {k: [] for k in MEASURE_KINDS}
    for st in snap.states:
        if st.task.parent_id is None:
            kind, entry = _measure(st, snap.today)
            measures[kind].append(entry)
    measures["never"].sort(key=lambda m: (-m["days_overdue"], m["code"]))
    five_year = next((r for r in rankings if r.window.key == "final"), None)
    return {
        "plan": {"key": plan.key, "title": plan.title, "start": plan.start.isoformat(), "end": plan.end.isoformat()},
        "as_of": snap.today.isoformat(),
        "targets": rows,
        "groups": [g for g in TARGET_GROUPS if any(r["group"] == g for r in rows)],
        "target_counts": target_counts,
        "measures": measures,
        "measure_counts": {k: len(v) for k, v in measures.items()},
        "window": five_year.window.label if five_year else "",
        "counties": [_unit(u) for u in five_year.counties] if five_year else [],
        "departments": [_unit(u) for u in five_year.departments] if five_year else [],
    }
