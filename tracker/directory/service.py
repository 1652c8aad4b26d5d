"""Departments and counties: add, rename (the old name stays in the history and is found by search),
deactivate (refused while the department leads an open task), and the lists the pages show.

Merging two departments is in ``merge.py``. Every change is in the audit log with who made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from .. import audit
from ..errors import TrackerError
from ..extensions import db
from ..models import Assignment, AuditLog, CheckIn, County, Department, Task
from ..models.org import COUNTY_KINDS, DEPARTMENT_KINDS

__all__ = [
    "DirectoryError",
    "OpenDuties",
    "add_county",
    "add_department",
    "deactivate_department",
    "list_departments",
    "open_duties",
    "rename",
    "set_county_active",
]

NAME_MAX = 64


class DirectoryError(TrackerError):
    """A directory change is refused; the message says why."""


def _name(name: str, model: type[Department] | type[County], exclude_id: int | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise DirectoryError(_("请填写名称。"))
    if len(name) > NAME_MAX:
        raise DirectoryError(_("名称不能超过 %(n)s 个字。", n=NAME_MAX))
    clash = db.session.scalar(db.select(model.id).filter_by(name=name))
    if clash is not None and clash != exclude_id:
        raise DirectoryError(_("已有同名单位或县区：%(name)s", name=name))
    return name


def list_departments(query: str = "") -> list[Department]:
    """Every department, active first; ``query`` matches the current name or any former one."""
    select = db.select(Department).options(selectinload(Department.county))
    query = query.strip()
    if query:
        former = db.select(AuditLog.entity_id).where(
            AuditLog.entity == "department", AuditLog.field == "name", AuditLog.old.contains(query, autoescape=True)
        )
        select = select.where(db.or_(Department.name.contains(query, autoescape=True), Department.id.in_(former)))
    rows = db.session.scalars(select.order_by(Department.position, Department.id)).all()
    return sorted(rows, key=lambda d: not d.active)


def former_names(department_ids: list[int]) -> dict[int, list[str]]:
    """Each department's earlier names, oldest first, from the history."""
    rows = db.session.execute(
        db.select(AuditLog.entity_id, AuditLog.old)
        .where(AuditLog.entity == "department", AuditLog.field == "name", AuditLog.entity_id.in_(department_ids))
        .order_by(AuditLog.id)
    ).all()
    out: dict[int, list[str]] = {}
    for entity_id, old in rows:
        if old:
            out.setdefault(entity_id, []).append(old)
    return out


def add_department(*, name: str, kind: str, county_id: int | None, now: datetime, user_id: int) -> Department:
    if kind not in DEPARTMENT_KINDS:
        raise DirectoryError(_("请选择单位类型。"))
    county = db.session.get(County, county_id) if county_id else None
    if kind == "county" and county is None:
        raise DirectoryError(_("县（市、区）政府须选择所属县区。"))
    last = db.session.scalar(db.select(db.func.max(Department.position))) or 0
    department = Department(
        name=_name(name, Department), kind=kind, county_id=county.id if county else None, position=last + 1
    )
    db.session.add(department)
    db.session.flush()
    audit.record(
        now=now, action="create", entity="department", entity_id=department.id, new=department.name, user_id=user_id
    )
    db.session.commit()
    return department


def add_county(*, name: str, kind: str, now: datetime, user_id: int) -> County:
    if kind not in COUNTY_KINDS:
        raise DirectoryError(_("请选择县区类型。"))
    last = db.session.scalar(db.select(db.func.max(County.position))) or 0
    county = County(name=_name(name, County), kind=kind, position=last + 1)
    db.session.add(county)
    db.session.flush()
    audit.record(now=now, action="create", entity="county", entity_id=county.id, new=county.name, user_id=user_id)
    db.session.commit()
    return county


def rename(obj: Department | County, new_name: str, *, now: datetime, user_id: int) -> None:
    """Rename a department or county; the old name stays in the history (and in search)."""
    entity = "department" if isinstance(obj, Department) else "county"
    name = _name(new_name, type(obj), exclude_id=obj.id)
    audit.update_fields(obj, {"name": name}, now=now, entity=entity, user_id=user_id)
    db.session.commit()


@dataclass
class OpenDuties:
    """What a department still has to do: its roles on open tasks, and reports waiting for review."""

    assignments: list[Assignment]
    waiting_reports: list[CheckIn]

    @property
    def leads(self) -> list[Assignment]:
        return [a for a in self.assignments if a.role == "lead"]


def open_duties(department: Department) -> OpenDuties:
    assignments = db.session.scalars(
        db.select(Assignment)
        .join(Task, Task.id == Assignment.task_id)
        .where(Assignment.department_id == department.id, Task.status != "done", Task.closed_on.is_(None))
        .options(selectinload(Assignment.task))
        .order_by(Task.plan_id, Task.position, Task.id)
    ).all()
    waiting = db.session.scalars(
        db.select(CheckIn)
        .where(CheckIn.department_id == department.id, CheckIn.state.in_(["draft", "awaiting_head", "submitted"]))
        .options(selectinload(CheckIn.task))
        .order_by(CheckIn.id)
    ).all()
    return OpenDuties(list(assignments), list(waiting))


def deactivate_department(department: Department, *, now: datetime, user_id: int) -> None:
    """Deactivate: refused while it leads an open task (reassign the lead first). Its other duties stay
    listed on the page; its rows and history stay."""
    if not department.active:
        return
    leads = open_duties(department).leads
    if leads:
        codes = "、".join(a.task.code for a in leads)
        raise DirectoryError(_("该单位仍牵头未完成的任务（%(codes)s），请先调整牵头单位。", codes=codes))
    audit.update_fields(department, {"active": False}, now=now, entity="department", user_id=user_id)
    db.session.commit()


def reactivate_department(department: Department, *, now: datetime, user_id: int) -> None:
    if department.merged_into_id is not None:
        raise DirectoryError(_("已合并的单位不能重新启用。"))
    audit.update_fields(department, {"active": True}, now=now, entity="department", user_id=user_id)
    db.session.commit()


def set_county_active(county: County, active: bool, *, now: datetime, user_id: int) -> None:
    """Deactivate a county: refused while an active county government belongs to it."""
    if not active:
        government = db.session.scalar(db.select(Department).filter_by(county_id=county.id, active=True))
        if government is not None:
            raise DirectoryError(_("请先停用或合并该县区的政府：%(name)s", name=government.name))
    audit.update_fields(county, {"active": active}, now=now, entity="county", user_id=user_id)
    db.session.commit()
