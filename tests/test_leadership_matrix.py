"""The responsibility matrix page, its filters and its exports."""

from __future__ import annotations

import csv
import io
from datetime import date

from flask.testing import FlaskClient
from openpyxl import load_workbook

from tracker.extensions import db
from tracker.models import Task

from .conftest import dept_by_name


def test_matrix_shows_every_measure_against_every_department_with_roles(seeded, client: FlaskClient, login) -> None:
    login("leader")
    response = client.get("/matrix")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "显示 21 / 21 项措施 × 36 个单位" in page
    for group in ("市直部门", "县（市、区）政府", "驻安单位", "党群部门"):
        assert group in page
    assert page.count('<tr id="t') == 21
    assert "牵头" in page and "配合" in page and "落实" in page
    assert "@page" not in page  # the print rules live in the stylesheet
    assert "css/leadership.css" in page


def test_matrix_filter_by_department_and_role_keeps_only_its_rows(seeded, client: FlaskClient, login) -> None:
    login("leader")
    bank = dept_by_name("人行安阳市中心支行")
    page = client.get(f"/matrix?department={bank.id}").get_data(as_text=True)
    rows = page.count('<tr id="t')
    assert 0 < rows < 21
    lead_rows = client.get(f"/matrix?department={bank.id}&role=lead").get_data(as_text=True).count('<tr id="t')
    assert lead_rows <= rows
    ndrc = dept_by_name("市发展改革委")
    page = client.get(f"/matrix?department={ndrc.id}&role=lead").get_data(as_text=True)
    assert 'id="t3.1"' not in page or "牵头" in page
    assert 'class="dept-col hl"' in page  # the filtered department's column is highlighted


def test_matrix_filters_by_section_status_light_and_county(seeded, client: FlaskClient, login) -> None:
    login("leader")
    page = client.get("/matrix?section=5").get_data(as_text=True)
    assert page.count('<tr id="t') == 3
    task = db.session.scalar(db.select(Task).filter_by(code="3.2"))
    task.status = "lagging"
    db.session.commit()
    page = client.get("/matrix?status=lagging").get_data(as_text=True)
    assert page.count('<tr id="t') == 1 and 'id="t3.2"' in page
    page = client.get("/matrix?light=red").get_data(as_text=True)
    assert 'id="t3.2"' in page
    county = dept_by_name("滑县人民政府")
    page = client.get(f"/matrix?county={county.county_id}").get_data(as_text=True)
    assert "滑县人民政府" in page and "林州市人民政府</a>" not in page
    assert client.get("/matrix?section=x&role=boss").status_code == 200  # junk filters are ignored


def test_matrix_xlsx_has_the_same_content_as_the_page(seeded, client: FlaskClient, login) -> None:
    login("leader")
    response = client.get("/matrix.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames[0] == "责任矩阵" and "图例" in wb.sheetnames
    assert len(wb.sheetnames) == 1 + 3 + 1  # all, one per section, legend
    ws = wb["责任矩阵"]
    assert ws.freeze_panes == "G3"
    assert any(str(r).startswith("G1:") for r in ws.merged_cells.ranges)
    departments = [ws.cell(row=2, column=c).value for c in range(7, ws.max_column + 1)]
    # 36 departments, then the plan's one open party (五（一）'s 各有关部门), never expanded into names
    assert len(departments) == 37 and departments[0] == "市发展改革委" and departments[-1] == "各有关部门（未具名）"
    assert ws.cell(row=1, column=7 + 36).value == "开放责任方"
    assert ws.max_row == 2 + 21
    codes = {ws.cell(row=r, column=2).value: r for r in range(3, ws.max_row + 1)}
    row = codes["三（一）"]
    cells = {departments[c - 7]: ws.cell(row=row, column=c).value for c in range(7, ws.max_column + 1)}
    assert cells["市工业和信息化局"] == "负责"
    assert cells["林州市人民政府"] == "落实"
    assert ws.cell(row=row, column=departments.index("林州市人民政府") + 7).fill.fgColor.rgb.endswith("EEEEEE")
    assert cells["各有关部门（未具名）"] is None  # 三（一） has no open party
    five_one = {departments[c - 7]: ws.cell(row=codes["五（一）"], column=c).value for c in range(7, ws.max_column + 1)}
    assert five_one["各有关部门（未具名）"] == "负责" and five_one["市公安局"] is None
    assert [d for d, v in five_one.items() if v == "牵头"] == ["市发展改革委", "市生态环境局"]
    # the page shows the same roles
    page = client.get("/matrix").get_data(as_text=True)
    assert page.count(">牵头</td>") == sum(
        1 for r in ws.iter_rows(min_row=3, min_col=7, values_only=True) for v in r if v == "牵头"
    )


def test_matrix_csv_is_utf8_with_bom_and_respects_filters(seeded, client: FlaskClient, login) -> None:
    login("leader")
    response = client.get("/matrix.csv?section=5")
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["部分", "序号", "措施"]
    assert len(rows) == 1 + 3
    assert rows[1][1] == "五（一）"


def test_cell_colour_is_the_departments_latest_approved_status(seeded, client: FlaskClient, login) -> None:
    from tracker.models import CheckIn

    login("leader")
    task = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    dept = dept_by_name("市工业和信息化局")
    now = __import__("tracker.clock", fromlist=["now"]).now()
    for period, end, state, status in [
        ("2024Q1", date(2024, 3, 31), "approved", "lagging"),
        ("2023Q4", date(2023, 12, 31), "approved", "done"),
        ("2024Q2", date(2024, 6, 30), "submitted", "blocked"),
    ]:
        db.session.add(
            CheckIn(
                task_id=task.id,
                department_id=dept.id,
                period=period,
                period_start=date(end.year, end.month - 2, 1),
                period_end=end,
                state=state,
                status=status,
                created_at=now,
            )
        )
    db.session.commit()
    page = client.get(f"/matrix?department={dept.id}&role=responsible").get_data(as_text=True)
    assert 'class="cell st-lagging r-responsible hl"' in page


def test_sub_tasks_sit_under_their_task_and_rows_can_be_highlighted(mini_plan, client: FlaskClient, login) -> None:
    login("leader")
    page = client.get("/matrix?row=3.1.1").get_data(as_text=True)
    assert page.index('id="t3.1"') < page.index('id="t3.1.1"') < page.index('id="t3.2"')
    assert '<tr id="t3.1.1" class="subtask hl">' in page
    assert "甲县人民政府" in page and "人行测试市中心支行" in page
