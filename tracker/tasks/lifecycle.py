"""A plan's life cycle: before, running, final assessment (五年考核) after its end, closed.

The one place that says whether a plan may still be written to. Every service that changes a plan's
reports, reviews, tasks, assignments, deadlines or targets calls :func:`ensure_open` (or
:func:`ensure_task_open`) first; a closed plan raises :class:`~tracker.errors.PlanClosed`, which the
web shows as a 403 page, the API as a JSON error and the CLI as an error exit. Reading and exporting
never ask. Dates are arguments: nothing here reads the clock.
"""

from __future__ import annotations

from datetime import date

from ..errors import PlanClosed
from ..extensions import db
from ..i18n import N_
from ..models import Plan, Task

__all__ = ["STAGE_LABELS", "ensure_open", "ensure_task_open", "is_closed", "plan_stage"]

STAGE_LABELS = {
    "before": N_("尚未开始"),
    "running": N_("实施中"),
    "final": N_("五年考核"),
    "closed": N_("已关闭"),
}


def is_closed(plan: Plan) -> bool:
    return plan.closed_at is not None


def plan_stage(plan: Plan, today: date) -> str:
    """``'before'``, ``'running'``, ``'final'`` (after the end date, not closed) or ``'closed'``."""
    if is_closed(plan):
        return "closed"
    if today < plan.start:
        return "before"
    return "running" if today <= plan.end else "final"


def ensure_open(plan: Plan) -> None:
    """Refuse any change to a closed plan."""
    if is_closed(plan):
        raise PlanClosed(plan.title)


def ensure_task_open(task: Task) -> None:
    """Refuse any change to a task of a closed plan."""
    plan = task.plan if task.plan is not None else db.session.get(Plan, task.plan_id)
    assert plan is not None
    ensure_open(plan)
