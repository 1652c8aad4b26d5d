"""A bulletin's content (``content.gather``) written as a Word file in official-document layout.

The layout follows GB/T 9704 (党政机关公文格式) as a supervision office's 简报 uses it: A4 with the
standard margins, the 内部资料 marking at the top left, the red masthead (督办通报), 第 N 期, the
issuing office and the date above a red rule, a 2号 title, 3号 仿宋 body with 黑体 headings, tables,
and the 版记 (抄送 / 印发) between rules at the end, page numbers as “— 1 —” in the footer.

Fonts are named as Word and WPS on a government desktop know them (方正小标宋简体, 黑体, 仿宋, 楷体);
elsewhere (LibreOffice on Linux) the CJK fallback font draws them. Written in the current language
(call it inside ``force_locale``); the data stays as frozen.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from flask_babel import get_locale
from flask_babel import gettext as _

from ..i18n import day, label, period, reason
from ..models.plan import TASK_STATUSES
from ..tasks.lights import LIGHT_LABELS

__all__ = ["percent", "render_docx"]

RED = RGBColor(0xE6, 0x00, 0x12)
TITLE_FONT, HEI, FANG, KAI = "方正小标宋简体", "黑体", "仿宋", "楷体"
LATIN = "Times New Roman"
NUMERALS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals, as headings count (一、十二、二十).

    >>> [chinese_number(n) for n in (1, 10, 12, 20, 35)]
    ['一', '十', '十二', '二十', '三十五']
    """
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else NUMERALS[tens] + "十")
    return head + (NUMERALS[ones] if ones or not tens else "")


def _chinese() -> bool:
    locale = get_locale()
    return locale is None or locale.language == "zh"


def percent(value: float | None, digits: int = 0) -> str:
    """A share (0..1) as the dashboard writes it: ``42%``; None is ``—``.

    >>> percent(0.4249), percent(None)
    ('42%', '—')
    """
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def progress_text(value: float | None) -> str:
    """The plan's progress (already a percentage) as the dashboard writes it: ``12.5%``."""
    return "—" if value is None else f"{value:.1f}%"


def _date(text: str) -> str:
    """A date in the document: 2024年7月10日 in Chinese (公文 writes Arabic numerals), the locale's otherwise."""
    value = date.fromisoformat(text)
    return f"{value.year}年{value.month}月{value.day}日" if _chinese() else day(value)


def _font(run: Any, name: str, size: float, *, bold: bool = False, colour: RGBColor | None = None) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = LATIN
    rpr = run._element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if colour is not None:
        run.font.color.rgb = colour


def _para(doc: Any, text: str = "", *, font: str = FANG, size: float = 16, bold: bool = False, **kw: Any) -> Paragraph:
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.alignment = kw.get("align", WD_ALIGN_PARAGRAPH.JUSTIFY)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(kw.get("line", 28.95))  # 22 lines of 3号 per page, as GB/T 9704 sets
    fmt.space_before = fmt.space_after = Pt(0)
    if kw.get("indent", False):
        fmt.first_line_indent = Pt(size * 2)
    if text:
        _font(p.add_run(text), font, size, bold=bold, colour=kw.get("colour"))
    return p


# What follows w:pBdr inside w:pPr (the schema fixes the order; Word refuses a file that breaks it).
_AFTER_PBDR = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct",
    "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
    "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
    "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip


def _rule(p: Paragraph, *, colour: str = "E60012", size: int = 12, where: str = "bottom") -> None:
    """A horizontal rule drawn as the paragraph's border (the red separator, the 版记 lines)."""
    ppr = p._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.insert_element_before(borders, *_AFTER_PBDR)
    edge = OxmlElement(f"w:{where}")
    for key, value in (("val", "single"), ("sz", str(size)), ("space", "1"), ("color", colour)):
        edge.set(qn(f"w:{key}"), value)
    if where == "top":  # top comes before bottom in w:pBdr
        borders.insert(0, edge)
    else:
        borders.append(edge)


def _page_number_footer(section: Any) -> None:
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run("— "), "宋体", 14)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    p._p.append(field)
    _font(p.add_run(" —"), "宋体", 14)


