"""A plan's state as leaders see it, loaded in a fixed number of queries.

``load(plan, today=..., rule=...)`` runs the same handful of SELECTs whether the plan has 20
tasks or 2,000: tasks with their assignments, every department, and the check-ins of the plan
(narrow columns only). Everything else is computed in Python by the core's rules:

* who owes the task's report: :mod:`tracker.tasks.duties` (lead; responsible where there is no lead);
* which periods each of them owes and which period a leader counts as 本期应报送:
  :mod:`tracker.tasks.due` (a report counts once it is submitted or approved);
* the light: :mod:`tracker.tasks.lights`, whose "report missing" is a reporter owing a period whose
  due date has passed — exactly what the reminders chase;
* a department's latest status on a task is its latest *approved* check-in (by period end, then id).

Tasks and their assignments are read as narrow rows into :class:`TaskView` / :class:`AssignmentView`,
not as ORM objects: at province scale (20,000 tasks, 100,000 assignments) building ORM instances was
half of the time. The departments are ORM objects read in a session of their own (so they are
detached: a state can outlive the request that built it). :func:`current` keeps the state of the
plan, the day and the data version (:mod:`tracker.cache`) in this process, so the leadership pages
of one version build it once instead of once per request; a write bumps the version, and a write to
some tasks' rows only re-reads those tasks (:func:`_patch`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple, TypeVar

from flask import has_request_context
from sqlalchemy import func
from sqlalchemy.orm import Session

from ..clock import city_date
from ..extensions import db
from ..models import Assignment, CheckIn, ConsolidatedReport, Department, Plan, Section, Task
from ..models.plan import task_status_label
from ..models.progress import REPORTED_STATES
from .due import DueRule, PeriodDue, due_state, expected_period, owed_periods, plan_cycle, reporting_window
from .duties import owes_consolidated_report, task_reporters
from .lights import LightRule, light_reasons
from .periods import Period
from .queries import city_workdays, depth_first
from .workdays import Workdays

T = TypeVar("T")

__all__ = [
    "AssignmentView",
    "CheckInRow",
    "ConsolidatedDuty",
    "PlanState",
    "TaskState",
    "TaskView",
    "current",
    "first_submissions",
    "load",
    "task_states",
]


@dataclass(slots=True)
class AssignmentView:
    """An assignment as the leadership pages read it: a row with its department."""

    id: int
    task_id: int
    department_id: int
    role: str
    role_text: str
    position: int
    origin: str
    open_party: str
    department: Department


@dataclass(slots=True)
class TaskView:
    """A task as the leadership pages read it: its columns (not its long text) and its assignments."""

    id: int
    plan_id: int
    section_id: int
    parent_id: int | None
    code: str
    label: str
    title: str
    open_parties: list[dict[str, Any]]
    start: date
    due: date
    original_due: date
    status: str
    progress: int
    reporting_cycle: str
    closed_on: date | None
    position: int
    assignments: list[AssignmentView] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return task_status_label(self.status)


_TASK_COLUMNS = (
    Task.id,
    Task.plan_id,
    Task.section_id,
    Task.parent_id,
    Task.code,
    Task.label,
    Task.title,
    Task.open_parties,
    Task.start,
    Task.due,
    Task.original_due,
    Task.status,
    Task.progress,
    Task.reporting_cycle,
    Task.closed_on,
    Task.position,
)
# plan, section, parent, start, due, original due, status, cycle, closed on: values many tasks hold alike
_SHARED_TASK_COLUMNS = (1, 2, 3, 8, 9, 10, 11, 13, 14)
_ASSIGNMENT_COLUMNS = (
    Assignment.id,
    Assignment.task_id,
    Assignment.department_id,
    Assignment.role,
    Assignment.role_text,
    Assignment.position,
    Assignment.origin,
    Assignment.open_party,
)


class CheckInRow(NamedTuple):
    """A report as the state reads it: immutable, hashable. A named tuple, not a frozen dataclass: a
    frozen dataclass sets each field through ``object.__setattr__``, and a city plan has a thousand
    reports to build on every page the cache does not serve."""

    id: int
    task_id: int
    department_id: int
    period: str
    period_end: date
    state: str
    status: str
    percent: int
    submitted_on: date | None  # the city's date of the submission (None: unknown, as for imported reports)
    consolidated_id: int | None = None


@dataclass
class TaskState:
    """One task with what the pages derive for it."""

    task: TaskView
    light: str
    reasons: list[str]
    period: Period | None
    missing: list[Department] = field(default_factory=list)
    # department id -> its latest approved check-in on this task
    latest: dict[int, CheckInRow] = field(default_factory=dict)
    leads: list[Department] = field(default_factory=list)
    # the departments that owe the task's report, and the periods each owes (oldest first)
    reporters: list[Department] = field(default_factory=list)
    owed: dict[int, list[PeriodDue]] = field(default_factory=dict)
    expected: PeriodDue | None = None

    @property
    def overdue(self) -> bool:
        return any(r.startswith("已逾期") for r in self.reasons)


@dataclass
class ConsolidatedDuty:
    """A county government's consolidated 落实 report for the plan (tasks.duties): the period leaders
    count, whether it is missing, and every period it owes."""

    department: Department
    expected: PeriodDue | None
    missing: bool
    owed: list[PeriodDue]


@dataclass
class PlanState:
    plan: Plan
    today: date
    sections: list[Section]
    states: list[TaskState]
    departments: list[Department]
    # the reports waiting for review (submitted, not part of a consolidated report), oldest period first:
    # of all the plan's reports the state keeps only these and each department's latest approved one
    # per task (TaskState.latest); the assessment reads the rest when it needs them (first_submissions)
    pending: list[CheckInRow]
    due_rule: DueRule = field(default_factory=DueRule)
    workdays: Workdays = field(default_factory=Workdays)
    consolidated: list[ConsolidatedDuty] = field(default_factory=list)
    # (department id, period) -> submission days of its consolidated report (None: unknown)
    consolidated_submitted: dict[tuple[int, str], list[date | None]] = field(default_factory=dict)
    # what pages derive from the whole state (the assessment's rankings): kept as long as the state is
    derived: dict[str, Any] = field(default_factory=dict)
    derive_lock: threading.Lock = field(default_factory=threading.Lock)

    def derive(self, name: str, make: Callable[[], T]) -> T:
        """``make()``, computed once per state: again for the same data version only if not kept.

        ``make`` must depend only on the state and on data under the same data version (targets,
        figures), never on the viewer: a kept state serves every viewer. Threads of one process that
        ask at once wait for the first one's answer instead of computing it again."""
        if name not in self.derived:
            with self.derive_lock:
                if name not in self.derived:
                    self.derived[name] = make()
        return self.derived[name]  # type: ignore[no-any-return]

    def by_section(self) -> list[tuple[Section, list[TaskState]]]:
        groups: dict[int, list[TaskState]] = {s.id: [] for s in self.sections}
        for st in self.states:
            groups[st.task.section_id].append(st)
        return [(s, groups[s.id]) for s in self.sections]

    @property
    def pending_review(self) -> list[CheckInRow]:
        return self.pending


