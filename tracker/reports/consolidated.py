"""The county governments' consolidated 落实 report: one report per county and period covering every
measure the county implements (status and narrative per measure), instead of one report per measure.

What it owns:

* which measures a county reports on (:func:`county_measures`): every task of the plan where its
  department holds the ``implementing`` role and which is neither done nor closed;
* which period the form opens and which periods the county owes (:func:`default_period`,
  :func:`owed`): the one due rule of :mod:`tracker.tasks.due` over the plan's window, on the plan's most
  common reporting cycle, a period counting as reported once a consolidated report for it is submitted
  or approved;
* saving a draft or submitting (:func:`save_report`) and reviewing (:func:`review_report`), each in one
  transaction with all its lines.

The lines are :class:`~tracker.models.CheckIn` rows with ``consolidated_id`` set, so every page that
shows a task's reports shows the county's line; they follow the report's state (a review of the report
is recorded on each line too). A returned report is fixed by a new report that supersedes it, each new
line superseding the returned line of its measure. A record changed by someone else since the caller
read it raises :class:`~tracker.reports.service.StaleEdit` (the web answers 409).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from .. import audit
from ..errors import NotFound
from ..extensions import db
from ..models import Assignment, CheckIn, ConsolidatedReport, Department, Plan, Review, Task
from ..models.plan import TASK_STATUSES
from ..tasks.due import DueRule, PeriodDue, form_period, owed_periods, period_due
from ..tasks.due import plan_cycle as due_plan_cycle
from ..tasks.duties import CONSOLIDATED_ROLE
from ..tasks.lifecycle import ensure_open, is_closed
from ..tasks.periods import Period
from ..tasks.queries import current_plan
from ..tasks.workdays import Workdays
from .separation import review_refusal
from .service import OwnDepartmentReview, ReportError, StaleEdit
from .states import LOCKED_WORDS, REPORTED_STATES, submitted_state

__all__ = [
    "CountyDue",
    "LineInput",
    "Measure",
    "check_period",
    "county_due",
    "county_measures",
    "default_period",
    "form_rows",
    "implements_measures",
    "latest_report",
    "owed",
    "plan_cycle",
    "report_history",
    "report_lines",
    "reported_periods",
    "review_queue",
    "review_report",
    "save_report",
]


@dataclass
class LineInput:
    """One measure's line as posted: status and narrative; the percent is optional."""

    task_id: int
    status: str
    narrative: str = ""
    percent: int | None = None


@dataclass
class Measure:
    """A row of the form: the measure and the county's line on it in the report shown (if any)."""

    task: Task
    line: CheckIn | None


# --- which measures, which periods ---------------------------------------------------------------


def county_measures(plan: Plan, department_id: int) -> list[Task]:
    """The plan's tasks the department implements (落实) that are neither done nor closed, in plan order."""
    return list(
        db.session.scalars(
            db.select(Task)
            .join(Assignment, Assignment.task_id == Task.id)
            .where(
                Task.plan_id == plan.id,
                Assignment.department_id == department_id,
                Assignment.role == CONSOLIDATED_ROLE,
                Task.status != "done",
                Task.closed_on.is_(None),
            )
            .order_by(Task.position, Task.id)
        )
    )


def implements_measures(plan: Plan, department_id: int | None) -> bool:
    """Whether the department holds the implementing role on any task of the plan (owes the report)."""
    if department_id is None:
        return False
    found = db.session.scalar(
        db.select(Assignment.id)
        .join(Task, Task.id == Assignment.task_id)
        .where(
            Task.plan_id == plan.id,
            Assignment.department_id == department_id,
            Assignment.role == CONSOLIDATED_ROLE,
        )
        .limit(1)
    )
    return found is not None


def plan_cycle(plan: Plan) -> str:
    """The plan's most common reporting cycle (quarter for the seed; quarter also for a plan without tasks).

    Ties go to the shorter cycle: a county reporting more often never misses a measure's period.
    """
    return due_plan_cycle(db.session.scalars(db.select(Task.reporting_cycle).where(Task.plan_id == plan.id)))


def reported_periods(plan_id: int, department_id: int) -> set[str]:
    """The periods for which the county has a submitted or approved consolidated report."""
    return set(
        db.session.scalars(
            db.select(ConsolidatedReport.period).where(
                ConsolidatedReport.plan_id == plan_id,
                ConsolidatedReport.department_id == department_id,
                ConsolidatedReport.state.in_(REPORTED_STATES),
            )
        )
    )


