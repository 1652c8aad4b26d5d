"""A plan's state as leaders see it (the task core), loaded in a fixed number of queries.

``load(plan, today=..., rule=...)`` runs the same handful of SELECTs whether the plan has 20
tasks or 2,000: tasks with their assignments, every department, and the check-ins of the plan
(narrow columns only). Everything else — each department's latest approved status on a task,
the report expected this period, the warning light and its reasons — is computed in Python.

Data semantics:

* a department's latest status on a task is its latest *approved* check-in (by period end, then id);
* the task's status and progress are ``Task.status`` / ``Task.progress``;
* a report counts for a period once it is submitted or approved (``rules.report_period`` says
  which period is expected by today and who owes it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from ..extensions import db
from ..leadership.rules import REPORTING_ROLES, report_period
from ..models import Assignment, CheckIn, Department, Plan, Section, Task
from ..plans.queries import depth_first, plan_tasks
from .lights import LightRule, light_reasons
from .periods import Period

__all__ = ["CheckInRow", "PlanState", "TaskState", "load"]


@dataclass(frozen=True)
class CheckInRow:
    id: int
    task_id: int
    department_id: int
    period: str
    period_end: date
    state: str
    status: str
    percent: int
    submitted_at: datetime | None


@dataclass
class TaskState:
    """One task with what the pages derive for it."""

    task: Task
    light: str
    reasons: list[str]
    period: Period | None
    missing: list[Department] = field(default_factory=list)
    # department id -> its latest approved check-in on this task
    latest: dict[int, CheckInRow] = field(default_factory=dict)
    leads: list[Department] = field(default_factory=list)

    @property
    def overdue(self) -> bool:
        return any(r.startswith("已逾期") for r in self.reasons)


@dataclass
class PlanState:
    plan: Plan
    today: date
    sections: list[Section]
    states: list[TaskState]
    departments: list[Department]
    checkins: list[CheckInRow]

    def by_section(self) -> list[tuple[Section, list[TaskState]]]:
        groups: dict[int, list[TaskState]] = {s.id: [] for s in self.sections}
        for st in self.states:
            groups[st.task.section_id].append(st)
        return [(s, groups[s.id]) for s in self.sections]

    @property
    def pending_review(self) -> list[CheckInRow]:
        return [c for c in self.checkins if c.state == "submitted"]


def light_rule(config: dict[str, object]) -> LightRule:
    return LightRule(**config)  # type: ignore[arg-type]


def load(plan: Plan, *, today: date, rule: LightRule) -> PlanState:
    departments = list(db.session.scalars(db.select(Department).order_by(Department.position, Department.id)))
    tasks = depth_first(plan_tasks(plan))
    sections = list(db.session.scalars(db.select(Section).filter_by(plan_id=plan.id).order_by(Section.number)))
    by_id = {d.id: d for d in departments}
    rows = [
        CheckInRow(*r)
        for r in db.session.execute(
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
            )
            .join(Task, Task.id == CheckIn.task_id)
            .where(Task.plan_id == plan.id, CheckIn.state != "draft")
            .order_by(CheckIn.period_end, CheckIn.id)
        )
    ]
    latest: dict[int, dict[int, CheckInRow]] = {}
    reported: set[tuple[int, int, str]] = set()
    for c in rows:
        if c.state == "approved":
            latest.setdefault(c.task_id, {})[c.department_id] = c  # ordered: the last one wins
        if c.state in {"submitted", "approved"}:
            reported.add((c.task_id, c.department_id, c.period))

    states: list[TaskState] = []
    for task in tasks:
        period = report_period(today, task.reporting_cycle, task.start, task.due)
        missing: list[Department] = []
        if period is not None and task.status != "done":
            missing = [
                by_id[a.department_id]
                for a in task.assignments
                if a.role in REPORTING_ROLES and (task.id, a.department_id, period.key) not in reported
            ]
        colour, reasons = light_reasons(
            rule,
            today=today,
            start=task.start,
            due=task.due,
            status=task.status,
            progress=task.progress,
            report_missing=bool(missing),
        )
        # who answers for the task: its leads, or where the plan names none, its responsible departments
        leads = [by_id[a.department_id] for a in task.assignments if a.role == "lead"] or [
            by_id[a.department_id] for a in task.assignments if a.role == "responsible"
        ]
        states.append(TaskState(task, colour, reasons, period, missing, latest.get(task.id, {}), leads))
    return PlanState(plan, today, sections, states, departments, rows)


def assignment_role(task: Task, department_id: int) -> Assignment | None:
    for a in task.assignments:
        if a.department_id == department_id:
            return a
    return None