def light_rule(config: dict[str, object]) -> LightRule:
    return LightRule(**config)  # type: ignore[arg-type]


def load(plan: Plan, *, today: date, rule: LightRule, cal: Workdays | None = None) -> PlanState:
    """The plan's state, built now from the rows (the request's own transaction sees its own writes)."""
    sections = list(db.session.scalars(db.select(Section).filter_by(plan_id=plan.id).order_by(Section.number)))
    return _build(plan, today, rule, cal).state(plan, today, sections)


@dataclass
class _Built:
    """What a state holds besides the plan and its sections (both read per request: they are ORM
    objects of the request's session, and cheap)."""

    states: list[TaskState]
    departments: list[Department]
    pending: list[CheckInRow]
    due_rule: DueRule
    workdays: Workdays
    consolidated: list[ConsolidatedDuty]
    consolidated_submitted: dict[tuple[int, str], list[date | None]]
    derived: dict[str, Any] = field(default_factory=dict)
    derive_lock: threading.Lock = field(default_factory=threading.Lock)

    def state(self, plan: Plan, today: date, sections: list[Section]) -> PlanState:
        return PlanState(
            plan,
            today,
            sections,
            self.states,
            self.departments,
            self.pending,
            self.due_rule,
            self.workdays,
            self.consolidated,
            self.consolidated_submitted,
            self.derived,
            self.derive_lock,
        )


