"""Separation of duties in review: a coordinator does not review their own department's report.

Another coordinator, or an administrator, does. Each plan says whether the rule applies
(``Plan.separate_review``, on by default). The one review service of a report
(:func:`tracker.reports.service.review_checkin`) and of a county's consolidated report
(:func:`tracker.reports.consolidated.review_report`) ask :func:`review_refusal` before deciding, so
the web form, the bulk approval and the API all follow it; the queue shows the same sentence.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from .. import audit
from ..extensions import db
from ..i18n import N_
from ..models import Plan, User
from ..tasks.lifecycle import ensure_open

__all__ = ["OWN_DEPARTMENT", "is_own_department", "review_refusal", "set_separate_review"]

OWN_DEPARTMENT = N_("本单位报告，需由其他协调员审核")


def is_own_department(plan: Plan, department_id: int, reviewer: User | None) -> bool:
    """Whether the rule stops ``reviewer`` (a coordinator of the reporting department, the plan's rule on)."""
    return (
        reviewer is not None
        and plan.separate_review
        and reviewer.role == "coordinator"
        and reviewer.department_id is not None
        and reviewer.department_id == department_id
    )


def review_refusal(plan: Plan, department_id: int, reviewer_id: int | None) -> str | None:
    """Why ``reviewer_id`` may not decide on a report of ``department_id`` in ``plan`` (None: they may)."""
    reviewer = db.session.get(User, reviewer_id) if reviewer_id is not None else None
    if is_own_department(plan, department_id, reviewer):
        return _("%(rule)s（本计划实行审核回避）。", rule=_(OWN_DEPARTMENT))
    return None


def set_separate_review(plan: Plan, on: bool, *, now: datetime, user_id: int | None) -> None:
    """An administrator turns the plan's rule on or off (in the history); a closed plan keeps its rules."""
    ensure_open(plan)
    audit.update_fields(plan, {"separate_review": on}, now=now, entity="plan", user_id=user_id)
    db.session.commit()
