"""Targets and counties pages on the seeded plan: latest approved actuals, shares, the over-allocation."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient

from tracker import clock
from tracker.extensions import db
from tracker.leadership.targets import load_targets
from tracker.models import CheckIn, Target, TargetValue, Task
from tracker.tasks.queries import current_plan


def _target(key: str) -> Target:
    return db.session.scalar(db.select(Target).filter_by(key=key))


def _value(target: Target, period: str, end: date, value: float, checkin: CheckIn | None = None) -> None:
    db.session.add(
        TargetValue(
            target_id=target.id,
            period=period,
            period_end=end,
            value=value,
            checkin_id=checkin.id if checkin else None,
            created_at=clock.now(),
        )
    )


def test_latest_actual_ignores_values_of_unapproved_check_ins(seeded) -> None:
    target = _target("city-cod-reduction")
    task = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    pending = CheckIn(
        task_id=task.id,
        department_id=task.assignments[0].department_id,
        period="2024Q1",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 3, 31),
        state="submitted",
        created_at=clock.now(),
    )
    db.session.add(pending)
    db.session.flush()
    _value(target, "2022", date(2022, 12, 31), 3000)
    _value(target, "2023", date(2023, 12, 31), 4893)
    _value(target, "2024Q1", date(2024, 3, 31), 9999, pending)
    db.session.commit()
    row = next(r for r in load_targets(current_plan(clock.today())) if r.target.key == "city-cod-reduction")
    assert row.actual == 4893 and row.share == 0.5
    assert [v.value for v in row.values] == [3000, 4893]
    assert row.track(date(2021, 1, 1)) == "behind"  # 2023-12-31 expects 60% of the way


def test_targets_page_groups_city_sector_and_task_targets_with_sparklines(seeded, client: FlaskClient, login) -> None:
    login("leader")
    target = _target("sector-thermal-power-coal-rate")
    _value(target, "2022", date(2022, 12, 31), 299)
    _value(target, "2023", date(2023, 12, 31), 298.5)
    db.session.commit()
    page = client.get("/targets").get_data(as_text=True)
    # 36: 三（十）"力争达到 70%以上或…增加 5%以上" is one target with an alternative criterion
    assert "全市主要目标（6）" in page and "主要行业节能指标（13）" in page and "任务目标（36）" in page
    assert "火电平均供电煤耗" in page and "50%" in page
    assert 'class="sparkline"' in page
    assert "里程碑" in page and "未完成" in page


def test_counties_page_shows_allocations_exceeding_the_city_targets(seeded, client: FlaskClient, login) -> None:
    login("leader")
    page = client.get("/counties").get_data(as_text=True)
    for county in ("林州市", "安阳县", "滑县", "内黄县", "汤阴县", "文峰区", "北关区", "殷都区", "龙安区"):
        assert county in page
    assert "10854.02 吨" in page and "9786 吨" in page  # COD: allocations vs city
    assert "200.29 吨" in page and "12090.12 吨" in page and "3551.90 吨" in page
    assert "110.9%" in page  # 10854.02 / 9786
    assert "超出 1068.02 吨" in page


def test_leadership_pages_make_sense_before_and_after_the_plan(seeded, app, client: FlaskClient, login) -> None:
    login("leader")
    for now in ("2020-06-01", "2026-11-25"):
        app.config["TRACKER_NOW"] = now
        for url in ("/dashboard", "/matrix", "/targets", "/counties"):
            assert client.get(url).status_code == 200, (now, url)


def test_department_page_shows_its_tasks_by_role_reports_and_lights(seeded, client: FlaskClient, login) -> None:
    from tracker.models import Department

    login("leader")
    dept = db.session.scalar(db.select(Department).filter_by(name="市工业和信息化局"))
    task = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    db.session.add(
        CheckIn(
            task_id=task.id,
            department_id=dept.id,
            period="2024Q1",
            period_start=date(2024, 1, 1),
            period_end=date(2024, 3, 31),
            state="approved",
            status="lagging",
            percent=30,
            created_at=clock.now(),
        )
    )
    db.session.commit()
    page = client.get(f"/departments/{dept.id}").get_data(as_text=True)
    assert "市工业和信息化局" in page
    assert "<h2>牵头（" in page and "<h2>负责（" in page
    assert "报送记录（1）" in page and "2024年第一季度" in page
    assert "红灯" in page
    assert client.get("/departments/999999").status_code == 404
