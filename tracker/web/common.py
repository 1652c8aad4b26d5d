"""Helpers shared by the blueprints' views: permission checks, form parsing, conflict rows."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms.fields.choices import SelectChoice

from .. import clock
from ..errors import PermissionDenied
from ..i18n import N_
from ..models import Task
from ..plans.queries import current_plan, get_task
from ..reports.service import ASSIGNMENT_FIELDS, CHECKIN_FIELDS, TASK_EDIT_FIELDS

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
