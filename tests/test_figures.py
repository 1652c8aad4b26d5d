"""Figures belong to the unit they measure: the one city-figure rule, the unit of every stored value,
and no page or API response showing a county's or a department's figure as the city's."""

from __future__ import annotations

import io
import re
from datetime import date
from types import SimpleNamespace

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import dept_by_name, task_by_code
from tracker import clock
from tracker.extensions import db
from tracker.leadership.targets import load_targets
from tracker.models import Attachment, Target, TargetValue
from tracker.reports.service import review_checkin
from tracker.reports.submission import RawValue, Reporter, Submission, submit_report
from tracker.tasks.figures import city_figure, is_additive
from tracker.tasks.periods import parse_period
from tracker.tasks.queries import current_plan

NS = SimpleNamespace
COUNTIES = [NS(id=i, name=f"县{i}") for i in range(1, 10)]


def _v(i: int, value: float, unit: str, county: int | None = None, end: date = date(2024, 12, 31)) -> NS:
    return NS(id=i, value=value, unit_kind=unit, county_id=county, department_id=None, period="2024", period_end=end)


def _t(unit: str, comparison: str | None = ">=", county: int | None = None) -> NS:
    return NS(id=100, unit=unit, comparison=comparison, county_id=county, task_id=None)


def _allocations(values: dict[int, float]) -> list[tuple[NS, list[NS]]]:
    return [
        (
            NS(id=200 + c.id, county_id=c.id, value=10.0),
            [_v(300 + c.id, values[c.id], "county", c.id)] if c.id in values else [],
        )
        for c in COUNTIES
    ]


def test_an_additive_target_rolls_up_the_counties_that_reported_with_the_coverage() -> None:
    f = city_figure(_t("吨"), [], COUNTIES, allocations=_allocations({1: 10, 2: 5.5, 3: 1}))
    assert (f.kind, f.value, f.reported, f.expected) == ("rollup", 16.5, 3, 9)
    assert [c.value.value for c in f.counties if c.value] == [10, 5.5, 1]


def test_the_citys_own_figure_wins_over_the_roll_up_and_a_rate_is_never_summed() -> None:
    own = city_figure(_t("吨"), [_v(1, 99, "city")], COUNTIES, allocations=_allocations({1: 10}))
    assert (own.kind, own.value, own.reported) == ("own", 99, 1)
    rate = city_figure(_t("%"), [], COUNTIES, allocations=_allocations({1: 19, 2: 16.2}))
    assert (rate.kind, rate.value, rate.reported) == ("none", None, 2)
    assert not is_additive("%", ">=") and not is_additive("吨/万元", "<=") and is_additive("家", ">=")


def test_a_county_or_department_value_on_a_city_target_is_breakdown_only_and_dates_cut() -> None:
    values = [_v(1, 3, "county", 1), NS(**{**vars(_v(2, 7, "department")), "department_id": 5})]
    f = city_figure(_t("家"), values, COUNTIES)
    assert (f.kind, f.value) == ("none", None)
    assert [(c.name, c.value.value) for c in f.counties] == [("县1", 3)]
    assert [d.value for d in f.departments] == [7]
    later = city_figure(_t("家"), [_v(3, 20, "city", end=date(2025, 6, 30))], COUNTIES, on=date(2024, 12, 31))
    assert later.kind == "none"


def _report(app: Flask, department: str, value: float) -> int:
    task = task_by_code("3.1")
    checkin = submit_report(
        task=task,
        reporter=Reporter(dept_by_name(department), None),
        period=parse_period("2025Q1"),
        submission=Submission(
            "in_progress",
            30,
            "绿色工厂创建进展",
            values=[RawValue("v0", "3.1-green-factories", str(value), "工信统计")],
        ),
        now=clock.now(),
        folder=app.config["UPLOAD_FOLDER"],
        max_mb=1,
    )
    review_checkin(
        checkin_id=checkin.id, decision="approve", comment="", now=clock.now(), user_id=None, version_id=None
    )
    return checkin.id


def _row(page: str, name: str) -> str:
    match = re.search(r"<tr>(?:(?!</tr>).)*" + re.escape(name) + r"(?:(?!</tr>).)*</tr>", page, re.S)
    assert match, name
    return match.group(0)


