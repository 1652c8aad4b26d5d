"""The API's read queries: each returns JSON-ready data in a fixed number of queries (no N+1).

Filters arrive parsed; a bad filter value is the caller's ``ApiError`` (400), raised in the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ..errors import PermissionDenied
from ..extensions import db
from ..models import Assignment, CheckIn, County, Department, Plan, Section, Target, TargetValue, Task, User
from ..plans.export import target_json
from ..tasks import state as task_state
from ..tasks.figures import load_figures
from ..tasks.lights import LightRule
from ..tasks.queries import depth_first


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "department": user.department.name if user.department else None,
    }


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "key": plan.key,
        "title": plan.title,
        "start": plan.start.isoformat(),
        "end": plan.end.isoformat(),
        # closed: read-only, its writes answer 409 plan_closed (tracker.tasks.lifecycle)
        "closed_at": plan.closed_at.isoformat() if plan.closed_at else None,
    }


def plans() -> list[dict[str, Any]]:
    return [plan_json(p) for p in db.session.scalars(db.select(Plan).order_by(Plan.start, Plan.id))]


def plan_detail(plan: Plan) -> dict[str, Any]:
    sections = db.session.scalars(db.select(Section).filter_by(plan_id=plan.id).order_by(Section.number))
    return {**plan_json(plan), "sections": [{"number": s.number, "label": s.label, "title": s.title} for s in sections]}


def departments() -> list[dict[str, Any]]:
    rows = db.session.scalars(
        db.select(Department).options(selectinload(Department.county)).order_by(Department.position, Department.id)
    )
    return [
        {
            "id": d.id,
            "name": d.name,
            "kind": d.kind,
            "county": d.county.name if d.county else None,
            "coordinating": d.coordinating,
        }
        for d in rows
    ]


@dataclass
class TaskFilter:
    section: str | None = None
    department: Department | None = None
    role: str | None = None
    status: str | None = None
    light: str | None = None
    due_from: date | None = None
    due_to: date | None = None


def task_json(task: Task, colour: str) -> dict[str, Any]:
    return {
        "code": task.code,
        "label": task.label,
        "title": task.title,
        "section": task.section.label,
        "parent": task.parent.code if task.parent else None,
        "start": task.start.isoformat(),
        "due": task.due.isoformat(),
        "original_due": task.original_due.isoformat(),
        "status": task.status,
        "progress": task.progress,
        "reporting_cycle": task.reporting_cycle,
        "light": colour,
        "departments": [
            {"name": a.department.name, "role": a.role, "role_text": a.role_text} for a in task.assignments
        ],
    }


def _lights(plan: Plan, *, today: date, rule: LightRule) -> dict[int, str]:
    """Each task's warning light exactly as the leadership views compute it (a missing period
    report included): ``tracker.tasks.state.load`` in a fixed number of queries."""
    return {state.task.id: state.light for state in task_state.current(plan, today=today, rule=rule).states}


def tasks(plan: Plan, f: TaskFilter, *, today: date, rule: LightRule) -> list[dict[str, Any]]:
    """The plan's tasks matching every given filter, each with its warning light."""
    query = (
        db.select(Task)
        .filter_by(plan_id=plan.id)
        .options(
            selectinload(Task.section),
            selectinload(Task.parent),
            selectinload(Task.assignments).selectinload(Assignment.department),
        )
        .order_by(Task.position, Task.id)
    )
    if f.section:
        query = query.join(Section, Task.section_id == Section.id).where(Section.label == f.section)
    if f.department is not None or f.role:
        sub = db.select(Assignment.task_id)
        if f.department is not None:
            sub = sub.where(Assignment.department_id == f.department.id)
        if f.role:
            sub = sub.where(Assignment.role == f.role)
        query = query.where(Task.id.in_(sub))
    if f.status:
        query = query.where(Task.status == f.status)
    if f.due_from:
        query = query.where(Task.due >= f.due_from)
    if f.due_to:
        query = query.where(Task.due <= f.due_to)
    lights = _lights(plan, today=today, rule=rule)
    out = []
    for task in depth_first(list(db.session.scalars(query))):
        colour = lights[task.id]
        if f.light and colour != f.light:
            continue
        out.append(task_json(task, colour))
    return out


def task_detail(task: Task, *, today: date, rule: LightRule) -> dict[str, Any]:
    return {
        **task_json(task, _lights(task.plan, today=today, rule=rule)[task.id]),
        "text": task.text,
        "responsibility": task.responsibility,
        "open_parties": [
            {"text": p.get("text", ""), "role": p.get("role", "responsible"), "role_text": p.get("role_text", "")}
            for p in task.open_parties or []
        ],
        "targets": [target_json(t) for t in task.targets],
    }


