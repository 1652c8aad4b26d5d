"""The plan itself: plans, their sections, tasks (measures), and quantitative targets."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, Float, ForeignKey, String, Text, UniqueConstraint, event, select, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..i18n import N_
from .base import UTCDateTime, VersionedMixin

if TYPE_CHECKING:
    from .org import Assignment, County, Department

TASK_STATUSES = {
    "not_started": N_("未启动"),
    "in_progress": N_("推进中"),
    "done": N_("已完成"),
    "lagging": N_("滞后"),
    "blocked": N_("受阻"),
}


def task_status_label(status: str) -> str:
    """A task status as people read it (the task page, the lists and the leadership pages)."""
    return TASK_STATUSES.get(status, status)


REPORTING_CYCLES = {"month": N_("月报"), "quarter": N_("季报"), "year": N_("年报")}
TARGET_GROUPS = {
    "city": N_("全市主要目标"),
    "sector": N_("主要行业节能指标"),
    "county_energy": N_("各县（市、区）能耗强度降低目标"),
    "county_pollutant": N_("各县（市、区）主要污染物减排量"),
    "task": N_("任务目标"),
}
COMPARISONS = {
    ">=": N_("不低于"),
    ">": N_("高于"),
    "<=": N_("不高于"),
    "<": N_("低于"),
    "=": N_("达到"),
    "~": N_("左右"),
    "range": N_("区间"),
}


class Plan(db.Model):
    """One plan document; several live side by side (the 15th FYP follows the 14th)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(200), default="")
    basis: Mapped[str] = mapped_column(Text, default="")
    loaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The due rule's settings for this plan (tracker.tasks.due); NULL: the defaults (5 and 5).
    report_request_workdays: Mapped[int | None] = mapped_column()
    report_due_days: Mapped[int | None] = mapped_column()
    # Separation of duties: a coordinator does not review their own department's reports (another
    # coordinator or an administrator does); on unless the plan's office turns it off.
    separate_review: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Closed (tracker.tasks.lifecycle): read-only from then on; the final results frozen as approved.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    final_results: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    sections: Mapped[list[Section]] = relationship(
        back_populates="plan", order_by="Section.number", cascade="all, delete-orphan"
    )


class Section(db.Model):
    """A part of the plan: 三 key projects, 四 policy mechanisms, 五 organisation."""

    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    number: Mapped[int]
    label: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))

    plan: Mapped[Plan] = relationship(back_populates="sections")


class Task(VersionedMixin, db.Model):
    """One numbered measure (措施), e.g. 三（一） with code ``3.1``; sub-tasks hang off a parent."""

    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    responsibility: Mapped[str] = mapped_column(Text, default="")
    # Parties the plan names without naming a department (各有关部门): what they mean, for coordinators.
    open_parties: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    start: Mapped[date] = mapped_column(Date)
    due: Mapped[date] = mapped_column(Date)
    # The deadline as first set: extensions move ``due``, assessment judges against this.
    original_due: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="not_started")
    progress: Mapped[int] = mapped_column(default=0)
    reporting_cycle: Mapped[str] = mapped_column(String(8), default="quarter")
    closed_on: Mapped[date | None] = mapped_column(Date)
    position: Mapped[int] = mapped_column(default=0)

    plan: Mapped[Plan] = relationship()
    section: Mapped[Section] = relationship()
    parent: Mapped[Task | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Task]] = relationship(back_populates="parent", order_by="Task.position")
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="task", order_by="Assignment.position", cascade="all, delete-orphan"
    )
    targets: Mapped[list[Target]] = relationship(
        back_populates="task", order_by="Target.position", foreign_keys="Target.task_id"
    )

    @property
    def status_label(self) -> str:
        return task_status_label(self.status)


class Target(VersionedMixin, db.Model):
    """A quantitative goal or dated milestone, of the plan itself or of one task, maybe per county."""

    __table_args__ = (UniqueConstraint("plan_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    group: Mapped[str] = mapped_column(String(24))
    category: Mapped[str] = mapped_column(String(32), default="")
    name: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(64), default="")
    value: Mapped[float | None] = mapped_column(Float)
    value_min: Mapped[float | None] = mapped_column(Float)
    value_max: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32), default="")
    comparison: Mapped[str | None] = mapped_column(String(8))
    baseline: Mapped[float | None] = mapped_column(Float)
    baseline_year: Mapped[int | None]
    change: Mapped[float | None] = mapped_column(Float)
    due: Mapped[date] = mapped_column(Date)
    county_id: Mapped[int | None] = mapped_column(ForeignKey("county.id"))
    source: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # Alternative criteria (力争达到 70%以上或在 2020 年基础上增加 5%以上): the target is met when its
    # own criterion or any of these holds. Each: {"comparison", "value", "unit", "basis", "baseline",
    # "baseline_year", "text"}; basis "level" compares the value itself, "change" its rise over baseline.
    alternatives: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)

    task: Mapped[Task | None] = relationship(back_populates="targets", foreign_keys=[task_id])
    county: Mapped[County | None] = relationship()

    @property
    def comparison_label(self) -> str:
        return COMPARISONS.get(self.comparison or "", "里程碑")

    @property
    def is_milestone(self) -> bool:
        return self.comparison is None


VALUE_UNITS = {"city": N_("全市"), "county": N_("县（市、区）"), "department": N_("部门")}


class TargetValue(db.Model):
    """A reported actual for a target and a period. Appended, never overwritten.

    Every value measures one unit: the city (``unit_kind`` "city"), one county (``county_id``) or
    one department (``department_id``, the reporting department). Only a city value is ever shown
    as the city's figure (tracker.tasks.figures); see :func:`tracker.tasks.figures.value_unit`.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    period_end: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(Text, default="")
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("check_in.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The unit the value measures: "city", "county" (county_id) or "department" (department_id).
    unit_kind: Mapped[str] = mapped_column(String(16), server_default="city")
    county_id: Mapped[int | None] = mapped_column(ForeignKey("county.id"), index=True)
    # A figure entered on the figure form (no report): "submitted" by a unit's staff until a coordinator
    # approves or returns it; "approved" when a coordinator enters it or approves it. A value on a
    # report follows its report's state instead (tracker.tasks.figures.value_counts).
    state: Mapped[str] = mapped_column(String(16), default="approved", server_default="approved")
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    target: Mapped[Target] = relationship()
    county: Mapped[County | None] = relationship()
    department: Mapped[Department | None] = relationship()


@event.listens_for(TargetValue, "before_insert")
def _own_unit_by_default(_mapper: Any, connection: Any, value: TargetValue) -> None:
    """A value written without its unit measures its target's own unit: its county's, else the city's."""
    if value.unit_kind is None:
        county_id = connection.scalar(select(Target.county_id).where(Target.id == value.target_id))
        value.unit_kind = "county" if county_id is not None else "city"
        value.county_id = county_id


class CarryOver(db.Model):
    """An unfinished measure or target of one plan carried into another: both sides, who, when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    from_task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"), index=True)
    to_task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"), index=True)
    from_target_id: Mapped[int | None] = mapped_column(ForeignKey("target.id"), index=True)
    to_target_id: Mapped[int | None] = mapped_column(ForeignKey("target.id"), index=True)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    from_task: Mapped[Task | None] = relationship(foreign_keys=[from_task_id])
    to_task: Mapped[Task | None] = relationship(foreign_keys=[to_task_id])
    from_target: Mapped[Target | None] = relationship(foreign_keys=[from_target_id])
    to_target: Mapped[Target | None] = relationship(foreign_keys=[to_target_id])
