"""Loading a validated plan file into the database: one transaction, idempotent, history kept.

Loading the same file twice changes nothing. Loading an edited file updates in place: tasks,
targets, assignments and links are matched by their stable keys (task code, target key, department
name), and progress already reported is kept. A task or target that has reports cannot be removed
by a file; the load is refused instead.

Decisions made in the app are never undone by a load (docs/plan-format.md, 重新导入与系统内调整):
an assignment of origin ``app`` (added in the app, named for an open party, or a plan row edited in
the app) and a link of origin ``added`` are neither changed nor removed; a file entry for the same
pair leaves the app's row as it is. The file updates and removes only its own rows (``plan``
assignments, ``stated`` / ``inferred`` links).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import networkx as nx
from flask_babel import gettext
from flask_babel import gettext as _
from sqlalchemy import func

from .. import audit
from ..errors import PlanFileError
from ..extensions import db
from ..i18n import N_
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
    User,
)
from ..models.org import ROLES
from ..tasks.lifecycle import ensure_open
from .schema import PlanData

ACTOR = N_("计划文件导入")


@dataclass
class LoadReport:
    """What a load did, by kind of record: created / updated / removed counts."""

    plan_key: str
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return sum(self.counts.values()) > 0

    def summary(self) -> str:
        """What the load did, in the current language: ``计划 mini：新增任务 4，更新目标 1。``"""
        if not self.changed:
            return _("计划 %(key)s：无变化。", key=self.plan_key)
        parts = []
        for key, count in sorted(self.counts.items()):
            entity, verb = key.split(" ")
            message = _COUNTS.get((verb, entity))
            parts.append(gettext(message, n=count) if message else f"{verb} {entity} {count}")
        return _("计划 %(key)s：%(changes)s。", key=self.plan_key, changes=_("，").join(parts))


# Each kind of change as one phrase, so the English can say it in its own order.
_COUNTS = {
    ("created", "plan"): N_("新增计划 %(n)s"),
    ("updated", "plan"): N_("更新计划 %(n)s"),
    ("removed", "plan"): N_("删除计划 %(n)s"),
    ("created", "county"): N_("新增县（市、区） %(n)s"),
    ("updated", "county"): N_("更新县（市、区） %(n)s"),
    ("removed", "county"): N_("删除县（市、区） %(n)s"),
    ("created", "department"): N_("新增单位 %(n)s"),
    ("updated", "department"): N_("更新单位 %(n)s"),
    ("removed", "department"): N_("删除单位 %(n)s"),
    ("created", "section"): N_("新增部分 %(n)s"),
    ("updated", "section"): N_("更新部分 %(n)s"),
    ("removed", "section"): N_("删除部分 %(n)s"),
    ("created", "task"): N_("新增任务 %(n)s"),
    ("updated", "task"): N_("更新任务 %(n)s"),
    ("removed", "task"): N_("删除任务 %(n)s"),
    ("created", "assignment"): N_("新增责任分工 %(n)s"),
    ("updated", "assignment"): N_("更新责任分工 %(n)s"),
    ("removed", "assignment"): N_("删除责任分工 %(n)s"),
    ("created", "target"): N_("新增目标 %(n)s"),
    ("updated", "target"): N_("更新目标 %(n)s"),
    ("removed", "target"): N_("删除目标 %(n)s"),
    ("created", "dependency"): N_("新增依赖关系 %(n)s"),
    ("updated", "dependency"): N_("更新依赖关系 %(n)s"),
    ("removed", "dependency"): N_("删除依赖关系 %(n)s"),
    ("created", "contribution"): N_("新增目标贡献 %(n)s"),
    ("updated", "contribution"): N_("更新目标贡献 %(n)s"),
    ("removed", "contribution"): N_("删除目标贡献 %(n)s"),
}
# The kinds of record, as the import preview shows them (translated there).
ENTITY_NAMES = {
    "plan": N_("计划"),
    "county": N_("县（市、区）"),
    "department": N_("单位"),
    "section": N_("部分"),
    "task": N_("任务"),
    "assignment": N_("责任分工"),
    "target": N_("目标"),
    "dependency": N_("依赖关系"),
    "contribution": N_("目标贡献"),
}


def load_plan(data: PlanData, *, now: datetime, user_id: int | None = None, filename: str = "") -> LoadReport:
    """Write ``data`` into the database in one transaction; roll back everything on any error.

    The history names the importing person (``user_id``) and the file (``filename``) where given."""
    try:
        report = _load(data, now, user_id=user_id, filename=filename)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


class _Writer:
    """Creates, updates and deletes rows for one load, recording each change in the history."""

    def __init__(self, now: datetime, counts: Counter[str], user_id: int | None = None, filename: str = ""):
        self.now = now
        self.counts = counts
        self.user_id = user_id
        self.actor = audit.import_actor(filename) if filename else ACTOR
        self._created: list[tuple[Any, str, str | None]] = []

    def sync(self, obj: Any, values: dict[str, Any], entity: str) -> None:
        if audit.update_fields(obj, values, now=self.now, entity=entity, user_id=self.user_id, actor=self.actor):
            self.counts[f"{entity} updated"] += 1

    def create(self, obj: Any, entity: str, label: str | None = None) -> None:
        """Add a row; its history entry is written at the next ``flush`` (one round trip for many rows)."""
        db.session.add(obj)
        self._created.append((obj, entity, label))
        self.counts[f"{entity} created"] += 1

    def flush(self) -> None:
        """Give the rows created so far their ids and record their creation."""
        db.session.flush()
        for obj, entity, label in self._created:
            audit.record(
                now=self.now,
                action="create",
                entity=entity,
                entity_id=obj.id,
                new=label,
                user_id=self.user_id,
                actor=self.actor,
            )
        self._created.clear()

    def delete(self, obj: Any, entity: str, label: str | None = None) -> None:
        audit.record(
            now=self.now,
            action="delete",
            entity=entity,
            entity_id=obj.id,
            old=label,
            user_id=self.user_id,
            actor=self.actor,
        )
        db.session.delete(obj)
        self.counts[f"{entity} removed"] += 1

    def sync_set(
        self,
        entity: str,
        existing: dict[tuple[int, int], Any],
        wanted: list[tuple[tuple[int, int], dict[str, Any], Callable[[], Any], str]],
        *,
        app_owned: Callable[[Any], bool] = lambda _row: False,
    ) -> None:
        """Make the rows keyed by id pairs match ``wanted``: (key, values, factory, label) entries.

        Rows ``app_owned`` says are the app's are left as they are: not updated, not removed.
        """
        keep = set()
        for key, values, factory, label in wanted:
            keep.add(key)
            if key in existing:
                if not app_owned(existing[key]):
                    self.sync(existing[key], values, entity)
            else:
                self.create(factory(), entity, label)
        for key, obj in existing.items():
            if key not in keep and not app_owned(obj):
                if entity == "assignment":
                    self.remove_party(obj)
                else:
                    self.delete(obj, entity)
        self.flush()

    def remove_party(self, assignment: Assignment) -> None:
        """A department the file no longer names on a task: refused where it has reports there (as in the
        app), else removed, and recorded on the task too (the assignment's own rows go with it)."""
        used = db.session.scalar(
            db.select(func.count(CheckIn.id)).filter_by(
                task_id=assignment.task_id, department_id=assignment.department_id
            )
        )
        words = f"{assignment.department.name} · {ROLES.get(assignment.role, assignment.role)}"
        if used:
            where = _("任务 %(key)s", key=assignment.task.code)
            raise PlanFileError(
                [(where, _("%(department)s 已有报送数据，不能通过计划文件移出", department=assignment.department.name))]
            )
        audit.record(
            now=self.now,
            action="remove_party",
            entity="task",
            entity_id=assignment.task_id,
            old=words,
            user_id=self.user_id,
            actor=self.actor,
        )
        self.delete(assignment, "assignment", f"{assignment.task.code} · {words}")


@dataclass
class Change:
    """One change a load would make, as the history would record it."""

    action: str
    entity: str
    name: str
    field: str
    old: str | None
    new: str | None


def preview_plan(
    data: PlanData, *, now: datetime, user_id: int | None = None, filename: str = ""
) -> tuple[LoadReport, list[Change]]:
    """What ``load_plan(data)`` would do, without writing: the same load, rolled back.

    The changes are read from the history rows the load writes, so the preview and the real load
    cannot disagree.
    """
    from ..models import AuditLog

    try:
        last = db.session.scalar(db.select(func.max(AuditLog.id))) or 0
        report = _load(data, now, user_id=user_id, filename=filename)
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


def _load(data: PlanData, now: datetime, *, user_id: int | None = None, filename: str = "") -> LoadReport:
    existing = db.session.scalar(db.select(Plan).filter_by(key=data.plan["key"]))
    if existing is not None:
        ensure_open(existing)  # a closed plan is not reloaded (plan load, workbook import, drafts)
    _check_acyclic(data)
    report = LoadReport(data.plan["key"])
    w = _Writer(now, report.counts, user_id, filename)

    # Counties and departments: a directory shared by all plans, matched by name, never deleted here.
    counties = {c.name: c for c in db.session.scalars(db.select(County))}
    for pos, entry in enumerate(data.counties):
        county = counties.get(entry["name"])
        values = {"kind": entry["kind"], "position": pos}
        if county is None:
            county = counties[entry["name"]] = County(name=entry["name"], **values)
            w.create(county, "county")
        else:
            w.sync(county, values, "county")
    w.flush()

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
            w.create(dept, "department")
        else:
            # Contact addresses are maintained in the app; a file only adds to them.
            merged = dept.emails + [e for e in entry["emails"] if e not in dept.emails]
            values["contact_emails"] = ",".join(merged)
            w.sync(dept, values, "department")
    w.flush()

    plan = db.session.scalar(db.select(Plan).filter_by(key=data.plan["key"]))
    plan_values = {
        k: data.plan.get(k)
        for k in ("title", "start", "end", "source", "basis", "report_request_workdays", "report_due_days")
    }
    if plan is None:
        plan = Plan(key=data.plan["key"], **plan_values)
        w.create(plan, "plan")
    else:
        w.sync(plan, plan_values, "plan")
    w.flush()

    sections = {s.number: s for s in db.session.scalars(db.select(Section).filter_by(plan_id=plan.id))}
    for entry in data.sections:
        section = sections.get(entry["number"])
        values = {"label": entry["label"], "title": entry["title"]}
        if section is None:
            section = sections[entry["number"]] = Section(plan_id=plan.id, number=entry["number"], **values)
            w.create(section, "section")
        else:
            w.sync(section, values, "section")
    w.flush()

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
            w.create(task, "task")
        else:
            # A changed deadline in the file resets it; an approved extension otherwise stands.
            if task.original_due != entry["due"]:
                values["original_due"] = entry["due"]
                values["due"] = entry["due"]
            w.sync(task, values, "task")
    w.flush()
    for entry in data.tasks:
        parent = tasks[entry["parent"]] if entry["parent"] else None
        w.sync(tasks[entry["code"]], {"parent_id": parent.id if parent else None}, "task")
    _remove_missing(w, tasks, {e["code"] for e in data.tasks}, "task")

    task_ids = [t.id for t in tasks.values()]
    users = _users_named(data)
    unlinked = _unlinked_in_app(plan.key)
    w.sync_set(
        "assignment",
        {
            (a.task_id, a.department_id): a
            for a in db.session.scalars(db.select(Assignment).where(Assignment.task_id.in_(task_ids)))
        },
        [
            (
                (tasks[entry["code"]].id, departments[a["name"]].id),
                {
                    "role": a["role"],
                    "role_text": a["role_text"],
                    "note": a["note"],
                    "open_party": a["open_party"],
                    "position": pos,
                },
                partial(
                    Assignment,
                    task_id=tasks[entry["code"]].id,
                    department_id=departments[a["name"]].id,
                    role=a["role"],
                    role_text=a["role_text"],
                    note=a["note"],
                    open_party=a["open_party"],
                    origin="plan",
                    position=pos,
                ),
                f"{entry['code']} · {a['name']} · {ROLES[a['role']]}",
            )
            for entry in data.tasks
            for pos, a in enumerate(entry["departments"])
        ],
        app_owned=lambda a: a.origin == "app",
    )

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
            w.create(target, "target")
        else:
            w.sync(target, values, "target")
    w.flush()
    _remove_missing(w, targets, {e["key"] for e, _task in wanted}, "target")

    w.sync_set(
        "dependency",
        {
            (d.task_id, d.depends_on_id): d
            for d in db.session.scalars(db.select(Dependency).where(Dependency.task_id.in_(task_ids)))
        },
        [
            (
                (tasks[d["task"]].id, tasks[d["depends_on"]].id),
                {"lag_days": d["lag_days"], "rationale": d["rationale"], "origin": d["origin"]},
                partial(
                    Dependency,
                    task_id=tasks[d["task"]].id,
                    depends_on_id=tasks[d["depends_on"]].id,
                    lag_days=d["lag_days"],
                    rationale=d["rationale"],
                    **_added(d, users),
                ),
                f"{d['task']}←{d['depends_on']}",
            )
            for d in data.dependencies
            if ("dependency", f"{d['task']}←{d['depends_on']}") not in unlinked
        ],
        app_owned=_link_is_added,
    )
    w.sync_set(
        "contribution",
        {
            (c.task_id, c.target_id): c
            for c in db.session.scalars(db.select(Contribution).where(Contribution.task_id.in_(task_ids)))
        },
        [
            (
                (tasks[c["task"]].id, targets[c["target"]].id),
                {"rationale": c["rationale"], "origin": c["origin"]},
                partial(
                    Contribution,
                    task_id=tasks[c["task"]].id,
                    target_id=targets[c["target"]].id,
                    rationale=c["rationale"],
                    **_added(c, users),
                ),
                f"{c['task']}→{c['target']}",
            )
            for c in data.contributions
            if ("contribution", f"{c['task']}→{c['target']}") not in unlinked
        ],
        app_owned=_link_is_added,
    )

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
    "alternatives",
)


