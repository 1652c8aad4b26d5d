"""Writing the 任务分解表: the blank template and a plan's tasks, in the user's language."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..i18n import N_
from ..models import Plan
from ..models.org import ROLES
from ..spreadsheets import workbook_bytes
from .export import plan_file_dict
from .xlsx_layout import (
    _CYCLE_WORDS,
    _CYCLE_WORDS_EN,
    _EXPORT_COMPARISON,
    _EXPORT_COMPARISON_EN,
    COLUMNS,
    HELP_SHEET,
    HELP_SHEET_EN,
    TASK_SHEET,
    TASK_SHEET_EN,
    _english,
    _value_cell,
    alternatives_cell,
    open_parties_cell,
)

__all__ = ["task_workbook"]

# ── writing ──────────────────────────────────────────────────────────────────────────────────────


def task_workbook(plan: Plan | None, *, english: bool | None = None) -> bytes:
    """The 任务分解表 of ``plan`` (or an empty template when ``plan`` is None), as .xlsx bytes.

    In English (by default: when the current language is) the sheets, headers, instructions and
    the words the app writes in cells (reporting cycle, comparison) are English; the plan's own
    content is written as it is. The importer reads either.
    """
    if english is None:
        english = _english()
    wb = Workbook()
    ws = wb.active
    ws.title = TASK_SHEET_EN if english else TASK_SHEET
    title = _("%(title)s 任务分解表", title=plan.title) if plan else _("任务分解表")
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    head_fill = PatternFill("solid", fgColor="DDE6F0")
    for i, col in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=2, column=i, value=col.heading(english))
        cell.font = Font(bold=True)
        cell.fill = head_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = "A3"
    if plan is not None:
        names = ", ".join if english else "、".join
        cycle_words = _CYCLE_WORDS_EN if english else _CYCLE_WORDS
        comparisons = _EXPORT_COMPARISON_EN if english else _EXPORT_COMPARISON
        milestone = "milestone" if english else "里程碑"
        data = plan_file_dict(plan)
        section_labels = {s["number"]: s["label"] for s in data["sections"]}
        row = 3
        current_section = None
        for t in data["tasks"]:
            if t["section"] != current_section:
                current_section = t["section"]
                heading = next(sec for sec in data["sections"] if sec["number"] == current_section)
                _write_row(ws, row, {"label": heading["label"], "title": heading["title"]})
                for cell in ws[row]:
                    cell.font = Font(bold=True)
                row += 1
            by_role: dict[str, list[str]] = {r: [] for r in ROLES}
            for a in t["departments"]:
                by_role[a["role"]].append(a["name"])
            task_cells = {
                "label": t["label"],
                "code": t["code"],
                "section": section_labels[t["section"]],
                "parent": t["parent"] or None,
                "title": t["title"],
                "text": t["text"] or None,
                "lead": names(by_role["lead"]) or None,
                "support": names(by_role["support"]) or None,
                "responsible": names(by_role["responsible"]) or None,
                "implementing": names(by_role["implementing"]) or None,
                "open_parties": open_parties_cell(t["open_parties"], english),
                "start": t["start"],
                "due": t["due"],
                "cycle": cycle_words[t["reporting_cycle"]],
            }
            targets = t["targets"] or [None]
            for n, target in enumerate(targets):
                cells = dict(task_cells) if n == 0 else {"label": t["label"], "code": t["code"]}
                if target is not None:
                    cells.update(
                        {
                            "target_key": target["key"],
                            "target_name": target["name"],
                            "comparison": comparisons.get(target["comparison"] or "", milestone),
                            "value": _value_cell(target),
                            "unit": target["unit"] or None,
                            "target_due": target["due"],
                            "alternatives": alternatives_cell(target.get("alternatives") or [], english),
                        }
                    )
                _write_row(ws, row, cells)
                row += 1
    _help_sheet(wb, english)
    return workbook_bytes(wb)  # text from the plan is never a formula


def _write_row(ws: Any, row: int, cells: dict[str, Any]) -> None:
    for i, col in enumerate(COLUMNS, start=1):
        value = cells.get(col.key)
        cell = ws.cell(row=row, column=i, value=value)
        if isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
        cell.alignment = Alignment(vertical="top", wrap_text=col.key in {"title", "text"})


_HELP_LINES = [
    N_("每行一项任务（措施）；一项任务有多个目标时，后续行只填目标各列。"),
    N_("只填“序号”（如 三）和“任务/措施”、不填单位和时限的行是部分的标题行。"),
    N_("日期可写 2025-12-31、2025/12/31、2025年12月31日、2025年6月、2025年上半年、2025年底，或 Excel 日期。"),
    N_("单位名称须与系统的单位目录一致；名称相近时，导入会提示“是否为……”。"),
    N_("更新已有计划时：表中没有的任务和目标将被删除（已有报送数据的不能删除，导入会被拒绝）；"),
    N_("表中没有的列（如“主要内容”）保留系统中的内容。导出的表原样导入不产生任何变化。"),
    N_("整个文件校验通过后才写入；有任何错误时不写入任何内容，并逐行列出错误。"),
]


def _help_sheet(wb: Workbook, english: bool) -> None:
    ws = wb.create_sheet(HELP_SHEET_EN if english else HELP_SHEET)
    ws.append([_("列名"), _("也可写作"), _("填写说明")])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for col in COLUMNS:
        # In English: every other spelling the importer reads, the Chinese ones included.
        also = ", ".join([*col.english_synonyms, col.header, *col.synonyms]) if english else "、".join(col.synonyms)
        ws.append([col.heading(english), also, gettext(col.help)])
    ws.append([])
    for line in _HELP_LINES:
        ws.append(["", "", gettext(line)])
    ws.column_dimensions["A"].width = 24 if english else 12
    ws.column_dimensions["B"].width = 36
    ws.column_dimensions["C"].width = 90
