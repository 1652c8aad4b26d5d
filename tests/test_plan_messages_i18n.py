"""The plan import and export speak the user's language; the files they read stay what they are.

Problems with a workbook, the preview's summary and the workbook the app writes are in English for
an English user and exactly as before in Chinese. The importer reads Chinese and English workbooks
alike, so an English export imports back unchanged.
"""

from __future__ import annotations

import html
from io import BytesIO

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func

from tracker.extensions import db
from tracker.models import AuditLog
from tracker.plans.xlsx_layout import COLUMNS
from tracker.plans.xlsx_read import plan_data_from_workbook
from tracker.plans.xlsx_write import task_workbook
from tracker.tasks.queries import get_plan

from .test_excel import POLLUTANTS, _values_workbook, _xlsx, ten_task_workbook

NEW_PLAN = {"mode": "new", "key": "next", "title": "测试", "start": "2026-01-01", "end": "2030-12-31"}


def _english(client: FlaskClient) -> None:
    assert client.post("/language", data={"locale": "en"}).status_code in (200, 302, 303)


def _page(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def _token(page: str) -> str:
    return page.split("/plans/import/")[1][:32]


def test_import_problems_are_in_english_with_english_row_labels_for_an_english_user(
    mini_plan, login, client: FlaskClient
) -> None:
    login("coordinator", "市发展改革委")
    _english(client)
    response = client.post("/plans/import", data={**NEW_PLAN, "file": (BytesIO(ten_task_workbook(bad=True)), "t.xlsx")})
    page = _page(response)
    assert response.status_code == 422
    # the location is the row in English and the column as the file heads it (the file's own words)
    assert "Row 4, 牵头部门" in page and "Row 7, 完成时间" in page
    assert "“市交通局” is not in the department directory. Did you mean: 市交通运输局?" in page
    assert "Not a valid date: '明年'" in page
    assert "第4行" not in page and "单位目录中没有" not in page and "不是有效日期" not in page
    assert page.index("Row 4, 牵头部门") < page.index("Row 7, 完成时间")  # in row order in any language


def test_import_problems_stay_chinese_for_a_chinese_user(mini_plan, login, client: FlaskClient) -> None:
    login("coordinator", "市发展改革委")
    response = client.post("/plans/import", data={**NEW_PLAN, "file": (BytesIO(ten_task_workbook(bad=True)), "t.xlsx")})
    page = _page(response)
    assert response.status_code == 422
    assert "第4行 牵头部门" in page and "单位目录中没有“市交通局”，是否为：市交通运输局？" in page
    assert "第7行 完成时间" in page and "不是有效日期：'明年'（可写 2025-12-31" in page
    assert "Row 4" not in page


def test_a_file_that_is_not_a_workbook_is_refused_in_english(mini_plan, login, client: FlaskClient) -> None:
    login("coordinator", "市发展改革委")
    _english(client)
    data = {"mode": "update", "plan": "mini", "file": (BytesIO(b"not a workbook"), "x.xlsx")}
    page = _page(client.post("/plans/import", data=data))
    assert "Cannot read the Excel file (.xlsx)" in page and "无法读取" not in page


def test_the_preview_summary_is_in_english_for_an_english_user(mini_plan, login, client: FlaskClient) -> None:
    login("coordinator", "市发展改革委")
    _english(client)
    response = client.post("/plans/import", data={**NEW_PLAN, "file": (BytesIO(ten_task_workbook()), "t.xlsx")})
    page = _page(response)
    assert response.status_code == 200, page
    assert "Not written yet. Plan next — " in page and "new tasks: 10" in page and "new plans: 1" in page
    assert "新增任务" not in page and "计划 next" not in page
    done = client.post(f"/plans/import/{_token(page)}", follow_redirects=True)
    assert "Plan next — " in _page(done) and "new tasks: 10" in _page(done)


def test_the_template_and_export_are_english_for_an_english_user(mini_plan, login, client: FlaskClient) -> None:
    login("coordinator", "市发展改革委")
    _english(client)
    response = client.get("/plans/template.xlsx")
    assert "task-breakdown-template.xlsx" in response.headers["Content-Disposition"]
    wb = load_workbook(BytesIO(response.data))
    assert wb.sheetnames == ["Tasks", "Instructions"]
    headers = [c.value for c in wb["Tasks"][2]]
    assert headers == [c.english for c in COLUMNS]
    assert "Lead departments" in headers and "Deadline" in headers
    help_rows = list(wb["Instructions"].iter_rows(values_only=True))
    assert help_rows[0] == ("Column", "Also accepted", "How to fill in")
    texts = " ".join(str(v) for row in help_rows for v in row if v)
    assert "Nothing is written until the whole file passes the checks" in texts
    # the only Chinese in the instructions is the Chinese spellings the importer also reads and date forms
    assert "牵头单位" in texts and "每行一项任务" not in texts

    export = client.get("/plans/mini/tasks.xlsx")
    assert "mini-tasks.xlsx" in export.headers["Content-Disposition"]
    ws = load_workbook(BytesIO(export.data))["Tasks"]
    assert ws.cell(1, 1).value == "测试市“十五五”示范方案: task breakdown"
    cycle_col = [c.key for c in COLUMNS].index("cycle") + 1
    assert {ws.cell(r, cycle_col).value for r in range(3, ws.max_row + 1)} - {None} <= {
        "monthly",
        "quarterly",
        "yearly",
    }


def test_the_template_and_export_stay_chinese_for_a_chinese_user(mini_plan, login, client: FlaskClient) -> None:
    login("coordinator", "市发展改革委")
    response = client.get("/plans/template.xlsx")
    assert "filename*=UTF-8''%E4%BB%BB%E5%8A%A1" in response.headers["Content-Disposition"]  # 任务分解表模板.xlsx
    wb = load_workbook(BytesIO(response.data))
    assert wb.sheetnames == ["任务分解表", "说明"]
    assert [c.value for c in wb["任务分解表"][2]] == [c.header for c in COLUMNS]
    assert next(wb["说明"].iter_rows(values_only=True)) == ("列名", "也可写作", "填写说明")


def test_an_english_export_imports_back_unchanged(mini_plan, login, client: FlaskClient) -> None:
    login("coordinator", "市发展改革委")
    _english(client)
    content = client.get("/plans/mini/tasks.xlsx").data
    before = db.session.scalar(db.select(func.count()).select_from(AuditLog))
    response = client.post(
        "/plans/import", data={"mode": "update", "plan": "mini", "file": (BytesIO(content), "m.xlsx")}
    )
    page = _page(response)
    assert response.status_code == 200, page
    assert "Plan mini — no changes." in page
    assert db.session.scalar(db.select(func.count()).select_from(AuditLog)) == before


def test_an_english_workbook_is_read_in_a_chinese_session_too(mini_plan) -> None:
    """The importer reads English headers whatever the language (the CLI's is Chinese)."""
    plan = get_plan("mini")
    english = task_workbook(plan, english=True)
    chinese = task_workbook(plan, english=False)
    assert plan_data_from_workbook(english, plan=plan)[0] == plan_data_from_workbook(chinese, plan=plan)[0]


def test_an_edited_english_workbook_names_rows_in_english(mini_plan, login, client: FlaskClient) -> None:
    login("coordinator", "市发展改革委")
    _english(client)
    wb = load_workbook(BytesIO(client.get("/plans/mini/tasks.xlsx").data))
    ws = wb["Tasks"]
    headers = [c.value for c in ws[2]]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 2).value == "3.2")
    ws.cell(row, headers.index("Deadline") + 1).value = "soon"
    ws.cell(row, headers.index("Reporting cycle") + 1).value = "weekly"
    response = client.post(
        "/plans/import", data={"mode": "update", "plan": "mini", "file": (BytesIO(_xlsx(wb)), "m.xlsx")}
    )
    page = _page(response)
    assert response.status_code == 422
    assert f"Row {row}, Deadline" in page and "Not a valid date: 'soon'" in page
    assert f"Row {row}, Reporting cycle" in page and "not 'weekly'" in page


