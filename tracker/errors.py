"""Domain errors. Views turn them into form errors or 409 pages, the CLI into a message and exit 1."""

from __future__ import annotations

from flask_babel import gettext as _


class TrackerError(Exception):
    """Base of every error the application raises on purpose."""


class PlanFileError(TrackerError):
    """A plan file is invalid. ``problems`` lists each as ``(where, message)``; nothing was written."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        lines = "\n".join(f"{where}: {message}" for where, message in problems)
        super().__init__(_("计划文件有误，未做任何修改：") + "\n" + lines)


class NotFound(TrackerError):
    """The thing asked for does not exist."""


class PermissionDenied(TrackerError):
    """The current user may not do this."""


class ConflictError(TrackerError):
    """Someone else changed the record since it was read (optimistic locking)."""


class DependencyCycleError(TrackerError):
    """A new dependency would close a cycle. ``cycle`` lists the task codes, first repeated last."""

    def __init__(self, cycle: list[str]):
        self.cycle = cycle
        super().__init__(_("依赖关系将形成循环，已拒绝：%(cycle)s", cycle=" → ".join(cycle)))


class PlanClosed(TrackerError):
    """The plan is closed: read-only. Web shows a 403 page, the API a JSON error, the CLI exits 1."""

    def __init__(self, title: str):
        self.title = title
        super().__init__(_("计划“%(plan)s”已关闭，只能查阅和导出，不能再报送、审核或修改。", plan=title))
