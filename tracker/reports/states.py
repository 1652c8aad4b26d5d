"""Where a submitted report goes first: to the department head's sign-off (单位负责人审核) when the
department requires it, else straight to the coordinators' review. One rule for check-ins and the
counties' consolidated reports, from the web form, the API and a reminder link alike."""

from __future__ import annotations

from ..extensions import db
from ..i18n import N_
from ..models import Department
from ..models.progress import REPORTED_STATES

__all__ = ["LOCKED_WORDS", "REPORTED_STATES", "submitted_state"]

# Why a report can no longer be changed (after "本期报告…"), by its state.
LOCKED_WORDS = {
    "awaiting_head": N_("已提交，等待单位负责人审核"),
    "submitted": N_("已提交，正在审核"),
    "approved": N_("已审核通过"),
}


def submitted_state(department_id: int) -> str:
    """The state a report takes when its department submits it."""
    required = db.session.scalar(db.select(Department.requires_head_signoff).filter_by(id=department_id))
    return "awaiting_head" if required else "submitted"
