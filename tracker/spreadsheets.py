"""Bytes of every CSV and Excel workbook the app writes, with text kept as text.

A title such as ``=HYPERLINK("http://evil.example", "点击")`` typed into a task must reach a
leader's spreadsheet as those characters, never as a live formula (CSV / formula injection):

- a workbook is saved with :func:`workbook_bytes`, which turns every cell openpyxl took for a
  formula (a string starting with ``=``) or an error code (``#N/A``) back into a plain string, so
  the text is kept exactly and a round trip through the task workbook changes nothing;
- a CSV is written with :func:`csv_bytes`, which puts an apostrophe before text that a spreadsheet
  would read as a formula (``=``, ``+``, ``-``, ``@``, a tab or a carriage return first), the
  mitigation OWASP recommends; numbers stay numbers.

The app itself never writes a formula, so nothing is lost by this.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook

__all__ = ["FORMULA_STARTS", "csv_bytes", "csv_text", "workbook_bytes"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as it is.

    >>> csv_text("=1+1"), csv_text("-x"), csv_text("@SUM(A1)"), csv_text("三（一）"), csv_text(-3)
    ("'=1+1", "'-x", "'@SUM(A1)", '三（一）', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(rows: Iterable[Iterable[Any]]) -> bytes:
    """Rows as CSV in UTF-8 with a byte-order mark (Excel then reads the Chinese), text kept as text."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows([csv_text(v) for v in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def workbook_bytes(wb: Workbook) -> bytes:
    """``wb`` as .xlsx bytes, with every cell that holds a string stored as a string."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.data_type != "s":
                    cell.data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
