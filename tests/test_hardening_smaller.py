"""Smaller holes of issue 14 (class 11): sub-task codes, the workbook round trip after a breakdown,
and the size bound of workbook imports. (Periods outside the plan: test_hardening_numbers.py; the
iCalendar feed: test_calendar.py; contact markup: test_hardening_mail.py; the shared rate limit:
test_rate_limit_shared.py.)"""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner

from tracker.errors import PlanFileError
from tracker.extensions import db
from tracker.models import AuditLog, Department, Task
from tracker.plans.workbook_limits import MAX_ROWS, check_workbook_size


def _count(model: type) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def _breakdown(client: FlaskClient, code: str, label: str = "三（一）2"):  # type: ignore[no-untyped-def]
    lead = db.session.scalar(db.select(Department).filter_by(name="市交通运输局"))
    assert lead is not None
    data = {"code": code, "label": label, "title": "新增子任务", "due": "2027-01-01", f"role-{lead.id}": "lead"}
    return client.post("/tasks/3.1/breakdown", data=data)


@pytest.mark.parametrize("code", ["3.1.١", "3.1.²", "3.1.٣٤", "3.1.𝟗", "3.1.99999"])
def test_sub_task_codes_take_ascii_digits_only(mini_plan, client: FlaskClient, login, code: str) -> None:
    login("staff", "市交通运输局")
    before = _count(Task)
    response = _breakdown(client, code)
    assert response.status_code == 400
    assert _count(Task) == before


def test_the_task_workbook_round_trip_after_a_breakdown_changes_nothing(
    mini_plan, client: FlaskClient, login, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    login("staff", "市交通运输局")
    assert _breakdown(client, "3.1.2").status_code == 302
    new = db.session.scalar(db.select(Task).filter_by(code="3.1.2"))
    assert new is not None
    out = tmp_path / "mini.xlsx"
    assert runner.invoke(args=["plan", "export-xlsx", "--plan", "mini", "-o", str(out)]).exit_code == 0
    before = _count(AuditLog)
    result = runner.invoke(args=["plan", "import-xlsx", str(out), "--plan", "mini", "--dry-run"])
    assert result.exit_code == 0 and "无变化" in result.output, result.output
    result = runner.invoke(args=["plan", "import-xlsx", str(out), "--plan", "mini"])
    assert result.exit_code == 0 and "无变化" in result.output, result.output
    assert _count(AuditLog) == before
    order = db.session.scalars(db.select(Task.code).order_by(Task.position)).all()
    assert order == ["3.1", "3.1.1", "3.1.2", "3.2", "4.1"]


def _rows_workbook(rows: int) -> bytes:
    """A workbook's zip with one sheet of ``rows`` rows, written directly: openpyxl takes minutes for 50,000."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    body = "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>任务{i}</t></is></c></row>' for i in range(1, rows + 1)
    )
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{ns}"/>')
        z.writestr("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{ns}"><sheetData>{body}</sheetData></worksheet>')
    return out.getvalue()


def test_a_province_scale_workbook_of_20000_tasks_is_within_the_bound() -> None:
    check_workbook_size(_rows_workbook(20_005))  # 20,000 tasks and their headings: raises nothing


def test_a_50000_row_workbook_is_refused_before_it_is_loaded_naming_the_bound(
    mini_plan, runner: FlaskCliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.xlsx"
    path.write_bytes(_rows_workbook(50_000))

    def never(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the workbook was loaded before its size was checked")

    monkeypatch.setattr("tracker.plans.xlsx_read.load_workbook", never)
    before = _count(Task)
    result = runner.invoke(args=["plan", "import-xlsx", str(path), "--plan", "mini"])
    assert result.exit_code != 0
    assert f"{MAX_ROWS:,}" in result.output and "20,000" in result.output, result.output
    assert _count(Task) == before
    with pytest.raises(PlanFileError, match="20,000"):
        check_workbook_size(path)
    with pytest.raises(PlanFileError, match="20,000"):
        check_workbook_size(path.read_bytes())


def test_a_workbook_that_unpacks_beyond_the_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tracker.plans.workbook_limits.MAX_UNPACKED_MB", 1)
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/sharedStrings.xml", b" " * (2 * 1024 * 1024))
    with pytest.raises(PlanFileError, match="1 MB"):
        check_workbook_size(out.getvalue())


def test_a_nul_in_any_form_or_query_field_is_a_400_not_a_database_error(mini_plan, client: FlaskClient, login) -> None:
    """PostgreSQL refuses NUL in text: found by the fuzz test on six routes (tests/test_fuzz_inputs.py)."""
    login("coordinator", "市发展改革委")
    before = _count(AuditLog)
    assert client.post("/profile/tokens", data={"name": "a\x00b"}).status_code == 400
    assert (
        client.post("/graph/dependencies", data={"task": "4.1\x00", "depends_on": "3.2", "rationale": "x"}).status_code
        == 400
    )
    assert client.get("/tasks?plan=mini\x00").status_code == 400
    assert _count(AuditLog) == before
