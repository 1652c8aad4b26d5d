"""Closing a plan when its final assessment is done, and reopening it (administrators only).

``close_plan`` freezes the final assessment (``tracker.leadership.final``) as it stands — approved
reports and values only — in ``Plan.final_results`` and marks the plan closed; from then on every
write path refuses it (``tracker.tasks.lifecycle.ensure_open``) and reminders for it stop. Reading
and exporting go on. ``reopen_plan`` is for a mistake: an administrator reopens, the history keeps
who closed and reopened when, and the frozen results as they were (in the reopening's history row).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _

from .. import audit
from ..clock import city_date
from ..errors import TrackerError
from ..extensions import db
from ..models import Plan
from ..tasks import state as task_state
from ..tasks.lifecycle import is_closed
from ..tasks.lights import LightRule
from .assessment import assess
from .final import final_assessment
from .scoring import ScoringRule
from .targets import load_targets

__all__ = ["ClosingError", "close_plan", "plan_results", "reopen_plan"]


class ClosingError(TrackerError):
    """The plan cannot be closed or reopened as asked (shown on the confirmation page)."""


def live_results(plan: Plan, *, today: date, rule: LightRule) -> dict[str, Any]:
    """The final assessment from today's data."""
    snap = task_state.load(plan, today=today, rule=rule)
    targets = load_targets(plan)
    return final_assessment(snap, targets, assess(snap, targets, ScoringRule()))


def plan_results(plan: Plan, *, today: date, rule: LightRule) -> dict[str, Any]:
    """What the final-assessment page shows: the frozen results of a closed plan, else today's."""
    if is_closed(plan) and plan.final_results:
        return plan.final_results
    return live_results(plan, today=today, rule=rule)


def _lock(plan: Plan) -> None:
    """Serialise closing and reopening of one plan (PostgreSQL row lock; SQLite has one writer)."""
    db.session.execute(db.select(Plan.id).where(Plan.id == plan.id).with_for_update())
    db.session.refresh(plan)


def close_plan(plan: Plan, *, now: datetime, user_id: int | None, rule: LightRule) -> Plan:
    """Close ``plan`` after its end date: read-only from now on, its final results frozen."""
    today = city_date(now)
    _lock(plan)
    if is_closed(plan):
        raise ClosingError(_("计划“%(plan)s”已于 %(day)s 关闭。", plan=plan.title, day=city_date(plan.closed_at)))
    if today <= plan.end:
        raise ClosingError(_("计划期至 %(end)s 结束，结束后完成五年考核才能关闭。", end=plan.end.isoformat()))
    results = live_results(plan, today=today, rule=rule)
    results["closed_at"] = now.isoformat()
    results["closed_by_id"] = user_id
    plan.closed_at, plan.closed_by_id, plan.final_results = now, user_id, results
    audit.record(
        now=now,
        action="close",
        entity="plan",
        entity_id=plan.id,
        field="closed_at",
        new=now,
        user_id=user_id,
    )
    db.session.commit()
    return plan


def reopen_plan(plan: Plan, *, now: datetime, user_id: int | None) -> Plan:
    """Reopen a closed plan (an administrator's correction); the frozen results go into the history."""
    _lock(plan)
    if not is_closed(plan):
        raise ClosingError(_("计划“%(plan)s”没有关闭。", plan=plan.title))
    audit.record(
        now=now,
        action="reopen",
        entity="plan",
        entity_id=plan.id,
        field="final_results",
        old=json.dumps(plan.final_results, ensure_ascii=False) if plan.final_results else None,
        user_id=user_id,
    )
    audit.record(
        now=now,
        action="reopen",
        entity="plan",
        entity_id=plan.id,
        field="closed_at",
        old=plan.closed_at,
        user_id=user_id,
    )
    plan.closed_at, plan.closed_by_id, plan.final_results = None, None, None
    db.session.commit()
    return plan
