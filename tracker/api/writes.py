"""The API's write side: a department's check-in and a coordinator's review, from JSON bodies.

This module only reads the body and checks who is calling; the rules are those of the web form,
in ``tracker.reports.service`` (``save_checkin``, ``review_checkin``), called the same way. Every
problem with a body is collected by field name (``values[0].source``) and raised as one
``InvalidBody``; the service's ``StaleEdit`` (409) and ``ReportError`` pass through to the view.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _

from ..accounts import permissions
from ..errors import NotFound, PermissionDenied, TrackerError
from ..extensions import db
from ..models import CheckIn, Plan, User
from ..reports.service import OwnDepartmentReview, ReportError, latest_checkin, review_checkin
from ..reports.submission import (
    REPORT_FORBIDDEN,
    InvalidReport,
    RawValue,
    Submission,
    check_submission,
    report_period,
    reporter_for_user,
    submit_report,
)
from ..tasks.queries import get_task

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


def _values(raw: Any, problems: dict[str, str]) -> list[RawValue]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems["values"] = _("应为数组")
        return []
    values: list[RawValue] = []
    for i, item in enumerate(raw):
        at = f"values[{i}]"
        if not isinstance(item, dict):
            problems[at] = _("应为对象 {target_key, value, source}")
            continue
        for extra in sorted(set(item) - {"target_key", "value", "source"}):
            problems[f"{at}.{extra}"] = _("不认识的字段")
        value = item.get("value")
        # JSON numbers only: a string is not a number here, however it reads
        values.append(
            RawValue(at, item.get("target_key"), value if not isinstance(value, str) else [value], item.get("source"))
        )
    return values


def submit_checkin(
    user: User,
    plan: Callable[[], Plan],
    code: str,
    body: Any,
    *,
    today: date,
    now: datetime,
    folder: str = "",
) -> CheckIn:
    """Save (``"submit": false``) or submit the caller's department's report on task ``code`` of
    the plan ``plan()`` gives (the caller's ``?plan=KEY``, else the current plan, as on the web
    form), through the one submission service. ``plan`` is asked only once the caller may write: a
    leader's call is refused alike whatever plan it names.

    ``version_id`` names the latest report of that period (a draft being edited, or a returned
    report being fixed); without it the call creates a new report and a draft already there is a
    conflict, never silently overwritten.
    """
    if user.role != "staff":  # before looking the task up: leaders and others write nothing
        raise PermissionDenied(_(REPORT_FORBIDDEN))
    task = get_task(plan(), code)
    reporter = reporter_for_user(user, task)
    body = _object(body, CHECKIN_KEYS)
    problems: dict[str, str] = {}

    period_key = body.get("period")
    period = None
    if period_key is not None and not isinstance(period_key, str):
        problems["period"] = _("应为字符串，如 2024Q2")
    else:
        try:
            period = report_period(task, reporter, today, period_key or None)
        except InvalidReport as exc:
            problems.update(exc.fields)
    submit = body.get("submit", True)
    if not isinstance(submit, bool):
        problems["submit"] = _("应为 true 或 false")
    version = _version(body, problems)
    submission = Submission(
        status=body.get("status"),
        percent=body.get("percent"),
        narrative=body.get("narrative", ""),
        problems=body.get("problems", ""),
        next_steps=body.get("next_steps", ""),
        values=_values(body.get("values"), problems),
        submit=submit if isinstance(submit, bool) else False,
        version_id=version,
    )
    found, _data, _files = check_submission(task, reporter.department, submission, max_mb=0)
    problems.update(found)
    if problems or period is None:
        raise InvalidBody(problems)

    current = latest_checkin(task.id, reporter.department.id, period.key)
    # With a version the caller edits what it read: the latest report of the period, if any
    # (none there makes the version stale, which the service answers as a conflict).
    submission.editing_id = (current.id if current is not None else 0) if version is not None else None
    return submit_report(
        task=task, reporter=reporter, period=period, submission=submission, now=now, folder=folder, max_mb=0
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
    except OwnDepartmentReview as exc:  # separation of duties: not this reviewer's to decide
        raise PermissionDenied(str(exc)) from None
    except ReportError as exc:  # the other rule left to the service: a return needs a comment
        raise InvalidBody({"comment": str(exc)}) from None
