"""The responsibility matrix as an Excel workbook (XlsxWriter) and as CSV (UTF-8 with BOM); the
assessment workbook (openpyxl).

Workbook layout: sheet 责任矩阵 with every shown row; one sheet per section with that section's
rows; sheet 图例 explaining roles, fill colours and lights. On the matrix sheets row 1 carries the
department groups (merged cells), row 2 the departments, data from row 3; panes are frozen below
the headers and right of the task columns.

Sheet names, headers, the legend and the labels in cells (roles, statuses, lights) are in the
language of the request (made for whoever downloads them); the plan's own text is written as it is.
The legend explains in words, never in internal codes (``lead``, ``in_progress``).

The matrix workbook is written by XlsxWriter in constant-memory mode, one row at a time from
``matrix.iter_rows`` into a temporary file that the response then streams (``matrix_xlsx_file``),
and the CSV is streamed row by row (``matrix_csv_chunks``): a whole province plan (20,000 tasks ×
400 departments) never sits in memory as cells. Each row is prepared once and written on 责任矩阵
and on its section's sheet; only filled cells are written, with formats made once. XlsxWriter
rather than openpyxl's write-only mode because at province scale openpyxl's per-cell objects took
two thirds of the time (bench/README.md, issue 15). Column widths, panes, merged header cells and
the print setup are set before the first row, as constant-memory mode needs. The assessment and the
other small workbooks stay with openpyxl, which the app needs anyway to read workbooks.

Both workbooks are set up to print (``print_setup``, and ``_print_setup_xlsxwriter`` the same for
XlsxWriter): A3 landscape, fitted to the page width, the header rows repeated on every page, the
plan's title and the as-of date in the page header, page numbers in the footer. ``download_name``
names the files after the plan and the date.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import xlsxwriter
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet as XlsxSheet

from ..i18n import N_, label
from ..models.org import ROLES
from ..models.plan import TASK_STATUSES
from ..spreadsheets import csv_bytes, workbook_bytes
from ..tasks.lights import LIGHT_LABELS
from .matrix import FIXED, ColumnGroup, Matrix, iter_rows, open_cells, table_rows

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


def _print_setup_xlsxwriter(ws: XlsxSheet, *, title: str, as_of: str, title_rows: tuple[int, int] | None) -> None:
    """``print_setup`` for an XlsxWriter sheet: the same page, margins, titles, header and footer."""
    ws.set_paper(8)  # A3
    ws.set_landscape()
    ws.fit_to_pages(1, 0)  # one page wide, as many pages down as it takes
    if title_rows:
        ws.repeat_rows(*title_rows)
    ws.center_horizontally()
    ws.set_margins(left=0.75, right=0.75, top=0.7, bottom=0.7)  # openpyxl's sides, the tops set above
    header = f"&L{_header_text(title)}&R{_header_text(as_of)}"
    while len(header.encode("utf-16-le")) > 2 * 255 and title:  # Excel's limit; XlsxWriter drops a longer one
        title = title[:-1]
        header = f"&L{_header_text(title)}&R{_header_text(as_of)}"
    if "&G" in header or "&[Picture]" in header:
        # XlsxWriter takes these for an image's place and drops (or rewrites) a header without the
        # image, even escaped ("&&G" in a title): such a header is set as it is
        ws.header, ws.margin_header, ws.header_footer_changed = header, 0.5, True
    else:
        ws.set_header(header, {"margin": 0.5})  # openpyxl's margins
    ws.set_footer("&C" + _("第 &P 页，共 &N 页"), {"margin": 0.5})


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


class _Formats:
    """The few cell formats of the matrix workbook, made once per workbook (XlsxWriter)."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        centre = {"align": "center", "valign": "vcenter", "text_wrap": True}

        def fill(colour: str, **more: Any) -> Format:
            return wb.add_format({"pattern": 1, "bg_color": f"#{colour}", **more})

        self.bold = wb.add_format({"bold": True})
        self.group = wb.add_format({"bold": True, **centre})
        self.dept = wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        self.light = {k: fill(v) for k, v in LIGHT_FILLS.items()}
        self.status = {k: fill(v, **centre) for k, v in STATUS_FILLS.items()}
        self.plain_status = fill("FFFFFF", **centre)


def _put(ws: XlsxSheet, row: int, col: int, value: Any, fmt: Format | None = None) -> None:
    """One cell; text is always written as text (never a formula, an error code or a link)."""
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)  # written only if it has a format
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    else:
        ws.write(row, col, value, fmt)


def _columns(ws: XlsxSheet, first: int, last: int, width: float) -> None:
    """Columns ``first``–``last`` (0-based) ``width`` characters wide as stored in the file (7 pixels a
    character), the widths the workbook has always had."""
    ws.set_column_pixels(first, last, round(width * 7))


