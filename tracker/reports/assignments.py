"""Who does what on a task, changed as the plan runs: remove a department, or replace it by another.

Also changing a department's role (:func:`update_assignment`); adding one is
:func:`tracker.reports.service.add_assignment`.

Removing a department that has reports on the task is refused, with the reason shown: its reports
would lose the duty they were written under (the matrix, the assessment and the reminders read
reports through the task's parties), and the history would no longer say why they exist. The
coordinator keeps the department (its role may be changed, e.g. to 配合) or merges departments in
the directory. Removing the last department that owes the task's report is refused too: the task
would have nobody to report on it; replace it instead.

Every change is in the history naming the department and the person: an added department on its new
assignment; a removal or a replacement on the task (the assignment row is gone, so the task's history
keeps it: 替换责任单位 市公安局 · 配合 → 市商务局 · 配合), beside a deletion row on the old assignment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from .. import audit
from ..extensions import db
from ..models import Assignment, CheckIn, Department
from ..models.org import ROLES
from ..tasks.duties import task_reporters
from ..tasks.lifecycle import ensure_task_open
from .service import ASSIGNMENT_FIELDS, ReportError, StaleEdit, snapshot
from .service import _flush_or_conflict as flush_or_conflict

__all__ = ["assignment_words", "removal_refusal", "remove_assignment", "replace_assignment", "update_assignment"]

ASSIGNMENT_STATE = ("role", "department_id")


def assignment_words(department: Department, role: str) -> str:
    """An assignment in words, its role last (Chinese; the history formatter translates the role)."""
    return f"{department.name} · {ROLES.get(role, role)}"


def _reports_of(assignment: Assignment) -> int:
    return (
        db.session.scalar(
            db.select(db.func.count(CheckIn.id)).where(
                CheckIn.task_id == assignment.task_id, CheckIn.department_id == assignment.department_id
            )
        )
        or 0
    )


def removal_refusal(assignment: Assignment, *, replacing: bool = False) -> str | None:
    """Why the department cannot leave the task (None: it can)."""
    count = _reports_of(assignment)
    if count:
        return _(
            "%(department)s 已就本任务报送了 %(n)s 份报告（含草稿），移除后这些报告将失去对应的责任分工，"
            "因此不能移除或替换。可改为调整其角色。",
            department=assignment.department.name,
            n=count,
        )
    if not replacing:
        roles = {a.id: a.role for a in assignment.task.assignments}
        reporters = task_reporters(roles)
        if assignment.id in reporters and reporters == {assignment.id}:
            return _(
                "%(department)s 是本任务唯一负责报送进展的单位，移除后无人报送；请改用“替换”。",
                department=assignment.department.name,
            )
    return None


def _check_version(assignment: Assignment, version_id: int | None) -> None:
    if version_id != assignment.version_id:
        raise StaleEdit(_("责任分工已被他人修改，请核对后重新保存。"), snapshot(assignment, ASSIGNMENT_STATE))


def remove_assignment(*, assignment: Assignment, version_id: int | None, now: datetime, user_id: int | None) -> None:
    """Take a department off a task (refused where it has reports or is the task's only reporter)."""
    ensure_task_open(assignment.task)
    _check_version(assignment, version_id)
    refusal = removal_refusal(assignment)
    if refusal:
        raise ReportError(refusal)
    words = assignment_words(assignment.department, assignment.role)
    audit.record(now=now, action="delete", entity="assignment", entity_id=assignment.id, old=words, user_id=user_id)
    audit.record(
        now=now, action="remove_party", entity="task", entity_id=assignment.task_id, old=words, user_id=user_id
    )
    db.session.delete(assignment)
    db.session.commit()


def replace_assignment(
    *, assignment: Assignment, department_id: int, version_id: int | None, now: datetime, user_id: int | None
) -> Assignment:
    """Put another department in this department's place on the task: same role, wording and note.

    The new department has to acknowledge (签收) it. Refused where the leaving department has reports,
    where the new one is already on the task, or is unknown or deactivated.
    """
    ensure_task_open(assignment.task)
    _check_version(assignment, version_id)
    new = db.session.get(Department, department_id) if department_id else None
    if new is None:
        raise ReportError(_("请选择接替的单位。"))
    if not new.active:
        raise ReportError(_("%(department)s 已停用，不能承担新的任务。", department=new.name))
    task = assignment.task
    if any(a.department_id == new.id for a in task.assignments):
        raise ReportError(_("%(department)s 已在本任务的责任单位中。", department=new.name))
    refusal = removal_refusal(assignment, replacing=True)
    if refusal:
        raise ReportError(refusal)
    old_words = assignment_words(assignment.department, assignment.role)
    new_words = assignment_words(new, assignment.role)
    row = Assignment(
        task_id=task.id,
        department_id=new.id,
        role=assignment.role,
        role_text=assignment.role_text,
        note=assignment.note,
        position=assignment.position,
        origin="app",  # the app's decision: a reload of the plan file does not undo it
        added_by_id=user_id,
        added_at=now,
    )
    audit.record(now=now, action="delete", entity="assignment", entity_id=assignment.id, old=old_words, user_id=user_id)
    db.session.delete(assignment)
    db.session.flush()  # the unique (task, department) pair is free before the new row takes the place
    db.session.add(row)
    db.session.flush()
    audit.record(
        now=now,
        action="replace_party",
        entity="task",
        entity_id=task.id,
        old=old_words,
        new=new_words,
        user_id=user_id,
    )
    db.session.commit()
    return row


def update_assignment(
    *, assignment: Assignment, values: dict[str, Any], version_id: int | None, now: datetime, user_id: int | None
) -> int:
    """Change a department's role on a task (role, the plan's wording, a note), with history."""
    ensure_task_open(assignment.task)
    if values.get("role", assignment.role) not in ROLES:
        raise ReportError(_("角色应为牵头、配合、负责或落实。"))
    message = _("责任分工已被他人修改，请核对后重新保存。")
    if version_id != assignment.version_id:
        raise StaleEdit(message, snapshot(assignment, ASSIGNMENT_FIELDS))
    changed = audit.update_fields(assignment, values, now=now, entity="assignment", user_id=user_id)
    if changed:  # the app's decision now: a reload of the plan file no longer changes this row
        assignment.origin, assignment.added_by_id, assignment.added_at = "app", user_id, now
    flush_or_conflict(message, assignment, ASSIGNMENT_FIELDS)
    db.session.commit()
    return changed
