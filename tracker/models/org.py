"""Who does the work: counties, departments, their assignments to tasks, and user accounts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..i18n import N_
from .base import UTCDateTime, VersionedMixin

if TYPE_CHECKING:
    from .plan import Task

DEPARTMENT_KINDS = {
    "bureau": N_("市直部门"),
    "county": N_("县（市、区）政府"),
    "outside": N_("驻安单位"),
    "party": N_("党群部门"),
}
COUNTY_KINDS = {"city": N_("县级市"), "county": N_("县"), "district": N_("区")}
ROLES = {"lead": N_("牵头"), "support": N_("配合"), "responsible": N_("负责"), "implementing": N_("落实")}
ROLE_ORDER = ["lead", "responsible", "support", "implementing"]
ASSIGNMENT_ORIGINS = {"plan": N_("计划文件"), "app": N_("系统内调整")}
USER_ROLES = {
    "staff": N_("部门填报员"),
    # 单位负责人: signs off the department's reports before they reach the coordinators, where the
    # department requires it (``Department.requires_head_signoff``); reads like staff, writes no report.
    "head": N_("单位负责人"),
    "coordinator": N_("统筹协调"),
    "leader": N_("领导"),
    "admin": N_("管理员"),
    # 三员分立 (等保 2.0): the system administrator (``admin``) manages accounts, departments and
    # settings; the security administrator and the auditor are separate accounts.
    "security": N_("安全管理员"),
    "auditor": N_("安全审计员"),
}


class County(db.Model):
    """A county, county-level city or district of the city (附件 1 and 3 are per county)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True, server_default=true())


class Department(VersionedMixin, db.Model):
    """A body that can hold a role on a task: bureau, county government, outside body or party organ.

    The directory is shared by every plan: the 15th plan's bureaus are the same bodies.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    county_id: Mapped[int | None] = mapped_column(ForeignKey("county.id"))
    coordinating: Mapped[bool] = mapped_column(default=False)
    # Comma-separated addresses; reminders go to these and to the department's staff accounts.
    contact_emails: Mapped[str] = mapped_column(Text, default="")
    # Who receives this department's reminders: its contact addresses, its staff accounts, or both.
    remind_contacts: Mapped[bool] = mapped_column(default=True, server_default=true())
    remind_staff: Mapped[bool] = mapped_column(default=True, server_default=true())
    position: Mapped[int] = mapped_column(default=0)
    # A deactivated department keeps its rows (history, reports) but takes no new duties.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Set when this department was merged into another: its duties and reports moved there.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    # 单位负责人审核: a submitted report waits for the department head's approval before review.
    requires_head_signoff: Mapped[bool] = mapped_column(default=False, server_default=false())

    county: Mapped[County | None] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(back_populates="department")

    @property
    def kind_label(self) -> str:
        return DEPARTMENT_KINDS.get(self.kind, self.kind)

    @property
    def emails(self) -> list[str]:
        return [e.strip() for e in self.contact_emails.split(",") if e.strip()]


class Assignment(VersionedMixin, db.Model):
    """A department's role on a task, with the plan's literal wording for it."""

    __table_args__ = (UniqueConstraint("task_id", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    role_text: Mapped[str] = mapped_column(String(32), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Where the duty comes from: ``plan`` (the plan file; a reload updates or removes it) or ``app``
    # (added or changed in the app by ``added_by_id`` at ``added_at``; a reload never touches it).
    origin: Mapped[str] = mapped_column(String(8), default="plan", server_default="plan")
    # The plan's open party (各有关部门) this department was named for by a coordinator, else "".
    open_party: Mapped[str] = mapped_column(String(64), default="", server_default="")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    added_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    task: Mapped[Task] = relationship(back_populates="assignments")
    department: Mapped[Department] = relationship(back_populates="assignments")
    added_by: Mapped[User | None] = relationship(foreign_keys=[added_by_id])

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


class User(UserMixin, db.Model):
    """An account: it belongs to one department and has one role."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Part of the session's identity (``get_id``): raising it ends every session opened before
    # (logout, password change or reset, disabling the account).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set for accounts whose password someone else chose (the CLI): changed at the first login.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())

    department: Mapped[Department | None] = relationship()

    def get_id(self) -> str:  # flask-login keeps this in the session
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # flask-login asks this
        return self.active

    @property
    def role_label(self) -> str:
        return USER_ROLES.get(self.role, self.role)


class LeaderPortfolio(db.Model):
    """A leader's portfolio (分管): a department the leader oversees. Their dashboard and weekly
    digest start with these departments' tasks."""

    __tablename__ = "leader_portfolio"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"), primary_key=True)
