"""The one submission service: a department's progress report from the web form or the JSON API.

Both callers only parse what they were sent into a :class:`Submission`; everything else is decided
here, once: who may report (a staff member of a department with a role on the task, or the holder
of that department's signed reminder link), which period (the due rule's form period when none is
named; a named one must be of the task's cycle and inside its reporting window; a link fixes it),
what is wrong with the input (one message per rule, by field name: the web shows it beside the
field, the API returns it in ``fields``), and the write itself.

The report, its target values and its evidence are stored in ONE transaction: the files are written
first under random names, the rows are added, and the commit comes last. If anything fails on the
way — a file cannot be stored, the database refuses the report — the session is rolled back and
the files already written are removed: a report is stored whole or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from ..accounts import permissions
from ..errors import PermissionDenied
from ..extensions import db
from ..i18n import N_
from ..models import CheckIn, Department, Task, User
from ..models.plan import TASK_STATUSES
from ..numbers import NumberError, finite_number, parse_number
from ..tasks.lifecycle import ensure_task_open
from ..tasks.periods import Period
from . import attachments
from .service import (
    DONE_IS_100,
    PERCENT_RANGE,
    STATUS_CHOICE,
    CheckInData,
    ReportError,
    ValueInput,
    reportable_targets,
    reporting_period,
    write_checkin,
)

__all__ = [
    "EvidenceStoreError",
    "InvalidReport",
    "RawValue",
    "Reporter",
    "Submission",
    "Upload",
    "check_submission",
    "report_period",
    "reporter_for_link",
    "reporter_for_user",
    "submit_report",
]

TEXT_MAX = 20000
SOURCE_MAX = 255

# One message per rule, for the web form and the API alike (the field they belong to is the key).
REPORT_FORBIDDEN = N_("只有承担本任务的单位的填报员才能报送进展。")
LINK_OTHER_PERIOD = N_("此提醒链接只能填报 %(period)s 的报告；其他报送期请登录后填报。")
NARRATIVE_REQUIRED = N_("提交前请填写进展情况。")
TEXT_TYPE = N_("应为文字。")
TEXT_LIMIT = N_("不能超过 %(limit)s 个字，且不能含 NUL 字符。")
TARGET_UNKNOWN = N_("不是本单位在本任务上报送的目标（可用：%(keys)s）")
TARGET_NONE = N_("本单位在本任务上没有要报送的目标")
TARGET_TWICE = N_("同一目标只能填一个实际值")
VALUE_MISSING = N_("请填写实际值。")
VALUE_NUMBER = N_("实际值应为数字：%(text)s")
VALUE_FINITE = N_("实际值应为有限的数字：%(text)s")
SOURCE_REQUIRED = N_("请注明数据来源。")
SOURCE_LIMIT = N_("数据来源不能超过 %(limit)s 个字，且不能含 NUL 字符。")
EVIDENCE_NOT_STORED = N_("佐证材料未能保存，报告没有保存，请稍后重试。")


class InvalidReport(ReportError):
    """The submission is refused; ``fields`` maps each field name to what is wrong with it."""

    def __init__(self, fields: Mapping[str, str]):
        self.fields = dict(fields)
        super().__init__(_("；").join(self.fields.values()))


class EvidenceStoreError(InvalidReport):
    """An evidence file could not be stored: nothing was saved (the server's fault, not the input's)."""


@dataclass
class Reporter:
    """Who reports: a department, and the account or the signed reminder link acting for it."""

    department: Department
    user_id: int | None
    via_link: bool = False
    link_period: str | None = None  # a link opens the report of this period only
    link_message_id: int | None = None  # the digest (outbox message) that carried the link


@dataclass
class RawValue:
    """One actual value as sent: ``at`` names it in problems (``values[0]``, ``value-12``)."""

    at: str
    target_key: Any
    value: Any
    source: Any
    typed: bool = False  # the value must already be a number (JSON), not text that reads as one


@dataclass
class Upload:
    filename: str
    data: bytes


@dataclass
class Submission:
    """A report as sent, not yet checked: strings, numbers or whatever the caller was given."""

    status: Any
    percent: Any
    narrative: Any = ""
    problems: Any = ""
    next_steps: Any = ""
    values: list[RawValue] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    submit: bool = True
    editing_id: int | None = None
    version_id: int | None = None


# --- who and which period ------------------------------------------------------------------------


def reporter_for_user(user: User, task: Task) -> Reporter:
    """A logged-in (or token-holding) account: staff of a department with a role on the task."""
    if not permissions.can_report(user, task.assignments):
        raise PermissionDenied(_(REPORT_FORBIDDEN))
    ensure_task_open(task)  # a closed plan takes no more reports: the form says so before it is filled
    department = db.session.get(Department, user.department_id)
    assert department is not None
    return Reporter(department, user.id)


def reporter_for_link(grant: Mapping[str, Any] | None, task: Task) -> Reporter:
    """The holder of a signed reminder link: its department, for its period, on its task only."""
    if grant is None:
        raise PermissionDenied(_(REPORT_FORBIDDEN))
    department = db.session.get(Department, grant.get("department_id"))
    if department is None or not any(a.department_id == department.id for a in task.assignments):
        raise PermissionDenied(_(REPORT_FORBIDDEN))
    ensure_task_open(task)
    return Reporter(
        department,
        None,
        via_link=True,
        link_period=grant.get("period"),
        link_message_id=grant.get("message_id"),
    )


def report_period(task: Task, reporter: Reporter, today: date, key: str | None) -> Period:
    """The period of the report: a link's own; else ``key`` (checked); else the oldest one owed.

    ``PermissionDenied`` if a link's holder asks for another period; ``InvalidReport`` (field
    ``period``) if ``key`` is not a period of the task's cycle inside its reporting window.
    """
    if reporter.link_period is not None:
        if key and key != reporter.link_period:
            raise PermissionDenied(_(LINK_OTHER_PERIOD, period=reporter.link_period))
        key = reporter.link_period
    try:
        return reporting_period(task, today, key or None, department_id=reporter.department.id)
    except ValueError as exc:
        raise InvalidReport({"period": str(exc)}) from None


# --- validation ----------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any, name: str, problems: dict[str, str]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        problems[name] = _(TEXT_TYPE)
        return ""
    if len(value) > TEXT_MAX or "\x00" in value:
        problems[name] = _(TEXT_LIMIT, limit=TEXT_MAX)
    return value.strip()


def _number(value: Any, typed: bool) -> float | str | None:
    """A finite float; ``None`` if missing; the message's key (``"number"``/``"finite"``) if refused.

    ``typed``: the value must already be a number (JSON); text that reads as one is refused.
    """
    if value is None or (isinstance(value, str) and not value.strip() and not typed):
        return None
    if isinstance(value, bool) or (typed and isinstance(value, str)):
        return "number"
    if isinstance(value, str):
        try:
            value = parse_number(value)  # ASCII digits, thousands separators: tracker.numbers' one reading
        except NumberError:
            return "number"
    elif not isinstance(value, int | float):
        return "number"
    try:
        return finite_number(value)  # finite and within the values' range (tracker.numbers)
    except NumberError:
        return "finite"


def _values(raw: list[RawValue], task: Task, department: Department, problems: dict[str, str]) -> list[ValueInput]:
    targets = {t.key: t for t in reportable_targets(task, department)}
    seen: set[str] = set()
    out: list[ValueInput] = []
    for item in raw:
        at = item.at
        key = item.target_key
        target = targets.get(key) if isinstance(key, str) else None
        if target is None:
            problems[f"{at}.target_key"] = _(TARGET_UNKNOWN, keys=_("、").join(targets)) if targets else _(TARGET_NONE)
        elif key in seen:
            problems[f"{at}.target_key"] = _(TARGET_TWICE)
        number = _number(item.value, item.typed)
        if number is None:
            problems[f"{at}.value"] = _(VALUE_MISSING)
        elif isinstance(number, str):
            text = item.value if isinstance(item.value, str) else repr(item.value)
            rule = VALUE_NUMBER if number == "number" else VALUE_FINITE
            problems[f"{at}.value"] = _(rule, text=text[:50])
        source = item.source
        if not isinstance(source, str) or not source.strip():
            problems[f"{at}.source"] = _(SOURCE_REQUIRED)
        elif len(source) > SOURCE_MAX or "\x00" in source:
            problems[f"{at}.source"] = _(SOURCE_LIMIT, limit=SOURCE_MAX)
        ok = not any(k.startswith(f"{at}.") for k in problems)
        if ok and target is not None and isinstance(number, float) and isinstance(source, str):
            out.append(ValueInput(target.id, number, source.strip()))
        if isinstance(key, str):
            seen.add(key)
    return out


def check_submission(
    task: Task, department: Department, sub: Submission, *, max_mb: float
) -> tuple[dict[str, str], CheckInData | None, list[tuple[Upload, str]]]:
    """Every problem of a submission by field name, and the checked report and files when there is none."""
    problems: dict[str, str] = {}
    status = sub.status
    if not isinstance(status, str) or status not in TASK_STATUSES:
        problems["status"] = _(STATUS_CHOICE, choices=" / ".join(TASK_STATUSES))
    percent = sub.percent
    if not _is_int(percent) or not 0 <= percent <= 100:
        problems["percent"] = _(PERCENT_RANGE)
    elif status == "done" and percent != 100:
        problems["percent"] = _(DONE_IS_100)
    narrative = _text(sub.narrative, "narrative", problems)
    problems_text = _text(sub.problems, "problems", problems)
    next_steps = _text(sub.next_steps, "next_steps", problems)
    if sub.submit and not narrative and "narrative" not in problems:
        problems["narrative"] = _(NARRATIVE_REQUIRED)
    values = _values(sub.values, task, department, problems)
    files: list[tuple[Upload, str]] = []
    errors: list[str] = []
    for upload in sub.uploads:
        try:
            files.append((upload, attachments.check_upload(upload.filename, upload.data, max_mb)))
        except attachments.AttachmentError as exc:
            errors.append(str(exc))
    if errors:
        problems["evidence"] = _("；").join(errors)
    if problems:
        return problems, None, []
    data = CheckInData(str(status), int(percent), narrative, problems_text, next_steps, values)
    return problems, data, files


# --- the write -----------------------------------------------------------------------------------


def submit_report(
    *,
    task: Task,
    reporter: Reporter,
    period: Period,
    submission: Submission,
    now: datetime,
    folder: str,
    max_mb: float,
    store: str = "disk",
) -> CheckIn:
    """Check and store a report with its values and evidence in one transaction, or nothing.

    ``store``: where the evidence goes (``EVIDENCE_STORE``: ``disk`` under ``folder``, or ``database``).

    Raises ``InvalidReport`` (by field), ``StaleEdit`` (409: someone saved first, or the period's
    report is already submitted), ``EvidenceStoreError`` (a file could not be written; nothing saved).
    """
    problems, data, files = check_submission(task, reporter.department, submission, max_mb=max_mb)
    if data is None:
        raise InvalidReport(problems)
    written: list[Path] = []
    try:
        checkin = write_checkin(
            task=task,
            department_id=reporter.department.id,
            period=period,
            data=data,
            submit=submission.submit,
            now=now,
            user_id=reporter.user_id,
            editing_id=submission.editing_id,
            version_id=submission.version_id,
            via_link=reporter.via_link,
            link_message_id=reporter.link_message_id,
        )
        stored = attachments.store_evidence(
            [upload for upload, _type in files],
            written=written,
            folder=folder,
            max_mb=max_mb,
            user_id=reporter.user_id,
            now=now,
            store=store,
            checkin_id=checkin.id,
        )
        if not stored:
            raise EvidenceStoreError({"evidence": _(EVIDENCE_NOT_STORED)})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for path in written:  # the rows are gone with the rollback: their files go too
            path.unlink(missing_ok=True)
        raise
    return checkin
