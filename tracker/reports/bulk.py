"""Bulk 签收: a department acknowledges every assignment it has not yet acknowledged, in one step.

One transaction for all of them; each assignment is signed for by the same service function as the
single 签收 (:func:`tracker.reports.service.acknowledge`), so each gets its own row in the history.
"""

from __future__ import annotations

from datetime import datetime

from ..extensions import db
from ..models import Assignment, Plan, Task
from .service import acknowledge

__all__ = ["acknowledge_all", "unacknowledged"]


def unacknowledged(department_id: int) -> list[Assignment]:
    """The department's assignments not yet acknowledged, in plan order."""
    return list(
        db.session.scalars(
            db.select(Assignment)
            .join(Task, Task.id == Assignment.task_id)
            .join(Plan, Plan.id == Task.plan_id)
            .where(
                Assignment.department_id == department_id,
                Assignment.acknowledged_at.is_(None),
                Plan.closed_at.is_(None),  # a closed plan is read-only
            )
            .order_by(Task.position, Task.id)
        )
    )


def acknowledge_all(*, department_id: int, now: datetime, user_id: int | None) -> int:
    """Acknowledge every unacknowledged assignment of the department; return how many were signed for.

    All or nothing: if one was signed for by someone else meanwhile, the conflict rolls back the rest.
    """
    rows = unacknowledged(department_id)
    for assignment in rows:
        acknowledge(assignment=assignment, now=now, user_id=user_id, commit=False)
    db.session.commit()
    return len(rows)
