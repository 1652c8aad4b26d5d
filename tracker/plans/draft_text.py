"""Reading an official plan text into clean blocks: the first step of drafting a plan.

Pure: no Flask, no database. Owns what "the text" is before it is understood: a Word ``.docx``
read with python-docx (paragraphs and tables in document order, table rows as tab-separated
lines), page numbers dropped, a paragraph broken by a page break rejoined (a department name
split over two lines, blank lines or a page number in the middle of a sentence), brackets and
half-width punctuation put in one form, and balanced-parenthesis helpers the parser shares.
"""

from __future__ import annotations

import io
import re

__all__ = [
    "blocks_of",
    "docx_text",
    "is_table_row",
    "normalise_chars",
    "paren_depths",
    "split_outside_parens",
    "trailing_groups",
]

CN_DIGITS = "一二三四五六七八九十"

# A line that is only a page number: "12", "- 12 -", "— 12 —", "第 3 页".
_PAGE_NUMBER = re.compile(r"^\s*(?:[-—–－]\s*)?(?:第\s*)?\d{1,3}(?:\s*页)?(?:\s*[-—–－])?\s*$")
# Block starts that never continue the previous sentence.
_HEADING = re.compile(
    rf"^\s*(?:[{CN_DIGITS}]{{1,3}}、|[（(〔][{CN_DIGITS}]{{1,3}}[）)〕]|\d{{1,2}}[.．、](?!\d)|附件\s*\d*\s*$|附表|注[：:])"
)
_SENTENCE_END = "。；！？：）)」”〕"


def docx_text(data: bytes) -> str:
    """The text of a Word document: paragraphs and tables in order, a table row as tab-separated cells."""
    from docx import Document  # python-docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = Document(io.BytesIO(data))
    lines: list[str] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(child, document).text)
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells: list[str] = []
                previous = None
                for cell in row.cells:
                    # A merged cell is repeated by python-docx; keep it once.
                    if cell._tc is previous:
                        continue
                    previous = cell._tc
                    cells.append(" ".join(cell.text.split()))
                lines.append("\t".join(cells))
            lines.append("")
    return "\n".join(lines)


def normalise_chars(text: str) -> str:
    """One form for brackets and punctuation: ( ) and 〔 〕 become （ ）; a half-width , ; : between
    non-digits becomes full-width. Spaces the plan prints around numbers are kept."""
    text = text.replace("\u3000", " ").replace("\xa0", " ")
    text = text.translate(str.maketrans({"(": "（", ")": "）", "〔": "（", "〕": "）"}))
    text = re.sub(r"(?<!\d),|,(?!\d)", "，", text)
    text = re.sub(r";", "；", text)
    text = re.sub(r"(?<!\d):|:(?!\d)", "：", text)
    return text


def is_table_row(line: str) -> bool:
    return "\t" in line


def blocks_of(text: str) -> list[str]:
    """The text as blocks (a paragraph, or one table row), page breaks rejoined, characters normalised."""
    raw = [line.rstrip(" \r") for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in raw if line.strip() and not (_PAGE_NUMBER.match(line) and "\t" not in line)]
    blocks: list[str] = []
    for line in lines:
        line = normalise_chars(line) if "\t" in line else normalise_chars(line.strip())
        if blocks and _continues(blocks[-1], line):
            blocks[-1] = blocks[-1].rstrip() + line.lstrip()
        else:
            blocks.append(line)
    return blocks


def _continues(previous: str, line: str) -> bool:
    """Whether ``line`` is the rest of ``previous``, cut by a page or line break."""
    if is_table_row(previous) or is_table_row(line) or _HEADING.match(line):
        return False
    prev = previous.rstrip()
    if prev[-1] in _SENTENCE_END:
        return False
    # A title or heading line (short, no punctuation inside) ends where it ends; a paragraph cut before
    # its full stop (it has a comma or a full stop already, or is long) goes on in the next block.
    body = re.sub(r"（[^（）]*）", "", _HEADING.sub("", prev, count=1))
    if body != prev and len(body) < 40 and not any(mark in body for mark in "，。；"):
        return False  # "二、主要目标", "（一）指导思想"
    return len(prev) >= 30 or any(mark in body for mark in "，。；、")


def paren_depths(text: str) -> list[int]:
    """The parenthesis depth at each character (full-width brackets, after ``normalise_chars``)."""
    depth = 0
    out = []
    for ch in text:
        if ch == "（":
            depth += 1
            out.append(depth)
        elif ch == "）":
            out.append(depth)
            depth = max(0, depth - 1)
        else:
            out.append(depth)
    return out


def split_outside_parens(text: str, separators: str) -> list[str]:
    """Split ``text`` at any of ``separators`` that is not inside parentheses."""
    parts: list[str] = []
    depth = 0
    current = ""
    for ch in text:
        if ch == "（":
            depth += 1
        elif ch == "）":
            depth = max(0, depth - 1)
        if ch in separators and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p for p in (p.strip() for p in parts) if p]


def trailing_groups(text: str) -> list[tuple[int, int]]:
    """The (start, end) spans of every top-level parenthesised group in ``text``, brackets included."""
    spans = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch == "（":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "）" and depth:
            depth -= 1
            if depth == 0:
                spans.append((start, i + 1))
    return spans