def _table(doc: Any, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, text in enumerate(header):
        cell = table.rows[0].cells[i]
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(cell.paragraphs[0].add_run(text), HEI, 12)
    # repeat the header row on every page the table runs over
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header_flag = OxmlElement("w:tblHeader")
    header_flag.set(qn("w:val"), "true")
    tr_pr.append(header_flag)
    for values in rows:
        cells = table.add_row().cells
        for i, text in enumerate(values):
            _font(cells[i].paragraphs[0].add_run(str(text)), FANG, 12)
    # fixed column widths, in the grid (LibreOffice reads it) and in every cell (Word reads those)
    table.autofit = False
    for i, width in enumerate(widths):
        table.columns[i].width = Mm(width)
    for row in table.rows:
        for i, width in enumerate(widths):
            row.cells[i].width = Mm(width)
    _para(doc, "", line=14)  # a little air after the table


def _heading(doc: Any, n: int, text: str) -> None:
    number = f"{chinese_number(n + 1)}、" if _chinese() else f"{n + 1}. "
    # 黑体 marks a heading in Chinese; Latin text has no 黑体, so it is set bold
    _para(doc, number + text, font=HEI, size=16, indent=True, bold=not _chinese())


def _list(items: list[str]) -> str:
    return _("、").join(items)


def render_docx(data: dict[str, Any]) -> bytes:
    """The bulletin as a .docx, in the current language."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(20)
    _page_number_footer(section)
    text_width = 210 - 28 - 26
    plan, per = data["plan"], data["period"]
    title = _("%(period)s%(plan)s落实情况通报", period=period(per["label"]), plan=plan["title"])
    doc.core_properties.title = title
    doc.core_properties.author = data["office"]

    _para(doc, _("内部资料　注意保存"), font=HEI, size=16, align=WD_ALIGN_PARAGRAPH.LEFT)
    _para(doc, "", line=20)
    _para(doc, _("督办通报"), font=TITLE_FONT, size=42, colour=RED, align=WD_ALIGN_PARAGRAPH.CENTER, line=60)
    _para(doc, _("第 %(n)s 期", n=data["number"]), size=16, align=WD_ALIGN_PARAGRAPH.CENTER, line=36)
    masthead = _para(doc, "", align=WD_ALIGN_PARAGRAPH.LEFT)
    masthead.paragraph_format.tab_stops.add_tab_stop(Mm(text_width), WD_TAB_ALIGNMENT.RIGHT)
    _font(masthead.add_run(f"{data['office']}\t{_date(data['as_of'])}"), FANG, 16)
    _rule(masthead)
    if data.get("corrects"):
        _para(doc, _("（本期更正第 %(n)s 期）", n=data["corrects"]), font=KAI, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, "", line=20)
    _para(doc, title, font=TITLE_FONT, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, line=36)
    _para(doc, "", line=20)

    red, yellow, green = (data["light_counts"][k] for k in ("red", "yellow", "green"))
    _para(
        doc,
        _(
            "截至%(day)s，方案共有措施 %(tasks)s 项，总体进度 %(progress)s；红灯 %(red)s 项、黄灯 %(yellow)s 项、"
            "绿灯 %(green)s 项。本期应报送 %(expected)s 份，已报送 %(reported)s 份，报送率 %(rate)s，"
            "待审核 %(pending)s 份。现将有关情况通报如下。",
            day=_date(data["as_of"]),
            tasks=data["tasks"],
            progress=progress_text(data["progress"]),
            red=red,
            yellow=yellow,
            green=green,
            expected=data["expected"],
            reported=data["reported"],
            rate=percent(data["rate"]),
            pending=data["pending"],
        ),
        indent=True,
    )

    _heading(doc, 0, _("总体进展"))
    counts = [_("%(status)s %(n)s 项", status=_(TASK_STATUSES[k]), n=v) for k, v in data["status_counts"].items() if v]
    if data["phase"] == "running":
        when = _("距规划期结束还有 %(n)s 天。", n=data["days_left"])
    elif data["phase"] == "before":
        when = _("规划期尚未开始。")
    else:
        when = _("规划期已结束，进入五年总体考核。")
    _para(doc, _("各措施状态：%(counts)s。", counts=_("，").join(counts) or "—") + when, indent=True)

    _heading(doc, 1, _("红灯、黄灯措施及原因"))
    if data["at_risk"]:
        _table(
            doc,
            [_("预警"), _("序号"), _("措施"), _("牵头（负责）单位"), _("完成时限"), _("进度"), _("原因")],
            [
                [
                    _(LIGHT_LABELS[t["light"]]),
                    t["label"],
                    t["title"],
                    _list(t["leads"]) or "—",
                    _date(t["due"]),
                    f"{_(TASK_STATUSES[t['status']])} {t['progress']}%",
                    _("；").join(reason(r) for r in t["reasons"]),
                ]
                for t in data["at_risk"]
            ],
            [14, 18, 40, 26, 20, 16, 22],
        )
    else:
        _para(doc, _("没有逾期或预警的措施。"), indent=True)

    _heading(doc, 2, _("本期未报送的单位"))
    if data["not_reported"]:
        _table(
            doc,
            [_("单位"), _("报送率"), _("未报送的措施")],
            [
                [
                    r["department"],
                    f"{percent(r['reported'] / r['expected'] if r['expected'] else None)}"
                    f"（{r['reported']}/{r['expected']}）",
                    _list(([_("落实报告")] if r.get("consolidated") else []) + r["missing"]),
                ]
                for r in data["not_reported"]
            ],
            [50, 30, 76],
        )
    else:
        _para(doc, _("应报送的单位均已报送。"), indent=True)

    _heading(doc, 3, _("本期批准的延期"))
    if data["extensions"]:
        _table(
            doc,
            [_("措施"), _("单位"), _("原完成时限"), _("延期至"), _("理由")],
            [
                [f"{e['task']} {e['title']}", e["department"], _date(e["old_due"]), _date(e["new_due"]), e["reason"]]
                for e in data["extensions"]
            ],
            [44, 30, 24, 24, 34],
        )
    else:
        _para(doc, _("本期没有批准延期。"), indent=True)

    ranking = data["ranking"]
    _heading(doc, 4, _("考核排名") + (f"（{label(ranking['window'])}）" if ranking else ""))
    if ranking and (ranking["counties"] or ranking["departments"]):
        for group, units in (
            (_("县（市、区）"), ranking["counties"]),
            (_("市直部门及其他单位"), ranking["departments"]),
        ):
            if not units:
                continue
            _para(doc, group, font=KAI, size=16, indent=True)
            _table(
                doc,
                [_("排名"), _("单位"), _("得分")],
                [[u["rank"], u["name"], f"{u['score']:.1f}"] for u in units],
                [20, 96, 40],
            )
    else:
        _para(doc, _("尚无可排名的考核结果。"), indent=True)

    _heading(doc, 5, _("下步工作要求"))
    if data["asks"]:
        for i, ask in enumerate(data["asks"]):
            parts = []
            if ask.get("consolidated"):
                parts.append(_("报送本期落实报告"))
            if ask["missing"]:
                parts.append(_("补报%(tasks)s的本期进展", tasks=_list(ask["missing"])))
            if ask["red"]:
                parts.append(_("对红灯措施%(tasks)s查明原因、提出整改措施", tasks=_list(ask["red"])))
            if ask["yellow"]:
                parts.append(_("加快推进黄灯措施%(tasks)s", tasks=_list(ask["yellow"])))
            number = f"（{chinese_number(i + 1)}）" if _chinese() else f"({i + 1}) "
            _para(doc, f"{number}{ask['department']}：" + _("；").join(parts) + _("。"), indent=True)
        _para(
            doc,
            _("请上述单位于%(day)s前将落实情况报送%(office)s。", day=_date(data["reply_by"]), office=data["office"]),
            indent=True,
        )
    else:
        _para(doc, _("各单位按计划推进，按期报送进展。"), indent=True)

    _para(doc, "", line=28.95)
    copy_to = _para(doc, _("抄送：市政府领导，各县（市、区）人民政府，市直有关单位。"), size=14, line=24)
    _rule(copy_to, colour="000000", size=4, where="top")
    _rule(copy_to, colour="000000", size=4)
    printed = _para(doc, "", size=14, align=WD_ALIGN_PARAGRAPH.LEFT, line=24)
    printed.paragraph_format.tab_stops.add_tab_stop(Mm(text_width), WD_TAB_ALIGNMENT.RIGHT)
    _font(printed.add_run(f"{data['office']}\t" + _("%(day)s印发", day=_date(data["as_of"]))), FANG, 14)
    _rule(printed, colour="000000", size=8)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
