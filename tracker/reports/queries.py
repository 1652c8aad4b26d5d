"""Reading reports for pages: a task's timeline, a department's home, the coordinators' queue.

Each function runs a fixed number of queries whatever the number of rows (no N+1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.orm import selectinload

from ..accounts.permissions import primary_department_ids
from ..extensions import db
from ..models import (
    Assignment,
    Attachment,
    AuditLog,
    CheckIn,
    Department,
    ExtensionRequest,
    Plan,
    Review,
    Target,
    TargetValue,
    Task,
    User,
)
from ..models.org import ROLE_ORDER
from ..models.progress import REPORTED_STATES
from ..tasks.due import DueRule, PeriodDue, form_period, owed_periods, reporting_window
from ..tasks.duties import CONSOLIDATED_ROLE, owes_task_report
from ..tasks.lifecycle import is_closed
from ..tasks.queries import city_workdays


@dataclass
class Event:
    """One line of a task's timeline."""

    at: datetime
    kind: str  # checkin | review | extension
    obj: Any
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskReports:
    """Everything about a task's reports that its page shows."""

    checkins: list[CheckIn]
    reviews: dict[int, list[Review]]
    attachments: dict[int, list[Attachment]]
    values: dict[int, list[TargetValue]]
    extensions: list[ExtensionRequest]
    history: list[AuditLog]
    users: dict[int, User]
    latest_approved: list[CheckIn]  # the newest approved report per department, primary first
    latest_values: dict[tuple[int, str, int | None, int | None], TargetValue]  # per target and unit
    events: list[Event]


def task_reports(task: Task, viewer_department_id: int | None) -> TaskReports:
    """The task's reports (drafts only of the viewer's own department), reviews, extensions, history."""
    visible = or_(CheckIn.state != "draft", CheckIn.department_id == (viewer_department_id or -1))
    checkins = list(
        db.session.scalars(
            db.select(CheckIn)
            .where(CheckIn.task_id == task.id, visible)
            .options(selectinload(CheckIn.department))
            .order_by(CheckIn.id)
        )
    )
    ids = [c.id for c in checkins]
    reviews: dict[int, list[Review]] = {}
    attachments: dict[int, list[Attachment]] = {}
    values: dict[int, list[TargetValue]] = {}
    if ids:
        for r in db.session.scalars(db.select(Review).where(Review.checkin_id.in_(ids)).order_by(Review.id)):
            reviews.setdefault(r.checkin_id, []).append(r)
        for a in db.session.scalars(
            db.select(Attachment).where(Attachment.checkin_id.in_(ids)).order_by(Attachment.id)
        ):
            attachments.setdefault(a.checkin_id, []).append(a)
        for v in db.session.scalars(
            db.select(TargetValue)
            .where(TargetValue.checkin_id.in_(ids))
            .options(selectinload(TargetValue.target))
            .order_by(TargetValue.id)
        ):
            values.setdefault(v.checkin_id or 0, []).append(v)
    extensions = list(
        db.session.scalars(db.select(ExtensionRequest).filter_by(task_id=task.id).order_by(ExtensionRequest.id))
    )
    assignment_ids = [a.id for a in task.assignments]
    history = list(
        db.session.scalars(
            db.select(AuditLog)
            .where(
                or_(
                    and_(AuditLog.entity == "task", AuditLog.entity_id == task.id),
                    and_(AuditLog.entity == "assignment", AuditLog.entity_id.in_(assignment_ids or [-1])),
                )
            )
            .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        )
    )
    user_ids = {c.author_id for c in checkins} | {h.user_id for h in history}
    user_ids |= {r.reviewer_id for rs in reviews.values() for r in rs}
    user_ids |= {e.requested_by_id for e in extensions} | {e.decided_by_id for e in extensions}
    user_ids.discard(None)
    users = {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(user_ids or [-1])))}

    primary = primary_department_ids(task.assignments)
    newest: dict[int, CheckIn] = {}
    for c in checkins:
        if c.state == "approved" and (
            c.department_id not in newest or c.period_end >= newest[c.department_id].period_end
        ):
            newest[c.department_id] = c
    latest_approved = sorted(newest.values(), key=lambda c: (c.department_id not in primary, c.department.position))
    # newest approved value per target AND unit: a county's or a department's share stays its own
    latest_values: dict[tuple[int, str, int | None, int | None], TargetValue] = {}
    for c in sorted((c for c in checkins if c.state == "approved"), key=lambda c: (c.period_end, c.id)):
        for v in values.get(c.id, []):
            unit_of = v.county_id if v.unit_kind == "county" else None
            dept_of = v.department_id if v.unit_kind == "department" else None
            latest_values[(v.target_id, v.unit_kind, unit_of, dept_of)] = v

    # Built in the order things happen, sorted stably by time, then newest first: ties keep their order.
    events: list[Event] = []
    for c in checkins:
        events.append(Event(c.submitted_at or c.created_at, "checkin", c))
        events += [Event(r.created_at, "review", r, {"checkin": c}) for r in reviews.get(c.id, [])]
    for e in extensions:
        events.append(Event(e.created_at, "extension", e))
        if e.decided_at:
            events.append(Event(e.decided_at, "extension_decision", e))
    events.sort(key=lambda e: e.at)
    events.reverse()
    return TaskReports(
        checkins, reviews, attachments, values, extensions, history, users, latest_approved, latest_values, events
    )


