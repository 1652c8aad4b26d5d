"""Excel in and out: the 任务分解表 (task breakdown table) governments exchange, and 附件 1/3 target values.

A workbook is turned into the same plan dict ``schema.validate`` takes and loaded by
``loader.load_plan``: one loader, one transaction, the same history. Updating an existing plan starts
from ``export.plan_file_dict`` (everything the workbook does not carry: texts, plan-level targets,
dependencies, the plan's wording of each role) and overlays what the workbook says, so a round trip
changes exactly the cells that were edited.

Problems are collected for the whole file and named by row and column; a bad file writes nothing.
"""

from __future__ import annotations

import calendar
import difflib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

from flask_babel import get_locale, gettext
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..errors import PlanFileError, TrackerError
from ..extensions import db
from ..i18n import N_
from ..models import County, Department, Plan, Target, TargetValue, User
from ..models.org import ROLES
from ..models.plan import COMPARISONS, REPORTING_CYCLES
from ..numbers import NumberError, finite_number
from ..periods import parse_period
from .export import directory_file_dict, plan_file_dict
from .loader import Change, LoadReport, load_plan, preview_plan
from .queries import get_plan
from .schema import PlanData, validate
from .workbook_limits import check_workbook_size

__all__ = [
    "TASK_SHEET",
    "import_target_values",
    "import_task_workbook",
    "parse_day",
    "plan_data_from_workbook",
    "read_target_values",
    "task_workbook",
]

# The workbook the app writes is in the user's language; the importer reads both. The sheet names
# and column headers are the file format (documented in docs/plan-format.md), not interface text.
TASK_SHEET = "任务分解表"
TASK_SHEET_EN = "Tasks"
HELP_SHEET = "说明"
HELP_SHEET_EN = "Instructions"
Source = str | Path | bytes | BinaryIO


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    synonyms: tuple[str, ...]
    width: int
    help: str  # marked with N_, translated when the 说明 sheet is written
    english: str = ""
    english_synonyms: tuple[str, ...] = ()

    def heading(self, english: bool) -> str:
        """The header the app writes, in the workbook's language."""
        return self.english if english else self.header


