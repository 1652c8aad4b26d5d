"""The responsibility matrix as an Excel workbook (openpyxl) and as CSV (UTF-8 with BOM).

Workbook layout: sheet 责任矩阵 with every shown row; one sheet per section with that section's
rows; sheet 图例 explaining roles, fill colours and lights. On the matrix sheets row 1 carries the
department groups (merged cells), row 2 the departments, data from row 3; panes are frozen below
the headers and right of the task columns.

Sheet names, headers, the legend and the labels in cells (roles, statuses, lights) are in the
language of the request (made for whoever downloads them); the plan's own text is written as it is.
The legend explains in words, never in internal codes (``lead``, ``in_progress``).

The matrix workbook is written in openpyxl's write-only mode, one row at a time from
``matrix.iter_rows`` into a temporary file that the response then streams (``matrix_xlsx_file``),
and the CSV is streamed row by row (``matrix_csv_chunks``): a whole province plan (20,000 tasks ×
400 departments) never sits in memory as cells. Write-only sheets keep everything the printable
setup needs (page setup, print titles, header and footer, frozen panes, merged header cells,
column widths), which must be set before the first row is written.

Both workbooks are set up to print (``print_setup``): A3 landscape, fitted to the page width, the
header rows repeated on every page, the plan's title and the as-of date in the page header, page
numbers in the footer. ``download_name`` names the files after the plan and the date.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from copy import copy
from datetime import date
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..i18n import N_, label
from ..models import Section
from ..models.org import ROLES
from ..models.plan import TASK_STATUSES
from ..spreadsheets import csv_bytes, workbook_bytes
from ..tasks.lights import LIGHT_LABELS
from ..tasks.state import TaskState
from .matrix import FIXED, Cell, Matrix, iter_rows, open_cells, table_rows

__all__ = [
    "STATUS_FILLS",
    "assessment_xlsx",
    "download_name",
    "file_chunks",
    "matrix_csv",
    "matrix_csv_chunks",
    "matrix_xlsx",
    "matrix_xlsx_file",
    "print_setup",
]

# Fill colour of a role cell by the department's latest approved status ("none": no approved report).
STATUS_FILLS = {
    "none": "EEEEEE",
    "not_started": "D9D9D9",
    "in_progress": "BDD7EE",
    "done": "C6EFCE",
    "lagging": "FFC7CE",
    "blocked": "FF8A80",
}
LIGHT_FILLS = {"red": "FF8A80", "yellow": "FFE699", "green": "C6EFCE"}
ROLE_MEANINGS = {
    "lead": N_("牵头单位：组织推进，按期报送进展"),
    "support": N_("配合单位：配合牵头单位推进，不单独报送"),
    "responsible": N_("负责单位：按职责分工负责，按期报送进展"),
    "implementing": N_("县（市、区）人民政府：在本地落实，按期报送进展和本地数据"),
}
LIGHT_MEANINGS = {
    "red": N_("逾期、报送滞后/受阻或进度明显落后"),
    "yellow": N_("临近截止、进度落后或本期未报送"),
    "green": N_("正常"),
}


def download_name(kind: str, plan_title: str, day: date, extension: str) -> str:
    """``责任矩阵_安阳市十四五节能减排综合实施方案_2025-06-20.xlsx``: what, which plan, as of when.

    Quotation marks, brackets and characters a file system refuses are dropped from the title.

    >>> download_name("责任矩阵", "安阳市“十四五”节能减排综合实施方案", date(2025, 6, 20), "xlsx")
    '责任矩阵_安阳市十四五节能减排综合实施方案_2025-06-20.xlsx'
    """
    title = re.sub(r"[\\/:*?\"<>|“”‘’《》「」『』\s]+", "", plan_title)
    return f"{kind}_{title}_{day.isoformat()}.{extension}"


def _header_text(text: str) -> str:
    return text.replace("&", "&&")  # & starts a code in Excel's header language


def print_setup(ws: Any, *, title: str, as_of: str, title_rows: str | None) -> None:
    """A3 landscape, fit to the page width, ``title_rows`` repeated on every page, title and date on top."""
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A3  # a write-only sheet lacks the constants
    ws.page_setup.orientation = Worksheet.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        ws.print_title_rows = title_rows
    ws.print_options.horizontalCentered = True
    ws.page_margins.top = ws.page_margins.bottom = 0.7
    ws.oddHeader.left.text = _header_text(title)
    ws.oddHeader.right.text = _header_text(as_of)
    ws.oddFooter.center.text = _("第 &P 页，共 &N 页")


def matrix_csv(matrix: Matrix) -> bytes:
    return b"".join(matrix_csv_chunks(matrix))


def matrix_csv_chunks(matrix: Matrix, rows_per_chunk: int = 500) -> Iterator[bytes]:
    """The CSV (UTF-8 with BOM, text kept as text) in chunks of ``rows_per_chunk`` rows."""
    header, body = table_rows(matrix)
    batch: list[list[str]] = [header]
    bom = True
    for row in body:
        batch.append(row)
        if len(batch) >= rows_per_chunk:
            data = csv_bytes(batch)
            yield data if bom else data.removeprefix(b"\xef\xbb\xbf")
            batch, bom = [], False
    if batch:
        data = csv_bytes(batch)
        yield data if bom else data.removeprefix(b"\xef\xbb\xbf")


class _Styles:
    """The few styled cells of the matrix sheets, made once and copied (styling each cell anew is slow)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
        self.bold = self._make(font=Font(bold=True))
        self.group = self._make(font=Font(bold=True), alignment=centre)
        self.dept = self._make(font=Font(bold=True), alignment=Alignment(wrap_text=True, vertical="top"))
        self.light = {k: self._make(fill=PatternFill("solid", fgColor=v)) for k, v in LIGHT_FILLS.items()}
        self.status = {
            k: self._make(fill=PatternFill("solid", fgColor=v), alignment=centre) for k, v in STATUS_FILLS.items()
        }
        self.plain_status = self._make(fill=PatternFill("solid", fgColor="FFFFFF"), alignment=centre)

    def _make(self, **style: Any) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws)
        for k, v in style.items():
            setattr(cell, k, v)
        return cell

    def cell(self, template: WriteOnlyCell, value: Any) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws, value)
        cell._style = copy(template._style)
        if isinstance(value, str):
            cell.data_type = "s"
        return cell