def _departments() -> list[Department]:
    """Every department, detached: read through a session of its own on the request's connection (so
    within the request's transaction), closed at once. A state that outlives its request then never
    holds an object of another request's session; a department's columns are all loaded."""
    with Session(bind=db.session.connection(), expire_on_commit=False) as own:
        return list(own.scalars(db.select(Department).order_by(Department.position, Department.id)))


def _tasks(plan: Plan, by_id: dict[int, Department], only: Collection[int] | None = None) -> list[TaskView]:
    """The plan's tasks with their assignments (``only`` these, when given), parents before sub-tasks."""
    connection = db.session.connection()
    query = db.select(*_TASK_COLUMNS).where(Task.plan_id == plan.id).order_by(Task.position, Task.id)
    if only is not None:
        query = query.where(Task.id.in_(only))
    # Repeated values — a few hundred departments, the plan's dates, a handful of roles and origins over
    # a hundred thousand rows — are one object each: a kept state is held by every web worker.
    share = {}.setdefault
    tasks = []
    for row in connection.execute(query):
        values = list(row)
        for k in _SHARED_TASK_COLUMNS:
            values[k] = share(values[k], values[k])
        tasks.append(TaskView(*values))
    index = {t.id: t for t in tasks}
    query = (
        db.select(*_ASSIGNMENT_COLUMNS)
        .join(Task, Task.id == Assignment.task_id)
        .where(Task.plan_id == plan.id)
        .order_by(Assignment.position, Assignment.id)
    )
    if only is not None:
        query = query.where(Task.id.in_(only))
    for i, task_id, dept_id, role, text, position, origin, party in connection.execute(query):
        task = index[task_id]
        department = by_id[dept_id]
        task.assignments.append(
            AssignmentView(
                i,
                task.id,
                department.id,
                share(role, role),
                share(text, text),
                position,
                share(origin, origin),
                share(party, party),
                department,
            )
        )
    return depth_first(tasks)


def _checkins(plan: Plan, only: Collection[int] | None = None) -> Iterator[tuple[int, list[CheckInRow]]]:
    """The plan's reports that are not drafts (of ``only`` these tasks, when given), task by task: each
    task's id and its reports, oldest period first. One task's rows are in memory at a time: a state
    keeps a few of them (:func:`_task_states`), not the hundreds of thousands a plan gathers."""
    # Core rows through the request's connection: the ORM's row handling was most of the time here.
    query = (
        db.select(
            CheckIn.id,
            CheckIn.task_id,
            CheckIn.department_id,
            CheckIn.period,
            CheckIn.period_end,
            CheckIn.state,
            CheckIn.status,
            CheckIn.percent,
            CheckIn.submitted_at,
            CheckIn.consolidated_id,
        )
        .join(Task, Task.id == CheckIn.task_id)
        .where(Task.plan_id == plan.id, CheckIn.state != "draft")
        .order_by(CheckIn.task_id, CheckIn.period_end, CheckIn.id)
    )
    if only is not None:
        query = query.where(Task.id.in_(only))
    # The rows repeat a few thousand departments, periods, states, statuses and days: one object each
    # (a kept state is held by every web worker: its size is theirs).
    shared: dict[Any, Any] = {}
    share = shared.setdefault
    rows = (
        CheckInRow(
            i,
            task,
            share(dept, dept),
            share(p, p),
            share(end, end),
            share(st, st),
            share(s, s),
            pct,
            share(on := city_date(at), on) if at is not None else None,
            cons,
        )
        for i, task, dept, p, end, st, s, pct, at, cons in db.session.connection().execute(query)
    )
    for task_id, group in groupby(rows, key=attrgetter("task_id")):
        yield task_id, list(group)


