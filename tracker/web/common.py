"""Helpers shared by the blueprints' views: permission checks, form parsing, conflict rows."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from flask import Response, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from .. import clock
from ..errors import PermissionDenied
from ..extensions import db
from ..i18n import N_
from ..models import Task
from ..numbers import int_or_none
from ..reports.service import ASSIGNMENT_FIELDS, CHECKIN_FIELDS, TASK_EDIT_FIELDS, ReportError, StaleEdit
from ..tasks.queries import current_plan, get_task

# Field name -> label, in Chinese; conflict_rows translates them.
FIELD_LABELS = {
    **CHECKIN_FIELDS,
    **TASK_EDIT_FIELDS,
    **ASSIGNMENT_FIELDS,
    "state": N_("状态"),
    "contact_emails": N_("联系邮箱"),
}


def choices(labels: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, _l(label)) for value, label in labels.items()]


def require(allowed: bool, message: str = _l("您没有权限执行此操作。")) -> None:
    if not allowed:
        raise PermissionDenied(message)


def task_by_code(code: str) -> Task:
    return get_task(current_plan(clock.today()), code)


def conflict_rows(original: str | None, current: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """What changed meanwhile: (field label, value when the form was opened, value now)."""
    try:
        before = json.loads(original or "{}")
    except ValueError:
        before = {}
    return [
        (_(FIELD_LABELS[name]) if name in FIELD_LABELS else name, before.get(name), now)
        for name, now in current.items()
        if before.get(name) != now
    ]


class DateInput(DateField):
    """A date field whose parse error speaks Chinese (WTForms' own message is English)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("日期格式应为 2025-06-30。")) from None


def attachment(data: bytes, filename: str, mimetype: str, fallback: str | None = None) -> Response:
    """A download named ``filename``: Chinese names travel as RFC 6266 ``filename*``, beside an ASCII
    ``fallback`` for old clients (by default the name with everything but ASCII letters and digits dropped)."""
    response = Response(data, mimetype=mimetype)
    fallback = fallback or re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("_") or "download"
    response.headers["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    return response


def review_decision(form: Any, decide: Any) -> Response | int:
    """A coordinator's decision posted on a review form (a report's or a county's consolidated report's):
    ``decide(decision=…, comment=…, now=…, user_id=…, version_id=…)`` is the service; a redirect to the
    review queue when it went through, else the status to render the form with, its error on the comment."""
    if not form.validate_on_submit():
        return 400
    try:
        decide(
            decision=form.decision.data or "",
            comment=form.comment.data or "",
            now=clock.now(),
            user_id=current_user.id,
            version_id=int_or_none(form.version_id.data),
        )
    except StaleEdit as exc:
        db.session.rollback()
        form.comment.errors = [str(exc)]
        return 409
    except ReportError as exc:
        db.session.rollback()
        form.comment.errors = [str(exc)]
        return 400
    flash(_("已通过。") if form.decision.data == "approve" else _("已退回，并通知报送单位修改。"))
    return redirect(url_for("reports.queue"))


class ReviewForm(FlaskForm):
    """A coordinator's decision on a report or a county's consolidated report: approve or return.

    No default: nothing is checked until the reviewer chooses (submitting without a choice says so)."""

    decision = RadioField(
        _l("审核结果"),
        choices=choices({"approve": N_("通过"), "return": N_("退回")}),
        validators=[InputRequired(_l("请选择通过或退回。"))],
        validate_choice=False,  # the service says why
    )
    comment = TextAreaField(_l("审核意见（退回时必填）"), validators=[Length(max=5000)])
    version_id = HiddenField()
