"""Who may do what: pure rules over a user and the roles their department holds.

Views and services both ask these; every mutating route checks on the server.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class UserLike(Protocol):
    role: str
    department_id: int | None


class AssignmentLike(Protocol):
    department_id: int
    role: str


def is_coordinator(user: UserLike) -> bool:
    return user.role == "coordinator"


def is_admin(user: UserLike) -> bool:
    return user.role == "admin"


def can_read_everything(user: UserLike) -> bool:
    """Everybody logged in reads every task; leaders read and change nothing."""
    return user.role in {"staff", "head", "coordinator", "leader", "admin"}


def department_role(user: UserLike, assignments: Iterable[AssignmentLike]) -> str | None:
    """The role the user's department holds on a task, or None."""
    for a in assignments:
        if user.department_id is not None and a.department_id == user.department_id:
            return a.role
    return None


def can_report(user: UserLike, assignments: Iterable[AssignmentLike]) -> bool:
    """Staff report for their own department, only on tasks where it holds a role."""
    return user.role == "staff" and department_role(user, assignments) is not None


def primary_department_ids(assignments: Iterable[AssignmentLike]) -> set[int]:
    """The departments whose approved report sets the task's status: the leads, else the responsibles.

    >>> from types import SimpleNamespace as A
    >>> sorted(primary_department_ids([A(department_id=1, role="lead"), A(department_id=2, role="responsible")]))
    [1]
    >>> sorted(primary_department_ids([A(department_id=2, role="responsible"), A(department_id=3, role="support")]))
    [2]
    """
    assignments = list(assignments)
    for role in ("lead", "responsible"):
        ids = {a.department_id for a in assignments if a.role == role}
        if ids:
            return ids
    return set()


def can_request_extension(user: UserLike, assignments: Iterable[AssignmentLike]) -> bool:
    """Only the lead (or, where no lead is named, a responsible) department asks for more time."""
    return user.role == "staff" and user.department_id in primary_department_ids(assignments)


def can_acknowledge(user: UserLike, assignments: Iterable[AssignmentLike]) -> bool:
    """Staff acknowledge (签收) the tasks their own department is assigned to."""
    return can_report(user, assignments)


def can_break_down(user: UserLike, assignments: Iterable[AssignmentLike]) -> bool:
    """The lead department breaks its task down into sub-tasks (分解)."""
    return user.role == "staff" and department_role(user, assignments) == "lead"


def can_review(user: UserLike) -> bool:
    """Coordinators review reports; an administrator may too (where a coordinator must not review
    their own department's report, another coordinator or an administrator does)."""
    return is_coordinator(user) or is_admin(user)


def can_edit_plan(user: UserLike) -> bool:
    return is_coordinator(user)


def can_manage_accounts(user: UserLike) -> bool:
    """The system administrator: accounts, departments, counties and settings (三员分立)."""
    return is_admin(user)


def is_security_admin(user: UserLike) -> bool:
    """The security administrator: ends sessions, watches the password and session policy."""
    return user.role == "security"


def can_read_audit_log(user: UserLike) -> bool:
    """Only the auditor reads the audit log, and changes nothing: not the administrator it audits."""
    return user.role == "auditor"
