"""What each role owes: the one answer to "who reports on this task, who is chased, who acknowledges".

* **lead** (牵头) owes the task's periodic progress report and is chased for it;
* **responsible** (负责 / 按职责分工负责) owes it too where the measure names no lead (each for its own
  share); beside a lead it owes no separate report;
* **support** (配合) owes no separate report (it may add its part to the lead's) and is never chased;
* **implementing** (落实: the county governments) owes one consolidated 落实 report per period for all
  the measures it implements, plus its own figures, instead of one report per measure;
* every named party acknowledges (签收) each of its assignments once.

Pure: roles in, answers out.

>>> task_reporters({"a": "lead", "b": "responsible", "c": "support", "d": "implementing"})
{'a'}
>>> sorted(task_reporters({"a": "responsible", "b": "responsible", "c": "support"}))
['a', 'b']
>>> owes_task_report("implementing", {"lead"}), owes_consolidated_report("implementing")
(False, True)
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from typing import TypeVar

__all__ = [
    "CONSOLIDATED_ROLE",
    "TASK_REPORT_ROLES",
    "owes_consolidated_report",
    "owes_task_report",
    "task_reporters",
]

K = TypeVar("K", bound=Hashable)

TASK_REPORT_ROLES = frozenset({"lead", "responsible"})  # the roles that can owe a task's report
CONSOLIDATED_ROLE = "implementing"  # owes the county's consolidated 落实 report instead


def owes_task_report(role: str, roles_on_task: Collection[str]) -> bool:
    """Whether a department holding ``role`` on a task whose roles are ``roles_on_task`` owes its report."""
    if role == "lead":
        return True
    return role == "responsible" and "lead" not in roles_on_task


def owes_consolidated_report(role: str) -> bool:
    """Whether ``role`` makes a department owe the consolidated 落实 report for the task's plan."""
    return role == CONSOLIDATED_ROLE


def task_reporters(roles: Mapping[K, str]) -> set[K]:
    """Of ``{department: role}`` on one task, the departments that owe the task's periodic report."""
    present = set(roles.values())
    return {dept for dept, role in roles.items() if owes_task_report(role, present)}