def _text(ws: Any, value: Any) -> Any:
    """A value for a write-only row: text that openpyxl would take for a formula or an error stays text."""
    if isinstance(value, str) and value.startswith(("=", "#")):
        cell = WriteOnlyCell(ws, value)
        cell.data_type = "s"
        return cell
    return value


def _write_matrix_sheet(ws: Any, matrix: Matrix, rows: Iterator[tuple[Section, TaskState, dict[int, Cell]]]) -> None:
    """Headers (rows 1–2), then one row per task: column sizes, merges and panes first (write-only)."""
    st = _Styles(ws)
    groups = matrix.all_groups
    first = len(FIXED) + 1
    width = len(FIXED) + sum(len(g.columns) for g in groups)
    opens = matrix.open_headers()  # the plan's open parties (各有关部门), never expanded into names
    for col in range(first, width + 1):
        ws.column_dimensions[get_column_letter(col)].width = 6
    for col in range(width + 1, width + len(opens) + 1):
        ws.column_dimensions[get_column_letter(col)].width = 8
    ws.column_dimensions["C"].width = 36
    ws.row_dimensions[2].height = 90
    ws.freeze_panes = f"{get_column_letter(first)}3"
    for i in range(1, len(FIXED) + 1):
        ws.merged_cells.add(f"{get_column_letter(i)}1:{get_column_letter(i)}2")
    top: list[Any] = [st.cell(st.bold, _(name)) for name in FIXED]
    second: list[Any] = [None] * len(FIXED)
    col = first
    for group in groups:
        top.append(st.cell(st.group, _(group.label)))
        top.extend([None] * (len(group.columns) - 1))
        if len(group.columns) > 1:
            ws.merged_cells.add(f"{get_column_letter(col)}1:{get_column_letter(col + len(group.columns) - 1)}1")
        col += len(group.columns)
        second.extend(st.cell(st.dept, c.department.name) for c in group.columns)
    if opens:
        top.append(st.cell(st.group, _("开放责任方")))
        top.extend([None] * (len(opens) - 1))
        if len(opens) > 1:
            ws.merged_cells.add(f"{get_column_letter(col)}1:{get_column_letter(col + len(opens) - 1)}1")
        second.extend(st.cell(st.dept, heading) for heading in opens)
    ws.append(top)
    ws.append(second)
    width = sum(len(g.columns) for g in groups)
    roles = {k: _(v) for k, v in ROLES.items()}
    lights = {k: _(v) for k, v in LIGHT_LABELS.items()}
    for section, state, cells in rows:
        task = state.task
        values: list[Any] = [
            section.label,
            _text(ws, task.label),
            _text(ws, task.title),
            _(task.status_label),
            f"{task.progress}%",
            st.cell(st.light[state.light], lights[state.light]),
        ]
        values.extend([None] * width)
        for i, cell in cells.items():
            values[len(FIXED) + i] = st.cell(
                st.status.get(cell.status, st.plain_status), roles.get(cell.role or "", "")
            )
        values.extend(
            st.cell(st.plain_status, roles[r]) if r in roles else None
            for r in open_cells(state, matrix.open_columns, matrix.filters)
        )
        ws.append(values)