def test_schema_problems_found_after_reading_name_the_row_of_the_task(mini_plan, login, client: FlaskClient) -> None:
    """A start after the deadline is caught by the plan-file check and traced back to the row."""
    login("coordinator", "市发展改革委")
    wb = load_workbook(BytesIO(client.get("/plans/mini/tasks.xlsx").data))
    ws = wb["任务分解表"]
    headers = [c.value for c in ws[2]]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 2).value == "3.2")
    ws.cell(row, headers.index("开始时间") + 1).value = "2031-01-01"
    data = {"mode": "update", "plan": "mini", "file": (BytesIO(_xlsx(wb)), "m.xlsx")}
    page = _page(client.post("/plans/import", data=data))
    assert f"第{row}行（3.2）.due" in page and "截止日期早于开始日期" in page
    _english(client)
    data = {"mode": "update", "plan": "mini", "file": (BytesIO(_xlsx(wb)), "m.xlsx")}
    page = _page(client.post("/plans/import", data=data))
    assert f"Row {row} (3.2).due" in page and "The deadline is before the start date" in page


def test_unknown_plan_and_task_are_named_in_english(mini_plan, login, client: FlaskClient) -> None:
    login("coordinator", "市发展改革委")
    _english(client)
    page = _page(client.get("/plans/nope/tasks.xlsx"))
    assert "There is no plan with the key nope" in page


def test_county_value_problems_are_in_english_for_an_english_user(seeded, login, client: FlaskClient) -> None:
    login("coordinator", "市发展改革委")
    table = _values_workbook(POLLUTANTS, [(1, "林州市", 1, 2, 3, 4), (2, "林洲市", 1, 2, 3, 4), (3, "滑县", "x")])
    url = "/plans/anyang-14fyp-esr/values/import"
    page = _page(client.post(url, data={"period": "2023", "file": (BytesIO(table), "v.xlsx")}))
    assert "第4行 县（市、区）" in page and "没有名为“林洲市”的县（市、区），是否为：林州市？" in page
    assert "第5行 化学需氧量（COD）" in page and "应为数字：'x'" in page  # tracker.numbers' one message
    _english(client)
    page = _page(client.post(url, data={"period": "2023", "file": (BytesIO(table), "v.xlsx")}))
    assert "Row 4, county" in page and "There is no county named “林洲市”. Did you mean: 林州市?" in page
    assert "Row 5, 化学需氧量（COD）" in page and "Must be a number: 'x'" in page
    assert "第4行" not in page


def test_the_cli_keeps_the_site_language(mini_plan, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["plan", "export", "--plan", "nope"])
    assert result.exit_code == 1 and "没有编号为 nope 的计划" in result.output
    path = tmp_path / "bad.xlsx"
    path.write_bytes(ten_task_workbook(bad=True))
    args = ["plan", "import-xlsx", str(path), "--new-plan", "next", "--title", "T", "--start", "2026-01-01"]
    result = runner.invoke(args=[*args, "--end", "2030-12-31"])
    assert result.exit_code == 1
    assert "计划文件有误，未做任何修改：" in result.output and "第4行 牵头部门" in result.output
