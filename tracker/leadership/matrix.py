"""The responsibility matrix (责任矩阵): tasks × departments, each cell a role coloured by status.

Rows are the plan's tasks grouped by section (sub-tasks under their task); columns are the
departments grouped by kind (市直部门, 县（市、区）政府, 驻安单位, 党群部门), each with its
count of 牵头 / 配合 / 负责 tasks over the whole plan. A cell holds the department's role on the
task and that department's latest approved status on it (``none`` when it has no approved
report yet). Every row carries the task's warning light.

Filters (all optional, from the query string): ``section`` (number), ``department`` (id: rows
where it holds a role), ``role`` (rows where that role is held — by the filtered department if
one is given — and only cells of that role), ``status`` (the task's status), ``light``, ``county``
(id: county-government columns narrowed to that county).

The plan's open parties (各有关部门: a group it does not name) get their own columns after the
departments, headed "各有关部门（未具名）": a row shows the open party's role there. Departments a
coordinator has named for it later are ordinary department cells. No department gets a cell for
an open party the plan leaves unnamed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _

from ..i18n import N_
from ..models import Department, Section
from ..models.org import DEPARTMENT_KINDS, ROLES
from ..models.plan import TASK_STATUSES
from ..tasks.lights import LIGHT_LABELS
from ..tasks.state import PlanState, TaskState

__all__ = ["FIXED", "KIND_ORDER", "Filters", "Matrix", "build_matrix"]

KIND_ORDER = ["bureau", "county", "outside", "party"]
# The task columns of the exports, before the departments; translated where written.
FIXED = [N_("部分"), N_("序号"), N_("措施"), N_("状态"), N_("进度"), N_("预警")]


@dataclass(frozen=True)
class Filters:
    section: int | None = None
    department: int | None = None
    role: str | None = None
    status: str | None = None
    light: str | None = None
    county: int | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        def as_int(name: str) -> int | None:
            value = (args.get(name) or "").strip()
            return int(value) if value.isdigit() else None

        def as_choice(name: str, choices: set[str]) -> str | None:
            value = (args.get(name) or "").strip()
            return value if value in choices else None

        return cls(
            section=as_int("section"),
            department=as_int("department"),
            role=as_choice("role", set(ROLES)),
            status=as_choice("status", set(TASK_STATUSES)),
            light=as_choice("light", {"red", "yellow", "green"}),
            county=as_int("county"),
        )

    def query(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Column:
    department: Department
    counts: dict[str, int]


@dataclass
class ColumnGroup:
    kind: str
    label: str
    columns: list[Column]


@dataclass
class Cell:
    role: str | None
    role_text: str
    status: str  # the department's latest approved status, or "none"
    percent: int | None

    @property
    def label(self) -> str:
        """The role in the current language (the matrix page and its exports show it)."""
        return _(ROLES[self.role]) if self.role in ROLES else ""


@dataclass
class Row:
    state: TaskState
    cells: list[Cell]
    # per open-party column: the open party's role on this task, or None
    open_cells: list[str | None] = field(default_factory=list)

    def open_labels(self) -> list[str]:
        """The open-party cells in the current language."""
        return [_(ROLES[r]) if r in ROLES else "" for r in self.open_cells]


@dataclass
class Matrix:
    groups: list[ColumnGroup]
    sections: list[tuple[Section, list[Row]]]
    filters: Filters
    total_rows: int = 0
    counties: list[tuple[int, str]] = field(default_factory=list)
    open_columns: list[str] = field(default_factory=list)  # the plan's open parties (各有关部门), as written

    def open_headers(self) -> list[str]:
        """The open-party column headings: 各有关部门（未具名）."""
        return [_("%(text)s（未具名）", text=text) for text in self.open_columns]

    @property
    def columns(self) -> list[Column]:
        return [c for g in self.groups for c in g.columns]

    @property
    def rows(self) -> list[Row]:
        return [r for _, rows in self.sections for r in rows]


def _role_counts(snapshot: PlanState) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {d.id: dict.fromkeys(ROLES, 0) for d in snapshot.departments}
    for st in snapshot.states:
        for a in st.task.assignments:
            counts.setdefault(a.department_id, dict.fromkeys(ROLES, 0))[a.role] += 1
    return counts


def build_matrix(snapshot: PlanState, filters: Filters, county_names: Mapping[int, str]) -> Matrix:
    counts = _role_counts(snapshot)
    groups: list[ColumnGroup] = []
    for kind in KIND_ORDER + sorted({d.kind for d in snapshot.departments} - set(KIND_ORDER)):
        departments = [d for d in snapshot.departments if d.kind == kind]
        if kind == "county" and filters.county is not None:
            departments = [d for d in departments if d.county_id == filters.county]
        if departments:
            columns = [Column(d, counts[d.id]) for d in departments]
            groups.append(ColumnGroup(kind, DEPARTMENT_KINDS.get(kind, kind), columns))
    columns = [c for g in groups for c in g.columns]
    open_columns: list[str] = []
    for st in snapshot.states:
        for party in st.task.open_parties or []:
            if party.get("text") and party["text"] not in open_columns:
                open_columns.append(party["text"])

    sections: list[tuple[Section, list[Row]]] = []
    total = 0
    for section, states in snapshot.by_section():
        if filters.section is not None and section.number != filters.section:
            continue
        rows: list[Row] = []
        for st in states:
            if not _row_matches(st, filters):
                continue
            roles = {a.department_id: a for a in st.task.assignments}
            cells = []
            for col in columns:
                a = roles.get(col.department.id)
                if a is None or (filters.role is not None and a.role != filters.role):
                    cells.append(Cell(None, "", "none", None))
                    continue
                latest = st.latest.get(col.department.id)
                cells.append(
                    Cell(
                        a.role,
                        a.role_text,
                        latest.status if latest else "none",
                        latest.percent if latest else None,
                    )
                )
            parties = {p.get("text"): p.get("role") for p in st.task.open_parties or []}
            open_cells = [
                parties.get(text) if filters.role is None or parties.get(text) == filters.role else None
                for text in open_columns
            ]
            rows.append(Row(st, cells, open_cells))
        total += len(rows)
        sections.append((section, rows))
    counties = sorted(county_names.items(), key=lambda kv: kv[0])
    return Matrix(groups, sections, filters, total, counties, open_columns)


def _row_matches(st: TaskState, f: Filters) -> bool:
    task = st.task
    if f.status is not None and task.status != f.status:
        return False
    if f.light is not None and st.light != f.light:
        return False
    held = {a.department_id: a.role for a in task.assignments}
    if f.department is not None and f.department not in held:
        return False
    if f.role is not None:
        if f.department is not None:
            return held.get(f.department) == f.role
        return f.role in held.values()
    return True


def table(matrix: Matrix) -> tuple[list[str], list[list[str]]]:
    """The matrix as plain text rows (the CSV), headers and labels in the current language."""
    header = [_(name) for name in FIXED] + [c.department.name for c in matrix.columns] + matrix.open_headers()
    body: list[list[str]] = []
    for section, rows in matrix.sections:
        for row in rows:
            task = row.state.task
            body.append(
                [
                    section.label,
                    task.label,
                    task.title,
                    _(task.status_label),
                    f"{task.progress}%",
                    _(LIGHT_LABELS[row.state.light]),
                ]
                + [cell.label for cell in row.cells]
                + row.open_labels()
            )
    return header, body
