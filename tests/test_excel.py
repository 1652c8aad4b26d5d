"""Excel in and out: the 任务分解表 template, export, import (preview → confirm), and 附件 1/3 values."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import Workbook, load_workbook
from sqlalchemy import func

from tracker.extensions import db
from tracker.models import AuditLog, Plan, Target, TargetValue, Task
from tracker.plans.xlsx_layout import COLUMNS, parse_day

HEADERS = [c.header for c in COLUMNS]


def _count(model: type) -> int:
    return db.session.scalar(db.select(func.count()).select_from(model))


def _xlsx(wb: Workbook) -> bytes:
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def ten_task_workbook(*, bad: bool = False) -> bytes:
    """A small invented 15th-plan table in a government's own layout (title row, Chinese dates)."""
    wb = Workbook()
    ws = wb.active
    ws.append(["测试市“十五五”节能减排任务分解表"])
    ws.append(["序号", "任务名称", "牵头部门", "配合单位", "完成时间", "目标值", "单位"])
    rows = [
        ("三（一）", "工业节能改造", "市发展改革委", "市生态环境局", "2027年底", 20, "%"),
        ("三（二）", "交通绿色转型", "市交通运输局", "", "2028/12/31", "2-3", "个"),
        ("三（三）", "建筑节能", "市发展改革委", "", datetime(2029, 6, 30), None, None),
        ("三（四）", "公共机构节能", "市生态环境局", "市发展改革委", "2030年12月31日", None, None),
        ("三（五）", "农业农村减排", "甲县人民政府", "", "2028年", None, None),
        ("三（六）", "重点区域污染物减排", "市生态环境局", "甲县人民政府、乙区人民政府", "2030-12-31", 500, "吨"),
        ("四（一）", "能耗双控", "市发展改革委", "", "长期坚持", None, None),
        ("四（二）", "绿色金融", "人行测试市中心支行", "", "2027年6月", None, None),
        ("四（三）", "统计监测", "市发展改革委", "市生态环境局", "2026年上半年", None, None),
        ("五（一）", "加强组织领导", "市发展改革委", "", "2030年底", None, None),
    ]
    for r in rows:
        ws.append(list(r))
    if bad:
        ws["C4"] = "市交通局"  # row 4: a near miss of 市交通运输局
        ws["E7"] = "明年"  # row 7: not a date
    return _xlsx(wb)


def test_the_date_forms_of_government_tables_are_read() -> None:
    assert parse_day("2025-12-31") == parse_day("2025/12/31") == parse_day("2025年12月31日") == date(2025, 12, 31)
    assert parse_day("2025年底") == parse_day(datetime(2025, 12, 31, 0, 0)) == date(2025, 12, 31)
    assert parse_day("2025年第三季度") == date(2025, 9, 30)
    with pytest.raises(ValueError, match="不是有效日期"):
        parse_day("2025年13月")


def test_template_has_the_columns_and_an_explanation_sheet(app, login, client: FlaskClient) -> None:
    login("leader")
    response = client.get("/plans/template.xlsx")
    assert response.status_code == 200
    wb = load_workbook(BytesIO(response.data))
    assert wb.sheetnames == ["任务分解表", "说明"]
    headers = [c.value for c in wb["任务分解表"][2]]
    for required in ("序号", "任务/措施", "牵头单位", "配合单位", "责任单位", "完成时限", "目标值", "单位"):
        assert required in headers
    explained = {row[0] for row in wb["说明"].iter_rows(values_only=True)}
    assert set(HEADERS) <= explained


def test_exported_table_imported_unchanged_changes_nothing(mini_plan, runner: FlaskCliRunner, tmp_path: Path) -> None:
    out = tmp_path / "mini.xlsx"
    result = runner.invoke(args=["plan", "export-xlsx", "--plan", "mini", "-o", str(out)])
    assert result.exit_code == 0, result.output
    before = _count(AuditLog)
    result = runner.invoke(args=["plan", "import-xlsx", str(out), "--plan", "mini"])
    assert result.exit_code == 0, result.output
    assert "无变化" in result.output
    assert _count(AuditLog) == before


