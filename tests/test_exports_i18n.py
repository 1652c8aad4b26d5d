"""Downloads, calendar feeds and service messages follow the reader's language (issue 8).

The workbooks and CSV are made for whoever downloads them: an English user gets English sheet
names, headers, legend and labels; a Chinese user gets exactly the Chinese as before. The plan's
own words (task titles, department names) stay as written. A calendar feed is fetched without a
session, so it speaks its owner's saved language, else the site's.
"""

from __future__ import annotations

import csv
import io
import re

import icalendar
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from openpyxl import load_workbook

from tracker import clock
from tracker.extensions import db
from tracker.models import CalendarFeed, Department, Plan, Section, User

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")

CHINESE_LEGEND = [
    ["单元格文字", "角色"],
    ["牵头", "牵头单位：组织推进，按期报送进展"],
    ["配合", "配合单位：配合牵头单位推进，不单独报送"],
    ["负责", "负责单位：按职责分工负责，按期报送进展"],
    ["落实", "县（市、区）人民政府：在本地落实，按期报送进展和本地数据"],
    [None, None],
    ["填充颜色", "该单位最近一次审核通过的报送状态"],
    ["尚无审核通过的报送", None],
    ["未启动", None],
    ["推进中", None],
    ["已完成", None],
    ["滞后", None],
    ["受阻", None],
    [None, None],
    ["预警", "含义"],
    ["红灯", "逾期、报送滞后/受阻或进度明显落后"],
    ["黄灯", "临近截止、进度落后或本期未报送"],
    ["绿灯", "正常"],
]


def _english(client: FlaskClient) -> None:
    assert client.post("/language", data={"locale": "en"}).status_code == 302


def _workbook(client: FlaskClient, url: str):  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, url
    return load_workbook(io.BytesIO(response.data))


def _rows(ws, start: int = 1) -> list[list[object]]:  # type: ignore[no-untyped-def]
    return [list(r) for r in ws.iter_rows(min_row=start, values_only=True)]


def _plan() -> Plan:
    return db.session.scalar(db.select(Plan))


def test_a_chinese_user_gets_the_matrix_workbook_in_chinese_as_before(
    mini_plan: Flask, client: FlaskClient, login
) -> None:
    login("leader")
    wb = _workbook(client, "/matrix.xlsx")
    sections = db.session.scalars(db.select(Section).order_by(Section.number)).all()
    assert wb.sheetnames == ["责任矩阵", *(f"{s.label}、{s.title}" for s in sections), "图例"]
    ws = wb["责任矩阵"]
    assert [ws.cell(row=1, column=c).value for c in range(1, 8)] == [
        "部分",
        "序号",
        "措施",
        "状态",
        "进度",
        "预警",
        "市直部门",
    ]
    assert ws.cell(row=2, column=7).value == "市发展改革委"
    first = _rows(ws, 3)[0]
    assert first[:4] == ["三", "三（一）", "交通减排工程", "未启动"] and first[5] in {"红灯", "黄灯", "绿灯"}
    assert {"牵头", "配合", "落实"} <= {v for row in _rows(ws, 3) for v in row[6:] if v}
    legend = wb["图例"]
    assert legend.cell(row=1, column=1).value == f"{_plan().title} · 责任矩阵（{clock.today().isoformat()}）"
    assert [row[:2] for row in _rows(legend, 3)] == CHINESE_LEGEND


def test_an_english_user_gets_the_matrix_workbook_in_english(mini_plan: Flask, client: FlaskClient, login) -> None:
    login("leader")
    _english(client)
    wb = _workbook(client, "/matrix.xlsx")
    assert wb.sheetnames == ["Responsibility matrix", "三 重点工程", "四 政策机制", "Legend"]
    ws = wb["Responsibility matrix"]
    header = [ws.cell(row=1, column=c).value for c in range(1, 8)]
    assert header == ["Part", "No.", "Measure", "Status", "Progress", "Warning light", "Municipal bureau"]
    assert ws.cell(row=2, column=7).value == "市发展改革委"  # the plan's own words stay as written
    first = _rows(ws, 3)[0]
    assert first[:4] == ["三", "三（一）", "交通减排工程", "Not started"] and first[5] in {"Red", "Yellow", "Green"}
    roles = {v for row in _rows(ws, 3) for v in row[6:] if v}
    assert {"Lead", "Support", "Implementing"} <= roles and not any(CJK.search(v) for v in roles)
    legend = wb["Legend"]
    assert (
        legend.cell(row=1, column=1).value == f"{_plan().title} · Responsibility matrix ({clock.today().isoformat()})"
    )
    cells = [v for row in _rows(legend, 3) for v in row if v]
    assert "Cell text" in cells and "Lead" in cells and "No approved report yet" in cells and "On track" in cells
    assert not [v for v in cells if CJK.search(str(v))], "no Chinese in the English legend"


def test_the_matrix_csv_headers_and_labels_follow_the_language(mini_plan: Flask, client: FlaskClient, login) -> None:
    login("leader")
    rows = list(csv.reader(io.StringIO(client.get("/matrix.csv").data.decode("utf-8-sig"))))
    assert rows[0][:6] == ["部分", "序号", "措施", "状态", "进度", "预警"] and rows[1][3] == "未启动"
    _english(client)
    rows = list(csv.reader(io.StringIO(client.get("/matrix.csv").data.decode("utf-8-sig"))))
    assert rows[0][:6] == ["Part", "No.", "Measure", "Status", "Progress", "Warning light"]
    assert rows[0][6] == "市发展改革委"
    assert rows[1][:4] == ["三", "三（一）", "交通减排工程", "Not started"]
    assert "Lead" in rows[1] and "牵头" not in rows[1]


