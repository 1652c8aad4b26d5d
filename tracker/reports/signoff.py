"""The department's own sign-off (单位负责人审核): where a department requires it, a report its staff
submit waits (``awaiting_head``) for the department head, who approves it (on to the coordinators'
review: ``submitted``) or sends it back with a comment (``returned``: the staff fix it by a new
report, as after a coordinator's return). One rule for check-ins and the counties' consolidated
reports; only a head of the report's own department decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import audit
from ..errors import NotFound, PermissionDenied
from ..extensions import db
from ..i18n import N_
from ..models import CheckIn, ConsolidatedReport, Department, Plan, Review, Task, User
from ..tasks.lifecycle import ensure_open, ensure_task_open
from .service import ReportError, StaleEdit

__all__ = ["SignoffQueue", "decide", "head_comment", "is_head_of", "queue", "set_required"]

HEAD_ONLY = N_("只有本单位的单位负责人可以审核本单位的报告。")


def set_required(department: Department, required: bool, *, now: datetime, user_id: int | None) -> None:
    """Turn the department's sign-off on or off (in the history). Reports already waiting for the head
    stay waiting when it is turned off: the head still decides them."""
    audit.update_fields(department, {"requires_head_signoff": required}, now=now, entity="department", user_id=user_id)
    db.session.commit()


def is_head_of(user: User, department_id: int) -> bool:
    """A department head decides on their own department's reports only."""
    return user.role == "head" and user.department_id == department_id


@dataclass
class SignoffQueue:
    checkins: list[CheckIn]
    consolidated: list[ConsolidatedReport]

    def __len__(self) -> int:
        return len(self.checkins) + len(self.consolidated)


def queue(department_id: int) -> SignoffQueue:
    """The department's reports waiting for its head, oldest first (two queries)."""
    checkins = db.session.scalars(
        db.select(CheckIn)
        .filter_by(department_id=department_id, state="awaiting_head", consolidated_id=None)
        .options(selectinload(CheckIn.task).selectinload(Task.assignments), selectinload(CheckIn.author))
        .order_by(CheckIn.submitted_at, CheckIn.id)
    ).all()
    consolidated = db.session.scalars(
        db.select(ConsolidatedReport)
        .filter_by(department_id=department_id, state="awaiting_head")
        .options(selectinload(ConsolidatedReport.plan), selectinload(ConsolidatedReport.author))
        .order_by(ConsolidatedReport.submitted_at, ConsolidatedReport.id)
    ).all()
    return SignoffQueue(list(checkins), list(consolidated))


def _check(decision: str, comment: str) -> str:
    if decision not in {"approve", "return"}:
        raise ReportError(_("请选择同意报送或退回修改。"))
    comment = comment.strip()
    if decision == "return" and not comment:
        raise ReportError(_("退回时请填写意见，说明需要修改什么。"))
    if len(comment) > 5000 or "\x00" in comment:
        raise ReportError(_("意见不能超过 5000 个字，且不能含 NUL 字符。"))
    return comment


def decide(
    *,
    kind: str,
    report_id: int,
    decision: str,
    comment: str,
    now: datetime,
    user: User,
    version_id: int | None,
) -> CheckIn | ConsolidatedReport:
    """The head's decision on a check-in (``kind="checkin"``) or a consolidated report
    (``"consolidated"``): approve sends it on to review, return sends it back with the comment.
    A consolidated report's lines follow it and carry the decision, as with a coordinator's review."""
    model = CheckIn if kind == "checkin" else ConsolidatedReport
    report = db.session.get(model, report_id)
    if report is None or (isinstance(report, CheckIn) and report.consolidated_id is not None):
        raise NotFound(_("没有这份报告。"))
    if not is_head_of(user, report.department_id):
        raise PermissionDenied(_(HEAD_ONLY))
    if isinstance(report, CheckIn):
        ensure_task_open(report.task)
    else:
        ensure_open(db.session.get(Plan, report.plan_id))  # type: ignore[arg-type]
    comment = _check(decision, comment)
    if report.state != "awaiting_head" or (version_id is not None and version_id != report.version_id):
        raise StaleEdit(_("该报告已被他人审核或修改，请刷新后查看。"), {"state": report.state})
    report.state = "submitted" if decision == "approve" else "returned"
    lines = (
        [report]
        if isinstance(report, CheckIn)
        else list(db.session.scalars(db.select(CheckIn).filter_by(consolidated_id=report.id)))
    )
    for line in lines:
        line.state = report.state
        review = Review(checkin_id=line.id, reviewer_id=user.id, decision=decision, comment=comment, created_at=now)
        review.stage = "head"
        db.session.add(review)
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise StaleEdit(_("该报告已被他人审核，请刷新后查看。"), {}) from None
    entity = "check_in" if isinstance(report, CheckIn) else "consolidated_report"
    audit.record(now=now, action=f"head_{decision}", entity=entity, entity_id=report.id, new=comment, user_id=user.id)
    db.session.commit()
    return report


def head_comment(checkin: CheckIn | None) -> Review | None:
    """The head's send-back of a returned report, shown atop the form (None if a coordinator returned it)."""
    if checkin is None or checkin.state != "returned":
        return None
    last = db.session.scalar(
        db.select(Review).filter_by(checkin_id=checkin.id, decision="return").order_by(Review.id.desc()).limit(1)
    )
    return last if last is not None and last.stage == "head" else None