def test_round_trip_changes_exactly_the_edited_cell(mini_plan, login, client: FlaskClient) -> None:
    importer = login("coordinator", "市发展改革委")
    wb = load_workbook(BytesIO(client.get("/plans/mini/tasks.xlsx").data))
    ws = wb["任务分解表"]
    due_col = HEADERS.index("完成时限") + 1
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 2).value == "3.2")
    ws.cell(row, due_col).value = "2029年6月30日"
    before = _count(AuditLog)

    preview = client.post(
        "/plans/import", data={"mode": "update", "plan": "mini", "file": (BytesIO(_xlsx(wb)), "m.xlsx")}
    )
    assert preview.status_code == 200, preview.get_data(as_text=True)
    page = preview.get_data(as_text=True)
    assert "更新任务 1" in page and "2029-06-30" in page
    assert _count(AuditLog) == before  # the preview wrote nothing
    token = page.split("/plans/import/")[1][:32]

    done = client.post(f"/plans/import/{token}")
    assert done.status_code == 302 and "plan=mini" in done.headers["Location"]
    task = db.session.scalar(db.select(Task).filter_by(code="3.2"))
    assert task.due == task.original_due == date(2029, 6, 30)
    new_rows = db.session.scalars(db.select(AuditLog).where(AuditLog.id > 0).order_by(AuditLog.id)).all()[before:]
    assert sorted((r.entity, r.entity_id, r.field, r.old, r.new) for r in new_rows) == [
        ("task", task.id, "due", "2030-12-31", "2029-06-30"),
        ("task", task.id, "original_due", "2030-12-31", "2029-06-30"),
    ]
    # the history names the importing person and the file; the page shows neither internal name nor code
    assert {(r.user_id, r.actor) for r in new_rows} == {(importer.id, "plan-file:m.xlsx")}
    history = client.get("/tasks/3.2").get_data(as_text=True).split('<table class="history">')[1]
    assert f"{importer.name or importer.email} · 计划文件导入（m.xlsx）" in history and "原定完成时限" in history
    assert "original_due" not in history and "plan-file:" not in history
    assert client.post(f"/plans/import/{token}").status_code == 404  # the upload is gone


def test_new_plan_of_ten_tasks_imported_through_preview_and_confirm(mini_plan, login, client: FlaskClient) -> None:
    login("coordinator", "市发展改革委")
    form = {
        "mode": "new",
        "key": "next",
        "title": "测试市“十五五”节能减排方案",
        "start": "2026-01-01",
        "end": "2030-12-31",
    }
    preview = client.post("/plans/import", data={**form, "file": (BytesIO(ten_task_workbook()), "t.xlsx")})
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    assert "新增任务 10" in page and "新增计划 1" in page
    assert db.session.scalar(db.select(Plan).filter_by(key="next")) is None
    token = page.split("/plans/import/")[1][:32]
    assert client.post(f"/plans/import/{token}").status_code == 302

    listing = client.get("/tasks?plan=next").get_data(as_text=True)
    assert "工业节能改造" in listing and "加强组织领导" in listing
    assert "/tasks/3.1?plan=next" in listing
    assert "工业节能改造" in client.get("/tasks/3.1?plan=next").get_data(as_text=True)
    tasks = {t.code: t for t in db.session.scalars(db.select(Task).join(Plan).filter(Plan.key == "next"))}
    assert len(tasks) == 10
    assert tasks["3.1"].due == date(2027, 12, 31) and tasks["4.1"].due == date(2030, 12, 31)
    assert tasks["4.3"].due == date(2026, 6, 30) and tasks["3.3"].due == date(2029, 6, 30)
    roles = {(a.department.name, a.role) for a in tasks["3.6"].assignments}
    assert roles == {("市生态环境局", "lead"), ("甲县人民政府", "support"), ("乙区人民政府", "support")}
    hubs = tasks["3.2"].targets[0]
    assert (hubs.comparison, hubs.value_min, hubs.value_max, hubs.unit) == ("range", 2, 3, "个")
    assert tasks["3.1"].targets[0].value == 20 and tasks["3.1"].targets[0].comparison == ">="
    # the 14th plan is untouched
    assert db.session.scalar(db.select(func.count()).select_from(Task).join(Plan).filter(Plan.key == "mini")) == 4


