"""Progress reporting: check-ins (进展报送), their reviews, evidence and deadline extensions, and the
county governments' consolidated 落实 reports (one per period, its per-measure lines being check-ins).

Rows here are appended: a returned report is fixed by a new check-in (or consolidated report) that
supersedes it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..i18n import N_
from .base import UTCDateTime, VersionedMixin
from .org import Department, User
from .plan import Plan, Task

CHECKIN_STATES = {
    "draft": N_("草稿"),
    "awaiting_head": N_("待单位负责人审核"),
    "submitted": N_("待审核"),
    "approved": N_("已通过"),
    "returned": N_("已退回"),
}
# The states in which a department has answered for a period (the due rule does not chase it): a
# report waiting for its own head's sign-off is the department's to move on, not missing.
REPORTED_STATES = ("awaiting_head", "submitted", "approved")


class CheckIn(VersionedMixin, db.Model):
    """One department's progress report on one task for one period."""

    __tablename__ = "check_in"
    # At most one live (not returned) report per task, department and period: the database decides,
    # so two first saves at the same moment cannot both create one (a returned report is superseded
    # by its fix, so returned ones may repeat).
    __table_args__ = (
        Index(
            "uq_check_in_live",
            "task_id",
            "department_id",
            "period",
            unique=True,
            # a report moved in from a merged department is history, kept beside the survivor's own
            sqlite_where=text("state != 'returned' AND original_department_id IS NULL"),
            postgresql_where=text("state != 'returned' AND original_department_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    percent: Mapped[int] = mapped_column(default=0)
    narrative: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("check_in.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set on a county's line of a consolidated 落实 report: the line follows the report's state.
    consolidated_id: Mapped[int | None] = mapped_column(ForeignKey("consolidated_report.id"), index=True)
    # The department that wrote it, when that department was later merged into ``department``.
    original_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    # Saved through a department's signed reminder link (no account): the link's department is the
    # report's, and the digest (outbox message) that carried the link, when it is known.
    via_link: Mapped[bool | None] = mapped_column(default=False)
    via_link_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id"))

    task: Mapped[Task] = relationship()
    department: Mapped[Department] = relationship(foreign_keys=[department_id])
    original_department: Mapped[Department | None] = relationship(foreign_keys=[original_department_id])
    author: Mapped[User | None] = relationship()


class ConsolidatedReport(VersionedMixin, db.Model):
    """A county government's one 落实 report for a period, covering every measure it implements.

    Its lines (status and narrative per measure) are :class:`CheckIn` rows pointing back here, so task
    pages, the matrix and timelines show each county's line like any report. A coordinator approves or
    returns the whole report; a returned one is fixed by a new report that supersedes it.
    """

    __tablename__ = "consolidated_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("consolidated_report.id"))

    plan: Mapped[Plan] = relationship()
    department: Mapped[Department] = relationship()
    author: Mapped[User | None] = relationship()


class Review(db.Model):
    """A decision on a check-in: approve, or return with a comment. ``stage`` says whose: the
    coordinators' review (``review``) or the department head's sign-off (``head``)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(ForeignKey("check_in.id"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stage: Mapped[str] = mapped_column(String(16), default="review", server_default="review")


class Attachment(db.Model):
    """Evidence for a check-in (or for a figure entered on the figure form), stored outside the web
    root under a random name."""

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("check_in.id"), index=True)
    target_value_id: Mapped[int | None] = mapped_column(ForeignKey("target_value.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EvidenceBlob(db.Model):
    """An evidence file's bytes, when ``EVIDENCE_STORE=database``: in the database every web machine
    reaches, written in the same transaction as its report (bytea on PostgreSQL; uploads are at most
    ``MAX_UPLOAD_MB``, far below bytea's 1 GB)."""

    __tablename__ = "evidence_blob"

    stored_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ExtensionRequest(VersionedMixin, db.Model):
    """A lead department's request to move a task's deadline (延期申请)."""

    __tablename__ = "extension_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(Text)
    old_due: Mapped[date] = mapped_column(Date)
    new_due: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
