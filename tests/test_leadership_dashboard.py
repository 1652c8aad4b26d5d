"""The dashboard: before, during and after the plan period; reporting rate; pending reviews."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient

from tracker import clock
from tracker.extensions import db
from tracker.models import CheckIn, Department, Task
from tracker.tasks.lights import LightRule


@pytest.mark.parametrize("role", ["leader", "coordinator", "admin"])
def test_home_of_leaders_and_coordinators_is_the_dashboard(seeded, client: FlaskClient, login, role) -> None:
    login(role)
    assert client.get("/").headers["Location"].endswith("/dashboard")


def test_dashboard_during_the_plan_shows_days_left_lights_and_reporting(seeded, client: FlaskClient, login) -> None:
    login("leader")
    response = client.get("/dashboard")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "规划期剩余" in page and "576 天" in page  # 2024-06-03 → 2025-12-31
    assert page.count("<svg") >= 2 and "<script" not in page
    assert "逾期与预警措施" in page and "本期未报送的单位" in page
    assert "市发展改革委" in page
    assert "0.0%" in page  # nothing reported yet: the plan's progress is 0


def test_dashboard_before_the_plan_starts(seeded, app, client: FlaskClient, login) -> None:
    login("leader")
    app.config["TRACKER_NOW"] = "2020-12-01"
    page = client.get("/dashboard").get_data(as_text=True)
    assert "规划期尚未开始" in page and "31 天" in page
    assert "应报送的单位均已报送" in page  # nothing is owed before the start


def test_dashboard_after_the_plan_shows_the_final_assessment(seeded, app, client: FlaskClient, login) -> None:
    login("leader")
    app.config["TRACKER_NOW"] = "2026-11-25"
    page = client.get("/dashboard").get_data(as_text=True)
    assert "规划期已于 2025-12-31 结束" in page and "五年总体考核" in page
    assert "已逾期" in page


def test_dashboard_lists_reports_waiting_for_review_and_counts_them_as_reported(
    seeded, client: FlaskClient, login
) -> None:
    login("leader")
    task = db.session.scalar(db.select(Task).filter_by(code="3.2"))
    lead = next(a for a in task.assignments if a.role in {"lead", "responsible"})
    dept = db.session.get(Department, lead.department_id)
    db.session.add(
        CheckIn(
            task_id=task.id,
            department_id=dept.id,
            # on 2024-06-03 the period leaders count is 2024Q1: 2024Q2 is requested from 2024-06-24 (tasks.due)
            period="2024Q1",
            period_start=date(2024, 1, 1),
            period_end=date(2024, 3, 31),
            state="submitted",
            status="in_progress",
            percent=40,
            created_at=clock.now(),
            submitted_at=clock.now(),
        )
    )
    db.session.commit()
    page = client.get("/dashboard").get_data(as_text=True)
    assert "待审核的报送（1）" in page
    assert f"{task.label} {task.title}" in page
    from tracker.leadership import dashboard
    from tracker.tasks import state as snapshot
    from tracker.tasks.queries import current_plan

    snap = snapshot.load(current_plan(clock.today()), today=clock.today(), rule=LightRule())
    d = dashboard.build_dashboard(snap)
    assert d.reported == 1 and d.expected > 1
    assert 0 < d.rate < 1
