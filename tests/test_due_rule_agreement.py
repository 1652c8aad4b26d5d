"""One answer everywhere: on every day of a plan year, every feature tells each department the same thing.

The report form's default period, the reminders, the warning light, the calendar feed's due dates,
我的任务's "due this period", the dashboard's 应报送 and the assessment's punctuality are each read
through the feature's own public function, and compared with the one due rule (``tracker.tasks.due``)
and the one answer to who owes what (``tracker.tasks.duties``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import icalendar
import pytest
from flask import Flask

from tracker import clock
from tracker.extensions import db
from tracker.feeds import ensure_feeds, feed_for_token
from tracker.leadership.dashboard import build_dashboard
from tracker.models import CheckIn, Department, Plan, Task
from tracker.reports.queries import department_home
from tracker.tasks import state as task_state
from tracker.tasks.due import (
    DueRule,
    due_state,
    form_period,
    owed_periods,
    period_due,
    reporting_window,
    window_periods,
)
from tracker.tasks.duties import owes_task_report
from tracker.tasks.lights import LightRule
from tracker.tasks.periods import parse_period
from tracker.tasks.queries import city_workdays

from .conftest import dept_by_name, task_by_code

YEAR = 2024
# a lead, a lead beside another lead, a responsible department (of measures without a lead), a support
# department and a county government: every kind of duty the plan gives
DEPARTMENTS = ["市交通运输局", "市发展改革委", "市机关事务中心", "市公安局", "林州市人民政府"]
MISSING_REASON = "本期进展未报送"


def _report(task: Task, department: Department, key: str, state: str, submitted: date) -> None:
    period = parse_period(key)
    db.session.add(
        CheckIn(
            task_id=task.id,
            department_id=department.id,
            period=key,
            period_start=period.start,
            period_end=period.end,
            state=state,
            status="in_progress",
            percent=10,
            created_at=datetime(submitted.year, submitted.month, submitted.day, 2, tzinfo=clock.UTC),
            submitted_at=datetime(submitted.year, submitted.month, submitted.day, 2, tzinfo=clock.UTC)
            if state != "draft"
            else None,
        )
    )


@pytest.fixture
def history(seeded: Flask) -> Flask:
    """A few reports, so that what is owed differs between departments and over the year."""
    transport, reform = dept_by_name("市交通运输局"), dept_by_name("市发展改革委")
    logistics = task_by_code("3.4")
    for year in range(2021, YEAR):
        for q in range(1, 5):
            _report(logistics, transport, f"{year}Q{q}", "approved", date(year, 12, 31))
    _report(logistics, transport, f"{YEAR}Q1", "approved", date(YEAR, 4, 3))
    _report(logistics, transport, f"{YEAR}Q2", "submitted", date(YEAR, 7, 20))  # late
    _report(logistics, reform, f"{YEAR}Q1", "returned", date(YEAR, 4, 2))  # returned: still owed
    _report(logistics, reform, f"{YEAR}Q3", "draft", date(YEAR, 9, 30))  # a draft: still owed
    db.session.commit()
    return seeded


def _reported(task_id: int, department_id: int) -> set[str]:
    return set(
        db.session.scalars(
            db.select(CheckIn.period)
            .filter_by(task_id=task_id, department_id=department_id)
            .where(CheckIn.state.in_(["submitted", "approved"]))
        )
    )


def _owed(task: Task, department_id: int, today: date, plan: Plan) -> list:
    start, until = reporting_window(task.start, task.due, plan.end)
    return owed_periods(
        today, task.reporting_cycle, start, until, _reported(task.id, department_id), DueRule.of(plan), city_workdays()
    )


def _owes(task: Task, department_id: int) -> bool:
    roles = {a.department_id: a.role for a in task.assignments}
    return department_id in roles and owes_task_report(roles[department_id], roles.values())


def test_every_feature_agrees_with_the_due_rule_on_every_day_of_a_plan_year(history: Flask) -> None:
    plan = db.session.scalar(db.select(Plan))
    departments = [dept_by_name(name) for name in DEPARTMENTS]
    tasks = db.session.scalars(db.select(Task).filter_by(plan_id=plan.id)).all()
    rule, cal = DueRule.of(plan), city_workdays()
    day = date(YEAR, 1, 1)
    checked = 0
    while day.year == YEAR:
        snap = task_state.load(plan, today=day, rule=LightRule())
        by_task = {st.task.id: st for st in snap.states}
        dash = build_dashboard(snap)
        dash_missing = {(r.department.id, t.id) for r in dash.reporting for t in r.missing}
        for department in departments:
            home = department_home(department, day)
            due_now = {m.task.id: m for m in home.due}
            for m in (m for _, items in home.by_role for m in items):
                task = m.task
                owes = _owes(task, department.id) and task.status != "done" and task.closed_on is None
                owed = _owed(task, department.id, day, plan) if owes else []
                start, until = reporting_window(task.start, task.due, plan.end)
                # 我的任务 and the form open the oldest owed period
                assert (
                    m.period_key
                    == form_period(
                        day, task.reporting_cycle, start, until, _reported(task.id, department.id), rule, cal
                    ).key
                ), (day, department.name, task.code)
                # 我的任务's "due now" is exactly "owes a period" (or has one to finish)
                assert (task.id in due_now) == (bool(owed) or (owes and m.due_now)), (day, department.name, task.code)
                assert [p.period.key for p in m.owed] == [p.period.key for p in owed]
                st = by_task[task.id]
                # the dashboard's 应报送: the reporters of the expected period, missing when it is owed
                if owes and st.expected is not None:
                    assert department in st.reporters
                    is_missing = st.expected.period.key in {p.period.key for p in owed}
                    assert ((department.id, task.id) in dash_missing) == is_missing, (day, department.name, task.code)
                else:
                    assert (department.id, task.id) not in dash_missing
                checked += 1
        # the light: a report is missing exactly when a reporter owes a period past its due date
        for task in tasks:
            st = by_task[task.id]
            late = any(
                due_state(p, day) in {"late", "chase"}
                for d in st.reporters
                for p in _owed(task, d.id, day, plan)
                if task.status != "done"
            )
            if st.light != "red":  # a red light lists only its red reasons
                assert (MISSING_REASON in st.reasons) == late, (day, task.code)
        day += timedelta(days=1)
    assert checked > 1000


def test_a_departments_feed_holds_the_due_dates_of_exactly_the_reports_it_owes(history: Flask) -> None:
    plan = db.session.scalar(db.select(Plan))
    rule, cal = DueRule.of(plan), city_workdays()
    tasks = db.session.scalars(db.select(Task).filter_by(plan_id=plan.id)).all()
    for name in DEPARTMENTS[:4]:
        department = dept_by_name(name)
        feed = ensure_feeds([department.id], now=clock.now())[department.id]
        _name, text = feed_for_token(feed.token, now=clock.now(), base_url="http://t")
        events = icalendar.Calendar.from_ical(text).walk("VEVENT")
        report_days = {e.decoded("DTSTART") for e in events if str(e["UID"]).startswith("report-")}
        expected = set()
        for task in tasks:
            if _owes(task, department.id):
                start, until = reporting_window(task.start, task.due, plan.end)
                for p in window_periods(task.reporting_cycle, start, until):
                    expected.add(period_due(p, rule, cal).due)
        assert report_days == expected, name
