"""What is due to whom today: the reminder items of a plan, each with the digest line it belongs to.

Every date comes from the task core: deadline stages from ``policy`` (deadlines are not the due
rule), report periods from the one due rule (``tracker.tasks.due``), and who owes what from
``tracker.tasks.duties``. Decisions written down here:

- **check-in requests and chasers** (进展报送): only a department that owes the task's report — its
  lead, or each responsible department where there is no lead. Each period it owes is requested once
  (from the rule's request date) and chased once (from the rule's chase date); the digest shows them
  as one entry on the task's line. Supporting departments (配合) are never asked nor chased.
- **county governments** (落实) get one consolidated 落实 item per period for the plan, not one per
  measure: one line per plan with the periods they owe, linking to the consolidated report's form.
- **deadline reminders and chasers** of a task go to the departments that answer for it: lead and
  responsible (each for its share). The counties that implement it hear of its deadline only on
  their consolidated line; supporting departments not at all. A task's targets go with the task.
- a plan-level county target goes to that county's government, any other plan-level target to the
  coordinating offices, one line per kind; **escalation** to the coordinating offices; a **returned**
  report to the department that wrote it; after the plan, one **final-assessment** request to every
  department holding a role (one per department and plan: its key is claimed once, never chased).
- a **closed** plan (``tracker.tasks.lifecycle``) gives no item at all: its reminders stop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import aliased, selectinload

from ..clock import city_date
from ..extensions import db
from ..i18n import N_
from ..models import (
    Assignment,
    CheckIn,
    ConsolidatedReport,
    Department,
    Instruction,
    Plan,
    Review,
    Target,
    TargetValue,
    Task,
)
from ..models.org import ROLES
from ..models.progress import REPORTED_STATES
from ..tasks.due import DueRule, PeriodDue, due_state, owed_periods, plan_cycle, reporting_window
from ..tasks.duties import owes_consolidated_report, task_reporters
from ..tasks.lifecycle import is_closed
from ..tasks.workdays import Workdays
from . import policy
from .digest import WORDS, Item, LineInfo, TaskRef, Text
from .policy import Stages

__all__ = [
    "ANSWER_ROLES",
    "Collector",
    "TaskRow",
    "consolidated_reported",
    "plan_tasks",
    "reported_periods",
    "task_rows",
]

ANSWER_ROLES = frozenset({"lead", "responsible"})  # who hears of a task's deadline


@dataclass(slots=True)
class DutyRow:
    """A department's role on a task (an ``Assignment``'s two columns the collector reads)."""

    department_id: int
    role: str


@dataclass(slots=True)
class TaskRow:
    """A plan's task as the sweep reads it: plain columns and its duties, not ORM objects. A sweep over
    100,000 tasks and half a million assignments spent most of its collecting in the ORM's loading."""

    id: int
    code: str
    label: str
    title: str
    start: date
    due: date
    status: str
    closed_on: date | None
    reporting_cycle: str
    position: int
    assignments: list[DutyRow] = field(default_factory=list)  # in the assignments' order (``Task.assignments``)

    status_label = Task.status_label  # the task's own property (the leaders' digest shows it)


# A task as the collector reads it: a row of the plan's tasks, or an ORM ``Task`` (instructions, returned
# reports: a few rows, loaded with their relationships).
TaskLike = Task | TaskRow


def plan_tasks(plan: Plan) -> list[TaskRow]:
    """Every task of ``plan`` in the plan's order, with its duties."""
    return task_rows(Task.plan_id == plan.id)


