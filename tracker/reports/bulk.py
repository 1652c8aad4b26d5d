"""Doing one thing for many at once: bulk 签收 and approving several reports together.

Bulk 签收: a department acknowledges every assignment it has not yet acknowledged, in one step; each
assignment is signed for by the same service function as the single 签收
(:func:`tracker.reports.service.acknowledge`), so each gets its own row in the history.

Bulk approval: a coordinator approves the reports they chose after reading each in full; each goes
through the one review service (:func:`tracker.reports.service.review_checkin`: separation of duties,
closing a task, history) and all are decided in one transaction: one refused, none approved.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from ..extensions import db
from ..models import Assignment, CheckIn, Plan, Task
from .service import ReportError, acknowledge, review_checkin

__all__ = ["MAX_BULK", "acknowledge_all", "approve_reports", "unacknowledged"]

MAX_BULK = 50  # reports approved in one go (one page of the queue)


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


def approve_reports(
    *, versions: dict[int, int | None], comment: str, now: datetime, user_id: int | None
) -> list[CheckIn]:
    """Approve each report in ``versions`` (report id → the version the reviewer read), all or none.

    A report changed or decided since it was read raises the review service's ``StaleEdit``; one the
    reviewer may not approve raises ``ReportError`` naming it. Either way nothing is approved.
    """
    if not versions:
        raise ReportError(_("请至少选择一份报告。"))
    if len(versions) > MAX_BULK:
        raise ReportError(_("一次最多批量通过 %(n)s 份报告。", n=MAX_BULK))
    done = []
    try:
        for checkin_id, version_id in versions.items():
            checkin = db.session.get(CheckIn, checkin_id)
            try:
                done.append(
                    review_checkin(
                        checkin_id=checkin_id,
                        decision="approve",
                        comment=comment,
                        now=now,
                        user_id=user_id,
                        version_id=version_id,
                        commit=False,
                    )
                )
            except ReportError as exc:
                if checkin is None:
                    raise
                name = f"{checkin.task.label} · {checkin.department.name} · {checkin.period}"
                raise ReportError(_("%(report)s：%(reason)s", report=name, reason=str(exc))) from None
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return done