def test_linzhou_share_stays_linzhou_and_the_lead_figure_is_the_citys(
    seeded: Flask, client: FlaskClient, login, bearer
) -> None:
    seeded.config["TRACKER_NOW"] = clock.parse_instant("2025-06-20T09:00")
    _report(seeded, "林州市人民政府", 3)
    stored = db.session.scalar(db.select(TargetValue).order_by(TargetValue.id.desc()))
    assert stored.unit_kind == "county" and stored.county_id == dept_by_name("林州市人民政府").county_id
    # what the assessment, the bulletin and the exports read: the city's own figures only
    [green_row] = [r for r in load_targets(current_plan(clock.today())) if r.target.key == "3.1-green-factories"]
    assert green_row.values == [] and green_row.actual is None and green_row.share is None
    login("leader")
    row = _row(client.get("/targets").get_data(as_text=True), "创建绿色工厂（园区）")
    assert "暂无全市数据" in row and "林州市：3 家" in row and "15%" not in row
    api = client.get("/api/v1/plans/anyang-14fyp-esr/targets", headers=bearer()).get_json()
    green = next(t for t in api if t["key"] == "3.1-green-factories")
    assert green["figure"] == {
        "kind": "none",
        "value": None,
        "period": "",
        "counties_reported": 1,
        "counties_expected": 1,
    }
    assert [(v["unit"], v["county"]) for v in green["values"]] == [("county", "林州市")]

    _report(seeded, "市工业和信息化局", 5)
    assert db.session.scalar(db.select(TargetValue).order_by(TargetValue.id.desc())).unit_kind == "city"
    row = _row(client.get("/targets").get_data(as_text=True), "创建绿色工厂（园区）")
    assert "暂无全市数据" not in row and "5 家" in row and "25%" in row and "林州市：3 家" in row
    task_page = client.get("/tasks/3.1").get_data(as_text=True)
    assert "林州市" in task_page and "全市" in task_page
    county_page = client.get(f"/departments/{dept_by_name('林州市人民政府').id}").get_data(as_text=True)
    assert "本单位数值（1）" in county_page and "<td>林州市</td>" in county_page
    bureau_page = client.get(f"/departments/{dept_by_name('市工业和信息化局').id}").get_data(as_text=True)
    assert "本单位数值（1）" in bureau_page and "<td>全市</td>" in bureau_page


