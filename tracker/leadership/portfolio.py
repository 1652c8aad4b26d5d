"""Leaders' portfolios (分管): the departments a leader oversees, set by an administrator, and what
the leader's dashboard and weekly digest show first — the tasks those departments answer for (as
lead, else responsible department), red before yellow before green, the earliest deadline first.

A task belongs to a portfolio when a department of it holds the lead or responsible role (the one
that answers for the task); supporting and implementing roles do not bring a task in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _

from .. import audit
from ..errors import TrackerError
from ..extensions import db
from ..models import Department, LeaderPortfolio, Task, User
from ..tasks.state import PlanState, TaskState

__all__ = [
    "ANSWERING_ROLES",
    "Portfolio",
    "PortfolioError",
    "department_ids",
    "portfolio_of",
    "portfolio_tasks",
    "set_portfolio",
]

ANSWERING_ROLES = frozenset({"lead", "responsible"})
LIGHT_ORDER = {"red": 0, "yellow": 1, "green": 2}


class PortfolioError(TrackerError):
    """The portfolio cannot be set as asked (not a leader, or an unknown department)."""


@dataclass
class Portfolio:
    departments: list[Department]
    tasks: list[TaskState] = field(default_factory=list)

    @property
    def light_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(LIGHT_ORDER, 0)
        for st in self.tasks:
            counts[st.light] += 1
        return counts


def department_ids(user_id: int) -> list[int]:
    """The departments in a leader's portfolio (empty: none given)."""
    return list(
        db.session.scalars(
            db.select(LeaderPortfolio.department_id)
            .join(Department, Department.id == LeaderPortfolio.department_id)
            .where(LeaderPortfolio.user_id == user_id)
            .order_by(Department.position, Department.id)
        )
    )


def answers_for(task: Task, ids: set[int]) -> bool:
    return any(a.department_id in ids and a.role in ANSWERING_ROLES for a in task.assignments)


def portfolio_of(snap: PlanState, ids: Iterable[int]) -> Portfolio | None:
    """The portfolio's part of a plan's state (no query): None when the leader has no portfolio."""
    wanted = set(ids)
    if not wanted:
        return None
    departments = [d for d in snap.departments if d.id in wanted]
    tasks = [st for st in snap.states if answers_for(st.task, wanted)]
    tasks.sort(key=lambda st: (LIGHT_ORDER[st.light], st.task.due, st.task.position))
    return Portfolio(departments, tasks)


def portfolio_tasks(tasks: Iterable[Task], ids: Iterable[int]) -> list[Task]:
    """The tasks of a list that a portfolio's departments answer for, in the list's order."""
    wanted = set(ids)
    return [t for t in tasks if answers_for(t, wanted)]


def set_portfolio(leader: User, ids: Iterable[int], *, now: datetime, by: User) -> tuple[int, int]:
    """Replace a leader's portfolio; each department added or removed is a history row. Returns
    (added, removed)."""
    if leader.role != "leader":
        raise PortfolioError(_("只有领导账号可以设置分管单位。"))
    wanted = set(ids)
    known = set(db.session.scalars(db.select(Department.id).where(Department.id.in_(wanted or {-1}))))
    if wanted - known:
        raise PortfolioError(_("没有这个单位，或它已停用。"))
    current = set(department_ids(leader.id))
    names = dict(
        db.session.execute(
            db.select(Department.id, Department.name).where(Department.id.in_(wanted | current or {-1}))
        ).all()
    )
    for dept_id in sorted(wanted - current):
        db.session.add(LeaderPortfolio(user_id=leader.id, department_id=dept_id))
        audit.record(
            now=now, action="portfolio_add", entity="user", entity_id=leader.id, new=names[dept_id], user_id=by.id
        )
    for dept_id in sorted(current - wanted):
        db.session.execute(db.delete(LeaderPortfolio).filter_by(user_id=leader.id, department_id=dept_id))
        audit.record(
            now=now, action="portfolio_remove", entity="user", entity_id=leader.id, old=names[dept_id], user_id=by.id
        )
    db.session.commit()
    return len(wanted - current), len(current - wanted)
