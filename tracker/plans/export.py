"""The plan as JSON: the exchange format other systems read (documented in docs/plan-format.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Assignment, Department, Plan, Target, Task


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
    }


def export_plan(plan: Plan) -> dict[str, Any]:
    """Everything of one plan in the exchange format, read in a fixed number of queries."""
    departments = db.session.scalars(
        db.select(Department).options(selectinload(Department.county)).order_by(Department.position, Department.id)
    ).all()
    tasks = db.session.scalars(
        db.select(Task)
        .filter_by(plan_id=plan.id)
        .options(
            selectinload(Task.section),
            selectinload(Task.parent),
            selectinload(Task.assignments).selectinload(Assignment.department),
            selectinload(Task.targets).selectinload(Target.county),
        )
        .order_by(Task.position)
    ).all()
    plan_targets = db.session.scalars(
        db.select(Target)
        .filter_by(plan_id=plan.id, task_id=None)
        .options(selectinload(Target.county))
        .order_by(Target.position)
    ).all()
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
                "departments": [
                    {"name": a.department.name, "role": a.role, "role_text": a.role_text} for a in t.assignments
                ],
                "targets": [target_json(x) for x in t.targets],
            }
            for t in tasks
        ],
        "targets": [target_json(x) for x in plan_targets],
    }
