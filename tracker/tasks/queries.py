"""Lookups and edits the task core shares: plans, tasks with their assignments, the city's working days.

No request, no ``current_app``: the database session only. Every list read here runs a fixed number of
queries whatever the plan's size. Web, API, CLI, scheduler, feeds and graph all ask these functions:
which plan runs today, a task by its code, and :func:`city_workdays` for working days (so a day the
city declares off is off everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..errors import NotFound
from ..extensions import db
from ..models import Assignment, Department, Plan, Section, Target, Task, WorkdayOverride
from ..models.org import ROLE_ORDER
from .workdays import Workdays

__all__ = [
    "SectionTasks",
    "TaskPage",
    "assignments_by_role",
    "city_workdays",
    "current_plan",
    "depth_first",
    "get_plan",
    "get_task",
    "plan_exists",
    "plan_tasks",
    "remove_workday_override",
    "set_workday_override",
    "tasks_by_section",
    "tasks_page",
]


def current_plan(today: date) -> Plan:
    """The plan whose period contains ``today``; else the most recent one that started; else the first."""
    plans = db.session.scalars(db.select(Plan).order_by(Plan.start)).all()
    if not plans:
        raise NotFound(_("尚未导入任何计划。请先运行 flask --app wsgi plan load。"))
    running = [p for p in plans if p.start <= today <= p.end]
    if running:
        return running[-1]
    started = [p for p in plans if p.start <= today]
    return started[-1] if started else plans[0]


def plan_exists(key: str) -> bool:
    return db.session.scalar(db.select(Plan.id).filter_by(key=key)) is not None


def get_plan(key: str) -> Plan:
    plan = db.session.scalar(db.select(Plan).filter_by(key=key))
    if plan is None:
        raise NotFound(_("没有编号为 %(key)s 的计划", key=key))
    return plan


@dataclass
class SectionTasks:
    section: Section
    tasks: list[Task]


def plan_tasks(plan: Plan) -> list[Task]:
    """The plan's tasks with their assignments and departments, in three queries whatever their number.

    ``selectinload`` would split the IN list into chunks of 500 (one more query per 500 tasks), so
    assignments are read in one joined query and attached; their departments come from the
    one query over the (small) department directory.
    """
    tasks = list(db.session.scalars(db.select(Task).filter_by(plan_id=plan.id).order_by(Task.position, Task.id)).all())
    departments = {d.id: d for d in db.session.scalars(db.select(Department))}
    assignments: dict[int, list[Assignment]] = {t.id: [] for t in tasks}
    for a in db.session.scalars(
        db.select(Assignment)
        .join(Task, Task.id == Assignment.task_id)
        .where(Task.plan_id == plan.id)
        .order_by(Assignment.position, Assignment.id)
    ):
        assignments[a.task_id].append(a)
        set_committed_value(a, "department", departments[a.department_id])
    for t in tasks:
        set_committed_value(t, "assignments", assignments[t.id])
    return tasks


def tasks_by_section(plan: Plan) -> list[SectionTasks]:
    """Every task of the plan grouped by section, parents before their sub-tasks."""
    tasks = plan_tasks(plan)
    sections = db.session.scalars(db.select(Section).filter_by(plan_id=plan.id).order_by(Section.number)).all()
    by_section: dict[int, list[Task]] = {s.id: [] for s in sections}
    for task in depth_first(list(tasks)):
        by_section[task.section_id].append(task)
    return [SectionTasks(s, by_section[s.id]) for s in sections]


@dataclass
class TaskPage:
    """One page of the task list: its tasks by section, and where it stands among the pages."""

    sections: list[SectionTasks]
    page: int
    pages: int
    total: int


def tasks_page(plan: Plan, page: int, size: int) -> TaskPage:
    """Page ``page`` (from 1) of the plan's tasks in list order (by section, parents before sub-tasks),
    ``size`` at a time; four queries whatever the plan's size: the order is worked out on narrow rows,
    and only the page's tasks are loaded with their assignments and departments."""
    sections = db.session.scalars(db.select(Section).filter_by(plan_id=plan.id).order_by(Section.number)).all()
    narrow = db.session.execute(
        db.select(Task.id, Task.parent_id, Task.section_id).filter_by(plan_id=plan.id).order_by(Task.position, Task.id)
    ).all()
    ids = {r.id for r in narrow}
    children: dict[int | None, list[tuple[int, int]]] = {}
    for r in narrow:
        children.setdefault(r.parent_id if r.parent_id in ids else None, []).append((r.id, r.section_id))
    order: dict[int, list[int]] = {s.id: [] for s in sections}
    stack = list(reversed(children.get(None, [])))
    while stack:
        tid, sid = stack.pop()
        order.setdefault(sid, []).append(tid)
        stack.extend(reversed(children.get(tid, [])))
    flat = [(sid, tid) for s in sections for sid, tid in ((s.id, t) for t in order[s.id])]
    pages = max(1, -(-len(flat) // size))
    page = min(max(page, 1), pages)
    chosen = flat[(page - 1) * size : page * size]
    wanted = [tid for _, tid in chosen]
    tasks = {t.id: t for t in db.session.scalars(db.select(Task).where(Task.id.in_(wanted)))} if wanted else {}
    assignments: dict[int, list[Assignment]] = {tid: [] for tid in wanted}
    if wanted:
        rows = list(
            db.session.scalars(
                db.select(Assignment).where(Assignment.task_id.in_(wanted)).order_by(Assignment.position, Assignment.id)
            )
        )
        # their departments in one query of our own: selectinload's per-call statement building cost
        # more than reading the rows (a third of the task list's time at city scale)
        wanted_departments = {a.department_id for a in rows}
        departments = (
            {d.id: d for d in db.session.scalars(db.select(Department).where(Department.id.in_(wanted_departments)))}
            if wanted_departments
            else {}
        )
        for a in rows:
            set_committed_value(a, "department", departments[a.department_id])
            assignments[a.task_id].append(a)
    for tid, task in tasks.items():
        set_committed_value(task, "assignments", assignments[tid])
    by_section: dict[int, list[Task]] = {}
    for sid, tid in chosen:
        by_section.setdefault(sid, []).append(tasks[tid])
    shown = [SectionTasks(s, by_section[s.id]) for s in sections if s.id in by_section or pages == 1]
    return TaskPage(shown, page, pages, len(flat))


def depth_first(tasks: list[Task]) -> list[Task]:
    children: dict[int | None, list[Task]] = {}
    ids = {t.id for t in tasks}
    for t in tasks:
        children.setdefault(t.parent_id if t.parent_id in ids else None, []).append(t)
    out: list[Task] = []

    def walk(parent: int | None) -> None:
        for t in children.get(parent, []):
            out.append(t)
            walk(t.id)

    walk(None)
    return out


def get_task(plan: Plan, code: str) -> Task:
    task = db.session.scalar(
        db.select(Task)
        .filter_by(plan_id=plan.id, code=code)
        .options(
            selectinload(Task.assignments).selectinload(Assignment.department),
            selectinload(Task.targets).selectinload(Target.county),
            selectinload(Task.children),
        )
    )
    if task is None:
        raise NotFound(_("没有编号为 %(code)s 的任务", code=code))
    return task


def assignments_by_role(task: Task) -> list[tuple[str, list[Assignment]]]:
    """The task's departments grouped by role, in the order 牵头, 负责, 配合, 落实."""
    groups: dict[str, list[Assignment]] = {}
    for a in task.assignments:
        groups.setdefault(a.role, []).append(a)
    return [(role, groups[role]) for role in ROLE_ORDER if role in groups]


def city_workdays() -> Workdays:
    """The working-day calendar with the city's local overrides from the database."""
    return Workdays({o.day: o.is_workday for o in db.session.scalars(db.select(WorkdayOverride))})


def set_workday_override(day: date, is_workday: bool, note: str) -> None:
    """Declare a local working day or day off (replacing an earlier declaration for that day)."""
    override = db.session.get(WorkdayOverride, day)
    if override is None:
        db.session.add(WorkdayOverride(day=day, is_workday=is_workday, note=note.strip()[:200]))
    else:
        override.is_workday, override.note = is_workday, note.strip()[:200]
    db.session.commit()


def remove_workday_override(day: date) -> None:
    """Forget the city's declaration for ``day``: the statutory calendar decides again."""
    override = db.session.get(WorkdayOverride, day)
    if override is not None:
        db.session.delete(override)
        db.session.commit()