def first_submissions(plan: Plan) -> Iterator[tuple[int, dict[tuple[int, str], date]]]:
    """When each report of the plan was first submitted, department by department (by id): a
    department's id and, by (task, period), the city's date of its report's earliest submission that is
    not a draft, ``date.min`` when any of them has no known time (imported reports count as in time).

    What the assessment's punctuality reads. The kept state does not hold every report, and neither
    does this: one department's rows at a time (a province's plan has hundreds of thousands)."""
    unknown = func.count() - func.count(CheckIn.submitted_at)
    query = (
        db.select(CheckIn.department_id, CheckIn.task_id, CheckIn.period, func.min(CheckIn.submitted_at), unknown)
        .join(Task, Task.id == CheckIn.task_id)
        .where(Task.plan_id == plan.id, CheckIn.state != "draft")
        .group_by(CheckIn.department_id, CheckIn.task_id, CheckIn.period)
        .order_by(CheckIn.department_id)
    )
    shared: dict[Any, Any] = {}
    share = shared.setdefault
    rows = db.session.connection().execute(query)  # Core rows, as read (an ORM result buffers them all)
    for dept_id, group in groupby(rows, key=itemgetter(0)):
        yield (
            dept_id,
            {
                (task, share(period, period)): date.min if missing or at is None else share(on := city_date(at), on)
                for _, task, period, at, missing in group
            },
        )


@dataclass
class _Context:
    """What every task's state is worked out with."""

    plan: Plan
    today: date
    rule: LightRule
    due_rule: DueRule
    cal: Workdays
    by_id: dict[int, Department]


def _task_states(
    ctx: _Context, tasks: list[TaskView], reports: Iterable[tuple[int, list[CheckInRow]]]
) -> tuple[list[TaskState], list[CheckInRow]]:
    """The state of each of ``tasks`` from ``reports`` (theirs, task by task, as :func:`_checkins` gives
    them), and the reports among them waiting for review (oldest period first)."""
    index = {t.id: t for t in tasks}
    worked: dict[int, TaskState] = {}
    pending: list[CheckInRow] = []
    for task_id, rows in reports:
        latest: dict[int, CheckInRow] = {}
        reported: dict[int, set[str]] = {}
        for c in rows:
            if c.state == "approved":
                latest[c.department_id] = c  # ordered: the last one wins
            if c.state in REPORTED_STATES:
                reported.setdefault(c.department_id, set()).add(c.period)
            if c.state == "submitted" and c.consolidated_id is None:
                pending.append(c)
        worked[task_id] = _task_state(ctx, index[task_id], latest, reported)
    states = [st if (st := worked.get(t.id)) is not None else _task_state(ctx, t, {}, {}) for t in tasks]
    pending.sort(key=lambda c: (c.period_end, c.id))
    return states, pending


def _task_state(
    ctx: _Context, task: TaskView, latest: dict[int, CheckInRow], reported: dict[int, set[str]]
) -> TaskState:
    """One task's state from its departments' latest approved reports and the periods each reported."""
    today, by_id, due_rule, cal = ctx.today, ctx.by_id, ctx.due_rule, ctx.cal
    roles = {a.department_id: a.role for a in task.assignments}
    reporter_ids = task_reporters(roles)
    start, until = reporting_window(task.start, task.due, ctx.plan.end)
    expected = expected_period(today, task.reporting_cycle, start, until, due_rule, cal)
    owed: dict[int, list[PeriodDue]] = {}
    missing: list[Department] = []
    if task.status != "done" and task.closed_on is None:
        for dept_id in sorted(reporter_ids, key=lambda i: by_id[i].position):
            done = reported.get(dept_id, set())
            owed[dept_id] = owed_periods(today, task.reporting_cycle, start, until, done, due_rule, cal)
            if expected is not None and expected.period.key not in done:
                missing.append(by_id[dept_id])
    # the light's "report missing": a reporter owes a period whose due date has passed (it is being chased)
    overdue_report = any(due_state(p, today) in {"late", "chase"} for periods in owed.values() for p in periods)
    colour, reasons = light_reasons(
        ctx.rule,
        today=today,
        start=task.start,
        due=task.due,
        status=task.status,
        progress=task.progress,
        report_missing=overdue_report,
    )
    # who answers for the task: its leads, or where the plan names none, its responsible departments
    leads = [by_id[a.department_id] for a in task.assignments if a.role == "lead"] or [
        by_id[a.department_id] for a in task.assignments if a.role == "responsible"
    ]
    reporters = [by_id[i] for i in sorted(reporter_ids, key=lambda i: by_id[i].position)]
    period = expected.period if expected is not None else None
    return TaskState(task, colour, reasons, period, missing, latest, leads, reporters, owed, expected)


