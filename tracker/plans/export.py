"""The plan as JSON: the exchange format other systems read (documented in docs/plan-format.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Assignment, Contribution, Department, Dependency, Plan, Target, Task, User


def target_json(t: Target) -> dict[str, Any]:
    return {
        "key": t.key,
        "group": t.group,
        "name": t.name,
        "metric": t.metric or None,
        "value": t.value,
        "value_min": t.value_min,
        "value_max": t.value_max,
        "unit": t.unit,
        "comparison": t.comparison,
        "due": t.due.isoformat(),
        "baseline": t.baseline,
        "baseline_year": t.baseline_year,
        "change": t.change,
        "county": t.county.name if t.county else None,
        "source": t.source,
        "alternatives": list(t.alternatives or []),
    }


def _assignment_json(a: Assignment) -> dict[str, Any]:
    """One duty with where it comes from: the plan file, or a coordinator's decision (who, when)."""
    return {
        "name": a.department.name,
        "role": a.role,
        "role_text": a.role_text,
        "origin": a.origin,
        "open_party": a.open_party or None,
        "added_by": _who(a.added_by) if a.added_by else None,
        "added_at": a.added_at.isoformat() if a.added_at else None,
    }


def _who(user: User) -> str:
    return user.name or user.email


def _link_json(link: Dependency | Contribution, users: dict[int, User]) -> dict[str, Any]:
    added_by = users.get(link.added_by_id) if link.added_by_id else None
    return {
        "origin": link.origin,
        "added_by": _who(added_by) if added_by else None,
        "added_at": link.added_at.isoformat() if link.added_at else None,
        "rationale": link.rationale,
    }


def _links(plan: Plan, codes: dict[int, str]) -> tuple[list[Dependency], list[Contribution], dict[int, User]]:
    """The plan's links in the order they were made, and the accounts that added any of them."""
    task_ids = list(codes)
    dependencies = db.session.scalars(
        db.select(Dependency).where(Dependency.task_id.in_(task_ids)).order_by(Dependency.id)
    ).all()
    contributions = db.session.scalars(
        db.select(Contribution).where(Contribution.task_id.in_(task_ids)).order_by(Contribution.id)
    ).all()
    ids = {x.added_by_id for x in [*dependencies, *contributions] if x.added_by_id}
    users = {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(ids)))} if ids else {}
    return list(dependencies), list(contributions), users


def _tasks_with_everything(plan: Plan) -> list[Task]:
    """The plan's tasks with section, parent, departments and targets, in four queries."""
    return list(
        db.session.scalars(
            db.select(Task)
            .filter_by(plan_id=plan.id)
            .options(
                selectinload(Task.section),
                selectinload(Task.parent),
                selectinload(Task.assignments).selectinload(Assignment.department),
                selectinload(Task.assignments).selectinload(Assignment.added_by),
                selectinload(Task.targets).selectinload(Target.county),
            )
            .order_by(Task.position, Task.id)
        )
    )


def export_plan(plan: Plan) -> dict[str, Any]:
    """Everything of one plan in the exchange format, read in a fixed number of queries."""
    departments = db.session.scalars(
        db.select(Department).options(selectinload(Department.county)).order_by(Department.position, Department.id)
    ).all()
    tasks = _tasks_with_everything(plan)
    plan_targets = db.session.scalars(
        db.select(Target)
        .filter_by(plan_id=plan.id, task_id=None)
        .options(selectinload(Target.county))
        .order_by(Target.position)
    ).all()
    codes = {t.id: t.code for t in tasks}
    keys = {t.id: t.key for t in db.session.scalars(db.select(Target).filter_by(plan_id=plan.id))}
    dependencies, contributions, users = _links(plan, codes)
    return {
        "plan": {
            "key": plan.key,
            "title": plan.title,
            "start": plan.start.isoformat(),
            "end": plan.end.isoformat(),
        },
        "departments": [
            {"name": d.name, "kind": d.kind, "county": d.county.name if d.county else None} for d in departments
        ],
        "tasks": [
            {
                "code": t.code,
                "label": t.label,
                "title": t.title,
                "section": t.section.label,
                "parent": t.parent.code if t.parent else None,
                "due": t.due.isoformat(),
                "status": t.status,
                "progress": t.progress,
                "departments": [_assignment_json(a) for a in t.assignments],
                "open_parties": [_open_party_json(p, t) for p in t.open_parties or []],
                "targets": [target_json(x) for x in t.targets],
            }
            for t in tasks
        ],
        "targets": [target_json(x) for x in plan_targets],
        "dependencies": [
            {
                "task": codes[d.task_id],
                "depends_on": codes[d.depends_on_id],
                "lag_days": d.lag_days,
                **_link_json(d, users),
            }
            for d in dependencies
        ],
        "contributions": [
            {"task": codes[c.task_id], "target": keys[c.target_id], **_link_json(c, users)} for c in contributions
        ],
    }