def owed(plan: Plan, department_id: int, today: date, cal: Workdays) -> list[PeriodDue]:
    """The periods the county owes its consolidated report for by ``today``, oldest first (the one due rule)."""
    return owed_periods(
        today,
        plan_cycle(plan),
        plan.start,
        plan.end,
        reported_periods(plan.id, department_id),
        DueRule.of(plan),
        cal,
    )


def default_period(plan: Plan, department_id: int, today: date, cal: Workdays) -> Period:
    """The period the form opens without one named: the oldest owed, else the next one to report."""
    return form_period(
        today,
        plan_cycle(plan),
        plan.start,
        plan.end,
        reported_periods(plan.id, department_id),
        DueRule.of(plan),
        cal,
    )


@dataclass
class CountyDue:
    """What 我的任务 shows a county: its one consolidated report, the period the form opens, what it owes."""

    plan: Plan
    period: Period
    due: PeriodDue
    owed: list[PeriodDue]
    current: ConsolidatedReport | None
    measures: int

    @property
    def due_now(self) -> bool:
        return self.current is None or self.current.state in {"draft", "returned"}


def county_due(department_id: int | None, today: date, cal: Workdays) -> CountyDue | None:
    """The consolidated report a county owes, for 我的任务; None for a department that implements nothing."""
    try:
        plan = current_plan(today)
    except NotFound:
        return None
    if is_closed(plan) or not implements_measures(plan, department_id):
        return None
    assert department_id is not None
    period = default_period(plan, department_id, today, cal)
    return CountyDue(
        plan=plan,
        period=period,
        due=period_due(period, DueRule.of(plan), cal),
        owed=owed(plan, department_id, today, cal),
        current=latest_report(plan.id, department_id, period.key),
        measures=len(county_measures(plan, department_id)),
    )


def check_period(plan: Plan, period: Period) -> None:
    """A consolidated report is for a period of the plan's cycle inside the plan's window."""
    cycle = plan_cycle(plan)
    if period.cycle != cycle or period.end < plan.start or period.start > plan.end:
        raise ReportError(_("报送期 %(key)s 不在本计划的报送期内。", key=period.key))


# --- reading -------------------------------------------------------------------------------------


def latest_report(plan_id: int, department_id: int, period_key: str) -> ConsolidatedReport | None:
    """The newest consolidated report of a county for a period (a fix supersedes a returned one)."""
    return db.session.scalar(
        db.select(ConsolidatedReport)
        .filter_by(plan_id=plan_id, department_id=department_id, period=period_key)
        .order_by(ConsolidatedReport.id.desc())
        .limit(1)
    )


def report_lines(report: ConsolidatedReport) -> list[CheckIn]:
    """The report's lines in plan order, with their tasks."""
    return list(
        db.session.scalars(
            db.select(CheckIn)
            .join(Task, Task.id == CheckIn.task_id)
            .where(CheckIn.consolidated_id == report.id)
            .options(selectinload(CheckIn.task))
            .order_by(Task.position, Task.id)
        )
    )


def form_rows(plan: Plan, department_id: int, report: ConsolidatedReport | None) -> list[Measure]:
    """The rows of the form: a report already submitted shows its own lines; an editable one the measures
    the county implements now, with the lines it already holds."""
    lines = report_lines(report) if report is not None else []
    if report is not None and report.state in REPORTED_STATES:
        return [Measure(line.task, line) for line in lines]
    by_task = {line.task_id: line for line in lines}
    return [Measure(task, by_task.get(task.id)) for task in county_measures(plan, department_id)]


def review_queue() -> list[ConsolidatedReport]:
    """Submitted consolidated reports, oldest first, with their departments and plans (the queue asks the
    plan's separation-of-duties rule)."""
    return list(
        db.session.scalars(
            db.select(ConsolidatedReport)
            .filter_by(state="submitted")
            .options(selectinload(ConsolidatedReport.department), selectinload(ConsolidatedReport.plan))
            .order_by(ConsolidatedReport.submitted_at, ConsolidatedReport.id)
        )
    )