def _safe_title(text: str) -> str:
    for ch in "[]:*?/\\":
        text = text.replace(ch, "")
    return text[:31]


def matrix_xlsx_file(matrix: Matrix, title: str, as_of: str, path: Path) -> None:
    """Write the matrix workbook to ``path``, row by row (write-only mode): sheet 责任矩阵 with every
    matching row, one sheet per section, the legend; each set up to print."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("责任矩阵"))
    print_setup(ws, title=title, as_of=as_of, title_rows="1:2")
    _write_matrix_sheet(ws, matrix, iter_rows(matrix))
    for section, states in matrix.matched:
        sheet = wb.create_sheet(_safe_title(_("%(label)s、%(title)s", label=section.label, title=section.title)))
        print_setup(sheet, title=title, as_of=as_of, title_rows="1:2")
        part = Matrix(matrix.groups, [], matrix.filters, matched=[(section, states)], all_groups=matrix.all_groups)
        _write_matrix_sheet(sheet, part, iter_rows(part))
    legend = wb.create_sheet(_("图例"))
    legend.column_dimensions["A"].width = 24
    legend.column_dimensions["B"].width = 56
    print_setup(legend, title=title, as_of=as_of, title_rows=None)
    st = _Styles(legend)
    legend.append([_text(legend, title)])
    legend.append([])
    legend.append([_("单元格文字"), _("角色")])
    for key, role in ROLES.items():
        legend.append([_(role), _(ROLE_MEANINGS[key])])
    legend.append([])
    legend.append([_("填充颜色"), _("该单位最近一次审核通过的报送状态")])
    for key in STATUS_FILLS:
        legend.append([st.cell(st.status[key], _(TASK_STATUSES.get(key, N_("尚无审核通过的报送"))))])
    legend.append([])
    legend.append([_("预警"), _("含义")])
    for key, light in LIGHT_LABELS.items():
        legend.append([st.cell(st.light[key], _(light)), _(LIGHT_MEANINGS[key])])
    wb.save(str(path))


def matrix_xlsx(matrix: Matrix, title: str, as_of: str = "") -> bytes:
    """The matrix workbook as bytes (tests, small plans); the web streams ``matrix_xlsx_file``'s file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "matrix.xlsx"
        matrix_xlsx_file(matrix, title, as_of, path)
        return path.read_bytes()


def file_chunks(path: Path, chunk: int = 256 * 1024) -> Iterator[bytes]:
    """The file's bytes in chunks, then the file removed (a streamed download of a temporary file)."""
    try:
        with path.open("rb") as f:
            while data := f.read(chunk):
                yield data
    finally:
        path.unlink(missing_ok=True)


def assessment_xlsx(rankings: list, rule: object, title: str, *, due_days: int, as_of: str = "") -> bytes:  # type: ignore[type-arg]
    """One sheet per assessment window that has started (ranked counties, then departments), and the rule."""
    from .scoring import COMPONENT_LABELS

    wb = Workbook()
    info = wb.active
    assert info is not None
    info.title = _("评分规则")
    info.append([title])
    info.append([_("项目"), _("权重")])
    for key, component in COMPONENT_LABELS.items():
        info.append([_(component), getattr(rule, key)])
    info.append([_("报送宽限（天）"), due_days])
    info.column_dimensions["A"].width = 40
    print_setup(info, title=title, as_of=as_of, title_rows=None)
    bold = Font(bold=True)
    for ranking in rankings:
        if ranking.state == "future":
            continue
        window = label(ranking.window.label)  # 2024 年度考核, 中期评估（…）: translated by pattern
        ws = wb.create_sheet(_safe_title(window))
        span = _("%(start)s 至 %(end)s", start=ranking.window.start.isoformat(), end=ranking.window.end.isoformat())
        ws.append([window, span])
        for group, units in ((_("县（市、区）"), ranking.counties), (_("市直部门及其他单位"), ranking.departments)):
            ws.append([])
            ws.append([group])
            ws.cell(row=ws.max_row, column=1).font = bold
            ws.append([_("排名"), _("单位"), *(_(c) for c in COMPONENT_LABELS.values()), _("得分")])
            for u in units:
                ws.append(
                    [
                        u.rank,
                        u.department.name,
                        *[None if u.components[k] is None else round(u.components[k], 3) for k in COMPONENT_LABELS],
                        u.score,
                    ]
                )
        ws.column_dimensions["B"].width = 24
        ws.freeze_panes = "A2"
        print_setup(ws, title=title, as_of=as_of, title_rows="1:1")  # the window and its dates
    return workbook_bytes(wb)
