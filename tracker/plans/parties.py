"""Open parties (开放责任方): the plan's words for a group it does not name, such as 各有关部门.

The plan file keeps them as written (``Task.open_parties``) and no department holds a duty because
of one. A coordinator may later name departments for an open party: each becomes an assignment of
origin ``app`` with the open party's role and wording, ``open_party`` set, and who decided it and
when (``added_by_id``, ``added_at``, and a history row). A reload of the plan file keeps them
(``tracker.plans.loader``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from .. import audit
from ..errors import TrackerError
from ..extensions import db
from ..models import Assignment, Department, Task
from ..models.org import ROLES
from ..tasks.lifecycle import ensure_task_open

__all__ = ["OpenParty", "OpenPartyError", "name_departments", "open_parties_of"]


class OpenPartyError(TrackerError):
    """Naming departments for an open party was refused; nothing was written."""


@dataclass
class OpenParty:
    """An open party of a task as the plan writes it, with the departments named for it so far."""

    text: str
    role: str
    role_text: str
    note: str
    named: list[Assignment] = field(default_factory=list)

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


def open_parties_of(task: Task) -> list[OpenParty]:
    """The task's open parties, each with the assignments coordinators have named for it (no query)."""
    out = []
    for raw in task.open_parties or []:
        text = str(raw.get("text", ""))
        out.append(
            OpenParty(
                text,
                str(raw.get("role", "responsible")),
                str(raw.get("role_text") or ""),
                str(raw.get("note") or ""),
                [a for a in task.assignments if a.open_party == text],
            )
        )
    return out


def name_departments(
    *, task: Task, party: str, department_ids: Iterable[Any], now: datetime, user_id: int | None
) -> list[Assignment]:
    """Name departments for the open party ``party`` of ``task``: one assignment each, recorded.

    Refused whole (``OpenPartyError``) when the task has no such open party, no department is
    chosen, one is unknown or deactivated, or one already holds a role on the task.
    """
    ensure_task_open(task)  # a closed plan's duties are what they were
    raw = next((p for p in task.open_parties or [] if p.get("text") == party), None)
    if raw is None:
        raise OpenPartyError(_("本任务没有开放责任方“%(party)s”。", party=party))
    ids: list[int] = []
    for value in department_ids:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise OpenPartyError(_("请选择有效的单位。")) from None
        if number not in ids:
            ids.append(number)
    if not ids:
        raise OpenPartyError(_("请至少选择一个单位。"))
    departments = {d.id: d for d in db.session.scalars(db.select(Department).where(Department.id.in_(ids)))}
    if len(departments) != len(ids) or not all(d.active for d in departments.values()):
        raise OpenPartyError(_("请选择有效的单位。"))
    taken = {a.department_id for a in task.assignments}
    clash = [departments[i].name for i in ids if i in taken]
    if clash:
        raise OpenPartyError(_("已在本任务的责任单位中：%(names)s", names=_("、").join(clash)))
    role = raw.get("role") if raw.get("role") in ROLES else "responsible"
    role_text = str(raw.get("role_text") or ROLES[role])
    rows = []
    for i in ids:
        row = Assignment(
            task_id=task.id,
            department_id=i,
            role=role,
            role_text=role_text,
            open_party=party,
            origin="app",
            added_by_id=user_id,
            added_at=now,
            position=len(task.assignments) + len(rows),
        )
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    for row in rows:
        audit.record(
            now=now,
            action="name",
            entity="assignment",
            entity_id=row.id,
            field="open_party",
            old=party,
            new=f"{task.code} · {departments[row.department_id].name} · {role_text}",
            user_id=user_id,
        )
    db.session.commit()
    return rows