def _matrix_headers(ws: XlsxSheet, fmt: _Formats, groups: list[ColumnGroup], opens: list[str]) -> None:
    """Column sizes, panes, then rows 1–2 (groups merged over their departments, the task columns over
    both rows), written in row order as constant-memory mode needs."""
    first = len(FIXED)
    width = len(FIXED) + sum(len(g.columns) for g in groups)
    if width > first:
        _columns(ws, first, width - 1, 6)
    if opens:
        _columns(ws, width, width + len(opens) - 1, 8)
    _columns(ws, 2, 2, 36)
    ws.set_row(1, 90)
    ws.freeze_panes(2, first)
    # merge_range with an empty value and no format only records the range (nothing is written, as
    # before: the merged-over cells stay empty); the heading is then written into its first cell
    for i, name in enumerate(FIXED):
        ws.merge_range(0, i, 1, i, "", None)
        ws.write_string(0, i, _(name), fmt.bold)
    col = first
    for group in groups:
        if len(group.columns) > 1:
            ws.merge_range(0, col, 0, col + len(group.columns) - 1, "", None)
        _put(ws, 0, col, _(group.label), fmt.group)
        col += len(group.columns)
    if opens:
        if len(opens) > 1:
            ws.merge_range(0, col, 0, col + len(opens) - 1, "", None)
        ws.write_string(0, col, _("开放责任方"), fmt.group)
    col = first
    for group in groups:
        for c in group.columns:
            _put(ws, 1, col, c.department.name, fmt.dept)
            col += 1
    for heading in opens:
        _put(ws, 1, col, heading, fmt.dept)
        col += 1


def _safe_title(text: str) -> str:
    for ch in "[]:*?/\\":
        text = text.replace(ch, "")
    return text[:31]


def _sheet_name(text: str, taken: set[str]) -> str:
    """A valid sheet name not yet used in the workbook (``名称1``, ``名称2`` … as openpyxl named repeats)."""
    name = _safe_title(text).strip("'") or "Sheet"
    base, n = name, 0
    while name.casefold() in taken:
        n += 1
        name = f"{base[: 31 - len(str(n))]}{n}"
    taken.add(name.casefold())
    return name


def matrix_xlsx_file(matrix: Matrix, title: str, as_of: str, path: Path) -> None:
    """Write the matrix workbook to ``path``: sheet 责任矩阵 with every matching row, one sheet per
    section, the legend; each set up to print.

    XlsxWriter in constant-memory mode: each sheet's rows go to a temporary file as they are written and
    the workbook is put together from those files, so memory stays flat however long the plan. Every
    row is prepared once and written twice, on 责任矩阵 and on its section's sheet (the section sheets
    have no open-party columns). Only the filled cells are written, each with a format made once.
    """
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    fmt = _Formats(wb)
    taken: set[str] = set()
    opens = matrix.open_headers()  # the plan's open parties (各有关部门), never expanded into names
    ws = wb.add_worksheet(_sheet_name(_("责任矩阵"), taken))
    sheets = []
    for section, _states in matrix.matched:
        name = _sheet_name(_("%(label)s、%(title)s", label=section.label, title=section.title), taken)
        sheets.append(wb.add_worksheet(name))
    legend = wb.add_worksheet(_sheet_name(_("图例"), taken))
    for sheet, columns in ((ws, opens), *((s, []) for s in sheets)):
        _print_setup_xlsxwriter(sheet, title=title, as_of=as_of, title_rows=(0, 1))
        _matrix_headers(sheet, fmt, matrix.all_groups, columns)
    first = len(FIXED)
    roles = {k: _(v) for k, v in ROLES.items()}
    lights = {k: _(v) for k, v in LIGHT_LABELS.items()}
    row = 2
    rows = iter_rows(matrix)
    for sheet, (section, states) in zip(sheets, matrix.matched, strict=True):
        for sheet_row in range(2, 2 + len(states)):
            _section, state, cells = next(rows)
            task = state.task
            line: list[tuple[int, str, Format | None]] = [
                (0, section.label, None),
                (1, task.label, None),
                (2, task.title, None),
                (3, _(task.status_label), None),
                (4, f"{task.progress}%", None),
                (5, lights[state.light], fmt.light[state.light]),
            ]
            line.extend(
                (first + i, roles.get(cell.role or "", ""), fmt.status.get(cell.status, fmt.plain_status))
                for i, cell in cells.items()
            )
            for col, text, cell_fmt in line:
                if text:
                    ws.write_string(row, col, text, cell_fmt)
                    sheet.write_string(sheet_row, col, text, cell_fmt)
                elif cell_fmt is not None:
                    ws.write_blank(row, col, None, cell_fmt)
                    sheet.write_blank(sheet_row, col, None, cell_fmt)
            col = first + sum(len(g.columns) for g in matrix.all_groups)
            for r in open_cells(state, matrix.open_columns, matrix.filters):
                if r in roles:
                    _put(ws, row, col, roles[r], fmt.plain_status)
                col += 1
            row += 1
    _write_legend(legend, fmt, title, as_of)
    wb.close()


def _write_legend(ws: XlsxSheet, fmt: _Formats, title: str, as_of: str) -> None:
    """Roles, fill colours and lights explained in words."""
    _columns(ws, 0, 0, 24)
    _columns(ws, 1, 1, 56)
    _print_setup_xlsxwriter(ws, title=title, as_of=as_of, title_rows=None)
    rows: list[list[tuple[Any, Format | None]]] = [[(title, None)], [], [(_("单元格文字"), None), (_("角色"), None)]]
    rows.extend([(_(role), None), (_(ROLE_MEANINGS[key]), None)] for key, role in ROLES.items())
    rows.append([])
    rows.append([(_("填充颜色"), None), (_("该单位最近一次审核通过的报送状态"), None)])
    rows.extend([(_(TASK_STATUSES.get(key, N_("尚无审核通过的报送"))), fmt.status[key])] for key in STATUS_FILLS)
    rows.append([])
    rows.append([(_("预警"), None), (_("含义"), None)])
    rows.extend([(_(light), fmt.light[key]), (_(LIGHT_MEANINGS[key]), None)] for key, light in LIGHT_LABELS.items())
    for r, cells in enumerate(rows):
        for c, (value, cell_fmt) in enumerate(cells):
            _put(ws, r, c, value, cell_fmt)


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