def task_rows(
    *criteria: ColumnElement[bool], order_by: tuple[Any, ...] = (Task.position, Task.id), duties: bool = True
) -> list[TaskRow]:
    """The tasks that meet ``criteria`` (on the task or its plan) in ``order_by``'s order, with their
    duties unless ``duties`` is false: two queries of narrow rows."""
    columns = (Task.id, Task.code, Task.label, Task.title, Task.start, Task.due, Task.status, Task.closed_on)
    rows = db.session.execute(
        db.select(*columns, Task.reporting_cycle, Task.position)
        .join(Plan, Plan.id == Task.plan_id)
        .where(*criteria)
        .order_by(*order_by)
    )
    # one object per value that many rows share (dates, cycles, statuses, roles, department ids), not
    # one per row: a plan of 100,000 tasks has half a million duties
    shared: dict[Any, Any] = {}

    def one(value: Any) -> Any:
        return shared.setdefault(value, value)

    tasks = [
        TaskRow(tid, code, label, title, one(start), one(due), one(status), one(closed), one(cycle), position)
        for tid, code, label, title, start, due, status, closed, cycle, position in rows
    ]
    if not duties:
        return tasks
    by_id = {task.id: task for task in tasks}
    duty_rows = db.session.execute(
        db.select(Assignment.task_id, Assignment.department_id, Assignment.role)
        .join(Task, Task.id == Assignment.task_id)
        .join(Plan, Plan.id == Task.plan_id)
        .where(*criteria)
        .order_by(Assignment.task_id, Assignment.position, Assignment.id)
    )
    for task_id, dept_id, role in duty_rows:
        by_id[task_id].assignments.append(DutyRow(one(dept_id), one(role)))
    return tasks


def task_ref(task: TaskLike, plan: Plan) -> TaskRef:
    return TaskRef(task.code, plan.key, task.reporting_cycle, task.position)


def reported_periods(plan: Plan) -> dict[tuple[int, int], tuple[str, ...]]:
    """(task, department) → the periods with a submitted or approved report (a task and department
    with none is absent)."""
    # one row per task and department, its periods joined by the database (a period key has no comma):
    # 1.6 million check-ins at 100,000 tasks are 130,000 rows; kept as tuples, not sets (memory)
    rows = db.session.execute(
        db.select(CheckIn.task_id, CheckIn.department_id, db.func.aggregate_strings(CheckIn.period, ","))
        .join(Task, Task.id == CheckIn.task_id)
        .where(Task.plan_id == plan.id, CheckIn.state.in_(REPORTED_STATES))
        .group_by(CheckIn.task_id, CheckIn.department_id)
    )
    keys: dict[str, str] = {}  # one string per period, not one per check-in
    return {
        (task_id, dept_id): tuple(keys.setdefault(p, p) for p in periods.split(","))
        for task_id, dept_id, periods in rows
    }


def consolidated_reported(plan: Plan) -> dict[int, set[str]]:
    """County department → the periods of its consolidated 落实 report submitted or approved."""
    model = ConsolidatedReport
    reported: dict[int, set[str]] = defaultdict(set)
    rows = db.session.execute(
        db.select(model.department_id, model.period).where(model.plan_id == plan.id, model.state.in_(REPORTED_STATES))
    )
    for dept_id, period in rows:
        reported[dept_id].add(period)
    return reported