def _open_party_json(party: dict[str, Any], task: Task) -> dict[str, Any]:
    """An open party as the plan writes it, with the departments coordinators have named for it so far."""
    return {
        "text": party.get("text", ""),
        "role": party.get("role", ""),
        "role_text": party.get("role_text", ""),
        "note": party.get("note", ""),
        "named": [a.department.name for a in task.assignments if a.open_party == party.get("text")],
    }


def plan_file_dict(plan: Plan) -> dict[str, Any]:
    """The plan as a plan *file* (the input format of ``schema.validate``), complete enough that
    loading it back changes nothing. The Excel import starts from this and overlays the workbook.

    Departments and counties are the shared directory, listed whole in their directory order.
    A task's deadline is its ``original_due``: loading a file resets an approved extension only when
    the file's deadline differs from the plan's own.
    """
    from ..models import Section

    sections = db.session.scalars(db.select(Section).filter_by(plan_id=plan.id).order_by(Section.number)).all()
    tasks = _tasks_with_everything(plan)
    plan_targets = db.session.scalars(
        db.select(Target)
        .filter_by(plan_id=plan.id, task_id=None)
        .options(selectinload(Target.county))
        .order_by(Target.position, Target.id)
    ).all()
    codes = {t.id: t.code for t in tasks}
    keys = {t.id: t.key for t in db.session.scalars(db.select(Target).filter_by(plan_id=plan.id))}
    dependencies, contributions, users = _links(plan, codes)
    return {
        "plan": {
            "key": plan.key,
            "title": plan.title,
            "start": plan.start,
            "end": plan.end,
            "source": plan.source,
            "basis": plan.basis,
            **{
                key: getattr(plan, key)
                for key in ("report_request_workdays", "report_due_days")
                if getattr(plan, key) is not None
            },
        },
        **directory_file_dict(),
        "sections": [{"number": s.number, "label": s.label, "title": s.title} for s in sections],
        "tasks": [
            {
                "code": t.code,
                "label": t.label,
                "section": t.section.number,
                "parent": t.parent.code if t.parent else None,
                "title": t.title,
                "text": t.text,
                "responsibility": t.responsibility,
                "open_parties": list(t.open_parties or []),
                "start": t.start,
                "due": t.original_due,
                "reporting_cycle": t.reporting_cycle,
                "departments": [
                    {
                        "name": a.department.name,
                        "role": a.role,
                        "role_text": a.role_text,
                        "note": a.note,
                        **({"open_party": a.open_party} if a.open_party else {}),
                    }
                    for a in t.assignments
                ],
                "targets": [_target_file(x, task=True) for x in t.targets],
            }
            for t in tasks
        ],
        "targets": [_target_file(x, task=False) for x in plan_targets],
        "dependencies": [
            {
                "task": codes[d.task_id],
                "depends_on": codes[d.depends_on_id],
                "lag_days": d.lag_days,
                "rationale": d.rationale,
                **_link_file(d, users),
            }
            for d in dependencies
        ],
        "contributions": [
            {"task": codes[c.task_id], "target": keys[c.target_id], "rationale": c.rationale, **_link_file(c, users)}
            for c in contributions
        ],
    }


def _link_file(link: Dependency | Contribution, users: dict[int, User]) -> dict[str, Any]:
    """A link's provenance in the plan-file form: origin, and for an added link who (e-mail) and when (date)."""
    if link.origin != "added":
        return {"origin": link.origin}
    user = users.get(link.added_by_id) if link.added_by_id else None
    return {
        "origin": "added",
        "added_by": user.email if user else "",
        "added_at": link.added_at.date() if link.added_at else None,
    }


def directory_file_dict() -> dict[str, Any]:
    """The shared directory (counties, departments) in the plan-file format, as it stands."""
    from ..models import County

    counties = db.session.scalars(db.select(County).order_by(County.position, County.id)).all()
    departments = db.session.scalars(
        db.select(Department).options(selectinload(Department.county)).order_by(Department.position, Department.id)
    ).all()
    return {
        "counties": [{"name": c.name, "kind": c.kind} for c in counties],
        "departments": [
            {
                "name": d.name,
                "kind": d.kind,
                "county": d.county.name if d.county else None,
                "coordinating": d.coordinating,
                "emails": d.emails,
            }
            for d in departments
        ],
    }


def _target_file(t: Target, *, task: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": t.key,
        "category": t.category,
        "name": t.name,
        "metric": t.metric,
        "value": t.value,
        "value_min": t.value_min,
        "value_max": t.value_max,
        "unit": t.unit,
        "comparison": t.comparison,
        "baseline": t.baseline,
        "baseline_year": t.baseline_year,
        "change": t.change,
        "due": t.due,
        "county": t.county.name if t.county else None,
        "source": t.source,
        "note": t.note,
    }
    if t.alternatives:
        out["alternatives"] = list(t.alternatives)
    if not task:
        out["group"] = t.group
    return out