def _build(plan: Plan, today: date, rule: LightRule, cal: Workdays | None) -> _Built:
    departments = _departments()
    by_id = {d.id: d for d in departments}
    tasks = _tasks(plan, by_id)
    ctx = _Context(plan, today, rule, DueRule.of(plan), cal if cal is not None else city_workdays(), by_id)
    states, pending = _task_states(ctx, tasks, _checkins(plan))
    consolidated, submitted = _consolidated(plan, tasks, by_id, today, ctx.due_rule, ctx.cal)
    return _Built(states, departments, pending, ctx.due_rule, ctx.cal, consolidated, submitted)


def _patch(old: _Built, plan: Plan, today: date, rule: LightRule, changed: frozenset[int]) -> _Built:
    """``old`` brought up to date after writes to the rows of the ``changed`` tasks only (reports,
    assignments, the task's own fields; never its place in the plan: that builds afresh). What is read
    again is those tasks' rows, and the counties' consolidated reports; ``old`` itself is not changed
    (other requests may be reading it)."""
    by_id = {d.id: d for d in old.departments}
    ids = {st.task.id for st in old.states} & changed
    tasks = _tasks(plan, by_id, ids) if ids else []
    ctx = _Context(plan, today, rule, old.due_rule, old.workdays, by_id)
    worked, waiting = _task_states(ctx, tasks, _checkins(plan, ids)) if ids else ([], [])
    fresh = {st.task.id: st for st in worked}
    states = [fresh.get(st.task.id, st) for st in old.states]  # a task gone from the plan is a move: not here
    if ids:
        kept = [c for c in old.pending if c.task_id not in ids]
        pending = sorted([*kept, *waiting], key=lambda c: (c.period_end, c.id))
    else:
        pending = old.pending
    all_tasks = [st.task for st in states]
    consolidated, submitted = _consolidated(plan, all_tasks, by_id, today, old.due_rule, old.workdays)
    return _Built(states, old.departments, pending, old.due_rule, old.workdays, consolidated, submitted)


# --- the state kept per data version ----------------------------------------------------------------

_KEPT: OrderedDict[tuple[Any, ...], _Built] = OrderedDict()
_KEPT_LOCK = threading.Lock()
_BUILDING: dict[tuple[Any, ...], threading.Lock] = {}
_KEEP = 2  # states kept in this process: a plan's today, and one more (another plan, a second rule)


