"""The responsibility matrix as an Excel workbook (openpyxl) and as CSV (UTF-8 with BOM).

Workbook layout: sheet 责任矩阵 with every shown row; one sheet per section with that section's
rows; sheet 图例 explaining roles, fill colours and lights. On the matrix sheets row 1 carries the
department groups (merged cells), row 2 the departments, data from row 3; panes are frozen below
the headers and right of the task columns.

Sheet names, headers, the legend and the labels in cells (roles, statuses, lights) are in the
language of the request (made for whoever downloads them); the plan's own text is written as it is.
The legend explains in words, never in internal codes (``lead``, ``in_progress``).

Both workbooks are set up to print (``print_setup``): A3 landscape, fitted to the page width, the
header rows repeated on every page, the plan's title and the as-of date in the page header, page
numbers in the footer. ``download_name`` names the files after the plan and the date.
"""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..i18n import N_, label
from ..models.org import ROLES
from ..models.plan import TASK_STATUSES
from ..spreadsheets import csv_bytes, workbook_bytes
from ..tasks.lights import LIGHT_LABELS
from .matrix import FIXED, Matrix, Row, table

__all__ = ["STATUS_FILLS", "assessment_xlsx", "download_name", "matrix_csv", "matrix_xlsx", "print_setup"]

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


def print_setup(ws: Worksheet, *, title: str, as_of: str, title_rows: str | None) -> None:
    """A3 landscape, fit to the page width, ``title_rows`` repeated on every page, title and date on top."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A3
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
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
    header, body = table(matrix)
    return csv_bytes([header, *body])


def _write_matrix_sheet(ws: Worksheet, matrix: Matrix, rows: list[tuple[str, Row]]) -> None:
    bold = Font(bold=True)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for i, name in enumerate(FIXED, start=1):
        ws.cell(row=1, column=i, value=_(name)).font = bold
        ws.merge_cells(start_row=1, start_column=i, end_row=2, end_column=i)
    col = len(FIXED) + 1
    for group in matrix.groups:
        ws.cell(row=1, column=col, value=_(group.label)).font = bold
        ws.cell(row=1, column=col).alignment = centre
        if len(group.columns) > 1:
            ws.merge_cells(start_row=1, start_column=col, end_row=1, end_column=col + len(group.columns) - 1)
        for c in group.columns:
            cell = ws.cell(row=2, column=col, value=c.department.name)
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.column_dimensions[get_column_letter(col)].width = 6
            col += 1
    if matrix.open_columns:  # the plan's open parties (各有关部门), never expanded into names
        ws.cell(row=1, column=col, value=_("开放责任方")).font = bold
        ws.cell(row=1, column=col).alignment = centre
        if len(matrix.open_columns) > 1:
            ws.merge_cells(start_row=1, start_column=col, end_row=1, end_column=col + len(matrix.open_columns) - 1)
        for k, heading in enumerate(matrix.open_headers()):
            cell = ws.cell(row=2, column=col + k, value=heading)
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.column_dimensions[get_column_letter(col + k)].width = 8
    r = 3
    for section_label, row in rows:
        task = row.state.task
        values = [
            section_label,
            task.label,
            task.title,
            _(task.status_label),
            f"{task.progress}%",
            _(LIGHT_LABELS[row.state.light]),
        ]
        for i, v in enumerate(values, start=1):
            ws.cell(row=r, column=i, value=v)
        ws.cell(row=r, column=6).fill = PatternFill("solid", fgColor=LIGHT_FILLS[row.state.light])
        for j, cell in enumerate(row.cells, start=len(FIXED) + 1):
            if cell.role:
                xl = ws.cell(row=r, column=j, value=cell.label)
                xl.fill = PatternFill("solid", fgColor=STATUS_FILLS.get(cell.status, "FFFFFF"))
                xl.alignment = centre
        for k, role in enumerate(row.open_labels(), start=len(FIXED) + len(row.cells) + 1):
            if role:
                ws.cell(row=r, column=k, value=role).alignment = centre
        r += 1
    ws.column_dimensions["C"].width = 36
    ws.row_dimensions[2].height = 90
    ws.freeze_panes = ws.cell(row=3, column=len(FIXED) + 1)


def _safe_title(text: str) -> str:
    for ch in "[]:*?/\\":
        text = text.replace(ch, "")
    return text[:31]


def matrix_xlsx(matrix: Matrix, title: str, as_of: str = "") -> bytes:
    """The matrix workbook; ``title`` (plan and date) heads the legend and, with ``as_of``, every printed page."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("责任矩阵")
    _write_matrix_sheet(ws, matrix, [(s.label, row) for s, rows in matrix.sections for row in rows])
    print_setup(ws, title=title, as_of=as_of, title_rows="1:2")
    for section, rows in matrix.sections:
        sheet = wb.create_sheet(_safe_title(_("%(label)s、%(title)s", label=section.label, title=section.title)))
        _write_matrix_sheet(sheet, matrix, [(section.label, row) for row in rows])
        print_setup(sheet, title=title, as_of=as_of, title_rows="1:2")
    legend = wb.create_sheet(_("图例"))
    legend.append([title])
    legend.append([])
    legend.append([_("单元格文字"), _("角色")])
    for key, role in ROLES.items():
        legend.append([_(role), _(ROLE_MEANINGS[key])])
    legend.append([])
    legend.append([_("填充颜色"), _("该单位最近一次审核通过的报送状态")])
    for key, fill in STATUS_FILLS.items():
        legend.append([_(TASK_STATUSES.get(key, N_("尚无审核通过的报送")))])
        legend.cell(row=legend.max_row, column=1).fill = PatternFill("solid", fgColor=fill)
    legend.append([])
    legend.append([_("预警"), _("含义")])
    for key, light in LIGHT_LABELS.items():
        legend.append([_(light), _(LIGHT_MEANINGS[key])])
        legend.cell(row=legend.max_row, column=1).fill = PatternFill("solid", fgColor=LIGHT_FILLS[key])
    legend.column_dimensions["A"].width = 24
    legend.column_dimensions["B"].width = 56
    print_setup(legend, title=title, as_of=as_of, title_rows=None)
    return workbook_bytes(wb)


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
