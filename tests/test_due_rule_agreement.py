"""One answer everywhere: on the days of a plan year where an answer can change, every feature tells each
department the same thing.

The report form's default period, the reminders, the warning light, the calendar feed's due dates,
我的任务's "due this period", the dashboard's 应报送 and the assessment's punctuality are each read
through the feature's own public function, and compared with the one due rule (``tracker.tasks.due``)
and the one answer to who owes what (``tracker.tasks.duties``).

The walk visits the days that matter rather than all 366 (which took minutes on each database): every
answer here is a step function of the date whose steps the due rule places, so a feature that keeps a
boundary of its own (another grace period, another request date) disagrees with the rule either on the
rule's boundary day or on the day before it. The walk takes, for every period of every reporting cycle,
its start, end, request, due and chase dates with the days either side; every non-working day of the
year (the digest asks only on working days; 调休 Saturdays are working days); the first of each month;
and a fixed random sample of the other days.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import icalendar
import pytest
from flask import Flask

from tracker import clock
from tracker.extensions import db
from tracker.feeds import ensure_feeds, feed_for_token
from tracker.leadership.dashboard import build_dashboard
from tracker.models import CheckIn, Department, Plan, Task
from tracker.reminders.items import Collector
from tracker.reminders.policy import Stages
from tracker.reports.consolidated import county_due
from tracker.reports.queries import department_home
from tracker.reports.service import reporting_period
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
from tracker.tasks.periods import parse_period, periods_between
from tracker.tasks.queries import city_workdays
from tracker.tasks.workdays import Workdays

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


_REPORTED: dict[tuple[int, int], set[str]] = {}


def _reported(task_id: int, department_id: int) -> set[str]:
    """The periods with a submitted or approved report (the data does not change during the walk)."""
    if not _REPORTED:
        _REPORTED[(0, 0)] = set()
        for t, d, p in db.session.execute(
            db.select(CheckIn.task_id, CheckIn.department_id, CheckIn.period).where(
                CheckIn.state.in_(["submitted", "approved"])
            )
        ):
            _REPORTED.setdefault((t, d), set()).add(p)
    return _REPORTED.get((task_id, department_id), set())


def _owed(task: Task, department_id: int, today: date, plan: Plan, cal) -> list:  # type: ignore[no-untyped-def]
    start, until = reporting_window(task.start, task.due, plan.end)
    return owed_periods(
        today, task.reporting_cycle, start, until, _reported(task.id, department_id), DueRule.of(plan), cal
    )


def days_that_matter(year: int, cycles: set[str], rule: DueRule, cal: Workdays, sample: int = 30) -> list[date]:
    """The days of ``year`` where an answer can change (see the module's docstring), in order."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    days: set[date] = set()
    for cycle in cycles:
        for period in periods_between(date(year - 1, 1, 1), last, cycle):
            due = period_due(period, rule, cal)
            for boundary in (period.start, period.end, due.requested, due.due, due.chased_from):
                days.update(boundary + timedelta(days=k) for k in (-1, 0, 1))
    every_day = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    days.update(d for d in every_day if not cal.is_workday(d) and d.weekday() < 5)  # holidays
    days.update(d for d in every_day if cal.is_workday(d) and d.weekday() >= 5)  # 调休 working weekends
    days.update(date(year, m, 1) for m in range(1, 13))
    days.update(random.Random(year).sample(every_day, sample))
    return sorted(d for d in days if first <= d <= last)


def _owes(task: Task, department_id: int) -> bool:
    roles = {a.department_id: a.role for a in task.assignments}
    return department_id in roles and owes_task_report(roles[department_id], roles.values())


def test_the_walk_visits_every_boundary_of_the_rule_and_the_days_either_side() -> None:
    rule, cal = DueRule(), Workdays()
    days = set(days_that_matter(YEAR, {"quarter"}, rule, cal))
    q2 = period_due(parse_period("2024Q2"), rule, cal)
    for boundary in (q2.requested, q2.due, q2.chased_from, date(2024, 6, 30), date(2024, 4, 1)):
        assert {boundary - timedelta(days=1), boundary, boundary + timedelta(days=1)} <= days
    assert date(2024, 10, 1) in days and date(2024, 2, 4) in days  # National Day; a 调休 Sunday
    assert len(days) < 250


def test_every_feature_agrees_with_the_due_rule_on_every_day_that_matters_in_a_plan_year(history: Flask) -> None:
    _REPORTED.clear()
    plan = db.session.scalar(db.select(Plan))
    departments = [dept_by_name(name) for name in DEPARTMENTS]
    tasks = db.session.scalars(db.select(Task).filter_by(plan_id=plan.id)).all()
    rule, cal = DueRule.of(plan), city_workdays()
    cycles = {t.reporting_cycle for t in tasks}  # the counties' consolidated cycle is one of them
    checked = 0
    for day in days_that_matter(YEAR, cycles, rule, cal):
        snap = task_state.load(plan, today=day, rule=LightRule())
        by_task = {st.task.id: st for st in snap.states}
        dash = build_dashboard(snap)
        dash_missing = {(r.department.id, t.id) for r in dash.reporting for t in r.missing}
        # the reminders: what the sweep would ask of each department today
        collector = Collector(day, Stages(), cal, {"checkin"})
        collector.plan(plan)
        asked: dict[tuple[int, int], set[str]] = {}
        lines: dict[tuple[int, int], list[str]] = {}
        for item in collector.items:
            if item.line.key[0] == "task":
                asked.setdefault((item.department_id, item.line.key[1]), set()).add(item.period)
        for (dept_id, *key), line in collector.lines.items():
            if key[0] == "task":
                lines[(dept_id, key[1])] = line.owed
        for department in departments:
            home = department_home(department, day)
            due_now = {m.task.id: m for m in home.due}
            for m in (m for _, items in home.by_role for m in items):
                task = m.task
                owes = _owes(task, department.id) and task.status != "done" and task.closed_on is None
                owed = _owed(task, department.id, day, plan, cal) if owes else []
                start, until = reporting_window(task.start, task.due, plan.end)
                # 我的任务 and the report form (web and API: one submission service) open the oldest owed period
                done = _reported(task.id, department.id)
                oldest = form_period(day, task.reporting_cycle, start, until, done, rule, cal)
                assert m.period_key == oldest.key, (day, department.name, task.code)
                assert reporting_period(task, day, reported=done, cal=cal) == oldest, (day, department.name, task.code)
                # 我的任务's "due now" is exactly "owes a period" (or has one to finish)
                assert (task.id in due_now) == (bool(owed) or (owes and m.due_now)), (day, department.name, task.code)
                assert [p.period.key for p in m.owed] == [p.period.key for p in owed]
                # the digest's line lists the same periods; on a working day each is asked for
                assert lines.get((department.id, task.id), []) == [p.period.key for p in owed]
                expected_asked = {p.period.key for p in owed} if cal.is_workday(day) else set()
                assert asked.get((department.id, task.id), set()) == expected_asked, (day, department.name)
                st = by_task[task.id]
                # the dashboard's 应报送: the reporters of the expected period, missing when it is owed
                if owes and st.expected is not None:
                    assert department.id in {d.id for d in st.reporters}
                    is_missing = st.expected.period.key in {p.period.key for p in owed}
                    assert ((department.id, task.id) in dash_missing) == is_missing, (day, department.name, task.code)
                else:
                    assert (department.id, task.id) not in dash_missing
                checked += 1
        # a county's consolidated 落实 report: 我的任务, the plan state (dashboard, assessment) and the digest agree
        for duty in snap.consolidated:
            owed_keys = [p.period.key for p in duty.owed]
            home_due = county_due(duty.department.id, day, cal)
            assert home_due is not None and [p.period.key for p in home_due.owed] == owed_keys, day
            line = collector.lines.get((duty.department.id, "consolidated", plan.id))
            assert line is not None and line.owed == owed_keys, (day, duty.department.name)
            assert duty.missing == (duty.expected is not None and duty.expected.period.key in owed_keys)
        assert {d.department.name for d in snap.consolidated} >= {"林州市人民政府"}
        # the light: a report is missing exactly when a reporter owes a period past its due date
        for task in tasks:
            st = by_task[task.id]
            late = any(
                due_state(p, day) in {"late", "chase"}
                for d in st.reporters
                for p in _owed(task, d.id, day, plan, cal)
                if task.status != "done"
            )
            if st.light != "red":  # a red light lists only its red reasons
                assert (MISSING_REASON in st.reasons) == late, (day, task.code)
    assert checked > 400


def test_a_departments_feed_holds_the_due_dates_of_exactly_the_reports_it_owes(history: Flask) -> None:
    _REPORTED.clear()
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
