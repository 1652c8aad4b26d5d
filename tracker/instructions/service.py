"""Leaders' instructions (批示): a leader or coordinator writes an instruction on a task with a date by
which the task's lead department must answer; the lead department answers; the instruction is
``open`` until answered, ``overdue`` after its date unanswered, ``answered`` once answered.

Decisions written down here: the department asked is the task's first lead department (by the
plan's order), else its first responsible department, fixed when the instruction is written; any
staff member of that department answers (a later answer is appended, never edited); the answer-by
date may not be in the past. Reminders (``tracker.reminders.items``) use the deadline policy: before
the date like a deadline, chased after it like an overdue task. Every write is a history row of the
task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from .. import audit
from ..accounts.permissions import UserLike
from ..clock import city_date
from ..errors import NotFound, PermissionDenied, TrackerError
from ..extensions import db
from ..i18n import N_
from ..models import Instruction, InstructionAnswer, Task, User
from ..models.instructions import INSTRUCTION_STATES
from ..tasks.lifecycle import ensure_task_open

__all__ = [
    "INSTRUCTION_STATES",
    "InstructionError",
    "Listed",
    "answer",
    "asked_department",
    "can_answer",
    "can_write",
    "create",
    "for_department",
    "for_task",
    "state_of",
]

TEXT_MAX = 5000
WRITE_ONLY = N_("只有领导和统筹协调人员可以作出批示。")
ANSWER_ONLY = N_("只有被要求答复的牵头单位的填报员可以答复批示。")


class InstructionError(TrackerError):
    """The instruction or answer is refused as sent (a message for the person)."""


def can_write(user: UserLike) -> bool:
    return user.role in {"leader", "coordinator"}


def can_answer(user: UserLike, instruction: Instruction) -> bool:
    return user.role == "staff" and user.department_id == instruction.department_id


def state_of(instruction: Instruction, today: date) -> str:
    if instruction.answered_at is not None:
        return "answered"
    return "overdue" if today > instruction.answer_by else "open"


def asked_department(task: Task) -> int | None:
    """The task's first lead department, else its first responsible one (plan order)."""
    for role in ("lead", "responsible"):
        found = sorted((a for a in task.assignments if a.role == role), key=lambda a: (a.position, a.id))
        if found:
            return found[0].department_id
    return None


def _text(value: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InstructionError(_("请填写%(what)s。", what=what))
    if len(text) > TEXT_MAX or "\x00" in text:
        raise InstructionError(_("%(what)s不能超过 %(limit)s 个字，且不能含 NUL 字符。", what=what, limit=TEXT_MAX))
    return text


def create(*, task: Task, text: str, answer_by: date | None, now: datetime, user: User) -> Instruction:
    """Write an instruction on ``task`` for its lead department to answer by ``answer_by``."""
    if not can_write(user):
        raise PermissionDenied(_(WRITE_ONLY))
    ensure_task_open(task)
    body = _text(text, _("批示内容"))
    if answer_by is None:
        raise InstructionError(_("请填写答复时限（如 2025-06-30）。"))
    if answer_by < city_date(now):
        raise InstructionError(_("答复时限不能早于今天。"))
    department_id = asked_department(task)
    if department_id is None:
        raise InstructionError(_("本任务没有牵头或负责单位，无人答复批示。"))
    instruction = Instruction(
        task_id=task.id, department_id=department_id, author_id=user.id, text=body, answer_by=answer_by, created_at=now
    )
    db.session.add(instruction)
    db.session.flush()
    audit.record(now=now, action="instruction", entity="task", entity_id=task.id, new=body, user_id=user.id)
    db.session.commit()
    return instruction


def answer(*, instruction_id: int, text: str, now: datetime, user: User) -> InstructionAnswer:
    """The asked department's answer (appended; the first one marks the instruction answered)."""
    instruction = db.session.get(Instruction, instruction_id)
    if instruction is None:
        raise NotFound(_("没有这条批示。"))
    if not can_answer(user, instruction):
        raise PermissionDenied(_(ANSWER_ONLY))
    ensure_task_open(instruction.task)
    body = _text(text, _("答复内容"))
    row = InstructionAnswer(
        instruction_id=instruction.id,
        department_id=instruction.department_id,
        author_id=user.id,
        text=body,
        created_at=now,
    )
    db.session.add(row)
    if instruction.answered_at is None:
        instruction.answered_at = now
    audit.record(
        now=now, action="instruction_answer", entity="task", entity_id=instruction.task_id, new=body, user_id=user.id
    )
    db.session.commit()
    return row


@dataclass
class Listed:
    instruction: Instruction
    state: str


def for_task(task_id: int, today: date) -> list[Listed]:
    """A task's instructions, newest first, with their answers and authors (two queries)."""
    rows = db.session.scalars(
        db.select(Instruction)
        .filter_by(task_id=task_id)
        .options(
            selectinload(Instruction.answers).selectinload(InstructionAnswer.author),
            selectinload(Instruction.author),
            selectinload(Instruction.department),
        )
        .order_by(Instruction.id.desc())
    ).all()
    return [Listed(i, state_of(i, today)) for i in rows]


def for_department(department_id: int, today: date) -> list[Listed]:
    """The instructions a department has still to answer, the earliest answer-by date first."""
    rows = db.session.scalars(
        db.select(Instruction)
        .filter_by(department_id=department_id, answered_at=None)
        .options(selectinload(Instruction.task), selectinload(Instruction.author))
        .order_by(Instruction.answer_by, Instruction.id)
    ).all()
    return [Listed(i, state_of(i, today)) for i in rows]