def _link_is_added(link: Dependency | Contribution) -> bool:
    return link.origin == "added"


def _unlinked_in_app(plan_key: str) -> set[tuple[str, str]]:
    """Links of the plan file a person removed in the app (history rows ``unlink``): a reload leaves them out."""
    from ..models import AuditLog

    rows = db.session.execute(
        db.select(AuditLog.entity, AuditLog.new).where(AuditLog.action == "unlink", AuditLog.field == plan_key)
    )
    return {(entity, key or "") for entity, key in rows}


def _users_named(data: PlanData) -> dict[str, int]:
    """Accounts the file's ``added`` links name (by e-mail address or name), by that word."""
    words = {e["added_by"] for e in data.dependencies + data.contributions if e["added_by"]}
    if not words:
        return {}
    found: dict[str, int] = {}
    for user in db.session.scalars(db.select(User).where(User.email.in_(words) | User.name.in_(words))):
        found.setdefault(user.email, user.id)
        found.setdefault(user.name, user.id)
    return found


def _added(entry: dict[str, Any], users: dict[str, int]) -> dict[str, Any]:
    """The provenance columns of a new link from a file: its origin, and for an ``added`` one who and when."""
    day = entry["added_at"]
    return {
        "origin": entry["origin"],
        "added_by_id": users.get(entry["added_by"]) if entry["added_by"] else None,
        "added_at": datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None,
    }


def _check_acyclic(data: PlanData) -> None:
    graph = nx.DiGraph((d["task"], d["depends_on"]) for d in data.dependencies)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    names = " → ".join([a for a, _b in cycle] + [cycle[0][0]])
    raise PlanFileError([("dependencies", _("依赖关系形成循环：%(cycle)s", cycle=names))])


def _remove_missing(w: _Writer, existing: dict[str, Any], wanted: set[str], entity: str) -> None:
    """Delete tasks or targets the file no longer has; refuse when reports already refer to them."""
    for key, obj in existing.items():
        if key in wanted:
            continue
        if entity == "task":
            used = db.session.scalar(db.select(func.count()).select_from(CheckIn).filter_by(task_id=obj.id))
        else:
            used = db.session.scalar(db.select(func.count()).select_from(TargetValue).filter_by(target_id=obj.id))
        if used:
            where = _("任务 %(key)s", key=key) if entity == "task" else _("目标 %(key)s", key=key)
            raise PlanFileError([(where, _("已有报送数据，不能通过计划文件删除"))])
        w.delete(obj, entity, getattr(obj, "title", None) or getattr(obj, "name", ""))
