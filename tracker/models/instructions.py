"""Leaders' instructions (批示) on a task and the lead department's answers to them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..i18n import N_
from .base import UTCDateTime
from .org import Department, User
from .plan import Task

INSTRUCTION_STATES = {"open": N_("待答复"), "answered": N_("已答复"), "overdue": N_("逾期未答复")}


class Instruction(db.Model):
    """A leader's (or coordinator's) instruction on a task, to be answered by ``department`` by
    ``answer_by``. Its state is read, not stored: answered once an answer exists, else overdue after
    ``answer_by`` (``tracker.instructions.service.state_of``)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    # the department that must answer: the task's lead (else responsible) department when written
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    text: Mapped[str] = mapped_column(Text)
    answer_by: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    task: Mapped[Task] = relationship()
    department: Mapped[Department] = relationship()
    author: Mapped[User | None] = relationship()
    answers: Mapped[list[InstructionAnswer]] = relationship(
        back_populates="instruction", order_by="InstructionAnswer.id"
    )


class InstructionAnswer(db.Model):
    """The lead department's answer to an instruction (appended: a later answer adds, never edits)."""

    __tablename__ = "instruction_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    instruction_id: Mapped[int] = mapped_column(ForeignKey("instruction.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    instruction: Mapped[Instruction] = relationship(back_populates="answers")
    author: Mapped[User | None] = relationship()