def report_history(report: ConsolidatedReport) -> list[tuple[ConsolidatedReport, list[Review]]]:
    """The report and the returned ones it supersedes, newest first, each with the review of its lines
    (one decision per report: the first line's reviews stand for all)."""
    chain = list(
        db.session.scalars(
            db.select(ConsolidatedReport)
            .filter_by(plan_id=report.plan_id, department_id=report.department_id, period=report.period)
            .where(ConsolidatedReport.id <= report.id)
            .order_by(ConsolidatedReport.id.desc())
        )
    )
    first_lines: dict[int, int] = {}
    for line_id, report_id in db.session.execute(
        db.select(CheckIn.id, CheckIn.consolidated_id)
        .where(CheckIn.consolidated_id.in_([r.id for r in chain]))
        .order_by(CheckIn.id.desc())
    ):
        first_lines[report_id] = line_id  # descending: the lowest id wins
    reviews: dict[int, list[Review]] = {}
    for r in db.session.scalars(
        db.select(Review).where(Review.checkin_id.in_(list(first_lines.values()) or [-1])).order_by(Review.id)
    ):
        reviews.setdefault(r.checkin_id, []).append(r)
    return [(r, reviews.get(first_lines.get(r.id, -1), [])) for r in chain]


# --- writing -------------------------------------------------------------------------------------


def _problems(lines: list[LineInput], measures: dict[int, Task], submit: bool) -> list[str]:
    problems: list[str] = []
    for line in lines:
        task = measures.get(line.task_id)
        if task is None:
            problems.append(_("所报措施不是本单位落实的措施。"))
            continue
        if line.status not in TASK_STATUSES:
            problems.append(_("%(label)s：请选择状态。", label=task.label))
        if line.percent is not None and not 0 <= line.percent <= 100:
            problems.append(_("%(label)s：完成百分比应在 0 到 100 之间。", label=task.label))
        if submit and not line.narrative.strip():
            problems.append(_("%(label)s：提交前请填写落实情况。", label=task.label))
    if submit:
        missing = [t.label for t in measures.values() if t.id not in {line.task_id for line in lines}]
        if missing:
            problems.append(_("提交前请填写每一项措施：%(labels)s", labels=_("、").join(missing)))
    return problems


def _lock_department(department_id: int) -> None:
    # Serialises concurrent first saves of one county's report on PostgreSQL (SQLite serialises writes).
    db.session.execute(db.select(Department.id).where(Department.id == department_id).with_for_update())


def _flush_or_conflict(message: str) -> None:
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise StaleEdit(message) from None


def _separate_reports(department_id: int, period: Period, task_ids: list[int]) -> list[str]:
    """Measures on which the county already has a live report of its own for the period (outside any
    consolidated report): the consolidated line would be a second live report on that measure."""
    return list(
        db.session.scalars(
            db.select(Task.label)
            .join(CheckIn, CheckIn.task_id == Task.id)
            .where(
                CheckIn.department_id == department_id,
                CheckIn.period == period.key,
                CheckIn.task_id.in_(task_ids or [-1]),
                CheckIn.consolidated_id.is_(None),
                CheckIn.state != "returned",
            )
            .order_by(Task.position, Task.id)
        )
    )


