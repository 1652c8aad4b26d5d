"""The coordinators' review queue as a page: filtered by section, department, period and state,
sorted and paged; and the reports chosen for approval together, read in full before one confirm.

A fixed number of queries whatever the number of rows (no N+1). The decision itself is the one
review service's (:func:`tracker.reports.service.review_checkin`, through
:func:`tracker.reports.bulk.approve_reports` for several at once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import selectinload

from ..extensions import db
from ..i18n import N_
from ..models import Attachment, CheckIn, Department, Section, TargetValue, Task
from .queries import ReviewContext, review_context

__all__ = ["PAGE_SIZE", "QUEUE_SORTS", "QUEUE_STATES", "QueueFilter", "QueuePage", "chosen_reports", "queue_page"]

PAGE_SIZE = 50
# The states a coordinator may list (a draft is its department's own business).
QUEUE_STATES = {"submitted": N_("待审核"), "returned": N_("已退回"), "approved": N_("已通过"), "all": N_("全部")}
QUEUE_SORTS = {
    "submitted": N_("按提交时间（先交先审）"),
    "newest": N_("按提交时间（最新在前）"),
    "task": N_("按任务"),
    "department": N_("按单位"),
    "period": N_("按报送期"),
}


@dataclass
class QueueFilter:
    """What the queue page was asked for; unknown values fall back to the defaults."""

    section_id: int | None = None
    department_id: int | None = None
    period: str = ""
    state: str = "submitted"
    sort: str = "submitted"
    page: int = 1

    def __post_init__(self) -> None:
        if self.state not in QUEUE_STATES:
            self.state = "submitted"
        if self.sort not in QUEUE_SORTS:
            self.sort = "submitted"
        self.page = max(1, self.page)

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query-string arguments of this filter (for links to other pages or sorts)."""
        values = {
            "section": self.section_id,
            "department": self.department_id,
            "period": self.period,
            "state": self.state,
            "sort": self.sort,
            "page": self.page,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass
class QueuePage:
    checkins: list[CheckIn]
    total: int
    page: int
    pages: int
    sections: list[Section] = field(default_factory=list)
    departments: list[Department] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)


def queue_page(f: QueueFilter) -> QueuePage:
    """One page of the reports matching ``f`` (a consolidated report's lines are reviewed with their
    report, not one by one), with the options of the filter's lists."""
    query = db.select(CheckIn).join(Task, Task.id == CheckIn.task_id).where(CheckIn.consolidated_id.is_(None))
    states = ("submitted", "returned", "approved") if f.state == "all" else (f.state,)  # not a draft, nor one
    query = query.where(CheckIn.state.in_(states))  # still waiting for its department head's sign-off
    if f.section_id:
        query = query.where(Task.section_id == f.section_id)
    if f.department_id:
        query = query.where(CheckIn.department_id == f.department_id)
    if f.period:
        query = query.where(CheckIn.period == f.period)
    total = db.session.scalar(db.select(db.func.count()).select_from(query.subquery())) or 0
    order: dict[str, list[Any]] = {
        "submitted": [CheckIn.submitted_at, CheckIn.id],
        "newest": [CheckIn.submitted_at.desc(), CheckIn.id.desc()],
        "task": [Task.plan_id, Task.position, Task.id, CheckIn.period_end, CheckIn.id],
        "department": [Department.position, Department.id, Task.position, CheckIn.id],
        "period": [CheckIn.period_end.desc(), Task.position, CheckIn.id],
    }
    if f.sort == "department":
        query = query.join(Department, Department.id == CheckIn.department_id)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(f.page, pages)
    rows = list(
        db.session.scalars(
            query.options(
                selectinload(CheckIn.department),
                selectinload(CheckIn.task).selectinload(Task.assignments),
                selectinload(CheckIn.task).selectinload(Task.plan),
            )
            .order_by(*order[f.sort])
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
    )
    sections = list(
        db.session.scalars(
            db.select(Section).options(selectinload(Section.plan)).order_by(Section.plan_id, Section.number)
        )
    )
    departments = list(db.session.scalars(db.select(Department).order_by(Department.position, Department.id)))
    periods = sorted(
        db.session.scalars(
            db.select(CheckIn.period)
            .where(CheckIn.state.in_(("submitted", "returned", "approved")), CheckIn.consolidated_id.is_(None))
            .distinct()
        ),
        reverse=True,
    )
    return QueuePage(rows, total, page, pages, sections, departments, periods)


@dataclass
class ChosenReport:
    """A report chosen for approval together, with everything the confirmation page shows of it."""

    checkin: CheckIn
    values: list[TargetValue]
    files: list[Attachment]
    context: ReviewContext


def chosen_reports(ids: list[int]) -> list[ChosenReport]:
    """The chosen reports in the order chosen (unknown ids, drafts, reports still with their department head and
    county lines dropped), each read in full."""
    rows = {
        c.id: c
        for c in db.session.scalars(
            db.select(CheckIn)
            # a draft is its department's own; a county's line is reviewed with its consolidated report
            .where(
                CheckIn.id.in_(ids or [-1]),
                CheckIn.state.in_(("submitted", "returned", "approved")),
                CheckIn.consolidated_id.is_(None),
            )
            .options(selectinload(CheckIn.department), selectinload(CheckIn.task))
        )
    }
    found = [i for i in dict.fromkeys(ids) if i in rows]
    values: dict[int, list[TargetValue]] = {}
    for v in db.session.scalars(
        db.select(TargetValue)
        .where(TargetValue.checkin_id.in_(found or [-1]))
        .options(selectinload(TargetValue.target))
        .order_by(TargetValue.id)
    ):
        values.setdefault(v.checkin_id or 0, []).append(v)
    files: dict[int, list[Attachment]] = {}
    for a in db.session.scalars(
        db.select(Attachment).where(Attachment.checkin_id.in_(found or [-1])).order_by(Attachment.id)
    ):
        files.setdefault(a.checkin_id, []).append(a)
    # The targets and previous report: a few queries per chosen report, bounded by the selection's size.
    return [ChosenReport(rows[i], values.get(i, []), files.get(i, []), review_context(rows[i])) for i in found]