def current(plan: Plan, *, today: date, rule: LightRule) -> PlanState:
    """The plan's state for a page that only reads: kept in this process for the data version, the
    day and the rule, so that the matrix, the dashboard, the assessment, the graph's lights and the
    API of one version share one build. Without a data version (the cache off, or no request) it is
    built as :func:`load` builds it.

    The version is read at the start of the request and bumped after every commit that writes data,
    so a state kept under a version holds at least that version's data: never an older one. A state
    a few versions behind whose bumps each name the tasks they wrote (:meth:`PageCache.tasks_changed`)
    is brought up to date for those tasks (:func:`_patch`); otherwise it is built afresh.
    """
    from ..cache import data_version, page_cache

    version = data_version() if has_request_context() else None
    if version is None:
        return load(plan, today=today, rule=rule)
    # the version is (count, time of the last write): with the database's address, never the same
    # pair for other data (another app in this process, a Redis that lost its keys)
    key = (str(db.engine.url), plan.id, today, rule, version)
    with _KEPT_LOCK:
        built = _KEPT.get(key)
        if built is not None:
            _KEPT.move_to_end(key)
    if built is None:
        # One build per key in this process: threads that ask meanwhile wait for it (gthread workers).
        with _KEPT_LOCK:
            building = _BUILDING.setdefault(key, threading.Lock())
        with building:
            with _KEPT_LOCK:
                built = _KEPT.get(key)
                earlier = [(k, b) for k, b in _KEPT.items() if k[:4] == key[:4]] if built is None else []
            if built is None and earlier:
                # The same plan, day and rule at an older version: if only some tasks' rows changed
                # since, bring it up to date for those tasks (what a day of reporting mostly is).
                (since, kept_state) = earlier[-1]
                changed = page_cache().tasks_changed(since[4], version)
                if changed is not None:
                    built = _patch(kept_state, plan, today, rule, changed)
            if built is None:
                with _KEPT_LOCK:  # an older version or day of this plan is never asked for again: free it
                    for old in [k for k in _KEPT if k[:2] == key[:2]]:
                        del _KEPT[old]
                built = _build(plan, today, rule, None)
            with _KEPT_LOCK:
                for old in [k for k in _KEPT if k[:2] == key[:2]]:
                    del _KEPT[old]
                _KEPT[key] = built
                while len(_KEPT) > _KEEP:
                    _KEPT.popitem(last=False)
        with _KEPT_LOCK:
            _BUILDING.pop(key, None)
    sections = list(db.session.scalars(db.select(Section).filter_by(plan_id=plan.id).order_by(Section.number)))
    return built.state(plan, today, sections)


def task_states(plan: Plan, ids: Collection[int], *, today: date, rule: LightRule) -> list[TaskState]:
    """The states of the ``ids`` tasks of ``plan`` only, built now from their own rows: what a page
    about one task needs when no state is kept (the cache off). A task's state depends on its own
    rows and the plan's rules, never on the other tasks', so each equals its entry in :func:`load`."""
    by_id = {d.id: d for d in _departments()}
    tasks = _tasks(plan, by_id, ids)
    ctx = _Context(plan, today, rule, DueRule.of(plan), city_workdays(), by_id)
    return _task_states(ctx, tasks, _checkins(plan, ids))[0]


def forget() -> None:
    """Drop every kept state (tests that change the data behind the version's back)."""
    with _KEPT_LOCK:
        _KEPT.clear()


def _consolidated(
    plan: Plan, tasks: list[TaskView], by_id: dict[int, Department], today: date, rule: DueRule, cal: Workdays
) -> tuple[list[ConsolidatedDuty], dict[tuple[int, str], list[date | None]]]:
    """Each implementing county's consolidated report: one query for the plan's consolidated reports."""
    implementing = {
        a.department_id
        for t in tasks
        if t.status != "done" and t.closed_on is None
        for a in t.assignments
        if owes_consolidated_report(a.role)
    }
    if not implementing:
        return [], {}
    reported: dict[int, set[str]] = {}
    submitted: dict[tuple[int, str], list[date | None]] = {}
    for dept_id, period, at in db.session.execute(
        db.select(ConsolidatedReport.department_id, ConsolidatedReport.period, ConsolidatedReport.submitted_at).where(
            ConsolidatedReport.plan_id == plan.id, ConsolidatedReport.state.in_(REPORTED_STATES)
        )
    ):
        reported.setdefault(dept_id, set()).add(period)
        submitted.setdefault((dept_id, period), []).append(city_date(at) if at else None)
    cycle = plan_cycle(t.reporting_cycle for t in tasks)
    expected = expected_period(today, cycle, plan.start, plan.end, rule, cal)
    duties = []
    for dept_id in sorted(implementing, key=lambda i: by_id[i].position):
        done = reported.get(dept_id, set())
        owed = owed_periods(today, cycle, plan.start, plan.end, done, rule, cal)
        missing = expected is not None and expected.period.key not in done
        duties.append(ConsolidatedDuty(by_id[dept_id], expected, missing, owed))
    return duties, submitted


def assignment_role(task: Task, department_id: int) -> Assignment | None:
    for a in task.assignments:
        if a.department_id == department_id:
            return a
    return None