# --- the department's home -----------------------------------------------------------------------


@dataclass
class MyTask:
    assignment: Assignment
    task: Task
    period_key: str
    period_label: str
    current: CheckIn | None  # the newest report for the period the form opens
    owes_report: bool = False  # the department owes this task's periodic report (tasks.duties)
    owed: list[PeriodDue] = field(default_factory=list)  # the periods it owes, oldest first (tasks.due)

    @property
    def due_now(self) -> bool:
        """Whether the department has a report to write for this task now: one it owes, or a draft or a
        returned report of the period the form opens."""
        if not self.owes_report:
            return False
        return bool(self.owed) or (self.current is not None and self.current.state in {"draft", "returned"})


@dataclass
class MyHome:
    department: Department
    by_role: list[tuple[str, list[MyTask]]]
    due: list[MyTask]
    returned: list[CheckIn]
    drafts: list[CheckIn]
    unacknowledged: list[Assignment]
    # submitted, waiting for the department head's sign-off (单位负责人审核)
    awaiting_head: list[CheckIn] = field(default_factory=list)
    # the closed plans this department has duties in: read-only, nothing more is asked
    closed_plans: list[Plan] = field(default_factory=list)

    @property
    def only_closed(self) -> bool:
        """Every plan the department has duties in is closed: 我的任务 says so rather than "all reported"."""
        plan_ids = {m.task.plan_id for _, items in self.by_role for m in items}
        return bool(plan_ids) and plan_ids <= {p.id for p in self.closed_plans}


def department_home(department: Department, today: date) -> MyHome:
    assignments = list(
        db.session.scalars(
            db.select(Assignment)
            .filter_by(department_id=department.id)
            .join(Task)
            .options(selectinload(Assignment.task))
            .order_by(Task.position, Task.id)
        )
    )
    # The newest report per (task, period) of this department: one query, reduced in Python.
    latest: dict[tuple[int, str], CheckIn] = {}
    all_rows: list[CheckIn] = []
    open_rows: list[CheckIn] = []
    for c in db.session.scalars(
        db.select(CheckIn)
        .filter_by(department_id=department.id)
        .options(selectinload(CheckIn.task))
        .order_by(CheckIn.id)
    ):
        latest[(c.task_id, c.period)] = c
        all_rows.append(c)
    for c in latest.values():
        if c.consolidated_id is None:  # a county's lines are drafted and fixed in its consolidated report
            open_rows.append(c)
    # the roles of every party on these tasks, and their plans: two queries (no N+1)
    task_ids = {a.task_id for a in assignments}
    roles: dict[int, list[str]] = {}
    for task_id, role in db.session.execute(
        db.select(Assignment.task_id, Assignment.role).where(Assignment.task_id.in_(task_ids))
    ):
        roles.setdefault(task_id, []).append(role)
    plans = {p.id: p for p in db.session.scalars(db.select(Plan))}
    reported: dict[int, set[str]] = {}
    for c in all_rows:
        if c.state in REPORTED_STATES:
            reported.setdefault(c.task_id, set()).add(c.period)
    cal = city_workdays()
    groups: dict[str, list[MyTask]] = {}
    due: list[MyTask] = []
    for a in assignments:
        task, plan = a.task, plans[a.task.plan_id]
        owes = owes_task_report(a.role, roles.get(task.id, [])) and task.status != "done" and task.closed_on is None
        owes = owes and not is_closed(plan)  # a closed plan asks for nothing more
        window = reporting_window(task.start, task.due, plan.end)
        done = reported.get(task.id, set())
        rule = DueRule.of(plan)
        owed = owed_periods(today, task.reporting_cycle, *window, done, rule, cal) if owes else []
        period = form_period(today, task.reporting_cycle, *window, done, rule, cal)
        item = MyTask(a, task, period.key, period.label, latest.get((a.task_id, period.key)), owes, owed)
        groups.setdefault(a.role, []).append(item)
        # 落实 owes no report per measure: the county's consolidated report covers them (tasks.duties)
        if item.due_now and a.task.closed_on is None and a.role != CONSOLIDATED_ROLE:
            due.append(item)
    closed = {p.id for p in plans.values() if is_closed(p)}
    open_rows = [c for c in open_rows if c.task.plan_id not in closed]
    return MyHome(
        department=department,
        by_role=[(role, groups[role]) for role in ROLE_ORDER if role in groups],
        due=due,
        returned=sorted((c for c in open_rows if c.state == "returned"), key=lambda c: c.id),
        drafts=sorted((c for c in open_rows if c.state == "draft"), key=lambda c: c.id),
        unacknowledged=[a for a in assignments if a.acknowledged_at is None and a.task.plan_id not in closed],
        awaiting_head=sorted((c for c in open_rows if c.state == "awaiting_head"), key=lambda c: c.id),
        closed_plans=[plans[i] for i in sorted(closed & {a.task.plan_id for a in assignments})],
    )


