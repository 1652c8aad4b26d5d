"""Leaders' instructions (批示) on the task page: write one (leaders and coordinators), answer one
(staff of the department asked). Both post back to the task page."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import clock
from ..errors import NotFound
from ..extensions import db
from ..instructions import service
from ..models import Instruction
from .common import require, task_by_code

bp = Blueprint("instructions", __name__)


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@bp.post("/tasks/<code>/instructions")
def create(code: str) -> Response:
    task = task_by_code(code)
    require(service.can_write(current_user), _(service.WRITE_ONLY))
    raw = request.form.get("answer_by", "")
    answer_by = _date(raw)
    try:
        if raw.strip() and answer_by is None:
            raise service.InstructionError(_("日期格式应为 2025-06-30。"))
        service.create(
            task=task, text=request.form.get("text", ""), answer_by=answer_by, now=clock.now(), user=current_user
        )
    except service.InstructionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("批示已发出，牵头单位须在时限内答复。"))
    return redirect(url_for("tasks.detail", code=task.code) + "#instructions")


@bp.post("/instructions/<int:instruction_id>/answer")
def answer(instruction_id: int) -> Response:
    instruction = db.session.get(Instruction, instruction_id)
    if instruction is None:
        raise NotFound(_("没有这条批示。"))
    require(service.can_answer(current_user, instruction), _(service.ANSWER_ONLY))
    code = instruction.task.code
    plan = instruction.task.plan
    try:
        service.answer(
            instruction_id=instruction_id, text=request.form.get("text", ""), now=clock.now(), user=current_user
        )
    except service.InstructionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("已答复批示。"))
    return redirect(url_for("tasks.detail", code=code, plan=plan.key) + "#instructions")