def targets(plan: Plan, user: User, *, group: str | None, county: str | None) -> list[dict[str, Any]]:
    """The plan's targets with their actuals: imported ones, and those of reports the caller may see
    (a draft's values only to its own department)."""
    query = (
        db.select(Target)
        .filter_by(plan_id=plan.id)
        .options(selectinload(Target.county), selectinload(Target.task))
        .order_by(Target.position, Target.id)
    )
    if group:
        query = query.where(Target.group == group)
    rows = list(db.session.scalars(query))
    if county:
        rows = [t for t in rows if t.county and t.county.name == county]
    values: dict[int, list[TargetValue]] = {t.id: [] for t in rows}
    if rows:
        for v in db.session.scalars(
            db.select(TargetValue)
            .outerjoin(CheckIn, CheckIn.id == TargetValue.checkin_id)
            .where(
                TargetValue.target_id.in_(list(values)),
                # a figure entered without a report shows once approved; a report's values as the report shows
                (TargetValue.checkin_id.is_(None) & (TargetValue.state == "approved")) | _visible(user),
            )
            .order_by(TargetValue.id)
        ):
            values[v.target_id].append(v)
    # The figure of each target's own unit: the one rule, over approved values only.
    figures = load_figures(list(db.session.scalars(db.select(Target).filter_by(plan_id=plan.id))), plan.id)
    counties = dict(db.session.execute(db.select(County.id, County.name)).all())
    departments = dict(db.session.execute(db.select(Department.id, Department.name)).all())
    return [
        {
            **target_json(t),
            "task": t.task.code if t.task else None,
            "values": [
                {
                    "period": v.period,
                    "period_end": v.period_end.isoformat(),
                    "value": v.value,
                    "source": v.source,
                    "reported_at": v.created_at.isoformat(),
                    "unit": v.unit_kind,
                    "county": counties.get(v.county_id) if v.county_id else None,
                    "department": departments.get(v.department_id) if v.department_id else None,
                }
                for v in values[t.id]
            ],
            "figure": {
                "kind": figures[t.id].kind,
                "value": figures[t.id].value,
                "period": figures[t.id].period,
                "counties_reported": figures[t.id].reported,
                "counties_expected": figures[t.id].expected,
            },
        }
        for t in rows
    ]


def _visible(user: User):  # type: ignore[no-untyped-def]
    """Everyone sees every report except drafts; staff also see their own department's drafts."""
    if user.role == "staff" and user.department_id is not None:
        return (CheckIn.state != "draft") | (CheckIn.department_id == user.department_id)
    return CheckIn.state != "draft"


def checkins(
    plan: Plan,
    user: User,
    *,
    task: str | None,
    department: Department | None,
    state: str | None,
    period: str | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    if state == "draft" and not (
        user.role == "staff" and department is not None and department.id == user.department_id
    ):
        raise PermissionDenied(_("只能查看本单位的草稿"))
    query = (
        db.select(CheckIn)
        .join(Task, CheckIn.task_id == Task.id)
        .where(Task.plan_id == plan.id, _visible(user))
        .options(selectinload(CheckIn.task), selectinload(CheckIn.department))
        .order_by(CheckIn.id)
    )
    if task:
        query = query.where(Task.code == task)
    if department is not None:
        query = query.where(CheckIn.department_id == department.id)
    if state:
        query = query.where(CheckIn.state == state)
    if period:
        query = query.where(CheckIn.period == period)
    return [checkin_json(c) for c in db.session.scalars(query.limit(limit).offset(offset))]


def checkin_json(c: CheckIn) -> dict[str, Any]:
    """A check-in as the API shows it; ``version_id`` is what a later save or review must send back."""
    return {
        "id": c.id,
        "task": c.task.code,
        "department": c.department.name,
        "period": c.period,
        "period_start": c.period_start.isoformat(),
        "period_end": c.period_end.isoformat(),
        "state": c.state,
        "status": c.status,
        "percent": c.percent,
        "narrative": c.narrative,
        "problems": c.problems,
        "next_steps": c.next_steps,
        "submitted_at": c.submitted_at.isoformat() if c.submitted_at else None,
        "supersedes": c.supersedes_id,
        "version_id": c.version_id,
    }


def matrix(plan: Plan) -> dict[str, Any]:
    """The responsibility matrix: every task × the departments holding a role on it."""
    rows = db.session.execute(
        db.select(Task.code, Task.label, Task.title, Department.name, Assignment.role)
        .join(Assignment, Assignment.task_id == Task.id)
        .join(Department, Department.id == Assignment.department_id)
        .where(Task.plan_id == plan.id)
        .order_by(Task.position, Task.id, Department.position, Department.id)
    ).all()
    tasks: dict[str, dict[str, Any]] = {}
    names: dict[str, None] = {}
    for code, label, title, name, role in rows:
        tasks.setdefault(code, {"code": code, "label": label, "title": title, "roles": {}})["roles"][name] = role
        names[name] = None
    order = {d.name: i for i, d in enumerate(db.session.scalars(db.select(Department).order_by(Department.position)))}
    return {"departments": sorted(names, key=lambda n: order.get(n, 0)), "tasks": list(tasks.values())}
