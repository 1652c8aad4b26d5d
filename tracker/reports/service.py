"""Progress reporting rules shared by the web and the CLI: check-ins, reviews, closing a task,
deadline extensions, acknowledging an assignment, breaking a task down, coordinators' task edits.

Every function takes ``now`` and the acting user's ids; it checks the state it needs, writes the
change and its history in one transaction and commits. A record changed by someone else since the
caller read it (``version_id``) raises ``ConflictError``; nothing is silently overwritten.
A task of a closed plan refuses every one of them (``tracker.tasks.lifecycle.ensure_task_open``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .. import audit
from ..accounts.permissions import primary_department_ids
from ..clock import city_date
from ..contacts import parse_email_list
from ..errors import ConflictError, NotFound, TrackerError
from ..extensions import db
from ..i18n import N_
from ..models import Assignment, CheckIn, Department, ExtensionRequest, Review, Target, TargetValue, Task
from ..models.org import ROLES
from ..models.plan import REPORTING_CYCLES, TASK_STATUSES
from ..numbers import NumberError, finite_number
from ..tasks.due import DueRule, form_period, reporting_window
from ..tasks.figures import value_unit
from ..tasks.lifecycle import ensure_task_open
from ..tasks.periods import Period, parse_period
from ..tasks.queries import city_workdays
from ..tasks.workdays import Workdays
from .separation import review_refusal
from .states import LOCKED_WORDS, REPORTED_STATES, submitted_state

# Field name -> its label (Chinese; translated where shown, e.g. the conflict table of a stale edit).
CHECKIN_FIELDS = {
    "status": N_("状态"),
    "percent": N_("完成百分比"),
    "narrative": N_("进展情况"),
    "problems": N_("存在问题"),
    "next_steps": N_("下步计划"),
}
TASK_EDIT_FIELDS = {"title": N_("任务名称"), "due": N_("完成时限"), "reporting_cycle": N_("报送周期")}


class ReportError(TrackerError):
    """A report, review or request is refused for a reason the user can fix (shown on the form)."""


class OwnDepartmentReview(ReportError):
    """The reviewer may not decide on this report: it is their own department's (separation of duties;
    the API answers 403)."""


class StaleEdit(ConflictError):
    """Someone else saved the record first; ``current`` holds the values now stored."""

    def __init__(self, message: str, current: dict[str, Any] | None = None):
        super().__init__(message)
        self.current = current or {}


@dataclass
class ValueInput:
    target_id: int
    value: float
    source: str


@dataclass
class CheckInData:
    status: str
    percent: int
    narrative: str = ""
    problems: str = ""
    next_steps: str = ""
    values: list[ValueInput] = field(default_factory=list)


def snapshot(obj: Any, fields: dict[str, str] | tuple[str, ...]) -> dict[str, Any]:
    """The listed attributes as plain text, for showing what changed between two reads."""
    return {name: audit._text(getattr(obj, name)) for name in fields}


# --- periods and targets -------------------------------------------------------------------------


def reported_periods(task_id: int, department_id: int) -> set[str]:
    """The periods a department has a submitted or approved report for on a task (or one waiting for
    its head's sign-off: the department has answered, the report is not chased as missing)."""
    return set(
        db.session.scalars(
            db.select(CheckIn.period).where(
                CheckIn.task_id == task_id,
                CheckIn.department_id == department_id,
                CheckIn.state.in_(REPORTED_STATES),
            )
        )
    )


def reporting_period(
    task: Task,
    today: date,
    key: str | None = None,
    *,
    department_id: int | None = None,
    reported: Collection[str] | None = None,
    cal: Workdays | None = None,
) -> Period:
    """The period a report is for.

    Without ``key``: the due rule's form period — the oldest period the department still owes
    (``reported`` are the periods it has a submitted or approved report for; read from the database
    when ``department_id`` is given). With ``key``: that period, which must be of the task's cycle
    and inside its reporting window (``ValueError`` otherwise).
    """
    start, until = reporting_window(task.start, task.due, task.plan.end)
    if not key:
        if reported is None:
            reported = reported_periods(task.id, department_id) if department_id is not None else set()
        return form_period(
            today, task.reporting_cycle, start, until, reported, DueRule.of(task.plan), cal or city_workdays()
        )
    period = parse_period(key)
    if period.cycle != task.reporting_cycle:
        cycle = REPORTING_CYCLES.get(task.reporting_cycle, task.reporting_cycle)
        raise ValueError(_("本任务按%(cycle)s报送，报送期 %(key)s 不符。", cycle=_(cycle), key=key))
    if period.end < start or period.start > until:
        raise ValueError(
            _(
                "报送期 %(key)s 不在本任务的报送期限内（%(start)s 至 %(until)s）。",
                key=key,
                start=start.isoformat(),
                until=until.isoformat(),
            )
        )
    return period


def reportable_targets(task: Task, department: Department) -> list[Target]:
    """The task's targets a department reports on: the shared ones and those of its own county."""
    return [t for t in task.targets if t.county_id is None or t.county_id == department.county_id]


def latest_checkin(task_id: int, department_id: int, period_key: str) -> CheckIn | None:
    """The newest report of a department on a task for a period (a fix supersedes a returned one)."""
    return db.session.scalar(
        db.select(CheckIn)
        .filter_by(task_id=task_id, department_id=department_id, period=period_key)
        .order_by(CheckIn.id.desc())
        .limit(1)
    )


def _lock_task(task_id: int) -> None:
    # Serialises concurrent first saves of one task's reports on PostgreSQL (SQLite serialises writes).
    db.session.execute(db.select(Task.id).where(Task.id == task_id).with_for_update())


def _flush_or_conflict(message: str, obj: Any, fields: dict[str, str] | tuple[str, ...]) -> None:
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        fresh = db.session.get(type(obj), obj.id)
        raise StaleEdit(message, snapshot(fresh, fields) if fresh else {}) from None


# --- check-ins -----------------------------------------------------------------------------------


# The rules of a report's status and percent, worded once (the submission service uses them too).
STATUS_CHOICE = N_("请选择状态（%(choices)s）。")
PERCENT_RANGE = N_("完成百分比应为 0 到 100 之间的整数。")
DONE_IS_100 = N_("状态为“已完成”时，完成百分比应为 100。")


def checkin_problems(data: CheckInData) -> dict[str, str]:
    """What is wrong with a report's status and percent, by field name (empty when it is fine)."""
    if data.status not in TASK_STATUSES:
        return {"status": _(STATUS_CHOICE, choices=" / ".join(TASK_STATUSES))}
    if not 0 <= data.percent <= 100:
        return {"percent": _(PERCENT_RANGE)}
    if data.status == "done" and data.percent != 100:
        return {"percent": _(DONE_IS_100)}
    for v in data.values:  # the views check each value already; this guards every other caller
        try:
            finite_number(v.value)
        except NumberError as exc:
            return {"values": str(exc)}
    return {}


def validate_checkin(data: CheckInData) -> None:
    for message in checkin_problems(data).values():
        raise ReportError(message)


def save_checkin(
    *,
    task: Task,
    department_id: int,
    period: Period,
    data: CheckInData,
    submit: bool,
    now: datetime,
    user_id: int | None,
    editing_id: int | None,
    version_id: int | None,
) -> CheckIn:
    """Save a draft or submit a department's report for a period, and commit (no evidence: the
    submission service in ``tracker.reports.submission`` adds files in the same transaction)."""
    validate_checkin(data)
    checkin = write_checkin(
        task=task,
        department_id=department_id,
        period=period,
        data=data,
        submit=submit,
        now=now,
        user_id=user_id,
        editing_id=editing_id,
        version_id=version_id,
    )
    db.session.commit()
    return checkin


LIVE_CONFLICT = N_("本单位已有人先保存了本期报告，请核对后重新保存。")


def write_checkin(
    *,
    task: Task,
    department_id: int,
    period: Period,
    data: CheckInData,
    submit: bool,
    now: datetime,
    user_id: int | None,
    editing_id: int | None,
    version_id: int | None,
    via_link: bool = False,
    link_message_id: int | None = None,
) -> CheckIn:
    """Write a report and its values into the session without committing; the caller commits.

    ``editing_id``/``version_id`` name the record the form was opened on (None for a new report).
    A draft is edited in place; a returned report is fixed by a new check-in that supersedes it;
    a submitted or approved report is not changed. A second live report for the period (two first
    saves at once) is refused by the database's unique index and answered as a conflict.
    """
    ensure_task_open(task)
    _lock_task(task.id)
    current = latest_checkin(task.id, department_id, period.key)
    stale = _("本期报告已被他人修改，请核对后重新保存。")
    if current is None:
        if editing_id is not None:
            raise StaleEdit(stale)
        checkin = _new_checkin(task, department_id, period, now, user_id, supersedes=None)
    elif current.state == "draft":
        if editing_id != current.id or version_id != current.version_id:
            raise StaleEdit(stale, snapshot(current, CHECKIN_FIELDS))
        checkin = current
    elif current.state == "returned":
        if editing_id != current.id or (version_id is not None and version_id != current.version_id):
            raise StaleEdit(stale, snapshot(current, CHECKIN_FIELDS))
        checkin = _new_checkin(task, department_id, period, now, user_id, supersedes=current.id)
    else:
        state = _(LOCKED_WORDS[current.state])
        raise StaleEdit(_("本期报告%(state)s，不能再修改。", state=state), snapshot(current, CHECKIN_FIELDS))

    for name in CHECKIN_FIELDS:
        setattr(checkin, name, getattr(data, name))
    if checkin.author_id is None:
        checkin.author_id = user_id
    if via_link:
        checkin.via_link = True
        checkin.via_link_message_id = link_message_id
    if submit:
        checkin.state = submitted_state(department_id)  # its head signs off first where required
        checkin.submitted_at = now
    try:
        _flush_or_conflict(stale, checkin, CHECKIN_FIELDS)
    except IntegrityError:
        db.session.rollback()
        live = latest_checkin(task.id, department_id, period.key)
        raise StaleEdit(_(LIVE_CONFLICT), snapshot(live, CHECKIN_FIELDS) if live else {}) from None

    # While a draft, its values are replaced with each save; once submitted they are never touched.
    for old in db.session.scalars(db.select(TargetValue).filter_by(checkin_id=checkin.id)):
        db.session.delete(old)
    # Each value measures one unit (tracker.tasks.figures.value_unit): the city when the department
    # answers for the task, its county for a county government, else the department's own share.
    department = db.session.get(Department, department_id)
    roles = [(a.department_id, a.role) for a in task.assignments]
    for v in data.values:
        target = db.session.get(Target, v.target_id)
        assert target is not None
        unit_kind, county_id = value_unit(target, department, roles)
        db.session.add(
            TargetValue(
                target_id=v.target_id,
                period=period.key,
                period_end=period.end,
                value=v.value,
                source=v.source,
                checkin_id=checkin.id,
                department_id=department_id,
                reporter_id=user_id,
                created_at=now,
                unit_kind=unit_kind,
                county_id=county_id,
            )
        )
    if submit:
        audit.record(
            now=now,
            action="submit",
            entity="check_in",
            entity_id=checkin.id,
            new=period.key,
            user_id=user_id,
            actor=f"reminder-link:{department_id}:{link_message_id or ''}" if via_link else "",
        )
    return checkin


def _new_checkin(
    task: Task, department_id: int, period: Period, now: datetime, user_id: int | None, supersedes: int | None
) -> CheckIn:
    checkin = CheckIn(
        task_id=task.id,
        department_id=department_id,
        period=period.key,
        period_start=period.start,
        period_end=period.end,
        state="draft",
        supersedes_id=supersedes,
        author_id=user_id,
        created_at=now,
    )
    db.session.add(checkin)
    return checkin


def is_closing_request(checkin: CheckIn, assignments: list[Assignment]) -> bool:
    """A primary department's report of 已完成 asks to close the task (办结申请)."""
    return checkin.status == "done" and checkin.department_id in primary_department_ids(assignments)


def review_checkin(
    *,
    checkin_id: int,
    decision: str,
    comment: str,
    now: datetime,
    user_id: int | None,
    version_id: int | None,
    commit: bool = True,
) -> CheckIn:
    """Approve or return (with a comment) a submitted report; the one review service (web, API, bulk).

    A coordinator does not review their own department's report where the plan says so
    (:mod:`tracker.reports.separation`). ``commit=False`` leaves the commit to the caller (bulk
    approval decides on several reports in one transaction).

    Approving a primary department's report sets the task's status and progress from it; if it
    reports 已完成 the approval closes the task (销号) on today's city date.
    """
    checkin = db.session.get(CheckIn, checkin_id)
    if checkin is None:
        raise NotFound(_("没有这份报告。"))
    if checkin.consolidated_id is not None:  # its line follows the county's consolidated report
        raise ReportError(_("这是县级落实报告中的一项，请审核整份落实报告。"))
    ensure_task_open(checkin.task)
    if decision not in {"approve", "return"}:
        raise ReportError(_("请选择通过或退回。"))
    comment = comment.strip()
    if decision == "return" and not comment:
        raise ReportError(_("退回时请填写意见，说明需要修改什么。"))
    refusal = review_refusal(checkin.task.plan, checkin.department_id, user_id)
    if refusal:
        raise OwnDepartmentReview(refusal)
    if checkin.state != "submitted" or (version_id is not None and version_id != checkin.version_id):
        raise StaleEdit(_("该报告已被他人审核或修改，请刷新后查看。"), snapshot(checkin, ("state",)))
    checkin.state = "approved" if decision == "approve" else "returned"
    db.session.add(
        Review(checkin_id=checkin.id, reviewer_id=user_id, decision=decision, comment=comment, created_at=now)
    )
    _flush_or_conflict(_("该报告已被他人审核，请刷新后查看。"), checkin, ("state",))
    task = checkin.task
    primary = primary_department_ids(task.assignments)
    if decision == "approve" and checkin.department_id in primary and _is_newest_primary(checkin, primary):
        values: dict[str, Any] = {"status": checkin.status, "progress": checkin.percent}
        if checkin.status == "done" and task.closed_on is None:
            values["closed_on"] = city_date(now)
        audit.update_fields(task, values, now=now, entity="task", user_id=user_id)
        _flush_or_conflict(_("任务已被他人修改，请刷新后重试。"), task, ("status", "progress"))
    audit.record(now=now, action=decision, entity="check_in", entity_id=checkin.id, new=comment, user_id=user_id)
    if commit:
        db.session.commit()
    return checkin


def _is_newest_primary(checkin: CheckIn, primary: set[int]) -> bool:
    """Approving a late report for an earlier period must not roll the task's status back."""
    newer = db.session.scalar(
        db.select(CheckIn.id)
        .where(
            CheckIn.task_id == checkin.task_id,
            CheckIn.department_id.in_(primary),
            CheckIn.state == "approved",
            CheckIn.id != checkin.id,
            CheckIn.period_end > checkin.period_end,
        )
        .limit(1)
    )
    return newer is None


def closure_label(task: Task) -> str | None:
    """按期办结 or 逾期办结, judged against the original deadline (extensions do not excuse)."""
    if task.closed_on is None:
        return None
    return N_("按期办结") if task.closed_on <= task.original_due else N_("逾期办结")  # translated where shown


# --- extensions ----------------------------------------------------------------------------------


def request_extension(
    *, task: Task, department_id: int, reason: str, new_due: date | None, now: datetime, user_id: int | None
) -> ExtensionRequest:
    ensure_task_open(task)
    today = city_date(now)
    reason = reason.strip()
    if not reason:
        raise ReportError(_("请填写延期理由。"))
    if new_due is None:
        raise ReportError(_("请填写新的完成时限。"))
    if today > task.due:
        raise ReportError(_("已超过完成时限（%(due)s），不能再申请延期。", due=task.due.isoformat()))
    if new_due <= task.due:
        raise ReportError(_("新的完成时限应晚于现在的时限 %(due)s。", due=task.due.isoformat()))
    if task.closed_on is not None:
        raise ReportError(_("任务已办结。"))
    pending = db.session.scalar(db.select(ExtensionRequest.id).filter_by(task_id=task.id, state="pending"))
    if pending is not None:
        raise ReportError(_("已有一份延期申请正在审批。"))
    row = ExtensionRequest(
        task_id=task.id,
        department_id=department_id,
        requested_by_id=user_id,
        reason=reason,
        old_due=task.due,
        new_due=new_due,
        state="pending",
        created_at=now,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        now=now,
        action="extension_request",
        entity="task",
        entity_id=task.id,
        field="due",
        old=task.due,
        new=new_due,
        user_id=user_id,
    )
    db.session.commit()
    return row


def decide_extension(
    *, request_id: int, approve: bool, comment: str, now: datetime, user_id: int | None, version_id: int | None
) -> ExtensionRequest:
    row = db.session.get(ExtensionRequest, request_id)
    if row is None:
        raise NotFound(_("没有这份延期申请。"))
    extended = db.session.get(Task, row.task_id)
    assert extended is not None
    ensure_task_open(extended)
    if row.state != "pending" or (version_id is not None and version_id != row.version_id):
        raise StaleEdit(_("该延期申请已被他人处理。"), snapshot(row, ("state",)))
    row.state = "approved" if approve else "rejected"
    row.decided_by_id = user_id
    row.decided_at = now
    row.comment = comment.strip()
    _flush_or_conflict(_("该延期申请已被他人处理。"), row, ("state",))
    if approve:
        task = db.session.get(Task, row.task_id)
        assert task is not None
        # Recorded as an extension, not as an edited deadline: the history shows the request's reason.
        audit.record(
            now=now,
            action="extension_approved",
            entity="task",
            entity_id=task.id,
            field="due",
            old=task.due,
            new=row.new_due,
            user_id=user_id,
        )
        task.due = row.new_due
        _flush_or_conflict(_("任务已被他人修改，请刷新后重试。"), task, ("due",))
    else:
        audit.record(
            now=now,
            action="extension_rejected",
            entity="task",
            entity_id=row.task_id,
            field="due",
            new=row.new_due,
            user_id=user_id,
        )
    db.session.commit()
    return row


# --- assignments and sub-tasks -------------------------------------------------------------------


def acknowledge(*, assignment: Assignment, now: datetime, user_id: int | None, commit: bool = True) -> Assignment:
    """The department signs for (签收) its assignment; doing it twice changes nothing.

    ``commit=False`` leaves the commit to the caller (bulk 签收 signs for all in one transaction)."""
    if assignment.acknowledged_at is None:
        ensure_task_open(assignment.task)
        audit.update_fields(
            assignment,
            {"acknowledged_at": now, "acknowledged_by_id": user_id},
            now=now,
            entity="assignment",
            user_id=user_id,
        )
        _flush_or_conflict(_("该任务已被他人签收。"), assignment, ("acknowledged_at",))
        if commit:
            db.session.commit()
    return assignment


@dataclass
class SubTaskData:
    code: str
    label: str
    title: str
    due: date | None
    departments: list[tuple[int, str]]  # (department_id, role)


def create_subtask(*, parent: Task, data: SubTaskData, now: datetime, user_id: int | None) -> Task:
    """Break a task down (分解): a sub-task with its own deadline (not after the parent's) and departments."""
    ensure_task_open(parent)
    code, label, title = data.code.strip(), data.label.strip(), data.title.strip()
    # ASCII digits only: str.isdigit() also takes "١" and "²", which sort and print differently.
    suffix = code[len(parent.code) + 1 :]
    if not code.startswith(parent.code + ".") or not (suffix.isascii() and suffix.isdigit()) or len(suffix) > 4:
        raise ReportError(_("子任务编号应为 %(code)s.1、%(code)s.2 这样的形式。", code=parent.code))
    if not label or not title:
        raise ReportError(_("请填写子任务的序号和名称。"))
    if data.due is None:
        raise ReportError(_("请填写子任务的完成时限。"))
    if data.due > parent.due:
        raise ReportError(_("子任务的完成时限不能晚于上级任务的 %(due)s。", due=parent.due.isoformat()))
    if not data.departments:
        raise ReportError(_("请至少指定一个责任单位。"))
    exists = db.session.scalar(db.select(Task.id).filter_by(plan_id=parent.plan_id, code=code))
    if exists is not None:
        raise ReportError(_("编号 %(code)s 已被使用。", code=code))
    position = _place_after_family(parent)
    task = Task(
        plan_id=parent.plan_id,
        section_id=parent.section_id,
        parent_id=parent.id,
        code=code,
        label=label,
        title=title,
        start=min(max(parent.start, city_date(now)), data.due),  # starts when it is created
        due=data.due,
        original_due=data.due,
        reporting_cycle=parent.reporting_cycle,
        position=position,
    )
    db.session.add(task)
    db.session.flush()
    for position, (department_id, role) in enumerate(data.departments):
        db.session.add(Assignment(task_id=task.id, department_id=department_id, role=role, position=position))
    audit.record(now=now, action="create", entity="task", entity_id=task.id, new=f"{code} {title}", user_id=user_id)
    audit.record(now=now, action="breakdown", entity="task", entity_id=parent.id, new=code, user_id=user_id)
    db.session.commit()
    return task


def _place_after_family(parent: Task) -> int:
    """The position for a new sub-task: right after the parent's last descendant, later tasks moved on.

    Positions stay 0, 1, 2 … in the order the task workbook lists them, so exporting the workbook and
    importing it unchanged proposes no reordering (the loader numbers rows the same way).
    """
    rows = db.session.execute(db.select(Task.id, Task.parent_id, Task.position).filter_by(plan_id=parent.plan_id)).all()
    family, last = {parent.id}, parent.position
    for id_, parent_id, position in sorted(rows, key=lambda r: (r.position, r.id)):
        if parent_id in family:
            family.add(id_)
            last = max(last, position)
    # A bulk UPDATE on purpose: a task's place is not an edit of it (no version bump, no history).
    db.session.execute(
        db.update(Task).where(Task.plan_id == parent.plan_id, Task.position > last).values(position=Task.position + 1)
    )
    return last + 1


# --- coordinators' edits -------------------------------------------------------------------------


def update_task(
    *, task: Task, values: dict[str, Any], version_id: int | None, now: datetime, user_id: int | None
) -> int:
    """Edit a task's title, deadline or reporting cycle; return how many fields changed."""
    ensure_task_open(task)
    if not str(values.get("title", task.title)).strip():
        raise ReportError(_("任务名称不能为空。"))
    if values.get("reporting_cycle", task.reporting_cycle) not in REPORTING_CYCLES:
        raise ReportError(_("报送周期应为月报、季报或年报。"))
    if values.get("due", task.due) is None:
        raise ReportError(_("请填写完成时限。"))
    message = _("任务已被他人修改，请核对后重新保存。")
    if version_id != task.version_id:
        raise StaleEdit(message, snapshot(task, TASK_EDIT_FIELDS))
    changed = audit.update_fields(task, values, now=now, entity="task", user_id=user_id)
    _flush_or_conflict(message, task, TASK_EDIT_FIELDS)
    db.session.commit()
    return changed


def update_contacts(
    *, department: Department, contact_emails: str, version_id: int | None, now: datetime, user_id: int | None
) -> int:
    emails, bad = parse_email_list(contact_emails)
    if bad:
        raise ReportError(_("电子邮件地址无效：") + _("、").join(bad))
    message = _("单位联系人已被他人修改，请核对后重新保存。")
    if version_id != department.version_id:
        raise StaleEdit(message, snapshot(department, ("contact_emails",)))
    changed = audit.update_fields(
        department, {"contact_emails": ",".join(emails)}, now=now, entity="department", user_id=user_id
    )
    _flush_or_conflict(message, department, ("contact_emails",))
    db.session.commit()
    return changed


ASSIGNMENT_FIELDS = {"role": N_("角色"), "role_text": N_("原文表述"), "note": N_("备注")}


def add_assignment(*, task: Task, department_id: int, role: str, now: datetime, user_id: int | None) -> Assignment:
    """Give one more department a role on a task; it then has to acknowledge (签收) it."""
    ensure_task_open(task)
    if role not in ROLES:
        raise ReportError(_("角色应为牵头、配合、负责或落实。"))
    department = db.session.get(Department, department_id)
    if department is None:
        raise ReportError(_("请选择单位。"))
    if not department.active:
        raise ReportError(_("%(department)s 已停用，不能承担新的任务。", department=department.name))
    if any(a.department_id == department_id for a in task.assignments):
        raise ReportError(_("该单位已在本任务的责任单位中。"))
    row = Assignment(
        task_id=task.id,
        department_id=department_id,
        role=role,
        role_text=ROLES[role],
        position=len(task.assignments),
        origin="app",
        added_by_id=user_id,
        added_at=now,
    )
    db.session.add(row)
    db.session.flush()
    words = f"{department.name} · {ROLES[role]}"
    audit.record(now=now, action="create", entity="assignment", entity_id=row.id, new=words, user_id=user_id)
    db.session.commit()
    return row
