"""One department's view: its tasks by role with their lights, its reports, its reporting record, and its
own figures (the values it reported, and for a county government its county's figures), each labelled
with the unit it measures (tracker.tasks.figures): a department's figure is its own, never the city's."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ..errors import NotFound
from ..extensions import db
from ..models import CheckIn, Department, Target, TargetValue, Task
from ..models.org import ROLE_ORDER
from ..tasks.figures import value_counts
from ..tasks.state import PlanState, TaskState

__all__ = ["DepartmentView", "department_view"]


@dataclass
class DepartmentView:
    department: Department
    by_role: list[tuple[str, list[TaskState]]]
    light_counts: dict[str, int]
    reports: list[tuple[CheckIn, str, str]]  # check-in, task label, task code
    missing: list[TaskState]
    figures: list[TargetValue] = field(default_factory=list)  # newest first, approved or entered


def department_view(snap: PlanState, department_id: int) -> DepartmentView:
    department = next((d for d in snap.departments if d.id == department_id), None)
    if department is None:
        raise NotFound(_("没有编号为 %(id)s 的单位。", id=department_id))
    groups: dict[str, list[TaskState]] = {}
    counts = {"red": 0, "yellow": 0, "green": 0}
    for st in snap.states:
        role = next((a.role for a in st.task.assignments if a.department_id == department_id), None)
        if role is None:
            continue
        groups.setdefault(role, []).append(st)
        counts[st.light] += 1
    reports = [
        (c, label, code)
        for c, label, code in db.session.execute(
            db.select(CheckIn, Task.label, Task.code)
            .join(Task, Task.id == CheckIn.task_id)
            .where(CheckIn.department_id == department_id, Task.plan_id == snap.plan.id, CheckIn.state != "draft")
            .order_by(CheckIn.period_end.desc(), CheckIn.id.desc())
        )
    ]
    missing = [st for st in snap.states if any(d.id == department_id for d in st.missing)]
    by_role = [(r, groups[r]) for r in ROLE_ORDER if r in groups]
    return DepartmentView(department, by_role, counts, reports, missing, _figures(snap.plan.id, department))


def _figures(plan_id: int, department: Department) -> list[TargetValue]:
    """The values this department reported, and its county's figures for a county government."""
    mine = TargetValue.department_id == department.id
    if department.kind == "county" and department.county_id is not None:
        mine = mine | ((TargetValue.unit_kind == "county") & (TargetValue.county_id == department.county_id))
    return list(
        db.session.scalars(
            db.select(TargetValue)
            .join(Target, Target.id == TargetValue.target_id)
            .outerjoin(CheckIn, CheckIn.id == TargetValue.checkin_id)
            .where(Target.plan_id == plan_id, mine, value_counts())
            .options(
                selectinload(TargetValue.target), selectinload(TargetValue.county), selectinload(TargetValue.department)
            )
            .order_by(TargetValue.period_end.desc(), TargetValue.id.desc())
        )
    )
