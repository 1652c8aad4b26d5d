"""Loading a validated plan file into the database: one transaction, idempotent, history kept.

Loading the same file twice changes nothing. Loading an edited file updates in place: tasks,
targets, assignments and links are matched by their stable keys (task code, target key, department
name), and progress already reported is kept. A task or target that has reports cannot be removed
by a file; the load is refused instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import networkx as nx
from sqlalchemy import func

from .. import audit
from ..errors import PlanFileError
from ..extensions import db
from ..models import (
    Assignment,
    CheckIn,
    Contribution,
    County,
    Department,
    Dependency,
    Plan,
    Section,
    Target,
    TargetValue,
    Task,
)
from .schema import PlanData

ACTOR = "计划文件导入"


@dataclass
class LoadReport:
    """What a load did, by kind of record: created / updated / removed counts."""

    plan_key: str
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return sum(self.counts.values()) > 0

    def summary(self) -> str:
        if not self.changed:
            return f"计划 {self.plan_key}：无变化。"
        parts = []
        for key, count in sorted(self.counts.items()):
            entity, verb = key.split(" ")
            parts.append(f"{_VERBS[verb]}{_ENTITIES.get(entity, entity)} {count}")
        return f"计划 {self.plan_key}：" + "，".join(parts) + "。"


_VERBS = {"created": "新增", "updated": "更新", "removed": "删除"}
_ENTITIES = {
    "plan": "计划",
    "county": "县（市、区）",
    "department": "单位",
    "section": "部分",
    "task": "任务",
    "assignment": "责任分工",
    "target": "目标",
    "dependency": "依赖关系",
    "contribution": "目标贡献",
}
ENTITY_NAMES = _ENTITIES


def load_plan(data: PlanData, *, now: datetime) -> LoadReport:
    """Write ``data`` into the database in one transaction; roll back everything on any error."""
    try:
        report = _load(data, now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


@dataclass
class Change:
    """One change a load would make, as the history would record it."""

    action: str
    entity: str
    name: str
    field: str
    old: str | None
    new: str | None


def preview_plan(data: PlanData, *, now: datetime) -> tuple[LoadReport, list[Change]]:
    """What ``load_plan(data)`` would do, without writing: the same load, rolled back.

    The changes are read from the history rows the load writes, so the preview and the real load
    cannot disagree.
    """
    from ..models import AuditLog

    try:
        last = db.session.scalar(db.select(func.max(AuditLog.id))) or 0
        report = _load(data, now)
        rows = db.session.scalars(db.select(AuditLog).where(AuditLog.id > last).order_by(AuditLog.id)).all()
        changes = [
            Change(r.action, r.entity, _name_of(r.entity, r.entity_id, r.old), r.field, r.old, r.new) for r in rows
        ]
    finally:
        db.session.rollback()
    return report, changes


def _name_of(entity: str, entity_id: int | None, old: str | None) -> str:
    model = {
        "task": Task,
        "target": Target,
        "department": Department,
        "county": County,
        "plan": Plan,
        "section": Section,
        "assignment": Assignment,
    }.get(entity)
    obj = db.session.get(model, entity_id) if model is not None and entity_id is not None else None
    if obj is None:
        return old or ""
    if isinstance(obj, Task):
        return f"{obj.label} {obj.title}"
    if isinstance(obj, Target):
        return f"{obj.key} {obj.name}"
    if isinstance(obj, Assignment):
        return f"{obj.task.label} · {obj.department.name}"
    if isinstance(obj, Section):
        return f"{obj.label}、{obj.title}"
    return getattr(obj, "title", None) or getattr(obj, "name", "")


def _load(data: PlanData, now: datetime) -> LoadReport:
    _check_acyclic(data)
    report = LoadReport(data.plan["key"])
    counts = report.counts

    def sync(obj: Any, values: dict[str, Any], entity: str) -> None:
        if audit.update_fields(obj, values, now=now, entity=entity, actor=ACTOR):
            counts[f"{entity} updated"] += 1

    def create(obj: Any, entity: str) -> None:
        db.session.add(obj)
        db.session.flush()
        audit.record(now=now, action="create", entity=entity, entity_id=obj.id, actor=ACTOR)
        counts[f"{entity} created"] += 1

    # Counties and departments: a directory shared by all plans, matched by name, never deleted here.
    counties = {c.name: c for c in db.session.scalars(db.select(County))}
    for pos, entry in enumerate(data.counties):
        county = counties.get(entry["name"])
        values = {"kind": entry["kind"], "position": pos}
        if county is None:
            county = counties[entry["name"]] = County(name=entry["name"], **values)
            create(county, "county")
        else:
            sync(county, values, "county")

    departments = {d.name: d for d in db.session.scalars(db.select(Department))}
    for pos, entry in enumerate(data.departments):
        dept = departments.get(entry["name"])
        county = counties[entry["county"]] if entry["county"] else None
        values: dict[str, Any] = {
            "kind": entry["kind"],
            "county_id": county.id if county else None,
            "coordinating": entry["coordinating"],
            "position": pos,
        }
        if dept is None:
            dept = departments[entry["name"]] = Department(
                name=entry["name"], contact_emails=",".join(entry["emails"]), **values
            )
            create(dept, "department")
        else:
            # Contact addresses are maintained in the app; a file only adds to them.
            merged = dept.emails + [e for e in entry["emails"] if e not in dept.emails]
            values["contact_emails"] = ",".join(merged)
            sync(dept, values, "department")

    plan = db.session.scalar(db.select(Plan).filter_by(key=data.plan["key"]))
    plan_values = {k: data.plan[k] for k in ("title", "start", "end", "source", "basis")}
    if plan is None:
        plan = Plan(key=data.plan["key"], **plan_values)
        create(plan, "plan")
    else:
        sync(plan, plan_values, "plan")

    sections = {s.number: s for s in db.session.scalars(db.select(Section).filter_by(plan_id=plan.id))}
    for entry in data.sections:
        section = sections.get(entry["number"])
        values = {"label": entry["label"], "title": entry["title"]}
        if section is None:
            section = sections[entry["number"]] = Section(plan_id=plan.id, number=entry["number"], **values)
            create(section, "section")
        else:
            sync(section, values, "section")

    tasks = {t.code: t for t in db.session.scalars(db.select(Task).filter_by(plan_id=plan.id))}
    for pos, entry in enumerate(data.tasks):
        task = tasks.get(entry["code"])
        values = {
            "label": entry["label"],
            "section_id": sections[entry["section"]].id,
            "title": entry["title"],
            "text": entry["text"],
            "responsibility": entry["responsibility"],
            "open_parties": entry["open_parties"],
            "start": entry["start"],
            "position": pos,
        }
        if task is None:
            task = tasks[entry["code"]] = Task(
                plan_id=plan.id,
                code=entry["code"],
                due=entry["due"],
                original_due=entry["due"],
                reporting_cycle=entry["reporting_cycle"],
                **values,
            )
            create(task, "task")
        else:
            # A changed deadline in the file resets it; an approved extension otherwise stands.
            if task.original_due != entry["due"]:
                values["original_due"] = entry["due"]
                values["due"] = entry["due"]
            sync(task, values, "task")
    for entry in data.tasks:
        parent = tasks[entry["parent"]] if entry["parent"] else None
        sync(tasks[entry["code"]], {"parent_id": parent.id if parent else None}, "task")
    _remove_missing(tasks, {e["code"] for e in data.tasks}, "task", counts, now)

    _sync_assignments(data, tasks, departments, now, counts, sync, create)

    targets = {t.key: t for t in db.session.scalars(db.select(Target).filter_by(plan_id=plan.id))}
    wanted: list[tuple[dict[str, Any], Task | None]] = [(t, None) for t in data.targets]
    for entry in data.tasks:
        wanted += [(t, tasks[entry["code"]]) for t in entry["targets"]]
    for pos, (entry, task) in enumerate(wanted):
        target = targets.get(entry["key"])
        values = {k: entry[k] for k in _TARGET_FIELDS}
        values["county_id"] = counties[entry["county"]].id if entry["county"] else None
        values["task_id"] = task.id if task else None
        values["position"] = pos
        if target is None:
            target = targets[entry["key"]] = Target(plan_id=plan.id, key=entry["key"], **values)
            create(target, "target")
        else:
            sync(target, values, "target")
    _remove_missing(targets, {e["key"] for e, _ in wanted}, "target", counts, now)

    _sync_links(data, plan, tasks, targets, now, counts)
    if report.changed or plan.loaded_at is None:
        plan.loaded_at = now
    db.session.flush()
    return report


_TARGET_FIELDS = (
    "group",
    "category",
    "name",
    "metric",
    "value",
    "value_min",
    "value_max",
    "unit",
    "comparison",
    "baseline",
    "baseline_year",
    "change",
    "due",
    "source",
    "note",
)


def _check_acyclic(data: PlanData) -> None:
    graph = nx.DiGraph((d["task"], d["depends_on"]) for d in data.dependencies)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    names = " → ".join([a for a, _ in cycle] + [cycle[0][0]])
    raise PlanFileError([("dependencies", f"依赖关系形成循环：{names}")])


def _sync_assignments(data, tasks, departments, now, counts, sync, create) -> None:  # type: ignore[no-untyped-def]
    existing: dict[tuple[int, int], Assignment] = {
        (a.task_id, a.department_id): a
        for a in db.session.scalars(db.select(Assignment).where(Assignment.task_id.in_([t.id for t in tasks.values()])))
    }
    keep: set[tuple[int, int]] = set()
    for entry in data.tasks:
        task = tasks[entry["code"]]
        for pos, a in enumerate(entry["departments"]):
            dept = departments[a["name"]]
            key = (task.id, dept.id)
            keep.add(key)
            values = {"role": a["role"], "role_text": a["role_text"], "note": a["note"], "position": pos}
            if key in existing:
                sync(existing[key], values, "assignment")
            else:
                create(Assignment(task_id=task.id, department_id=dept.id, **values), "assignment")
    for key, assignment in existing.items():
        if key not in keep:
            audit.record(
                now=now,
                action="delete",
                entity="assignment",
                entity_id=assignment.id,
                old=f"{assignment.department.name}:{assignment.role}",
                actor=ACTOR,
            )
            db.session.delete(assignment)
            counts["assignment removed"] += 1


def _remove_missing(
    existing: dict[str, Any], wanted: set[str], entity: str, counts: Counter[str], now: datetime
) -> None:
    gone = [obj for key, obj in existing.items() if key not in wanted]
    for obj in gone:
        if entity == "task":
            used = db.session.scalar(db.select(func.count()).select_from(CheckIn).filter_by(task_id=obj.id))
        else:
            used = db.session.scalar(db.select(func.count()).select_from(TargetValue).filter_by(target_id=obj.id))
        if used:
            raise PlanFileError(
                [(f"{entity} {obj.key if entity == 'target' else obj.code}", "已有报送数据，不能通过计划文件删除")]
            )
        audit.record(
            now=now,
            action="delete",
            entity=entity,
            entity_id=obj.id,
            old=getattr(obj, "title", None) or getattr(obj, "name", ""),
            actor=ACTOR,
        )
        db.session.delete(obj)
        counts[f"{entity} removed"] += 1


def _sync_links(
    data: PlanData, plan: Plan, tasks: dict[str, Task], targets: dict[str, Target], now: datetime, counts: Counter[str]
) -> None:
    task_ids = [t.id for t in tasks.values()]
    deps = {
        (d.task_id, d.depends_on_id): d
        for d in db.session.scalars(db.select(Dependency).where(Dependency.task_id.in_(task_ids)))
    }
    keep: set[tuple[int, int]] = set()
    for entry in data.dependencies:
        key = (tasks[entry["task"]].id, tasks[entry["depends_on"]].id)
        keep.add(key)
        values = {"lag_days": entry["lag_days"], "rationale": entry["rationale"]}
        if key in deps:
            if audit.update_fields(deps[key], values, now=now, entity="dependency", actor=ACTOR):
                counts["dependency updated"] += 1
        else:
            dep = Dependency(task_id=key[0], depends_on_id=key[1], **values)
            db.session.add(dep)
            db.session.flush()
            audit.record(
                now=now,
                action="create",
                entity="dependency",
                entity_id=dep.id,
                new=f"{entry['task']}←{entry['depends_on']}",
                actor=ACTOR,
            )
            counts["dependency created"] += 1
    for key, dep in deps.items():
        if key not in keep:
            audit.record(now=now, action="delete", entity="dependency", entity_id=dep.id, actor=ACTOR)
            db.session.delete(dep)
            counts["dependency removed"] += 1

    contribs = {
        (c.task_id, c.target_id): c
        for c in db.session.scalars(db.select(Contribution).where(Contribution.task_id.in_(task_ids)))
    }
    keep = set()
    for entry in data.contributions:
        key = (tasks[entry["task"]].id, targets[entry["target"]].id)
        keep.add(key)
        if key in contribs:
            if audit.update_fields(
                contribs[key], {"rationale": entry["rationale"]}, now=now, entity="contribution", actor=ACTOR
            ):
                counts["contribution updated"] += 1
        else:
            contrib = Contribution(task_id=key[0], target_id=key[1], rationale=entry["rationale"])
            db.session.add(contrib)
            db.session.flush()
            audit.record(
                now=now,
                action="create",
                entity="contribution",
                entity_id=contrib.id,
                new=f"{entry['task']}→{entry['target']}",
                actor=ACTOR,
            )
            counts["contribution created"] += 1
    for key, contrib in contribs.items():
        if key not in keep:
            audit.record(now=now, action="delete", entity="contribution", entity_id=contrib.id, actor=ACTOR)
            db.session.delete(contrib)
            counts["contribution removed"] += 1