def save_report(
    *,
    plan: Plan,
    department_id: int,
    period: Period,
    lines: list[LineInput],
    submit: bool,
    now: datetime,
    user_id: int | None,
    editing_id: int | None,
    version_id: int | None,
) -> ConsolidatedReport:
    """Save a draft of, or submit, a county's consolidated report for a period, with all its lines.

    ``editing_id``/``version_id`` name the report the form was opened on (None for a new one). A draft is
    edited in place; a returned report is fixed by a new report superseding it; a submitted or approved
    report is not changed. Submitting needs a line with a narrative for every measure the county implements.
    """
    ensure_open(plan)
    check_period(plan, period)
    measures = {t.id: t for t in county_measures(plan, department_id)}
    problems = _problems(lines, measures, submit)
    if problems:
        raise ReportError(" ".join(problems))
    _lock_department(department_id)
    current = latest_report(plan.id, department_id, period.key)
    stale = _("本期落实报告已被他人修改，请核对后重新保存。")
    previous_lines: dict[int, CheckIn] = {}
    if current is None:
        if editing_id is not None:
            raise StaleEdit(stale)
        report = _new_report(plan, department_id, period, now, user_id, supersedes=None)
    elif current.state == "draft":
        if editing_id != current.id or version_id != current.version_id:
            raise StaleEdit(stale, {"state": current.state})
        report = current
        flag_modified(report, "state")  # every save of a draft moves its version, lines or not
    elif current.state == "returned":
        if editing_id != current.id or (version_id is not None and version_id != current.version_id):
            raise StaleEdit(stale, {"state": current.state})
        previous_lines = {line.task_id: line for line in report_lines(current)}
        report = _new_report(plan, department_id, period, now, user_id, supersedes=current.id)
    else:
        state = _(LOCKED_WORDS[current.state])
        raise StaleEdit(_("本期落实报告%(state)s，不能再修改。", state=state), {"state": current.state})

    separate = _separate_reports(department_id, period, [line.task_id for line in lines])
    if separate:
        raise ReportError(_("以下措施本期已单独报送，不能再列入落实报告：%(labels)s", labels=_("、").join(separate)))
    if submit:
        report.state = submitted_state(department_id)  # its head signs off first where required
        report.submitted_at = now
    _flush_or_conflict(stale)

    existing = {line.task_id: line for line in report_lines(report)} if report is current else {}
    posted = {line.task_id for line in lines}
    for task_id, old in existing.items():
        if task_id not in posted:  # a measure dropped from a draft
            db.session.delete(old)
    for data in lines:
        line = existing.get(data.task_id)
        if line is None:
            line = CheckIn(
                task_id=data.task_id,
                department_id=department_id,
                period=period.key,
                period_start=period.start,
                period_end=period.end,
                consolidated_id=report.id,
                supersedes_id=previous_lines[data.task_id].id if data.task_id in previous_lines else None,
                author_id=user_id,
                created_at=now,
            )
            db.session.add(line)
        line.status = data.status
        line.narrative = data.narrative.strip()
        line.percent = data.percent if data.percent is not None else (100 if data.status == "done" else 0)
        line.state = report.state
        line.submitted_at = report.submitted_at
    _flush_or_conflict(stale)
    if submit:
        audit.record(
            now=now,
            action="submit",
            entity="consolidated_report",
            entity_id=report.id,
            new=f"{period.key} ×{len(lines)}",
            user_id=user_id,
        )
    db.session.commit()
    return report


def _new_report(
    plan: Plan, department_id: int, period: Period, now: datetime, user_id: int | None, supersedes: int | None
) -> ConsolidatedReport:
    report = ConsolidatedReport(
        plan_id=plan.id,
        department_id=department_id,
        period=period.key,
        period_start=period.start,
        period_end=period.end,
        state="draft",
        author_id=user_id,
        created_at=now,
        supersedes_id=supersedes,
    )
    db.session.add(report)
    return report


def review_report(
    *, report_id: int, decision: str, comment: str, now: datetime, user_id: int | None, version_id: int | None
) -> ConsolidatedReport:
    """A coordinator approves, or returns with a comment, the whole report; every line follows it and
    carries the review, so each measure's timeline shows the decision."""
    report = db.session.get(ConsolidatedReport, report_id)
    if report is None:
        raise NotFound(_("没有这份落实报告。"))
    ensure_open(report.plan)
    if decision not in {"approve", "return"}:
        raise ReportError(_("请选择通过或退回。"))
    comment = comment.strip()
    if decision == "return" and not comment:
        raise ReportError(_("退回时请填写意见，说明需要修改什么。"))
    refusal = review_refusal(report.plan, report.department_id, user_id)
    if refusal:
        raise OwnDepartmentReview(refusal)
    if report.state != "submitted" or (version_id is not None and version_id != report.version_id):
        raise StaleEdit(_("该落实报告已被他人审核或修改，请刷新后查看。"), {"state": report.state})
    report.state = "approved" if decision == "approve" else "returned"
    for line in report_lines(report):
        line.state = report.state
        db.session.add(
            Review(checkin_id=line.id, reviewer_id=user_id, decision=decision, comment=comment, created_at=now)
        )
    _flush_or_conflict(_("该落实报告已被他人审核，请刷新后查看。"))
    audit.record(
        now=now, action=decision, entity="consolidated_report", entity_id=report.id, new=comment, user_id=user_id
    )
    db.session.commit()
    return report


def snapshot(report: ConsolidatedReport | None) -> dict[str, Any]:
    """What the conflict table compares: the report's state."""
    return {"state": report.state} if report is not None else {}