def test_bad_file_is_refused_whole_with_every_bad_row_named(mini_plan, login, client: FlaskClient) -> None:
    login("coordinator", "市发展改革委")
    before = (_count(Plan), _count(Task), _count(AuditLog))
    form = {"mode": "new", "key": "next", "title": "测试", "start": "2026-01-01", "end": "2030-12-31"}
    response = client.post("/plans/import", data={**form, "file": (BytesIO(ten_task_workbook(bad=True)), "t.xlsx")})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    # each problem is named with the file's own column header
    assert "第4行 牵头部门" in page and "市交通局" in page and "是否为：市交通运输局" in page
    assert "第7行 完成时间" in page and "明年" in page
    assert (_count(Plan), _count(Task), _count(AuditLog)) == before


def test_cli_import_of_a_bad_file_names_the_rows_and_exits_non_zero(mini_plan, runner, tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(ten_task_workbook(bad=True))
    args = ["plan", "import-xlsx", str(path), "--new-plan", "next", "--title", "T"]
    result = runner.invoke(args=[*args, "--start", "2026-01-01", "--end", "2030-12-31"])
    assert result.exit_code == 1
    assert "第4行 牵头部门" in result.output and "第7行 完成时间" in result.output
    assert db.session.scalar(db.select(Plan).filter_by(key="next")) is None


def test_cli_creates_a_new_plan_from_a_workbook(mini_plan, runner, tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_bytes(ten_task_workbook())
    args = ["plan", "import-xlsx", str(path), "--new-plan", "next", "--title", "下一个规划"]
    result = runner.invoke(args=[*args, "--start", "2026-01-01", "--end", "2030-12-31"])
    assert result.exit_code == 0, result.output
    assert "新增任务 10" in result.output
    again = runner.invoke(args=["plan", "import-xlsx", str(path), "--plan", "next"])
    assert again.exit_code == 0 and "无变化" in again.output


def test_only_coordinators_import(mini_plan, login, client: FlaskClient) -> None:
    login("staff", "市交通运输局")
    assert client.get("/plans/import").status_code == 403
    assert client.post("/plans/import/" + "0" * 32).status_code == 403


def test_a_forged_upload_name_is_not_found(mini_plan, login, client: FlaskClient) -> None:
    login("coordinator", "市发展改革委")
    assert client.post("/plans/import/..%2F..%2Fwsgi").status_code == 404
    assert client.post("/plans/import/" + "a" * 32).status_code == 404


def _values_workbook(header: list[str], rows: list[tuple]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["附件3 “十四五”各县（市、区）主要污染物重点工程减排量指标计划（单位：吨）"])
    ws.append(header)
    for r in rows:
        ws.append(list(r))
    return _xlsx(wb)


POLLUTANTS = ["序号", "县（市、区）", "化学需氧量（COD）", "氨氮", "氮氧化物", "挥发性有机物"]
PLAN = "anyang-14fyp-esr"


def test_county_values_are_appended_with_period_source_and_reporter(seeded, login, client: FlaskClient) -> None:
    user = login("coordinator", "市发展改革委")
    table = _values_workbook(POLLUTANTS, [(1, "林州市", 500, 10.5, 600, 100), (2, "滑县", 400, None, None, None)])
    response = client.post(
        f"/plans/{PLAN}/values/import", data={"period": "2023", "file": (BytesIO(table), "附件3.xlsx")}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    energy = _values_workbook(["县（市、区）", "万元GDP能耗降低（%）"], [("林州市人民政府", 12.5)])
    data = {"period": "2024Q2", "file": (BytesIO(energy), "附件1.xlsx")}
    assert client.post(f"/plans/{PLAN}/values/import", data=data).status_code == 302
    values = db.session.scalars(db.select(TargetValue).order_by(TargetValue.id)).all()
    keys = {t.id: t.key for t in db.session.scalars(db.select(Target))}
    assert [(keys[v.target_id], v.period, v.value, v.reporter_id) for v in values] == [
        ("county-cod-linzhou", "2023", 500, user.id),
        ("county-ammonia-linzhou", "2023", 10.5, user.id),
        ("county-nox-linzhou", "2023", 600, user.id),
        ("county-voc-linzhou", "2023", 100, user.id),
        ("county-cod-huaxian", "2023", 400, user.id),
        ("county-energy-linzhou", "2024Q2", 12.5, user.id),
    ]
    assert values[0].period_end == date(2023, 12, 31) and "附件3.xlsx" in values[0].source
    # appended, never overwritten
    response = client.post(f"/plans/{PLAN}/values/import", data={"period": "2023", "file": (BytesIO(table), "v2.xlsx")})
    assert response.status_code == 302
    assert _count(TargetValue) == 11


def test_county_values_with_an_unknown_county_write_nothing(seeded, runner, tmp_path: Path) -> None:
    path = tmp_path / "v.xlsx"
    path.write_bytes(
        _values_workbook(POLLUTANTS, [(1, "林州市", 1, 2, 3, 4), (2, "林洲市", 1, 2, 3, 4), (3, "滑县", "x")])
    )
    result = runner.invoke(args=["plan", "import-values", str(path), "--period", "2023"])
    assert result.exit_code == 1
    assert "第4行 县（市、区）" in result.output and "是否为：林州市" in result.output
    assert "第5行 化学需氧量（COD）" in result.output
    assert _count(TargetValue) == 0
    path.write_bytes(_values_workbook(POLLUTANTS, [(1, "林州市", 1, 2, 3, 4)]))
    result = runner.invoke(args=["plan", "import-values", str(path), "--period", "2023"])
    assert result.exit_code == 0, result.output
    assert _count(TargetValue) == 4


def test_the_real_plan_survives_a_round_trip_unchanged(seeded, runner, tmp_path: Path) -> None:
    out = tmp_path / "seed.xlsx"
    assert runner.invoke(args=["plan", "export-xlsx", "-o", str(out)]).exit_code == 0
    before = _count(AuditLog)
    result = runner.invoke(args=["plan", "import-xlsx", str(out), "--plan", "anyang-14fyp-esr"])
    assert result.exit_code == 0 and "无变化" in result.output, result.output
    assert _count(AuditLog) == before


def test_a_file_that_is_not_a_workbook_is_refused(mini_plan, login, client: FlaskClient) -> None:
    login("coordinator", "市发展改革委")
    data = {"mode": "update", "plan": "mini", "file": (BytesIO(b"not a workbook"), "x.xlsx")}
    response = client.post("/plans/import", data=data)
    assert response.status_code == 422 and "无法读取 Excel 文件" in response.get_data(as_text=True)


def test_text_that_looks_like_a_formula_is_exported_as_text(mini_plan) -> None:
    from tracker.plans.xlsx_write import task_workbook
    from tracker.tasks.queries import get_plan

    task = db.session.scalar(db.select(Task).filter_by(code="3.2"))
    task.title = "=HYPERLINK(1)"
    db.session.commit()
    ws = load_workbook(BytesIO(task_workbook(get_plan("mini"))))["任务分解表"]
    cell = next(c for row in ws.iter_rows() for c in row if c.value == "=HYPERLINK(1)")
    assert cell.data_type == "s"


def _without_task(client: FlaskClient, code: str) -> bytes:
    wb = load_workbook(BytesIO(client.get("/plans/mini/tasks.xlsx").data))
    ws = wb["任务分解表"]
    for r in range(ws.max_row, 2, -1):
        if ws.cell(r, 2).value == code:
            ws.delete_rows(r)
    return _xlsx(wb)


def test_a_removed_row_removes_the_task_unless_it_has_reports(mini_plan, login, client: FlaskClient) -> None:
    from tracker import clock
    from tracker.models import CheckIn, Department

    login("coordinator", "市发展改革委")
    data = {"mode": "update", "plan": "mini", "file": (BytesIO(_without_task(client, "3.2")), "m.xlsx")}
    page = client.post("/plans/import", data=data).get_data(as_text=True)
    assert "删除任务 1" in page and "绿色金融" in page

    task = db.session.scalar(db.select(Task).filter_by(code="3.2"))
    dept = db.session.scalar(db.select(Department).filter_by(name="人行测试市中心支行"))
    db.session.add(
        CheckIn(
            task_id=task.id,
            department_id=dept.id,
            period="2026Q1",
            period_start=date(2026, 1, 1),
            period_end=date(2026, 3, 31),
            created_at=clock.now(),
        )
    )
    db.session.commit()
    data = {"mode": "update", "plan": "mini", "file": (BytesIO(_without_task(client, "3.2")), "m.xlsx")}
    response = client.post("/plans/import", data=data)
    assert response.status_code == 422 and "已有报送数据" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(Task).filter_by(code="3.2")) is not None


def test_a_city_total_row_reads_the_city_target(seeded, runner, tmp_path: Path) -> None:
    path = tmp_path / "v.xlsx"
    path.write_bytes(
        _values_workbook(POLLUTANTS, [(1, "林州市", 1, None, None, None), ("", "全市", 9000, None, None, None)])
    )
    result = runner.invoke(args=["plan", "import-values", str(path), "--period", "2024Q4"])
    assert result.exit_code == 0, result.output
    keys = {t.id: t.key for t in db.session.scalars(db.select(Target))}
    assert sorted(keys[v.target_id] for v in db.session.scalars(db.select(TargetValue))) == [
        "city-cod-reduction",
        "county-cod-linzhou",
    ]


def test_heading_rows_name_the_parts_and_problems_come_in_row_order(mini_plan, runner, tmp_path: Path) -> None:
    from tracker.models import Section

    wb = Workbook()
    ws = wb.active
    ws.append(["序号", "重点任务", "牵头单位", "截止日期"])
    ws.append(["三", "重点工程", None, None])
    ws.append(["三（一）", "工业节能", "市发展改革委", "2027-12-31"])
    ws.append(["四", "政策机制", None, None])
    ws.append(["四（一）", "价格政策", "市发展改革委", "2028年"])
    path = tmp_path / "h.xlsx"
    path.write_bytes(_xlsx(wb))
    args = ["plan", "import-xlsx", str(path), "--new-plan", "h", "--title", "T", "--start", "2026-01-01"]
    result = runner.invoke(args=[*args, "--end", "2030-12-31"])
    assert result.exit_code == 0, result.output
    assert "新增任务 2" in result.output
    plan_id = db.session.scalar(db.select(Plan.id).filter_by(key="h"))
    titles = {s.label: s.title for s in db.session.scalars(db.select(Section).filter_by(plan_id=plan_id))}
    assert titles == {"三": "重点工程", "四": "政策机制"}

    ws["C5"] = "市某局"
    ws["D3"] = "下个月"
    path.write_bytes(_xlsx(wb))
    result = runner.invoke(args=["plan", "import-xlsx", str(path), "--plan", "h"])
    assert result.exit_code == 1
    assert result.output.index("第3行 截止日期") < result.output.index("第5行 牵头单位")


def test_county_values_need_a_valid_period(seeded, login, client: FlaskClient) -> None:
    login("coordinator", "市发展改革委")
    table = _values_workbook(POLLUTANTS, [(1, "林州市", 500, None, None, None)])
    response = client.post(f"/plans/{PLAN}/values/import", data={"period": "去年", "file": (BytesIO(table), "v.xlsx")})
    assert response.status_code == 422 and "报送期" in response.get_data(as_text=True)
    assert _count(TargetValue) == 0