def test_a_county_enters_its_annex_figures_on_its_own_form_and_they_roll_up(
    seeded: Flask, client: FlaskClient, login
) -> None:
    seeded.config["TRACKER_NOW"] = clock.parse_instant("2025-06-20T09:00")
    login("staff", "林州市人民政府")
    page = client.get("/figures").get_data(as_text=True)
    assert "林州市" in page and "万元GDP能耗降低率" in page and "化学需氧量（COD）重点工程减排量" in page
    assert "火电平均供电煤耗" not in page  # the city's indicators are not the county's to enter
    bad = client.post(
        "/figures", data={"period": "2024", "value-county-cod-linzhou": "abc", "source-county-cod-linzhou": "x"}
    )
    assert bad.status_code == 400 and db.session.scalar(db.select(db.func.count()).select_from(TargetValue)) == 0
    ok = client.post(
        "/figures",
        data={
            "period": "2024",
            "value-county-cod-linzhou": "1200.5",
            "source-county-cod-linzhou": "林州市生态环境分局",
            "value-county-energy-linzhou": "12",
            "source-county-energy-linzhou": "林州市统计局",
            "evidence-county-cod-linzhou": (io.BytesIO(b"%PDF-1.4\n%cod\n"), "cod-2024.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    stored = db.session.scalars(db.select(TargetValue)).all()
    linzhou = dept_by_name("林州市人民政府").county_id
    assert {(v.unit_kind, v.county_id, v.state) for v in stored} == {("county", linzhou, "submitted")}
    [evidence] = db.session.scalars(db.select(Attachment)).all()
    cod_value = next(v for v in stored if v.target.key == "county-cod-linzhou")
    assert evidence.target_value_id == cod_value.id and evidence.checkin_id is None

    # a figure a county's staff enter waits for a coordinator: it counts nowhere before
    client.post("/logout")
    login("leader")
    assert "1200.5" not in _row(client.get("/targets").get_data(as_text=True), "化学需氧量（COD）重点工程减排量")
    client.post("/logout")
    login("coordinator", "市发展改革委")
    assert "1 项全市或县（市、区）数值待审核" not in client.get("/reviews").get_data(as_text=True)
    queue = client.get("/figures/reviews").get_data(as_text=True)
    assert "1200.5 吨" in queue and "cod-2024.pdf" in queue and "林州市统计局" in queue
    assert client.get(f"/attachments/{evidence.id}").data.startswith(b"%PDF")
    energy_value = next(v for v in stored if v.target.key == "county-energy-linzhou")
    # no default decision; a return needs a comment; nothing changes until both are right
    client.post(f"/figures/reviews/{energy_value.id}", data={"comment": ""})
    client.post(f"/figures/reviews/{energy_value.id}", data={"decision": "return", "comment": ""})
    db.session.expire_all()
    assert energy_value.state == "submitted"
    client.post(f"/figures/reviews/{energy_value.id}", data={"decision": "return", "comment": "请附统计公报"})
    assert client.post(f"/figures/reviews/{cod_value.id}", data={"decision": "approve"}).status_code == 302
    db.session.expire_all()
    assert (cod_value.state, energy_value.state, energy_value.review_comment) == (
        "approved",
        "returned",
        "请附统计公报",
    )
    client.post("/logout")
    login("staff", "林州市人民政府")
    form = client.get("/figures").get_data(as_text=True)
    assert "请附统计公报" in form.split('class="card figures-form"', 1)[0]  # the return's comment atop the form
    client.post(
        "/figures",
        data={"period": "2024", "value-county-energy-linzhou": "12", "source-county-energy-linzhou": "林州市统计公报"},
    )
    client.post("/logout")
    login("coordinator", "市发展改革委")
    again = db.session.scalars(db.select(TargetValue).filter_by(state="submitted")).one()
    client.post(f"/figures/reviews/{again.id}", data={"decision": "approve"})

    client.post("/logout")
    login("leader")
    targets = client.get("/targets").get_data(as_text=True)
    cod = _row(targets, "化学需氧量（COD）重点工程减排量")
    assert "1200.5 吨" in cod and "9 个县（市、区）中 1 个已报" in cod
    energy = _row(targets, "单位生产总值能源消耗比2020年下降")
    assert "暂无全市数据" in energy and "林州市：12 %" in energy  # a rate is never summed
    counties = client.get("/counties").get_data(as_text=True)
    assert "1200.5 / 71%" in counties  # 1200.5 of 林州's 1697.03


def test_only_the_coordinators_enter_the_citys_figures_and_a_bureau_gets_403(
    seeded: Flask, client: FlaskClient, login
) -> None:
    login("staff", "市工业和信息化局")
    assert client.get("/figures").status_code == 403
    client.post("/logout")
    login("coordinator", "市发展改革委")
    page = client.get("/figures").get_data(as_text=True)
    assert "火电平均供电煤耗" in page and "林州市" not in page
    response = client.post(
        "/figures",
        data={
            "period": "2024",
            "value-sector-thermal-power-coal-rate": "298",
            "source-sector-thermal-power-coal-rate": "统计年鉴",
        },
    )
    assert response.status_code == 302
    value = db.session.scalar(db.select(TargetValue))
    assert (value.unit_kind, value.county_id, value.value) == ("city", None, 298)
    target = db.session.get(Target, value.target_id)
    assert target is not None and target.key == "sector-thermal-power-coal-rate"


def test_the_digest_links_the_plan_level_targets_to_the_form_where_they_are_entered(seeded: Flask, make_user) -> None:
    from .test_reminders_digest import blocks, body, sweep_at

    make_user("staff", "林州市人民政府", email="linzhou@test.local")
    sweep_at(seeded, "2025-12-24T09:00")
    [county] = [b for b in blocks(body("林州市人民政府")) if "本县（市、区）规划指标" in b[0]]
    assert any(row.endswith("/figures") for row in county)
    [city] = [b for b in blocks(body("市发展改革委")) if "全市规划指标" in b[0]]
    assert any(row.endswith("/figures") for row in city)


def test_a_coordinating_offices_figure_is_reviewed_by_another_coordinator_and_a_closed_plan_refuses(
    seeded: Flask, make_user
) -> None:
    import pytest

    from tracker.errors import PlanClosed
    from tracker.reports.figures_entry import enter_figures
    from tracker.reports.figures_review import review_figure
    from tracker.reports.service import OwnDepartmentReview

    seeded.config["TRACKER_NOW"] = clock.parse_instant("2025-06-20T09:00")
    plan = current_plan(clock.today())
    staff = make_user("staff", "市发展改革委")  # a coordinating office: it enters the city's figures
    key = db.session.scalar(db.select(Target.key).filter_by(plan_id=plan.id, group="sector").limit(1))
    [value] = enter_figures(staff, plan, period="2024", cells={key: ("300", "市统计局")}, now=clock.now())
    assert value.state == "submitted" and value.unit_kind == "city"
    same_office = make_user("coordinator", "市发展改革委")
    with pytest.raises(OwnDepartmentReview):
        review_figure(value_id=value.id, decision="approve", comment="", now=clock.now(), user=same_office)
    db.session.rollback()
    other = make_user("coordinator", "市生态环境局")
    review_figure(value_id=value.id, decision="approve", comment="", now=clock.now(), user=other)
    assert value.state == "approved" and value.reviewed_by_id == other.id
    # a coordinator's own entry counts at once (the coordinators are the reviewers)
    [own] = enter_figures(other, plan, period="2025", cells={key: ("298", "市统计局")}, now=clock.now())
    assert own.state == "approved"
    plan.closed_at = clock.now()
    db.session.commit()
    with pytest.raises(PlanClosed):
        enter_figures(staff, plan, period="2025", cells={key: ("297", "市统计局")}, now=clock.now())