def test_the_assessment_workbook_follows_the_language(mini_plan: Flask, client: FlaskClient, login) -> None:
    login("leader")
    wb = _workbook(client, "/assessment.xlsx")
    assert wb.sheetnames[0] == "评分规则"
    assert _rows(wb["评分规则"])[1][:2] == ["项目", "权重"]
    assert _rows(wb["评分规则"])[2][0] == "目标完成"
    _english(client)
    wb = _workbook(client, "/assessment.xlsx")
    assert wb.sheetnames[0] == "Scoring rule"
    rule = _rows(wb["Scoring rule"])
    assert rule[0][0].endswith(f"· Assessment ({clock.today().isoformat()})")
    assert rule[1][:2] == ["Item", "Weight"]
    assert not [r[0] for r in rule[1:] if CJK.search(str(r[0]))]
    for name in wb.sheetnames[1:]:
        assert not CJK.search(name), name
        ws = wb[name]
        assert "to" in ws.cell(row=1, column=2).value
        assert _rows(ws)[3][:2] == ["Rank", "Department"]


def _feed_url(department: str) -> str:
    dept = db.session.scalar(db.select(Department).filter_by(name=department))
    feed = db.session.scalar(db.select(CalendarFeed).filter_by(department_id=dept.id))
    return f"/calendar/{feed.token}.ics"


def _calendar(app: Flask, url: str, **headers: str) -> icalendar.Calendar:
    response = app.test_client().get(url, headers=headers)  # a calendar client: no session, no cookies
    assert response.status_code == 200
    return icalendar.Calendar.from_ical(response.data)


def _summaries(cal: icalendar.Calendar) -> set[str]:
    return {str(e["SUMMARY"]) for e in cal.walk("VEVENT")}


def test_an_english_users_feed_has_english_event_titles(mini_plan: Flask, client: FlaskClient, login) -> None:
    user = login("staff", "市交通运输局")
    client.get("/calendar")  # makes the department's feed, owned by this user
    _english(client)
    cal = _calendar(mini_plan, _feed_url("市交通运输局"))
    assert str(cal["X-WR-CALNAME"]) == "市交通运输局 · Task calendar"
    summaries = _summaries(cal)
    assert "Task due: 三（一） 交通减排工程 (Lead)" in summaries
    assert "Progress reports due: Q1 2026 (2 tasks)" in summaries
    assert "Assessment: Five-year target assessment" in summaries
    assert "Assessment: Mid-term review of the plan" in summaries
    assert {str(c) for e in cal.walk("VEVENT") for c in e["CATEGORIES"].cats} == {
        "Task deadline",
        "Progress report",
        "Assessment",
    }
    assert not [
        s for s in summaries if CJK.search(s.replace("三（一）1 公交车更新", "").replace("三（一） 交通减排工程", ""))
    ]
    assert db.session.get(User, user.id).locale == "en"


def test_a_feed_without_a_saved_language_is_in_the_sites_language(mini_plan: Flask, client: FlaskClient, login) -> None:
    login("staff", "市交通运输局")
    client.get("/calendar")
    # the calendar client's own language does not matter: the owner chose none, so the site's (Chinese)
    summaries = _summaries(_calendar(mini_plan, _feed_url("市交通运输局"), **{"Accept-Language": "en"}))
    assert "任务截止：三（一） 交通减排工程（牵头）" in summaries
    assert "考核：五年目标责任考核" in summaries
    assert "进展报送截止：2026年第一季度（2 项任务）" in summaries
    mini_plan.config["LANGUAGE"] = "en"  # TRACKER_LANGUAGE=en
    try:
        summaries = _summaries(_calendar(mini_plan, _feed_url("市交通运输局")))
    finally:
        mini_plan.config["LANGUAGE"] = "zh_CN"
    assert "Task due: 三（一） 交通减排工程 (Lead)" in summaries


def test_an_unknown_department_is_reported_in_the_users_language(mini_plan: Flask, client: FlaskClient, login) -> None:
    login("leader")
    response = client.get("/departments/99999")
    assert response.status_code == 404 and "没有编号为 99999 的单位。" in response.get_data(as_text=True)
    _english(client)
    response = client.get("/departments/99999")
    assert response.status_code == 404 and "No department has the id 99999." in response.get_data(as_text=True)


def test_conflict_labels_and_history_values_are_shown_in_the_language(mini_plan: Flask) -> None:
    from tracker.web.common import conflict_rows
    from tracker.web.templating import history_value

    original = '{"status": "in_progress", "percent": 10}'
    current = {"status": "done", "percent": 10}
    with mini_plan.test_request_context():
        assert conflict_rows(original, current) == [("状态", "in_progress", "done")]
        assert history_value("lead", "role") == "牵头"
        with force_locale("en"):
            assert conflict_rows(original, current) == [("Status", "in_progress", "done")]
            assert history_value("lead", "role") == "Lead"
            assert history_value("quarter", "reporting_cycle") == "Quarterly"
            # an assignment recorded in words keeps the plan's names and translates its role
            assert history_value("3.1 · 林州市人民政府 · 落实", "") == "3.1 · 林州市人民政府 · Implementing"