class Collector:
    """Collects a sweep's items; one ``LineInfo`` per department and line, shared by its items."""

    def __init__(self, today: date, stages: Stages, cal: Workdays, kinds: set[str] | frozenset[str]) -> None:
        self.today, self.stages, self.cal, self.kinds = today, stages, cal, kinds
        self.items: list[Item] = []
        self._lines: dict[tuple[Any, ...], LineInfo] = {}
        self._stages: dict[date, str | None] = {}
        self._names: dict[int, str] | None = None

    @property
    def lines(self) -> dict[tuple[Any, ...], LineInfo]:
        """Every line collected, keyed by (department id, *line key), with or without items today."""
        return dict(self._lines)

    def line(self, department_id: int, key: tuple[Any, ...], make: Callable[[], LineInfo]) -> LineInfo:
        whose = (department_id, *key)
        line = self._lines.get(whose)
        if line is None:
            line = self._lines[whose] = make()
        return line

    def deadline_stage(self, due: date) -> str | None:
        """``policy.deadline_stage`` of ``due`` today, worked out once per date (tasks share due dates)."""
        if due not in self._stages:
            self._stages[due] = policy.deadline_stage(due, self.today, self.stages, self.cal)
        return self._stages[due]

    def department_name(self, department_id: int) -> str:
        if self._names is None:
            self._names = dict(db.session.execute(db.select(Department.id, Department.name)).all())
        return self._names[department_id]

    def task_line(self, department_id: int, task: TaskLike, plan: Plan) -> LineInfo:
        def make() -> LineInfo:
            role = next((a.role for a in task.assignments if a.department_id == department_id), None)
            return LineInfo(
                key=("task", task.id),
                title=_task_subject(task),
                duty=ROLES.get(role, role) if role else N_("督办"),
                task=task_ref(task, plan),
                position=task.position,
            )

        return self.line(department_id, ("task", task.id), make)

    def add(self, **values: Any) -> None:
        self.items.append(Item(**values))

    # -- one plan ------------------------------------------------------------------------------

    def plan(self, plan: Plan) -> None:
        if is_closed(plan):  # a closed plan asks nothing of anyone any more
            return
        tasks = plan_tasks(plan)
        coordinating = db.session.scalars(db.select(Department).filter_by(coordinating=True)).all()
        open_tasks = [t for t in tasks if policy.is_open(t.status, t.closed_on)]
        rule = DueRule.of(plan)
        if self.today <= plan.end:
            self._task_reports(plan, open_tasks, rule)
            self._consolidated(plan, open_tasks, tasks, rule)
        if "deadline" in self.kinds:
            self._deadlines(plan, open_tasks)
            self._targets(plan, {t.id: t for t in open_tasks}, coordinating)
        if "escalation" in self.kinds and self.cal.is_workday(self.today):
            self._escalations(plan, open_tasks, coordinating)
        if "final" in self.kinds and self.today > plan.end and self.cal.is_workday(self.today):
            self._finals(plan, tasks)

    def _task_reports(self, plan: Plan, open_tasks: list[TaskRow], rule: DueRule) -> None:
        """The periods each reporting department owes (the line's link opens the oldest); the items
        only on a working day and when check-ins are swept."""
        reported = reported_periods(plan)
        ask = "checkin" in self.kinds and self.cal.is_workday(self.today)
        for task in open_tasks:
            start, until = reporting_window(task.start, task.due, plan.end)
            for dept_id in sorted(task_reporters({a.department_id: a.role for a in task.assignments})):
                # each task and department's periods are read once: let them go (memory, at scale)
                done = reported.pop((task.id, dept_id), ())
                owed = owed_periods(self.today, task.reporting_cycle, start, until, done, rule, self.cal)
                self._owed(dept_id, self.task_line(dept_id, task, plan), owed, f"task:{task.id}", ask)

    def _consolidated(self, plan: Plan, open_tasks: list[TaskRow], all_tasks: list[TaskRow], rule: DueRule) -> None:
        """One consolidated 落实 line per county and plan: the periods it owes (the plan's cycle over the
        plan's window, as the consolidated report itself counts them: ``tasks.due.plan_cycle``)."""
        implemented: dict[int, list[TaskRow]] = defaultdict(list)
        for task in open_tasks:
            for a in task.assignments:
                if owes_consolidated_report(a.role):
                    implemented[a.department_id].append(task)
        reported = consolidated_reported(plan)
        ask = "checkin" in self.kinds and self.cal.is_workday(self.today)
        cycle = plan_cycle(t.reporting_cycle for t in all_tasks)
        for dept_id in implemented:
            owed = owed_periods(self.today, cycle, plan.start, plan.end, reported[dept_id], rule, self.cal)
            self._owed(dept_id, self._consolidated_line(dept_id, plan), owed, f"consolidated:{plan.id}", ask)

    def _owed(self, dept_id: int, line: LineInfo, owed: list[PeriodDue], what: str, ask: bool) -> None:
        """The periods a department owes on a line (its link opens the oldest); when check-ins are asked
        today, one item per period: a request until it is due, a chaser from the rule's chase date."""
        line.owed = [p.period.key for p in owed]
        line.period = line.owed[0] if owed else ""
        for p in owed if ask else []:
            state = due_state(p, self.today)
            kind = "checkin_chase" if state == "chase" else "checkin"
            self.add(
                key=f"{kind}:{dept_id}:{what}:{p.period.key}",
                kind=kind,
                department_id=dept_id,
                stage=state,
                line=line,
                due=p.due,
                period=p.period.key,
            )

    def _consolidated_line(self, dept_id: int, plan: Plan) -> LineInfo:
        def make() -> LineInfo:
            return LineInfo(
                key=("consolidated", plan.id),
                title=(WORDS["consolidated"], {"plan": plan.title}),
                duty=ROLES["implementing"],
                consolidated=True,
                position=-1,
            )

        return self.line(dept_id, ("consolidated", plan.id), make)

    def _deadlines(self, plan: Plan, open_tasks: list[TaskRow]) -> None:
        for task in open_tasks:
            stage = self.deadline_stage(task.due)
            if stage is None:
                continue
            kind = "chase" if stage.startswith("after-") else "deadline"
            for a in task.assignments:
                if a.role in ANSWER_ROLES:
                    line = self.task_line(a.department_id, task, plan)
                    body: Text = (WORDS["task_deadline"], {"due": task.due})
                elif owes_consolidated_report(a.role):
                    line = self._consolidated_line(a.department_id, plan)
                    body = (WORDS["implemented_deadline"], {"task": (task.label,), "due": task.due})
                else:
                    continue
                self.add(
                    key=f"{kind}:{a.department_id}:task:{task.id}:{stage}:{task.due}",
                    kind=kind,
                    department_id=a.department_id,
                    stage=stage,
                    line=line,
                    body=body,
                    due=task.due,
                )

    def _targets(self, plan: Plan, open_tasks: dict[int, TaskRow], coordinating: list[Department]) -> None:
        targets = db.session.execute(
            db.select(Target.id, Target.task_id, Target.county_id, Target.name, Target.due)
            .filter_by(plan_id=plan.id)
            .order_by(Target.position)
        ).all()
        met = {
            tid
            for (tid,) in db.session.execute(
                db.select(TargetValue.target_id)
                .join(Target)
                .outerjoin(CheckIn, CheckIn.id == TargetValue.checkin_id)
                # a draft's value is its department's alone: it reports nothing yet
                .where(
                    TargetValue.period_end >= Target.due,
                    (CheckIn.id.is_(None) & (TargetValue.state != "returned")) | (CheckIn.state != "draft"),
                )
                # only the target's own unit's figure meets it (tracker.tasks.figures): the city's for a
                # city target, the county's for a county's; a county's or a department's share does not
                .where(
                    ((Target.county_id.is_(None)) & (TargetValue.unit_kind == "city"))
                    | ((TargetValue.unit_kind == "county") & (TargetValue.county_id == Target.county_id))
                )
                .distinct()
            )
        }
        county_governments: dict[int, list[Department]] = defaultdict(list)
        for d in db.session.scalars(db.select(Department).filter_by(kind="county")):
            if d.county_id is not None:
                county_governments[d.county_id].append(d)
        for target in targets:
            if target.id in met:
                continue
            stage = self.deadline_stage(target.due)
            if stage is None:
                continue
            lines: list[tuple[int, LineInfo]]
            if target.task_id is not None:
                task = open_tasks.get(target.task_id)
                if task is None:  # the task is closed: its targets are judged with it
                    continue
                lines = [
                    (a.department_id, self.task_line(a.department_id, task, plan))
                    for a in task.assignments
                    if a.role in ANSWER_ROLES
                ]
            elif target.county_id is not None:
                lines = [
                    (d.id, self._targets_line(d.id, plan, "county_targets", N_("负责")))
                    for d in county_governments[target.county_id]
                ]
            else:
                lines = [(d.id, self._targets_line(d.id, plan, "city_targets", N_("统筹"))) for d in coordinating]
            kind = "chase" if stage.startswith("after-") else "deadline"
            for dept_id, line in lines:
                self.add(
                    key=f"{kind}:{dept_id}:target:{target.id}:{stage}:{target.due}",
                    kind=kind,
                    department_id=dept_id,
                    stage=stage,
                    line=line,
                    body=(WORDS["target_deadline"], {"name": target.name, "due": target.due}),
                    due=target.due,
                )

    def _targets_line(self, dept_id: int, plan: Plan, which: str, duty: str) -> LineInfo:
        def make() -> LineInfo:
            return LineInfo(
                key=(which, plan.id), title=(WORDS[which], {"plan": plan.title}), duty=duty, figures=True, position=-1
            )

        return self.line(dept_id, (which, plan.id), make)

    def _escalations(self, plan: Plan, open_tasks: list[TaskRow], coordinating: list[Department]) -> None:
        for task in open_tasks:
            if not policy.is_escalated(task.due, self.today, self.stages):
                continue
            leads = "、".join(self.department_name(a.department_id) for a in task.assignments if a.role in ANSWER_ROLES)
            for coord in coordinating:
                self.add(
                    key=f"escalation:{coord.id}:task:{task.id}:{task.due}",
                    kind="escalation",
                    department_id=coord.id,
                    stage="escalation",
                    line=self.task_line(coord.id, task, plan),
                    body=(
                        N_("逾期 %(days)s 天；责任单位：%(leads)s"),
                        {"days": (self.today - task.due).days, "leads": leads or "—"},
                    ),
                    due=task.due,
                )

    def _finals(self, plan: Plan, tasks: list[TaskRow]) -> None:
        for dept_id in sorted({a.department_id for t in tasks for a in t.assignments}):
            line = self.line(
                dept_id,
                ("final", plan.id),
                lambda: LineInfo(key=("final", plan.id), title=(WORDS["final"], {"plan": plan.title}), position=-1),
            )
            self.add(
                key=f"final:{dept_id}:plan:{plan.key}",
                kind="final",
                department_id=dept_id,
                stage="final",
                line=line,
                body=(N_("%(plan)s：请报送终期考核（五年总结评估）材料"), {"plan": plan.title}),
            )

    # -- returned reports ----------------------------------------------------------------------

    def returned(self) -> None:
        """A report returned and not yet fixed (the latest of its task, department and period)."""
        rows = db.session.scalars(
            db.select(CheckIn)
            .where(latest_in("returned"))
            .options(
                selectinload(CheckIn.task).selectinload(Task.assignments),
                selectinload(CheckIn.task).joinedload(Task.plan),
            )
        ).all()
        comments = {
            checkin_id: comment
            for checkin_id, comment in db.session.execute(
                db.select(Review.checkin_id, Review.comment)
                .where(Review.checkin_id.in_([c.id for c in rows]), Review.decision == "return")
                .order_by(Review.id)
            )
        }
        for checkin in rows:
            task = checkin.task
            if is_closed(task.plan):
                continue
            line = self.task_line(checkin.department_id, task, task.plan)
            line.period = line.period or checkin.period
            comment = comments.get(checkin.id)
            self.add(
                key=f"returned:{checkin.department_id}:checkin:{checkin.id}",
                kind="returned",
                department_id=checkin.department_id,
                stage="returned",
                line=line,
                body=(N_("%(period)s 的报送被退回：%(comment)s"), {"period": checkin.period, "comment": comment})
                if comment
                else (N_("%(period)s 的报送被退回"), {"period": checkin.period}),
                period=checkin.period,
            )

    # -- reports waiting for the department head's sign-off (单位负责人审核) -------------------------

    def awaiting_head(self) -> None:
        """Once per report: the department hears that its submitted report waits for its head (the
        head reads the department's digest too). Not a chaser: the period is answered (due rule)."""
        rows = db.session.scalars(
            db.select(CheckIn)
            .where(CheckIn.state == "awaiting_head", CheckIn.consolidated_id.is_(None))
            .options(
                selectinload(CheckIn.task).selectinload(Task.assignments),
                selectinload(CheckIn.task).joinedload(Task.plan),
            )
            .order_by(CheckIn.id)
        ).all()
        for checkin in rows:
            task = checkin.task
            line = self.task_line(checkin.department_id, task, task.plan)
            self.add(
                key=f"awaiting_head:{checkin.department_id}:checkin:{checkin.id}",
                kind="awaiting_head",
                department_id=checkin.department_id,
                stage="awaiting_head",
                line=line,
                body=(N_("%(period)s 的报送待单位负责人审核"), {"period": checkin.period}),
                period=checkin.period,
            )
        reports = db.session.scalars(
            db.select(ConsolidatedReport)
            .filter_by(state="awaiting_head")
            .options(selectinload(ConsolidatedReport.plan))
            .order_by(ConsolidatedReport.id)
        ).all()
        for report in reports:
            self.add(
                key=f"awaiting_head:{report.department_id}:consolidated:{report.id}",
                kind="awaiting_head",
                department_id=report.department_id,
                stage="awaiting_head",
                line=self._consolidated_line(report.department_id, report.plan),
                body=(N_("%(period)s 的落实报告待单位负责人审核"), {"period": report.period}),
                period=report.period,
            )

    # -- leaders' instructions (批示) ------------------------------------------------------------

    def instructions(self) -> None:
        """Each unanswered instruction on the asked department's task line: once when written, then at
        the deadline policy's stages of its answer-by date (before it, and chased after it, numbered);
        escalated to the coordinating offices like an overdue task."""
        rows = db.session.scalars(
            db.select(Instruction)
            .filter_by(answered_at=None)
            .options(
                selectinload(Instruction.task).selectinload(Task.assignments).selectinload(Assignment.department),
                selectinload(Instruction.task).joinedload(Task.plan),
            )
            .order_by(Instruction.id)
        ).all()
        escalate = "escalation" in self.kinds and self.cal.is_workday(self.today)
        coordinating = db.session.scalars(db.select(Department).filter_by(coordinating=True)).all() if escalate else []
        for instruction in rows:
            task = instruction.task
            if not policy.is_open(task.status, task.closed_on):
                continue
            dept_id = instruction.department_id
            line = self.task_line(dept_id, task, task.plan)
            words = {"text": instruction.text[:60], "due": instruction.answer_by}
            if escalate and policy.is_escalated(instruction.answer_by, self.today, self.stages):
                asked = next((a.department.name for a in task.assignments if a.department_id == dept_id), "—")
                for coord in coordinating:  # like an overdue task: the coordinating offices take it up
                    self.add(
                        key=f"escalation:{coord.id}:instruction:{instruction.id}:{instruction.answer_by}",
                        kind="escalation",
                        department_id=coord.id,
                        stage="escalation",
                        line=self.task_line(coord.id, task, task.plan),
                        body=(
                            N_("领导批示逾期 %(days)s 天未答复：%(text)s；答复单位：%(department)s"),
                            {"days": (self.today - instruction.answer_by).days, **words, "department": asked},
                        ),
                        due=instruction.answer_by,
                    )
            if "deadline" not in self.kinds:
                continue
            self.add(
                key=f"instruction:{dept_id}:instruction:{instruction.id}",
                kind="instruction",
                department_id=dept_id,
                stage="instruction",
                line=line,
                body=(N_("领导批示：%(text)s（请于 %(due)s 前答复）"), words),
                due=instruction.answer_by,
            )
            stage = policy.deadline_stage(instruction.answer_by, self.today, self.stages, self.cal)
            dates = dict(policy.stage_dates(instruction.answer_by, self.stages, self.cal))
            # a stage already due when the instruction was written is said by its first notice
            if stage is None or dates[stage] <= city_date(instruction.created_at):
                continue
            kind = "chase" if stage.startswith("after-") else "deadline"
            self.add(
                key=f"{kind}:{dept_id}:instruction:{instruction.id}:{stage}:{instruction.answer_by}",
                kind=kind,
                department_id=dept_id,
                stage=stage,
                line=line,
                body=(N_("领导批示待答复：%(text)s，答复时限 %(due)s，%(stage)s"), words),
                due=instruction.answer_by,
            )


def latest_in(*states: str) -> Any:
    """A report in one of ``states`` (not drafts) that is the latest report (not a draft) of its task,
    department and period: what is true now (a returned report fixed by a resubmission is no longer
    returned). Asked of each report in these states (no later report of the same task, department and
    period that is not a draft, found through the task's index), rather than by grouping every report
    of the plan to find the latest (1.6 M at five times province scale, for each of two queries)."""
    later = aliased(CheckIn)
    return db.and_(
        CheckIn.state.in_(states),
        ~db.select(later.id)
        .where(
            later.task_id == CheckIn.task_id,
            later.department_id == CheckIn.department_id,
            later.period == CheckIn.period,
            later.id > CheckIn.id,
            later.state != "draft",
        )
        .exists(),
    )


def _task_subject(task: TaskLike) -> Text:
    return ("%(label)s %(title)s", {"label": task.label, "title": task.title})
