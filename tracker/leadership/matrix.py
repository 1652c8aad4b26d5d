"""The responsibility matrix (责任矩阵): tasks × departments, each cell a role coloured by status.

Rows are the plan's tasks grouped by section (sub-tasks under their task); columns are the
departments grouped by kind (市直部门, 县（市、区）政府, 驻安单位, 党群部门), each with its
count of 牵头 / 配合 / 负责 tasks over the whole plan. A cell holds the department's role on the
task and that department's latest approved status on it (``none`` when it has no approved
report yet). Every row carries the task's warning light.

Filters (all optional, from the query string): ``section`` (number), ``department`` (id: rows
where it holds a role), ``role`` (rows where that role is held — by the filtered department if
one is given — and only cells of that role), ``status`` (the task's status), ``light``, ``county``
(id: rows where a department of that county holds a role, county-government columns narrowed to
that county), ``page``.

The plan's open parties (各有关部门: a group it does not name) get their own columns after the
departments, headed "各有关部门（未具名）": a row shows the open party's role there. Departments a
coordinator has named for it later are ordinary department cells. No department gets a cell for
an open party the plan leaves unnamed.

Province scale (paged and filtered here, on the server): a plan of more than ``SUMMARY_ABOVE``
tasks opens on a one-screen summary (sections × lights, and the counties and departments with the
most red tasks, every count a link to the rows behind it) instead of every row; filtered rows come
``PAGE_SIZE`` at a time, and where the directory has more than ``NARROW_ABOVE`` departments a page
shows only the departments that hold a role in its rows. At the seeded plan's size (21 tasks × 36
departments) nothing changes: one page, every column. The exports take every matching row and every
column, built one row at a time (``iter_rows``) so that a whole province plan streams out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _

from ..i18n import N_
from ..models import Department, Section
from ..models.org import DEPARTMENT_KINDS, ROLES
from ..models.plan import TASK_STATUSES
from ..tasks.lights import LIGHT_LABELS
from ..tasks.state import PlanState, TaskState

__all__ = ["FIXED", "KIND_ORDER", "PAGE_SIZE", "Filters", "Matrix", "Summary", "build_matrix", "iter_rows"]

PAGE_SIZE = 50  # rows of a matrix page
SUMMARY_ABOVE = 200  # tasks: a larger plan opens on the summary, not on every row
NARROW_ABOVE = 60  # departments: with more, a page shows only those holding a role in its rows
TOP = 10  # counties / departments listed in the summary
LIGHTS = ("red", "yellow", "green")
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
    page: int = 1

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
            page=max(1, min(as_int("page") or 1, 100_000)),
        )

    def query(self) -> dict[str, object]:
        """The filters as query arguments (without the page: links to other filters start on page 1)."""
        return {k: v for k, v in self.__dict__.items() if v is not None and k != "page"}

    def paged(self) -> dict[str, object]:
        """The filters and the page (links that stay on this page: a row, a column)."""
        return self.query() | ({"page": self.page} if self.page > 1 else {})

    @property
    def narrowed(self) -> bool:
        return bool(self.query())


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
class SummaryRow:
    """A count of tasks by light, for a section, a county or a department; ``query``: its filter."""

    label: str
    query: dict[str, object]
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Summary:
    sections: list[SummaryRow]
    total: SummaryRow
    counties: list[SummaryRow]  # the TOP counties with the most red (then yellow) tasks
    departments: list[SummaryRow]  # the TOP departments (not county governments) likewise


@dataclass
class Matrix:
    groups: list[ColumnGroup]
    sections: list[tuple[Section, list[Row]]]  # the rows of this page
    filters: Filters
    total_rows: int = 0
    counties: list[tuple[int, str]] = field(default_factory=list)
    page: int = 1
    pages: int = 1
    summary: Summary | None = None
    # every matching task by section (all pages), and every column: what the exports write
    matched: list[tuple[Section, list[TaskState]]] = field(default_factory=list)
    all_groups: list[ColumnGroup] = field(default_factory=list)
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


def _groups(snapshot: PlanState, filters: Filters, counts: dict[int, dict[str, int]]) -> list[ColumnGroup]:
    groups: list[ColumnGroup] = []
    for kind in KIND_ORDER + sorted({d.kind for d in snapshot.departments} - set(KIND_ORDER)):
        departments = [d for d in snapshot.departments if d.kind == kind]
        if kind == "county" and filters.county is not None:
            departments = [d for d in departments if d.county_id == filters.county]
        if departments:
            columns = [Column(d, counts[d.id]) for d in departments]
            groups.append(ColumnGroup(kind, DEPARTMENT_KINDS.get(kind, kind), columns))
    return groups


def open_cells(st: TaskState, open_columns: list[str], filters: Filters) -> list[str | None]:
    """Per open-party column, the open party's role on this task (None where it has none or the role
    filter hides it)."""
    parties = {p.get("text"): p.get("role") for p in st.task.open_parties or []}
    return [
        parties.get(text) if filters.role is None or parties.get(text) == filters.role else None
        for text in open_columns
    ]


def _open_columns(snapshot: PlanState) -> list[str]:
    columns: list[str] = []
    for st in snapshot.states:
        for party in st.task.open_parties or []:
            if party.get("text") and party["text"] not in columns:
                columns.append(party["text"])
    return columns


def _row(st: TaskState, columns: list[Column], filters: Filters, open_columns: list[str]) -> Row:
    roles = {a.department_id: a for a in st.task.assignments}
    cells = []
    for col in columns:
        a = roles.get(col.department.id)
        if a is None or (filters.role is not None and a.role != filters.role):
            cells.append(Cell(None, "", "none", None))
            continue
        latest = st.latest.get(col.department.id)
        cells.append(Cell(a.role, a.role_text, latest.status if latest else "none", latest.percent if latest else None))
    return Row(st, cells, open_cells(st, open_columns, filters))


def build_matrix(
    snapshot: PlanState,
    filters: Filters,
    county_names: Mapping[int, str],
    *,
    page_size: int = PAGE_SIZE,
    summary_above: int = SUMMARY_ABOVE,
    narrow_above: int = NARROW_ABOVE,
) -> Matrix:
    """The page the filters ask for: the summary, or one page of rows (see the module's docstring)."""
    counts = _role_counts(snapshot)
    all_groups = _groups(snapshot, filters, counts)
    county_depts = (
        {d.id for d in snapshot.departments if d.county_id == filters.county} if filters.county is not None else None
    )
    matched = [
        (section, [st for st in states if _row_matches(st, filters, county_depts)])
        for section, states in snapshot.by_section()
        if filters.section is None or section.number == filters.section
    ]
    total = sum(len(states) for _, states in matched)
    counties = sorted(county_names.items(), key=lambda kv: kv[0])
    open_columns = _open_columns(snapshot)
    if not filters.narrowed and len(snapshot.states) > summary_above:
        summary = _summary(snapshot, county_names)
        return Matrix(
            [],
            [],
            filters,
            total,
            counties,
            summary=summary,
            matched=matched,
            all_groups=all_groups,
            open_columns=open_columns,
        )
    pages = max(1, -(-total // page_size))
    page = min(filters.page, pages)
    first, last = (page - 1) * page_size, page * page_size
    shown: list[tuple[Section, list[TaskState]]] = []
    seen = 0
    for section, states in matched:
        part = states[max(0, first - seen) : max(0, last - seen)]
        seen += len(states)
        if part or pages == 1:  # one page: every section, as before paging
            shown.append((section, part))
    groups = all_groups
    if len(snapshot.departments) > narrow_above:
        involved = {a.department_id for _, states in shown for st in states for a in st.task.assignments}
        if filters.department is not None:
            involved.add(filters.department)
        groups = [
            ColumnGroup(g.kind, g.label, [c for c in g.columns if c.department.id in involved]) for g in all_groups
        ]
        groups = [g for g in groups if g.columns]
    columns = [c for g in groups for c in g.columns]
    sections = [(section, [_row(st, columns, filters, open_columns) for st in states]) for section, states in shown]
    return Matrix(groups, sections, filters, total, counties, page, pages, None, matched, all_groups, open_columns)


def iter_rows(matrix: Matrix) -> Iterator[tuple[Section, TaskState, dict[int, Cell]]]:
    """Every matching row over every column, one at a time and sparse: the row's filled cells by column
    index (0 = the first department). The exports write from this, never the whole grid at once."""
    index = {c.department.id: i for i, c in enumerate(c for g in matrix.all_groups for c in g.columns)}
    role = matrix.filters.role
    for section, states in matrix.matched:
        for st in states:
            cells: dict[int, Cell] = {}
            for a in st.task.assignments:
                i = index.get(a.department_id)
                if i is None or (role is not None and a.role != role):
                    continue
                latest = st.latest.get(a.department_id)
                cells[i] = Cell(
                    a.role, a.role_text, latest.status if latest else "none", latest.percent if latest else None
                )
            yield section, st, cells


def _summary(snapshot: PlanState, county_names: Mapping[int, str]) -> Summary:
    """Sections × lights, and the counties and departments with the most red tasks (one pass over the plan)."""
    by_id = {d.id: d for d in snapshot.departments}
    total = dict.fromkeys(LIGHTS, 0)
    per_county: dict[int, dict[str, int]] = {}
    per_dept: dict[int, dict[str, int]] = {}
    sections = []
    for section, states in snapshot.by_section():
        counts = dict.fromkeys(LIGHTS, 0)
        for st in states:
            counts[st.light] += 1
            in_counties = set()
            for a in st.task.assignments:
                d = by_id.get(a.department_id)
                if d is None:
                    continue
                if d.county_id is not None:
                    in_counties.add(d.county_id)
                if d.kind != "county":
                    per_dept.setdefault(d.id, dict.fromkeys(LIGHTS, 0))[st.light] += 1
            for cid in in_counties:
                per_county.setdefault(cid, dict.fromkeys(LIGHTS, 0))[st.light] += 1
        for k in LIGHTS:
            total[k] += counts[k]
        label = _("%(label)s、%(title)s", label=section.label, title=section.title)
        sections.append(SummaryRow(label, {"section": section.number}, counts))

    def top(per: dict[int, dict[str, int]], name: Mapping[int, str], key: str) -> list[SummaryRow]:
        ranked = sorted(per.items(), key=lambda kv: (-kv[1]["red"], -kv[1]["yellow"], kv[0]))[:TOP]
        return [SummaryRow(name.get(i, str(i)), {key: i}, c) for i, c in ranked]

    return Summary(
        sections,
        SummaryRow(_("全部"), {}, total),
        top(per_county, county_names, "county"),
        top(per_dept, {d.id: d.name for d in snapshot.departments}, "department"),
    )


def _row_matches(st: TaskState, f: Filters, county_depts: set[int] | None = None) -> bool:
    task = st.task
    if f.status is not None and task.status != f.status:
        return False
    if f.light is not None and st.light != f.light:
        return False
    held = {a.department_id: a.role for a in task.assignments}
    if f.department is not None and f.department not in held:
        return False
    if county_depts is not None and not county_depts.intersection(held):
        return False
    if f.role is not None:
        if f.department is not None:
            return held.get(f.department) == f.role
        return f.role in held.values()
    return True


def table(matrix: Matrix) -> tuple[list[str], list[list[str]]]:
    """The matrix as plain text rows (the CSV), headers and labels in the current language."""
    header, body = table_rows(matrix)
    return header, list(body)


def table_rows(matrix: Matrix) -> tuple[list[str], Iterator[list[str]]]:
    """``table`` one row at a time: every matching row, every column (the streamed CSV)."""
    names = [c.department.name for g in matrix.all_groups for c in g.columns]
    header = [_(name) for name in FIXED] + names + matrix.open_headers()
    lights = {k: _(v) for k, v in LIGHT_LABELS.items()}
    roles = {k: _(v) for k, v in ROLES.items()}

    def body() -> Iterator[list[str]]:
        for section, st, cells in iter_rows(matrix):
            task = st.task
            row = [section.label, task.label, task.title, _(task.status_label), f"{task.progress}%", lights[st.light]]
            row.extend([""] * len(names))
            for i, cell in cells.items():
                row[len(FIXED) + i] = roles.get(cell.role or "", "")
            row.extend(roles.get(r or "", "") for r in open_cells(st, matrix.open_columns, matrix.filters))
            yield row

    return header, body()
