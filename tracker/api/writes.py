"""The API's write side: a department's check-in and a coordinator's review, from JSON bodies.

This module only reads the body and checks who is calling; the rules are those of the web form,
in ``tracker.reports.service`` (``save_checkin``, ``review_checkin``), called the same way. Every
problem with a body is collected by field name (``values[0].source``) and raised as one
``InvalidBody``; the service's ``StaleEdit`` (409) and ``ReportError`` pass through to the view.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _

from ..accounts import permissions
from ..errors import NotFound, PermissionDenied, TrackerError
from ..extensions import db
from ..models import CheckIn, Department, Task, User
from ..models.plan import TASK_STATUSES
from ..numbers import NumberError, finite_number
from ..plans.queries import current_plan, get_task
from ..reports.service import (
    CheckInData,
    ReportError,
    ValueInput,
    checkin_problems,
    latest_checkin,
    reportable_targets,
    reporting_period,
    review_checkin,
    save_checkin,
)
from . import listing

__all__ = ["InvalidBody", "review", "submit_checkin"]

TEXT_MAX = 20000
COMMENT_MAX = 5000
SOURCE_MAX = 255
CHECKIN_KEYS = {"period", "status", "percent", "narrative", "problems", "next_steps", "values", "submit", "version_id"}
REVIEW_KEYS = {"decision", "comment", "version_id"}


class InvalidBody(TrackerError):
    """The request body is not what the operation takes; ``fields`` names each problem."""

    def __init__(self, fields: dict[str, str]):
        super().__init__(_("请求内容有误"))
        self.fields = fields


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(body: dict[str, Any], name: str, problems: dict[str, str], *, limit: int = TEXT_MAX) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        problems[name] = _("应为字符串")
        return ""
    if len(value) > limit:
        problems[name] = _("不能超过 %(limit)s 个字", limit=limit)
    elif "\x00" in value:
        problems[name] = _("不能含有 NUL 字符")
    return value.strip()


def _object(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidBody({"body": _("请求体应为 JSON 对象（Content-Type: application/json）")})
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidBody(dict.fromkeys(unknown, _("不认识的字段")))
    return body


def _version(body: dict[str, Any], problems: dict[str, str]) -> int | None:
    version = body.get("version_id")
    if version is not None and not (_is_int(version) and version >= 1):
        problems["version_id"] = _("应为正整数")
        return None
    return version


def _values(raw: Any, task: Task, department: Department, problems: dict[str, str]) -> list[ValueInput]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems["values"] = _("应为数组")
        return []
    targets = {t.key: t for t in reportable_targets(task, department)}
    seen: set[str] = set()
    values: list[ValueInput] = []
    for i, item in enumerate(raw):
        at = f"values[{i}]"
        if not isinstance(item, dict):
            problems[at] = _("应为对象 {target_key, value, source}")
            continue
        for extra in sorted(set(item) - {"target_key", "value", "source"}):
            problems[f"{at}.{extra}"] = _("不认识的字段")
        key, number, source = item.get("target_key"), item.get("value"), item.get("source")
        target = targets.get(key) if isinstance(key, str) else None
        if target is None:
            problems[f"{at}.target_key"] = (
                _("不是本单位在本任务上报送的目标（可用：%(keys)s）", keys=listing(targets))
                if targets
                else _("本单位在本任务上没有要报送的目标")
            )
        elif key in seen:
            problems[f"{at}.target_key"] = _("同一目标只能填一个实际值")
        if isinstance(number, bool) or not isinstance(number, int | float):
            problems[f"{at}.value"] = _("应为数字")
        else:
            try:
                number = finite_number(number)
            except NumberError as exc:
                problems[f"{at}.value"] = str(exc)
        if not isinstance(source, str) or not source.strip():
            problems[f"{at}.source"] = _("请注明数据来源")
        elif len(source) > SOURCE_MAX or "\x00" in source:
            problems[f"{at}.source"] = _("数据来源不能超过 %(limit)s 个字，且不能含 NUL 字符", limit=SOURCE_MAX)
        if target is not None and key not in seen and f"{at}.value" not in problems and f"{at}.source" not in problems:
            values.append(ValueInput(target.id, number, source.strip()))
        if isinstance(key, str):
            seen.add(key)
    return values


def submit_checkin(user: User, code: str, body: Any, *, today: date, now: datetime) -> CheckIn:
    """Save (``"submit": false``) or submit the caller's department's report on task ``code`` of
    the current plan (the plan the web form reports on).

    ``version_id`` names the latest report of that period (a draft being edited, or a returned
    report being fixed); without it the call creates a new report and a draft already there is a
    conflict, never silently overwritten.
    """
    if user.role != "staff":  # before looking the task up: leaders and others write nothing
        raise PermissionDenied(_("只有承担本任务的单位的填报员才能报送进展。"))
    task = get_task(current_plan(today), code)
    if not permissions.can_report(user, task.assignments):
        raise PermissionDenied(_("只有承担本任务的单位的填报员才能报送进展。"))
    department = db.session.get(Department, user.department_id)
    assert department is not None
    body = _object(body, CHECKIN_KEYS)
    problems: dict[str, str] = {}

    period_key = body.get("period")
    period = None
    if period_key is not None and not isinstance(period_key, str):
        problems["period"] = _("应为字符串，如 2024Q2")
    else:
        try:
            period = reporting_period(task, today, period_key or None)
        except ValueError as exc:
            problems["period"] = str(exc)
    status = body.get("status")
    if not isinstance(status, str) or status not in TASK_STATUSES:
        problems["status"] = _("应为 %(choices)s 之一", choices=" / ".join(TASK_STATUSES))
    percent = body.get("percent")
    if not _is_int(percent) or not 0 <= percent <= 100:
        problems["percent"] = _("应为 0 到 100 之间的整数")
    narrative = _text(body, "narrative", problems)
    problems_text = _text(body, "problems", problems)
    next_steps = _text(body, "next_steps", problems)
    submit = body.get("submit", True)
    if not isinstance(submit, bool):
        problems["submit"] = _("应为 true 或 false")
    elif submit and not narrative and "narrative" not in problems:
        problems["narrative"] = _("提交前请填写进展情况。")
    version = _version(body, problems)
    values = _values(body.get("values"), task, department, problems)
    data = CheckInData(
        status=status if isinstance(status, str) else "",
        percent=percent if _is_int(percent) else -1,
        narrative=narrative,
        problems=problems_text,
        next_steps=next_steps,
        values=values,
    )
    if "status" not in problems and "percent" not in problems:
        problems.update(checkin_problems(data))
    if problems or period is None:
        raise InvalidBody(problems)

    current = latest_checkin(task.id, department.id, period.key)
    return save_checkin(
        task=task,
        department_id=department.id,
        period=period,
        data=data,
        submit=bool(submit),
        now=now,
        user_id=user.id,
        # With a version the caller edits what it read: the latest report of the period, if any
        # (none there makes the version stale, which the service answers as a conflict).
        editing_id=(current.id if current is not None else 0) if version is not None else None,
        version_id=version,
    )


def review(user: User, checkin_id: int, body: Any, *, now: datetime) -> CheckIn:
    """A coordinator approves or returns (with a comment) a submitted report."""
    if not permissions.can_review(user):
        raise PermissionDenied(_("只有统筹协调人员可以审核报告。"))
    checkin = db.session.get(CheckIn, checkin_id)
    if checkin is None or checkin.state == "draft":  # drafts are not shown to coordinators
        raise NotFound(_("没有这份报告。"))
    body = _object(body, REVIEW_KEYS)
    problems: dict[str, str] = {}
    decision = body.get("decision")
    if not isinstance(decision, str) or decision not in {"approve", "return"}:
        problems["decision"] = _("应为 approve（通过）或 return（退回）")
    comment = _text(body, "comment", problems, limit=COMMENT_MAX)
    version = _version(body, problems)
    if problems:
        raise InvalidBody(problems)
    try:
        return review_checkin(
            checkin_id=checkin.id, decision=decision, comment=comment, now=now, user_id=user.id, version_id=version
        )
    except ReportError as exc:  # the one rule left to the service: a return needs a comment
        raise InvalidBody({"comment": str(exc)}) from None
