"""The matrix and assessment workbooks print: A3 landscape, fit to width, header rows repeated, the
plan and the date on every page; named after the plan and the date; LibreOffice opens them too."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from tracker import clock
from tracker.extensions import db
from tracker.models import Plan

INTERNAL_CODES = {"lead", "support", "responsible", "implementing", "none", "not_started", "in_progress", "done"}


def _plan_title() -> str:
    return db.session.scalar(db.select(Plan.title))


@pytest.mark.parametrize(("url", "kind"), [("/matrix.xlsx", "责任矩阵"), ("/assessment.xlsx", "考核")])
def test_workbooks_are_set_up_for_a3_landscape_with_title_and_date_on_every_page(
    mini_plan: Flask, client: FlaskClient, login, url: str, kind: str
) -> None:
    mini_plan.config["TRACKER_NOW"] = "2027-03-01"  # inside the mini plan: its first year is assessed
    login("leader")
    response = client.get(url)
    wb = load_workbook(io.BytesIO(response.data))
    today = clock.today().isoformat()
    for ws in wb.worksheets:
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A3) and ws.page_setup.orientation == "landscape"
        # one page wide: fitToWidth absent is 1 (ECMA-376's default; Excel and XlsxWriter leave it out)
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)
        assert ws.page_setup.fitToHeight == 0
        assert _plan_title() in ws.oddHeader.left.text and today in ws.oddHeader.right.text
    first = wb.worksheets[0 if kind == "责任矩阵" else 1]
    assert first.print_title_rows == ("$1:$2" if kind == "责任矩阵" else "$1:$1")
    name = f"{kind}_{re.sub('[“”]', '', _plan_title())}_{today}.xlsx"
    assert f"filename*=UTF-8''{quote(name)}" in response.headers["Content-Disposition"]


def test_the_legend_speaks_words_not_internal_codes(mini_plan: Flask, client: FlaskClient, login) -> None:
    login("leader")
    legend = load_workbook(io.BytesIO(client.get("/matrix.xlsx").data))["图例"]
    cells = {str(v) for row in legend.iter_rows(values_only=True) for v in row if v}
    assert not cells & INTERNAL_CODES
    assert "牵头单位：组织推进，按期报送进展" in cells


def test_libreoffice_opens_and_prints_the_matrix_on_a3_landscape(
    mini_plan: Flask, client: FlaskClient, login, tmp_path: Path
) -> None:
    if shutil.which("soffice") is None or shutil.which("pdfinfo") is None:
        pytest.fail("LibreOffice (soffice) and poppler-utils (pdfinfo, pdftotext) are needed")
    from tracker.bulletins.pdf import to_pdf

    login("leader")
    pdf = tmp_path / "matrix.pdf"
    pdf.write_bytes(to_pdf(client.get("/matrix.xlsx").data, ".xlsx"))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    width, height = (float(x) for x in re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert (round(width), round(height)) == (1191, 842)  # A3 landscape, in points
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    text = re.sub(r"\s+", "", text)  # narrow department columns wrap their names
    assert "交通减排工程" in text and "市发展" in text and _plan_title() in text


def test_a_title_with_an_ampersand_or_too_long_keeps_its_page_header(
    mini_plan: Flask, client: FlaskClient, login
) -> None:
    """``&G`` stands for a header image in Excel's header language; an escaped one is still the title's."""
    plan = db.session.scalar(db.select(Plan))
    login("leader")
    # the second is within the column's 200 characters, but its "&" are written "&&": 396 in the header
    for title in ["节能&G减排 &[Picture] 方案", "节能&" * 66]:
        plan.title = title
        db.session.commit()
        ws = load_workbook(io.BytesIO(client.get("/matrix.xlsx").data))["责任矩阵"]
        left = ws.oddHeader.left.text
        assert left and clock.today().isoformat() in ws.oddHeader.right.text
        assert len(f"&L{left}&R{ws.oddHeader.right.text}") <= 255  # Excel's limit for a header
        assert left.startswith(title.replace("&", "&&")[:100])