COLUMNS = [
    Column(
        "label",
        "序号",
        ("编号", "序列号"),
        10,
        N_("措施的序号，如 三（一）；子任务如 三（一）1。"),
        "No.",
        ("Number", "Label"),
    ),
    Column(
        "code",
        "编码",
        ("任务编码", "代码"),
        9,
        N_("系统内的稳定编号，如 3.1（导出时填写，勿改）。新任务可留空：用序号代替。"),
        "Code",
        ("Task code",),
    ),
    Column(
        "section",
        "部分",
        ("章节", "篇章"),
        6,
        N_("所属部分：三、四、五……留空时取序号的第一个汉字数字。"),
        "Part",
        ("Section",),
    ),
    Column(
        "parent",
        "上级序号",
        ("上级编号", "上级任务", "所属任务"),
        10,
        N_("子任务所属措施的序号或编码；顶层措施留空。"),
        "Parent",
        ("Parent task", "Parent no."),
    ),
    Column(
        "title",
        "任务/措施",
        ("任务", "措施", "任务名称", "措施名称", "重点任务", "工作任务", "主要任务"),
        28,
        N_("必填。"),
        "Task/measure",
        ("Task", "Measure", "Title", "Task name"),
    ),
    Column(
        "text",
        "主要内容",
        ("具体内容", "工作内容", "具体措施", "任务内容"),
        40,
        N_("措施原文。没有此列时保留系统中的原文。"),
        "Content",
        ("Main content", "Text", "Description"),
    ),
    Column(
        "lead",
        "牵头单位",
        ("牵头部门",),
        18,
        N_("多个单位用顿号（、）、逗号或换行分隔；须为单位目录中的全称。"),
        "Lead departments",
        ("Lead", "Lead department"),
    ),
    Column(
        "support",
        "配合单位",
        ("配合部门", "协办单位"),
        18,
        N_("同上。"),
        "Supporting departments",
        ("Support", "Supporting department"),
    ),
    Column(
        "responsible",
        "责任单位",
        ("责任部门", "负责单位"),
        18,
        N_("按职责分工负责的单位。同上。"),
        "Responsible departments",
        ("Responsible", "Responsible department"),
    ),
    Column(
        "implementing",
        "落实单位",
        ("落实部门", "实施单位"),
        18,
        N_("落实的县（市、区）政府。同上。"),
        "Implementing departments",
        ("Implementing", "Implementing department"),
    ),
    Column("start", "开始时间", ("开始日期", "启动时间"), 12, N_("留空为计划开始日期。"), "Start", ("Start date",)),
    Column(
        "due",
        "完成时限",
        ("完成时间", "截止日期", "截止时间", "完成期限", "时限"),
        12,
        N_("留空或“长期坚持”为计划结束日期。"),
        "Deadline",
        ("Due", "Due date"),
    ),
    Column(
        "cycle",
        "报送周期",
        ("报送频次",),
        8,
        N_("月报 / 季报 / 年报；留空为季报（已有任务保持不变）。"),
        "Reporting cycle",
        ("Cycle",),
    ),
    Column(
        "target_key",
        "目标编号",
        ("指标编号",),
        14,
        N_("系统内的目标编号（导出时填写，勿改）；新目标留空。"),
        "Target key",
    ),
    Column(
        "target_name",
        "目标名称",
        ("指标名称", "目标", "指标"),
        22,
        N_("一项任务有多个目标时，下一行只填目标各列（序号可重复或留空）。"),
        "Target",
        ("Target name",),
    ),
    Column(
        "comparison",
        "比较",
        ("比较方式",),
        8,
        N_("不低于(>=) / 高于(>) / 不高于(<=) / 低于(<) / 达到(=) / 左右(~) / 区间；留空为不低于，无目标值为里程碑。"),
        "Comparison",
    ),
    Column("value", "目标值", ("指标值", "目标数值"), 10, N_("数字；区间写作 2-3。"), "Target value", ("Value",)),
    Column("unit", "单位", ("计量单位",), 8, N_("如 %、吨、个。"), "Unit"),
    Column(
        "target_due",
        "目标时限",
        ("目标完成时限",),
        12,
        N_("留空为任务的完成时限。"),
        "Target deadline",
        ("Target due",),
    ),
]
_BY_KEY = {c.key: c for c in COLUMNS}
ROLE_COLUMNS = ("lead", "responsible", "support", "implementing")
TARGET_COLUMNS = ("target_key", "target_name", "comparison", "value", "unit", "target_due")
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_CYCLES = {"月报": "month", "季报": "quarter", "年报": "year", "月": "month", "季": "quarter", "年": "year"}
_CYCLES.update({k: k for k in REPORTING_CYCLES})
_CYCLES.update({"monthly": "month", "quarterly": "quarter", "yearly": "year", "annual": "year"})
_CYCLE_WORDS = REPORTING_CYCLES
_CYCLE_WORDS_EN = {"month": "monthly", "quarter": "quarterly", "year": "yearly"}
_COMPARISON_WORDS = {
    ">=": ">=",
    "≥": ">=",
    "不低于": ">=",
    "不少于": ">=",
    "以上": ">=",
    ">": ">",
    "高于": ">",
    "超过": ">",
    "<=": "<=",
    "≤": "<=",
    "不高于": "<=",
    "不超过": "<=",
    "以内": "<=",
    "<": "<",
    "低于": "<",
    "=": "=",
    "达到": "=",
    "~": "~",
    "左右": "~",
    "约": "~",
    "range": "range",
    "区间": "range",
    "里程碑": "",
    "milestone": "",
}
_EXPORT_COMPARISON = {k: v for k, v in COMPARISONS.items()}
# An English workbook writes the comparison as its symbol (``range`` for a range).
_EXPORT_COMPARISON_EN = {k: k for k in COMPARISONS}
_OPEN_ENDED = {"长期", "长期坚持", "持续", "持续推进", "持续开展", "常态化"}


def _norm_header(value: Any) -> str:
    text = re.sub(r"\s+", "", str(value or ""))
    text = re.sub(r"[（(].*?[)）]$", "", text)  # 完成时限（年月日） → 完成时限
    return text.replace("／", "/").lower()  # English headers in any case: Deadline, DEADLINE


_HEADER_LOOKUP: dict[str, str] = {}
for _c in COLUMNS:
    for _name in (_c.header, *_c.synonyms, _c.english, *_c.english_synonyms):
        _HEADER_LOOKUP[_norm_header(_name)] = _c.key


def _english() -> bool:
    """Whether the current language (the user's in a request, the site's otherwise) is English."""
    locale = get_locale()
    return locale is not None and locale.language == "en"


def _join(names: list[str]) -> str:
    """Names listed in the current language's way (、 in Chinese)."""
    return _("、").join(names)


# ── cells ────────────────────────────────────────────────────────────────────────────────────────