# --- the coordinators' queue ---------------------------------------------------------------------


def pending_extensions() -> list[ExtensionRequest]:
    return list(
        db.session.scalars(db.select(ExtensionRequest).filter_by(state="pending").order_by(ExtensionRequest.id))
    )


def unacknowledged_assignments() -> list[Assignment]:
    return list(
        db.session.scalars(
            db.select(Assignment)
            .where(Assignment.acknowledged_at.is_(None))
            .join(Task)
            .options(selectinload(Assignment.task), selectinload(Assignment.department))
            .order_by(Task.position, Task.id, Assignment.position)
        )
    )


def tasks_by_id(ids: set[int]) -> dict[int, Task]:
    return {t.id: t for t in db.session.scalars(db.select(Task).where(Task.id.in_(ids or {-1})))}


def targets_for(ids: set[int]) -> dict[int, Target]:
    return {t.id: t for t in db.session.scalars(db.select(Target).where(Target.id.in_(ids or {-1})))}


def count_unacknowledged() -> int:
    return db.session.scalar(db.select(db.func.count(Assignment.id)).where(Assignment.acknowledged_at.is_(None))) or 0


def task_reports_values(checkin_id: int) -> list[TargetValue]:
    return list(db.session.scalars(db.select(TargetValue).filter_by(checkin_id=checkin_id).order_by(TargetValue.id)))


def checkin_chain(
    checkin: CheckIn,
) -> list[tuple[CheckIn, list[Review], list[Attachment], list[TargetValue]]]:
    """The report and the returned ones it supersedes, newest first, with reviews, files and target values."""
    rows = list(
        db.session.scalars(
            db.select(CheckIn)
            .filter_by(task_id=checkin.task_id, department_id=checkin.department_id, period=checkin.period)
            .where(CheckIn.id <= checkin.id)
            .order_by(CheckIn.id.desc())
        )
    )
    ids = [c.id for c in rows]
    reviews: dict[int, list[Review]] = {}
    files: dict[int, list[Attachment]] = {}
    for r in db.session.scalars(db.select(Review).where(Review.checkin_id.in_(ids)).order_by(Review.id)):
        reviews.setdefault(r.checkin_id, []).append(r)
    for a in db.session.scalars(db.select(Attachment).where(Attachment.checkin_id.in_(ids)).order_by(Attachment.id)):
        files.setdefault(a.checkin_id, []).append(a)
    values: dict[int, list[TargetValue]] = {}
    for v in db.session.scalars(
        db.select(TargetValue)
        .where(TargetValue.checkin_id.in_(ids))
        .options(selectinload(TargetValue.target))
        .order_by(TargetValue.id)
    ):
        values.setdefault(v.checkin_id or 0, []).append(v)
    return [(c, reviews.get(c.id, []), files.get(c.id, []), values.get(c.id, [])) for c in rows]


# --- what the review page shows beside the report ------------------------------------------------


@dataclass
class TargetLine:
    """One of the task's targets on the review page: what this report and the previous one say of it."""

    target: Target
    value: TargetValue | None  # in the report under review
    previous: TargetValue | None  # in the department's previous report
    share: float | None  # of the way to the target (tracker.leadership.rules.target_share); None: milestone


@dataclass
class ReviewContext:
    targets: list[TargetLine]
    previous: CheckIn | None  # the same department's report for the period before, approved or awaiting review
    previous_files: list[Attachment]


def review_context(checkin: CheckIn) -> ReviewContext:
    """The task's targets the department reports on with this report's values against them, and the same
    department's previous report (the newest of an earlier period that was not returned)."""
    from ..leadership.rules import TargetSpec, target_share

    department = checkin.department
    targets = [
        t
        for t in sorted(checkin.task.targets, key=lambda t: (t.position, t.id))
        if t.county_id is None or t.county_id == department.county_id
    ]
    previous = db.session.scalar(
        db.select(CheckIn)
        .where(
            CheckIn.task_id == checkin.task_id,
            CheckIn.department_id == checkin.department_id,
            CheckIn.period_end < checkin.period_end,
            CheckIn.state.in_(("submitted", "approved")),
        )
        .order_by(CheckIn.period_end.desc(), CheckIn.id.desc())
        .limit(1)
    )
    ids = [checkin.id] + ([previous.id] if previous else [])
    values: dict[tuple[int, int], TargetValue] = {}
    for v in db.session.scalars(db.select(TargetValue).where(TargetValue.checkin_id.in_(ids))):
        values[(v.checkin_id or 0, v.target_id)] = v
    lines = []
    for t in targets:
        value = values.get((checkin.id, t.id))
        spec = TargetSpec(t.comparison, t.value, t.value_min, t.baseline)
        share = target_share(spec, value.value) if value is not None else None
        lines.append(TargetLine(t, value, values.get((previous.id, t.id)) if previous else None, share))
    files = (
        list(db.session.scalars(db.select(Attachment).filter_by(checkin_id=previous.id).order_by(Attachment.id)))
        if previous
        else []
    )
    return ReviewContext(lines, previous, files)
