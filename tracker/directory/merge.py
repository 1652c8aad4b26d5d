"""Merging one department into another (two bureaus become one): nothing is lost.

- Roles: where only the merged department (``source``) holds a role on a task, the role moves to
  the surviving one (``target``). Where both hold one, the stronger role is kept (牵头 > 负责 > 落实 >
  配合) and the assignment's note records both, as does the history.
- Reports: every check-in moves to ``target`` and remembers the department that wrote it
  (``original_department_id``), so where both reported for one period both reports are kept, each
  shown with its original department. Reported values, extension requests and staff accounts move too.
- Contacts: the two address lists are joined.
- ``source`` is deactivated and points to ``target`` (``merged_into_id``); its name stays.

Refused where a plan the departments hold roles in is closed (``tracker.tasks.lifecycle``): a closed
plan is read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from .. import audit
from ..extensions import db
from ..models import Assignment, CalendarFeed, CheckIn, Department, ExtensionRequest, Plan, TargetValue, Task, User
from ..models.org import ROLES
from ..tasks.lifecycle import is_closed
from .service import DirectoryError

__all__ = ["ROLE_STRENGTH", "MergeResult", "merge_departments", "plan_closed", "stronger_role"]

ROLE_STRENGTH = {"lead": 4, "responsible": 3, "implementing": 2, "support": 1}


def stronger_role(a: str, b: str) -> str:
    """The stronger of two roles on one task.

    >>> stronger_role("support", "lead"), stronger_role("implementing", "support")
    ('lead', 'implementing')
    """
    return a if ROLE_STRENGTH.get(a, 0) >= ROLE_STRENGTH.get(b, 0) else b


def plan_closed(plan: Plan) -> bool:
    """Is the plan closed? The life cycle's answer (``Plan.closed_at``)."""
    return is_closed(plan)


@dataclass
class MergeResult:
    moved_roles: list[str] = field(default_factory=list)
    combined_roles: list[str] = field(default_factory=list)
    reports: int = 0


def merge_departments(source: Department, target: Department, *, now: datetime, user_id: int) -> MergeResult:
    """Merge ``source`` into ``target`` in one transaction (see the module docstring)."""
    if source.id == target.id:
        raise DirectoryError(_("请选择两个不同的单位。"))
    if not source.active or not target.active:
        raise DirectoryError(_("只能合并两个在用的单位。"))
    # by id, not DISTINCT over the row: PostgreSQL cannot compare the JSON column of frozen results
    held = (
        db.select(Task.plan_id)
        .join(Assignment, Assignment.task_id == Task.id)
        .where(Assignment.department_id.in_([source.id, target.id]))
    )
    plans = db.session.scalars(db.select(Plan).where(Plan.id.in_(held)).order_by(Plan.id)).all()
    closed = [p.title for p in plans if plan_closed(p)]
    if closed:
        raise DirectoryError(_("计划已关闭，不能合并其中的单位：%(plans)s", plans="、".join(closed)))

    result = MergeResult()

    def note(**kw: Any) -> None:
        audit.record(now=now, user_id=user_id, **kw)

    theirs = {a.task_id: a for a in db.session.scalars(db.select(Assignment).filter_by(department_id=target.id))}
    for mine in db.session.scalars(db.select(Assignment).filter_by(department_id=source.id)).all():
        kept = theirs.get(mine.task_id)
        code = mine.task.code
        if kept is None:
            note(
                action="update",
                entity="assignment",
                entity_id=mine.id,
                field="department_id",
                old=source.name,
                new=target.name,
            )
            mine.department_id = target.id
            result.moved_roles.append(code)
            continue
        role = stronger_role(kept.role, mine.role)
        both = _(
            "合并前：%(a)s（%(ra)s）、%(b)s（%(rb)s）",
            a=target.name,
            ra=_(ROLES[kept.role]),
            b=source.name,
            rb=_(ROLES[mine.role]),
        )
        note(
            action="merge",
            entity="assignment",
            entity_id=kept.id,
            field="role",
            old=f"{target.name}:{kept.role}; {source.name}:{mine.role}",
            new=role,
        )
        if role != kept.role:
            kept.role, kept.role_text = role, mine.role_text or ROLES[role]
        kept.note = (kept.note + "\n" if kept.note else "") + both
        if kept.acknowledged_at is None and mine.acknowledged_at is not None:
            kept.acknowledged_at, kept.acknowledged_by_id = mine.acknowledged_at, mine.acknowledged_by_id
        note(
            action="delete",
            entity="assignment",
            entity_id=mine.id,
            field="department_id",
            old=source.name,
            new=target.name,
        )
        db.session.delete(mine)
        result.combined_roles.append(code)
    db.session.flush()

    result.reports = db.session.execute(
        db.update(CheckIn)
        .where(CheckIn.department_id == source.id)
        .values(
            original_department_id=db.func.coalesce(CheckIn.original_department_id, source.id), department_id=target.id
        )
    ).rowcount
    db.session.execute(
        db.update(TargetValue).where(TargetValue.department_id == source.id).values(department_id=target.id)
    )
    db.session.execute(
        db.update(ExtensionRequest).where(ExtensionRequest.department_id == source.id).values(department_id=target.id)
    )
    for user in db.session.scalars(db.select(User).filter_by(department_id=source.id)):
        note(action="update", entity="user", entity_id=user.id, field="department_id", old=source.name, new=target.name)
        user.department_id = target.id
    # A calendar feed's secret is per department: the survivor keeps its own, else takes the other's.
    feed = db.session.scalar(db.select(CalendarFeed).filter_by(department_id=source.id))
    if feed is not None:
        if db.session.scalar(db.select(CalendarFeed.id).filter_by(department_id=target.id)) is None:
            feed.department_id = target.id
        else:
            db.session.delete(feed)

    emails = list(dict.fromkeys(target.emails + source.emails))
    audit.update_fields(target, {"contact_emails": ", ".join(emails)}, now=now, entity="department", user_id=user_id)
    audit.update_fields(
        source, {"active": False, "merged_into_id": target.id}, now=now, entity="department", user_id=user_id
    )
    note(action="merge", entity="department", entity_id=target.id, old=source.name, new=target.name)
    db.session.commit()
    return result