def parse_day(value: Any) -> date | None:
    """A deadline in one of the forms found in government tables; ``None`` for an open-ended one.

    >>> parse_day("2025/12/31"), parse_day("2025年6月30日"), parse_day("2025年底")
    (datetime.date(2025, 12, 31), datetime.date(2025, 6, 30), datetime.date(2025, 12, 31))
    >>> parse_day("到2023年上半年"), parse_day("2024年3月"), parse_day(2022)
    (datetime.date(2023, 6, 30), datetime.date(2024, 3, 31), datetime.date(2022, 12, 31))
    >>> parse_day("长期坚持") is None
    True
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer() and 1900 <= value <= 2200:
            return date(int(value), 12, 31)
        raise ValueError(_("不是有效日期：%(value)r", value=value))
    text = re.sub(r"\s+", "", str(value or ""))
    if not text or text in _OPEN_ENDED:
        return None
    text = re.sub(r"^(到|至|于|截至|截止)", "", text)
    text = re.sub(r"(前|以前|之前|内|完成)$", "", text)
    try:
        if m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日?", text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{4})(?:年|[-/.])(\d{1,2})月?(?:底|末|份)?", text):
            year, month = int(m[1]), int(m[2])
            return date(year, month, calendar.monthrange(year, month)[1])
        if m := re.fullmatch(r"(\d{4})年?(上半年|年中)", text):
            return date(int(m[1]), 6, 30)
        if m := re.fullmatch(r"(\d{4})年?(?:第)?([一二三四1-4])季度(?:末)?", text):
            q = int(m[2]) if m[2].isdigit() else _CN_DIGITS[m[2]]
            month = 3 * q
            return date(int(m[1]), month, calendar.monthrange(int(m[1]), month)[1])
        if m := re.fullmatch(r"(\d{4})年?(?:底|末|年底|年末|下半年|全年)?", text):
            return date(int(m[1]), 12, 31)
    except ValueError:
        pass
    raise ValueError(_("不是有效日期：%(value)r（可写 2025-12-31、2025/12/31、2025年12月31日、2025年底）", value=value))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _names(value: Any) -> list[str]:
    return [n.strip() for n in re.split(r"[、，,；;\n/]+", _text(value)) if n.strip()]


def _number(text: str) -> float:
    return finite_number(text)  # NumberError is a ValueError: the callers' messages name the cell


def _target_value(cmp_cell: Any, value_cell: Any) -> tuple[str | None, float | None, float | None, float | None]:
    """(comparison, value, value_min, value_max) from the 比较 and 目标值 cells."""
    comparison_text = _text(cmp_cell)
    if isinstance(value_cell, (int, float)) and not isinstance(value_cell, bool):
        value_text = repr(float(value_cell))
    else:
        value_text = _text(value_cell).replace("％", "%").rstrip("%")
    if m := re.match(r"^(≥|>=|≤|<=|>|<|约)", value_text):
        comparison_text = comparison_text or m[1]
        value_text = value_text[len(m[1]) :].strip()
    if comparison_text.lower() in _COMPARISON_WORDS:
        comparison_text = comparison_text.lower()  # Range, Milestone
    elif comparison_text:
        allowed = " / ".join(COMPARISONS if _english() else COMPARISONS.values())
        raise ValueError(_("比较方式应为 %(allowed)s 之一，而不是 %(value)r", allowed=allowed, value=comparison_text))
    comparison = _COMPARISON_WORDS.get(comparison_text, ">=") if comparison_text else None
    if m := re.fullmatch(r"(-?[\d.,]+)\s*[-—–~～至到]\s*(-?[\d.,]+)", value_text):
        try:
            return "range", None, _number(m[1]), _number(m[2])
        except ValueError:
            pass
    if not value_text:
        if comparison in (None, ""):
            return None, None, None, None
        raise ValueError(_("填写了比较方式，但没有目标值"))
    try:
        number = _number(value_text)
    except ValueError:
        raise ValueError(_("目标值应为数字或区间（如 2-3），而不是 %(value)r", value=value_text)) from None
    if comparison == "":
        raise ValueError(_("里程碑不应填写目标值"))
    return (comparison or ">="), number, None, None


def _value_cell(t: dict[str, Any]) -> Any:
    if t["comparison"] == "range":
        return f"{_text(t['value_min'])}-{_text(t['value_max'])}"
    value = t["value"]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


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
                        }
                    )
                _write_row(ws, row, cells)
                row += 1
    _help_sheet(wb, english)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _write_row(ws: Any, row: int, cells: dict[str, Any]) -> None:
    for i, col in enumerate(COLUMNS, start=1):
        value = cells.get(col.key)
        cell = ws.cell(row=row, column=i, value=value)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # text from the plan is never a formula
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


# ── reading the task sheet ───────────────────────────────────────────────────────────────────────


@dataclass
class _Row:
    number: int
    cells: dict[str, Any]

    def get(self, key: str) -> Any:
        return self.cells.get(key)

    def text(self, key: str) -> str:
        return _text(self.cells.get(key))


@dataclass
class _TaskRows:
    row: _Row
    targets: list[_Row] = field(default_factory=list)


def _open(source: Source) -> Any:
    if isinstance(source, bytes):
        source = BytesIO(source)
    check_workbook_size(source)  # the bounds first: nothing is loaded from a file larger than any plan
    try:
        return load_workbook(source, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        problem = _("无法读取 Excel 文件（.xlsx）：%(error)s", error=exc.__class__.__name__)
        raise PlanFileError([(_("文件"), problem)]) from exc


def _find_header(wb: Any, wanted: set[str], lookup: Any) -> tuple[Any, int, dict[int, str]]:
    sheets = sorted(wb.worksheets, key=lambda ws: ws.title not in {TASK_SHEET, TASK_SHEET_EN})
    for ws in sheets:
        for r, row in enumerate(ws.iter_rows(min_row=1, max_row=10, values_only=True), start=1):
            columns = {i: key for i, value in enumerate(row) if (key := lookup(value))}
            if wanted <= set(columns.values()):
                return ws, r, columns
    english = _english()
    problem = _(
        "找不到表头行：前 10 行中应有“%(label)s”和“%(title)s”等列名",
        label=_BY_KEY["label"].heading(english),
        title=_BY_KEY["title"].heading(english),
    )
    raise PlanFileError([(_("表头"), problem)])


def _header_text(value: Any) -> str:
    """A header as the file writes it, for messages: ``完成 时限`` → 完成时限, ``Due  date`` → Due date."""
    return re.sub(r"\s*([^\x00-\x7f])\s*", r"\1", " ".join(str(value).split()))


def _at_row(number: int, column: str | None = None) -> str:
    """Where a problem is: ``第4行 牵头部门`` (Row 4, 牵头部门)."""
    if column is None:
        return _("第%(n)s行", n=number)
    return _("第%(n)s行 %(column)s", n=number, column=column)


# A problem with the row it concerns (0: the file as a whole), so problems sort by row in any language.
_Problem = tuple[int, str, str]


def _read_rows(wb: Any) -> tuple[dict[str, str], list[_Row], list[_Problem]]:
    """(the columns present, by key, with the file's own header text; the non-empty rows; problems)."""
    ws, header_row, columns = _find_header(wb, {"title"}, lambda v: _HEADER_LOOKUP.get(_norm_header(v)))
    header = next(ws.iter_rows(min_row=header_row, max_row=header_row, values_only=True))
    english = _english()
    problems: list[_Problem] = []
    seen: dict[str, int] = {}
    at = _at_row(header_row)
    for i, key in columns.items():
        if key in seen:
            message = _(
                "列“%(column)s”出现了两次（第 %(first)s 和 %(second)s 列）",
                column=_BY_KEY[key].heading(english),
                first=seen[key] + 1,
                second=i + 1,
            )
            problems.append((header_row, at, message))
        seen[key] = i
    if not {"label", "code"} & set(columns.values()):
        problems.append((header_row, at, _("缺少“%(column)s”列", column=_BY_KEY["label"].heading(english))))
    if not set(ROLE_COLUMNS) & set(columns.values()):
        message = _(
            "缺少单位列：应至少有“%(lead)s”“%(responsible)s”之一",
            lead=_BY_KEY["lead"].heading(english),
            responsible=_BY_KEY["responsible"].heading(english),
        )
        problems.append((header_row, at, message))
    rows = []
    for number, values in enumerate(ws.iter_rows(min_row=header_row + 1, values_only=True), start=header_row + 1):
        cells = {key: values[i] for i, key in columns.items() if i < len(values)}
        cells = {k: v for k, v in cells.items() if _text(v) != ""}
        if cells:
            rows.append(_Row(number, cells))
    return {key: _header_text(header[i]) for i, key in columns.items()}, rows, problems


def plan_data_from_workbook(
    source: Source,
    *,
    plan: Plan | None = None,
    new_plan: dict[str, Any] | None = None,
) -> tuple[PlanData, dict[str, int]]:
    """Read a 任务分解表 into a validated plan, updating ``plan`` or creating ``new_plan``.

    ``new_plan`` holds ``key``, ``title``, ``start``, ``end``. Returns the plan and, for messages,
    the row each task came from. Raises ``PlanFileError`` naming every bad row and field.
    """
    if (plan is None) == (new_plan is None):
        raise TrackerError(_("请指定要更新的计划，或新计划的编号、名称和起止日期（二者选一）"))
    wb = _open(source)
    present, rows, problems = _read_rows(wb)
    english = _english()
    directory = db.session.scalars(db.select(Department).order_by(Department.position, Department.id)).all()
    dept_names = [d.name for d in directory]

    if plan is not None:
        base = plan_file_dict(plan)
    else:
        assert new_plan is not None
        if db.session.scalar(db.select(Plan).filter_by(key=new_plan.get("key"))) is not None:
            message = _("计划 %(key)s 已存在：请选择“更新已有计划”", key=new_plan.get("key"))
            problems.append((0, _("计划编号"), message))
        base = {
            "plan": {"source": "", "basis": "", **new_plan},
            **directory_file_dict(),
            "sections": [],
            "tasks": [],
            "targets": [],
            "dependencies": [],
            "contributions": [],
        }
    plan_end = base["plan"].get("end")
    base_tasks = {t["code"]: t for t in base["tasks"]}
    base_targets = {x["key"]: x for t in base["tasks"] for x in t["targets"]}
    sections = {s["label"]: s for s in base["sections"]}

    def column(key: str) -> str:
        """The column as the file heads it, or as the app would."""
        return present.get(key) or _BY_KEY[key].heading(english)

    def fail(row: _Row, key: str, message: str) -> None:
        problems.append((row.number, _at_row(row.number, column(key)), message))

    # Group the rows: a row with a title starts a task; a row with only target cells continues one.
    groups: list[_TaskRows] = []
    for row in rows:
        if _is_section_heading(row):
            # 三 | 重点工程 with no department and no deadline: the heading of a part, as tables often have.
            number = _CN_DIGITS[row.text("label")]
            sections[row.text("label")] = {"number": number, "label": row.text("label"), "title": row.text("title")}
        elif row.text("title"):
            groups.append(_TaskRows(row))
        elif any(row.text(k) for k in TARGET_COLUMNS) and set(row.cells) <= {"label", "code", *TARGET_COLUMNS}:
            ident = row.text("code") or row.text("label")
            owner = groups[-1] if groups else None
            if owner is None or (ident and ident not in {owner.row.text("code"), owner.row.text("label")}):
                fail(row, "target_name", _("目标行应紧跟在所属任务之后（或序号与所属任务一致）"))
            else:
                owner.targets.append(row)
        else:
            fail(row, "title", _("必填"))

    codes: dict[str, _Row] = {}
    by_label: dict[str, str] = {}
    for g in groups:
        row = g.row
        code = row.text("code") or _code_from_label(row.text("label"))
        if not code:
            fail(row, "label", _("必填"))
            code = f"row{row.number}"
        if code in codes:
            message = _("与第 %(n)s 行重复：%(code)s", n=codes[code].number, code=code)
            fail(row, "code" if row.text("code") else "label", message)
        codes[code] = row
        row.cells["_code"] = code
        if row.text("label"):
            by_label[row.text("label")] = code

    tasks: list[dict[str, Any]] = []
    rows_of: dict[str, int] = {}
    used_keys: set[str] = set(base_targets)
    for g in groups:
        row = g.row
        code = row.cells["_code"]
        rows_of[code] = row.number
        old = base_tasks.get(code, {})
        label = row.text("label") or old.get("label") or code

        section_label = row.text("section") or (old and _section_label(base, old["section"])) or label[:1]
        if section_label in sections:
            section_number = sections[section_label]["number"]
        elif section_label in _CN_DIGITS or section_label.isdigit():
            section_number = _CN_DIGITS.get(section_label) or int(section_label)
            label_cn = next((k for k, v in _CN_DIGITS.items() if v == section_number), section_label)
            sections[section_label] = {"number": section_number, "label": label_cn, "title": f"第{label_cn}部分"}
        else:
            fail(row, "section", _("应为部分的汉字序号（如 三），而不是 %(value)r", value=section_label))
            section_number = 0

        parent = None
        if parent_ref := row.text("parent"):
            parent = parent_ref if parent_ref in codes else by_label.get(parent_ref)
            if parent is None:
                fail(row, "parent", _("表中没有序号或编码为 %(ref)s 的任务", ref=parent_ref))
        elif "parent" not in present:
            parent = old.get("parent")

        dates = {}
        for key in ("start", "due"):
            if key in present:
                try:
                    dates[key] = parse_day(row.get(key))
                except ValueError as exc:
                    fail(row, key, str(exc))
                    dates[key] = None
            else:
                dates[key] = old.get(key)

        cycle = old.get("reporting_cycle", "quarter")
        if row.text("cycle"):
            cycle = _CYCLES.get(row.text("cycle").lower(), "")
            if not cycle:
                fail(row, "cycle", _("应为 月报 / 季报 / 年报 之一，而不是 %(value)r", value=row.text("cycle")))

        departments = _departments(row, present, old, dept_names, fail, column)
        if not departments and not any(row.text(r) for r in ROLE_COLUMNS) and not old.get("departments"):
            problems.append((row.number, _at_row(row.number), _("没有填写任何牵头、责任、配合或落实单位")))

        task_due = dates["due"] or plan_end
        targets = old.get("targets", []) if not set(TARGET_COLUMNS) & present.keys() else []
        if set(TARGET_COLUMNS) & present.keys():
            # Without a 目标编号 column, a task's targets are matched to the existing ones in order.
            by_order = [t["key"] for t in old.get("targets", [])] if "target_key" not in present else []
            for trow in [row, *g.targets]:
                if not any(trow.text(k) for k in TARGET_COLUMNS):
                    continue
                if by_order:
                    trow.cells.setdefault("target_key", by_order.pop(0))
                target = _target(trow, code, base_targets, used_keys, task_due, fail, row.text("title"))
                if target is not None:
                    targets.append(target)

        tasks.append(
            {
                **{k: v for k, v in old.items() if k in {"responsibility", "open_parties"}},
                "code": code,
                "label": label,
                "section": section_number,
                "parent": parent,
                "title": row.text("title"),
                "text": row.text("text") if "text" in present else old.get("text", ""),
                "start": dates["start"],
                "due": dates["due"],
                "reporting_cycle": cycle,
                "departments": departments,
                "targets": targets,
            }
        )

    if problems:
        problems.sort(key=lambda p: p[0])
        raise PlanFileError([(where, message) for _n, where, message in problems])

    kept_codes = {t["code"] for t in tasks}
    kept_keys = {x["key"] for t in tasks for x in t["targets"]} | {x["key"] for x in base["targets"]}
    raw = {
        **base,
        "sections": sorted(sections.values(), key=lambda s: s["number"]),
        "tasks": tasks,
        "dependencies": [d for d in base["dependencies"] if d["task"] in kept_codes and d["depends_on"] in kept_codes],
        "contributions": [c for c in base["contributions"] if c["task"] in kept_codes and c["target"] in kept_keys],
    }
    try:
        return validate(raw), rows_of
    except PlanFileError as exc:
        raise PlanFileError([(_where_to_row(where, tasks, rows_of), msg) for where, msg in exc.problems]) from None


def _is_section_heading(row: _Row) -> bool:
    return (
        row.text("label") in _CN_DIGITS
        and bool(row.text("title"))
        and not any(row.text(k) for k in (*ROLE_COLUMNS, "due", *TARGET_COLUMNS))
    )


def _where_to_row(where: str, tasks: list[dict[str, Any]], rows_of: dict[str, int]) -> str:
    """A schema path (``tasks[3](3.1).due``, ``tasks(3.1).parent``) as the row of the task: ``第5行（3.1）.due``."""
    code = rest = None
    if m := re.match(r"tasks\[(\d+)\]", where):
        code = tasks[int(m[1])]["code"]
        rest = where[m.end() :].removeprefix(f"({code})")
    elif where.startswith("tasks("):
        # The longest code that fits: a code may itself hold parentheses.
        for candidate in sorted(rows_of, key=len, reverse=True):
            if where.startswith(f"tasks({candidate})"):
                code, rest = candidate, where[len(f"tasks({candidate})") :]
                break
    if code is None or rest is None:
        return where
    return _("第%(n)s行（%(code)s）", n=rows_of.get(code, "?"), code=code) + rest


def _section_label(base: dict[str, Any], number: int) -> str:
    return next((s["label"] for s in base["sections"] if s["number"] == number), "")


def _code_from_label(label: str) -> str:
    """三（一） → 3.1, 三（一）2 → 3.1.2; any other label is its own code."""
    label = label.replace("(", "（").replace(")", "）").replace(" ", "")
    if m := re.fullmatch(r"([一二三四五六七八九十])（([一二三四五六七八九十]+)）(\d*)", label):
        inner = m[2]
        n = _CN_DIGITS[inner] if len(inner) == 1 else 10 + _CN_DIGITS.get(inner[-1], 0)
        return f"{_CN_DIGITS[m[1]]}.{n}" + (f".{m[3]}" if m[3] else "")
    return label


def _departments(
    row: _Row, present: dict[str, str], old: dict[str, Any], dept_names: list[str], fail: Any, column: Any
) -> list[dict]:
    """The row's departments, keeping the plan's wording, note and order for those already there."""
    if not set(ROLE_COLUMNS) & present.keys():
        return list(old.get("departments", []))
    wanted: dict[str, str] = {}
    for role in ROLE_COLUMNS:
        if role not in present:
            # A column the sheet lacks keeps that role's departments as they are.
            for a in old.get("departments", []):
                if a["role"] == role:
                    wanted.setdefault(a["name"], role)
            continue
        for name in _names(row.get(role)):
            if name not in dept_names:
                close = difflib.get_close_matches(name, dept_names, n=3, cutoff=0.5)
                if close:
                    message = _("单位目录中没有“%(name)s”，是否为：%(close)s？", name=name, close=_join(close))
                else:
                    message = _("单位目录中没有“%(name)s”（请先在单位目录中添加）", name=name)
                fail(row, role, message)
            elif name in wanted and wanted[name] != role:
                message = _(
                    "%(name)s 同时出现在“%(first)s”和“%(second)s”中",
                    name=name,
                    first=column(wanted[name]),
                    second=column(role),
                )
                fail(row, role, message)
            else:
                wanted[name] = role
    out = []
    for a in old.get("departments", []):
        if a["name"] in wanted:
            role = wanted.pop(a["name"])
            same = role == a["role"]
            out.append(
                {
                    "name": a["name"],
                    "role": role,
                    "role_text": a["role_text"] if same else ROLES[role],
                    "note": a["note"] if same else "",
                }
            )
    out += [{"name": n, "role": r, "role_text": ROLES[r], "note": ""} for n, r in wanted.items()]
    return out


def _target(
    row: _Row,
    code: str,
    base_targets: dict[str, dict],
    used: set[str],
    task_due: date | None,
    fail: Any,
    task_title: str,
) -> dict[str, Any] | None:
    key = row.text("target_key")
    old = base_targets.get(key, {}) if key else {}
    if not key:
        n = 1
        while f"{code}-t{n}" in used:
            n += 1
        key = f"{code}-t{n}"
    used.add(key)
    try:
        comparison, value, value_min, value_max = _target_value(row.get("comparison"), row.get("value"))
    except ValueError as exc:
        fail(row, "value", str(exc))
        return None
    due = old.get("due") or task_due
    if row.text("target_due"):
        try:
            due = parse_day(row.get("target_due")) or task_due
        except ValueError as exc:
            fail(row, "target_due", str(exc))
    # A table with only 目标值 / 单位 columns names its targets after the task.
    name = row.text("target_name") or old.get("name") or task_title
    return {
        **{k: v for k, v in old.items() if k not in {"group"}},
        "key": key,
        "name": name,
        "comparison": comparison,
        "value": value,
        "value_min": value_min,
        "value_max": value_max,
        "unit": row.text("unit"),
        "due": due,
    }


# ── 附件 1 / 附件 3: target values per county ──────────────────────────────────────────────────────

METRIC_HEADERS = [
    ("cod_reduction", ("COD", "化学需氧量")),
    ("ammonia_reduction", ("氨氮", "NH3-N", "NH3")),
    ("nox_reduction", ("氮氧化物", "NOX")),
    ("voc_reduction", ("挥发性有机物", "VOC")),
    ("energy_intensity_reduction", ("能耗强度", "能耗降低", "万元GDP能耗", "能源消耗")),
]
COUNTY_HEADERS = ("县（市、区）", "县(市、区)", "县市区", "县区", "地区", "区域", "单位", "名称", "地方")
CITY_ROWS = {"全市", "合计", "总计", "市本级合计"}


def _metric_of(header: Any) -> str | None:
    text = _norm_header(header).upper()
    for metric, words in METRIC_HEADERS:
        if any(w.upper() in text for w in words):
            return metric
    return None


def _county_header(value: Any) -> str | None:
    text = re.sub(r"\s+", "", str(value or ""))
    return "county" if text in COUNTY_HEADERS else None


@dataclass
class ValueRow:
    row: int
    place: str
    target: Target
    value: float


def read_target_values(source: Source, *, plan: Plan) -> list[ValueRow]:
    """The values of a 附件 1 / 附件 3 style table, matched to the plan's per-county targets."""
    wb = _open(source)
    ws, header_row, columns = _find_header(wb, {"county"}, _county_header)
    header = next(ws.iter_rows(min_row=header_row, max_row=header_row, values_only=True))
    metrics = {i: m for i, v in enumerate(header) if (m := _metric_of(v))}
    problems: list[tuple[str, str]] = []
    if not metrics:
        message = _("没有可识别的指标列（COD、氨氮、氮氧化物、挥发性有机物、能耗强度）")
        problems.append((_at_row(header_row), message))
    county_col = next(iter(columns))
    counties = {c.name: c for c in db.session.scalars(db.select(County))}
    targets = db.session.scalars(db.select(Target).filter_by(plan_id=plan.id).where(Target.metric != "")).all()
    # A county row reads the county's allocation; a 全市 / 合计 row reads the city target of the metric.
    by_place = {(t.county_id, t.metric): t for t in targets if t.group == "city" or t.county_id is not None}
    out: list[ValueRow] = []
    for number, values in enumerate(ws.iter_rows(min_row=header_row + 1, values_only=True), start=header_row + 1):
        place = re.sub(r"\s+", "", _text(values[county_col] if county_col < len(values) else None))
        cells = {i: values[i] for i in metrics if i < len(values) and _text(values[i]) != ""}
        if not place and not cells:
            continue
        county_id: int | None
        if place in CITY_ROWS or place == plan.title[:3]:
            county_id = None
        else:
            name = place.removesuffix("人民政府")
            county = counties.get(name)
            if county is None:
                close = difflib.get_close_matches(name, list(counties), n=3, cutoff=0.5)
                if close:
                    message = _(
                        "没有名为“%(place)s”的县（市、区），是否为：%(close)s？", place=place, close=_join(close)
                    )
                else:
                    message = _("没有名为“%(place)s”的县（市、区）", place=place)
                problems.append((_("第%(n)s行 县（市、区）", n=number), message))
                continue
            county_id = county.id
        for i, raw in cells.items():
            column = _text(header[i])
            try:
                value = finite_number(raw if isinstance(raw, (int, float)) else _text(raw).rstrip("%％"))
            except NumberError as exc:
                problems.append((_at_row(number, column), str(exc)))
                continue
            target = by_place.get((county_id, metrics[i]))
            if target is None:
                problems.append((_at_row(number, column), _("计划中没有 %(place)s 的这项目标", place=place)))
                continue
            out.append(ValueRow(number, place, target, value))
    if problems:
        raise PlanFileError(problems)
    if not out:
        raise PlanFileError([(_("文件"), _("没有任何数值"))])
    return out


def import_target_values(
    source: Source,
    *,
    plan: Plan,
    period: str,
    now: datetime,
    reporter_id: int | None,
    source_name: str,
) -> list[TargetValue]:
    """Append one TargetValue per filled cell, all in one transaction; nothing on any error."""
    try:
        p = parse_period(period.strip())
    except ValueError as exc:
        raise PlanFileError([(_("报送期"), str(exc))]) from None
    if p.end < plan.start or p.start > plan.end:
        message = _(
            "报送期 %(key)s 不在计划期 %(start)s 至 %(end)s 之内。",
            key=p.key,
            start=plan.start.isoformat(),
            end=plan.end.isoformat(),
        )
        raise PlanFileError([(_("报送期"), message)])
    rows = read_target_values(source, plan=plan)
    reporter = db.session.get(User, reporter_id) if reporter_id else None
    created = []
    try:
        for r in rows:
            tv = TargetValue(
                target_id=r.target.id,
                period=p.key,
                period_end=p.end,
                value=r.value,
                source=f"{source_name} 第{r.row}行",
                department_id=reporter.department_id if reporter else None,
                reporter_id=reporter_id,
                created_at=now,
            )
            db.session.add(tv)
            created.append(tv)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return created


def import_task_workbook(
    source: Source,
    *,
    now: datetime,
    plan_key: str | None = None,
    new_plan: dict[str, Any] | None = None,
    dry_run: bool = False,
) -> tuple[LoadReport, list[Change]]:
    """Update plan ``plan_key`` or create ``new_plan`` from a workbook, through ``load_plan``.

    With ``dry_run`` nothing is written: the load runs and is rolled back, and the changes it would
    make are returned. Without it, the same changes are committed (the list is the preview's).
    """
    plan = get_plan(plan_key) if plan_key else None
    data, _rows = plan_data_from_workbook(source, plan=plan, new_plan=new_plan)
    report, changes = preview_plan(data, now=now)
    if not dry_run:
        report = load_plan(data, now=now)
    return report, changes
