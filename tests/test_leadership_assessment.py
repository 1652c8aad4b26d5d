"""Assessment: the scoring rule at its edges, the windows, and the page and workbook."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from flask.testing import FlaskClient
from openpyxl import load_workbook

from tracker import clock
from tracker.extensions import db
from tracker.leadership.scoring import ScoringRule, score, windows
from tracker.models import CheckIn, Target, TargetValue, Task


def test_missing_components_scale_the_other_weights_up() -> None:
    rule = ScoringRule(targets=0.5, punctuality=0.5, on_time=0.0)
    assert score({"targets": 1.0, "punctuality": None, "on_time": 0.0}, rule) == 100.0
    assert score({"targets": 0.0, "punctuality": 1.0, "on_time": 1.0}, rule) == 50.0


def test_components_are_clamped_to_0_and_1() -> None:
    assert score({"targets": 1.7, "punctuality": -1, "on_time": None}, ScoringRule()) == 57.1


def test_windows_of_a_plan_that_is_not_five_years_long() -> None:
    ws = windows(date(2026, 1, 1), date(2027, 12, 31))
    assert [w.key for w in ws] == ["2026", "2027", "mid", "final"]
    assert ws[2].end == date(2027, 12, 31)
    assert ws[0].state(date(2025, 1, 1)) == "future" and ws[0].state(date(2026, 5, 1)) == "open"


def test_assessment_ranks_punctual_reporters_and_on_time_tasks_first(seeded, app, client: FlaskClient, login) -> None:
    login("leader")
    app.config["TRACKER_NOW"] = "2026-11-25"
    task = db.session.scalar(db.select(Task).filter_by(code="3.2"))
    owing = [a for a in task.assignments if a.role in {"lead", "responsible"}]
    punctual, late = owing[0].department_id, owing[1].department_id
    for dept_id, submitted in ((punctual, datetime(2024, 4, 5, tzinfo=UTC)), (late, datetime(2024, 6, 1, tzinfo=UTC))):
        db.session.add(
            CheckIn(
                task_id=task.id,
                department_id=dept_id,
                period="2024Q1",
                period_start=date(2024, 1, 1),
                period_end=date(2024, 3, 31),
                state="approved",
                status="in_progress",
                created_at=submitted,
                submitted_at=submitted,
            )
        )
    county_target = db.session.scalar(db.select(Target).filter_by(key="county-cod-linzhou"))
    db.session.add(
        TargetValue(
            target_id=county_target.id,
            period="2025",
            period_end=date(2025, 12, 31),
            value=county_target.value,
            created_at=clock.now(),
        )
    )
    db.session.commit()
    page = client.get("/assessment?window=2024").get_data(as_text=True)
    assert "2024 年度考核" in page and "评分规则" in page and "40%" in page
    from tracker.leadership.assessment import assess
    from tracker.leadership.targets import load_targets
    from tracker.tasks import state as snapshot
    from tracker.tasks.lights import LightRule

    snap = snapshot.load(task.plan, today=clock.today(), rule=LightRule())
    year = next(r for r in assess(snap, load_targets(task.plan), ScoringRule()) if r.window.key == "2024")
    units = {u.department.id: u for u in year.departments}
    assert units[punctual].detail["punctuality"].startswith("1/")  # 2024Q1 within 10 days
    assert units[late].detail["punctuality"].startswith("0/")  # two months late
    page = client.get("/assessment").get_data(as_text=True)
    assert "五年总体考核（2021—2025）</strong>" in page
    counties = page.split("县（市、区）（9）")[1].split("市直部门及其他单位")[0]
    assert counties.index("林州市人民政府") < counties.index("安阳县人民政府")  # Linzhou met its COD target
    response = client.get("/assessment.xlsx")
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames[0] == "评分规则"
    assert "五年总体考核（2021—2025）" in wb.sheetnames
    ws = wb["五年总体考核（2021—2025）"]
    names = [row[1] for row in ws.iter_rows(values_only=True)]
    assert names.index("林州市人民政府") < names.index("安阳县人民政府")


def test_assessment_before_the_plan_explains_nothing_has_started(seeded, app, client: FlaskClient, login) -> None:
    login("leader")
    app.config["TRACKER_NOW"] = "2020-06-01"
    page = client.get("/assessment").get_data(as_text=True)
    assert "尚未开始" in page
    assert client.get("/assessment.xlsx").status_code == 200


def test_punctuality_reads_each_reports_first_submission_in_the_citys_date(seeded, app) -> None:
    """The assessment's punctuality reads, per (task, department, period), the earliest submission that is
    not a draft, as a date in the city (UTC+8); a report with an unknown time (imported) counts as in time."""
    from tracker.tasks.state import first_submissions

    task = db.session.scalar(db.select(Task).filter_by(code="3.2"))
    a, b, c = (x.department_id for x in task.assignments[:3])

    def report(dept_id: int, state: str, submitted: datetime | None) -> CheckIn:
        return CheckIn(
            task_id=task.id,
            department_id=dept_id,
            period="2024Q1",
            period_start=date(2024, 1, 1),
            period_end=date(2024, 3, 31),
            state=state,
            status="in_progress",
            created_at=datetime(2024, 4, 1, tzinfo=UTC),
            submitted_at=submitted,
        )

    db.session.add_all(
        [
            # returned on its first submission (the evening of 10 April in UTC: the 11th in the city), then approved
            report(a, "returned", datetime(2024, 4, 10, 20, 0, tzinfo=UTC)),
            report(a, "approved", datetime(2024, 6, 1, 2, 0, tzinfo=UTC)),
            report(b, "approved", None),  # imported: no known time
            report(b, "returned", datetime(2024, 5, 1, tzinfo=UTC)),
            report(c, "draft", datetime(2024, 4, 2, tzinfo=UTC)),  # a draft is not a submission
        ]
    )
    db.session.commit()
    first = dict(first_submissions(task.plan))
    assert first[a][(task.id, "2024Q1")] == date(2024, 4, 11)
    assert first[b][(task.id, "2024Q1")] == date.min
    assert (task.id, "2024Q1") not in first.get(c, {})
