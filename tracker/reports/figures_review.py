"""Review of the figures a unit's staff enter on the figure form (the city's or a county's own figures).

The same rules as a report's review (:mod:`tracker.reports.service`): a coordinator (or an
administrator) approves or returns; the decision has no default; a return needs a comment, which the
figure's author sees atop the form; a coordinator does not decide on a figure entered by their own
department where the plan keeps separation of duties (:mod:`tracker.reports.separation`); a closed
plan refuses. Until approved a figure does not count anywhere (:func:`tracker.tasks.figures.value_counts`).
A coordinator's own entry is approved as it is entered (the coordinators are the reviewers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from .. import audit
from ..accounts.permissions import can_review
from ..errors import NotFound, PermissionDenied
from ..extensions import db
from ..i18n import N_
from ..models import Attachment, Plan, Target, TargetValue, User
from ..tasks.lifecycle import ensure_open
from .separation import review_refusal
from .service import OwnDepartmentReview, ReportError, StaleEdit

__all__ = [
    "FIGURE_STATES",
    "PendingFigure",
    "figure_evidence_visible",
    "pending_count",
    "pending_figures",
    "returned_figures",
    "review_figure",
]

DECISIONS = {"approve", "return"}
FIGURE_STATES = {"submitted": N_("待审核"), "returned": N_("已退回"), "approved": N_("已通过")}


@dataclass
class PendingFigure:
    value: TargetValue
    evidence: list[Attachment]
    own_department: bool  # the reviewer's own department entered it (separation of duties)


def pending_figures(plan: Plan, reviewer: User) -> list[PendingFigure]:
    """The plan's figures waiting for a coordinator, oldest first, with their evidence (three queries)."""
    values = list(
        db.session.scalars(
            db.select(TargetValue)
            .join(Target, Target.id == TargetValue.target_id)
            .where(Target.plan_id == plan.id, TargetValue.checkin_id.is_(None), TargetValue.state == "submitted")
            .order_by(TargetValue.created_at, TargetValue.id)
            .options(
                selectinload(TargetValue.target),
                selectinload(TargetValue.department),
                selectinload(TargetValue.county),
            )
        )
    )
    files: dict[int, list[Attachment]] = {}
    if values:
        for a in db.session.scalars(
            db.select(Attachment).where(Attachment.target_value_id.in_([v.id for v in values])).order_by(Attachment.id)
        ):
            files.setdefault(a.target_value_id or 0, []).append(a)
    return [
        PendingFigure(
            v,
            files.get(v.id, []),
            v.department_id is not None and review_refusal(plan, v.department_id, reviewer.id) is not None,
        )
        for v in values
    ]


def pending_count(plan: Plan) -> int:
    """How many of the plan's entered figures wait for a coordinator (the review queue links to them)."""
    return (
        db.session.scalar(
            db.select(db.func.count(TargetValue.id))
            .join(Target, Target.id == TargetValue.target_id)
            .where(Target.plan_id == plan.id, TargetValue.checkin_id.is_(None), TargetValue.state == "submitted")
        )
        or 0
    )


def returned_figures(target_ids: list[int], unit_kind: str, county_id: int | None) -> dict[int, TargetValue]:
    """Per target, the unit's latest entry when it was returned: the form shows its comment on top."""
    latest: dict[int, TargetValue] = {}
    for v in db.session.scalars(
        db.select(TargetValue)
        .where(
            TargetValue.target_id.in_(target_ids or [-1]),
            TargetValue.checkin_id.is_(None),
            TargetValue.unit_kind == unit_kind,
            TargetValue.county_id.is_(None) if county_id is None else TargetValue.county_id == county_id,
        )
        .order_by(TargetValue.created_at, TargetValue.id)
    ):
        latest[v.target_id] = v
    return {tid: v for tid, v in latest.items() if v.state == "returned"}


def review_figure(*, value_id: int, decision: str, comment: str, now: datetime, user: User) -> TargetValue:
    """Approve or return one entered figure; recorded in the history."""
    if not can_review(user):
        raise PermissionDenied(_("只有统筹协调人员或管理员可以审核。"))
    value = db.session.get(TargetValue, value_id)
    if value is None or value.checkin_id is not None:
        raise NotFound(_("没有这项数值。"))
    plan = db.session.get(Plan, value.target.plan_id)
    assert plan is not None
    ensure_open(plan)
    if value.department_id is not None and (refusal := review_refusal(plan, value.department_id, user.id)):
        raise OwnDepartmentReview(refusal)
    if decision not in DECISIONS:
        raise ReportError(_("请选择通过或退回。"))
    comment = (comment or "").strip()
    if decision == "return" and not comment:
        raise ReportError(_("退回时请填写意见，说明需要修改什么。"))
    if value.state != "submitted":
        raise StaleEdit(_("这项数值已被他人审核。"), {"state": value.state})
    value.state = "approved" if decision == "approve" else "returned"
    value.review_comment = comment or None
    value.reviewed_by_id = user.id
    value.reviewed_at = now
    audit.record(
        now=now,
        action=f"figure_{decision}",
        entity="target_value",
        entity_id=value.id,
        field=value.target.key,
        new=comment,
        user_id=user.id,
    )
    db.session.commit()
    return value


def figure_evidence_visible(attachment: Attachment, user: User) -> bool:
    """A figure's evidence: everyone once the figure is approved; before that its unit's staff, the
    coordinators and administrators."""
    value = db.session.get(TargetValue, attachment.target_value_id) if attachment.target_value_id else None
    if value is None:
        return False
    if value.state == "approved" or can_review(user):
        return True
    return user.department_id is not None and user.department_id == value.department_id
