"""The 任务分解表's layout: its sheets, columns and accepted header spellings, and how its cells read.

Shared by the writer (:mod:`.xlsx_write`), the reader (:mod:`.xlsx_read`) and the 附件 values
importer (:mod:`.county_values`). The sheet names and column headers are the file format (documented
in docs/plan-format.md), not interface text.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from flask_babel import get_locale
from flask_babel import gettext as _

from ..i18n import N_
from ..models.org import ROLES
from ..models.plan import COMPARISONS, REPORTING_CYCLES
from ..numbers import finite_number

__all__ = [
    "COLUMNS",
    "HELP_SHEET",
    "HELP_SHEET_EN",
    "ROLE_COLUMNS",
    "TARGET_COLUMNS",
    "TASK_SHEET",
    "TASK_SHEET_EN",
    "Column",
    "Source",
    "alternatives_cell",
    "open_parties_cell",
    "parse_alternatives",
    "parse_day",
    "parse_open_parties",
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
    Column(
        "open_parties",
        "开放责任方",
        ("未具名责任方",),
        18,
        N_(
            "计划原文未具名的责任方，按原文保留、不展开为单位，"
            "如 各有关部门（负责：按职责分工负责）；多项用分号（；）分隔。"
        ),
        "Open parties",
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
    Column(
        "alternatives",
        "备选标准",
        ("或",),
        18,
        N_("目标的其他标准，任一达成即视为完成：如 ≥70 %，或比基年的增幅 比2020年增加 ≥5 %；多项用分号（；）分隔。"),
        "Alternative criteria",
        ("Alternatives",),
    ),
]
_BY_KEY = {c.key: c for c in COLUMNS}
ROLE_COLUMNS = ("lead", "responsible", "support", "implementing")
TARGET_COLUMNS = ("target_key", "target_name", "comparison", "value", "unit", "target_due", "alternatives")
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


_SYMBOLS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "=", "~": "≈"}
_SYMBOL_WORDS = {"≥": ">=", ">=": ">=", ">": ">", "≤": "<=", "<=": "<=", "<": "<", "=": "=", "≈": "~", "~": "~"}


def open_parties_cell(parties: list[dict[str, Any]], english: bool) -> str | None:
    """``各有关部门（负责：按职责分工负责）``: each open party with its role and the plan's wording."""
    out = []
    for p in parties:
        role = p.get("role", "responsible")
        word = role if english else ROLES.get(role, role)
        out.append(f"{p['text']}（{word}：{p['role_text']}）" if p.get("role_text") else f"{p['text']}（{word}）")
    return "；".join(out) or None


def parse_open_parties(value: Any) -> list[dict[str, Any]]:
    """The 开放责任方 cell read back: ``[{text, role, role_text}]``; ``ValueError`` naming a bad role.

    >>> [sorted(p.values()) for p in parse_open_parties("各有关部门（负责：按职责分工负责）；有关单位（support）")]
    [['responsible', '各有关部门', '按职责分工负责'], ['', 'support', '有关单位']]
    """
    words = {**{v: k for k, v in ROLES.items()}, **{k: k for k in ROLES}}
    out = []
    for part in re.split(r"[；;\n]+", _text(value)):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"(.+?)\s*[（(]\s*([^:：）)]+?)\s*(?:[:：]\s*([^）)]*))?[）)]", part)
        text, role, role_text = (m[1], m[2], (m[3] or "").strip()) if m else (part, "responsible", "")
        if role not in words:
            raise ValueError(_("角色应为牵头、配合、负责或落实，而不是 %(value)r", value=role))
        out.append({"text": text.strip(), "role": words[role], "role_text": role_text})
    return out


def alternatives_cell(alternatives: list[dict[str, Any]], english: bool) -> str | None:
    """``比2020年增加 ≥5 %`` (or ``≥70 %``) for each alternative criterion of a target."""
    out = []
    for a in alternatives:
        number = _text(a["value"])
        head = ""
        if a.get("basis") == "change":
            year = a.get("baseline_year")
            if english:
                head = f"rise over {year} " if year else "rise over baseline "
            else:
                head = f"比{year}年增加 " if year else "比基期增加 "
        out.append(f"{head}{_SYMBOLS.get(a['comparison'], a['comparison'])}{number} {a.get('unit') or ''}".strip())
    return "；".join(out) or None


def parse_alternatives(value: Any, old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The 备选标准 cell read back; the plan's own wording (``text``) and baseline kept from ``old``.

    >>> [(a["basis"], a["comparison"], a["value"], a["unit"], a["baseline_year"]) for a in parse_alternatives(
    ...     "比2020年增加 ≥5 %；≥70 %", [])]
    [('change', '>=', 5.0, '%', 2020), ('level', '>=', 70.0, '%', None)]
    """
    out = []
    for i, part in enumerate(p.strip() for p in re.split(r"[；;\n]+", _text(value))):
        if not part:
            continue
        m = re.fullmatch(
            r"(?:(比|rise over )\s*(?:(\d{4})\s*年?|基期|baseline)\s*(?:增加)?\s*)?"
            r"(≥|>=|≤|<=|>|<|=|≈|~)\s*(-?[\d.,]+)\s*(.*)",
            part,
            flags=re.IGNORECASE,
        )
        if not m:
            raise ValueError(_("备选标准应写作 ≥70 %% 或 比2020年增加 ≥5 %%，而不是 %(value)r", value=part))
        before = old[i] if i < len(old) else {}
        basis = "change" if m[1] else "level"
        out.append(
            {
                "basis": basis,
                "comparison": _SYMBOL_WORDS[m[3]],
                "value": _number(m[4]),
                "unit": m[5].strip(),
                "baseline": before.get("baseline") if basis == "change" else None,
                "baseline_year": int(m[2]) if m[2] else None,
                "text": before.get("text", ""),
            }
        )
    return out


def _value_cell(t: dict[str, Any]) -> Any:
    if t["comparison"] == "range":
        return f"{_text(t['value_min'])}-{_text(t['value_max'])}"
    value = t["value"]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
