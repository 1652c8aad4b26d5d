"""The county's consolidated 落实 report: one form per period for every measure it implements, one review
for all its lines; and bulk 签收 of a department's assignments, one history row per assignment."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tracker import clock
from tracker.extensions import db
from tracker.models import Assignment, AuditLog, CheckIn, ConsolidatedReport, Department, Plan, Review, Task
from tracker.reports import consolidated
from tracker.reports.bulk import acknowledge_all
from tracker.reports.service import ReportError, review_checkin
from tracker.tasks.periods import parse_period
from tracker.tasks.queries import city_workdays

COUNTY = "林州市人民政府"


def _department(name: str) -> Department:
    department = db.session.scalar(db.select(Department).filter_by(name=name))
    assert department is not None
    return department


def _plan() -> Plan:
    plan = db.session.scalar(db.select(Plan))
    assert plan is not None
    return plan


def _measures(name: str = COUNTY) -> list[Task]:
    return consolidated.county_measures(_plan(), _department(name).id)


def _post(client: FlaskClient, period: str, tasks: list[Task], action: str, **extra: str):  # type: ignore[no-untyped-def]
    data = {"action": action, **extra}
    for t in tasks:
        data[f"status-{t.id}"] = "in_progress"
        data[f"narrative-{t.id}"] = f"{t.label} 已按要求推进"
    return client.post(f"/consolidated/{period}", data=data)


def _report(period: str = "2024Q2") -> ConsolidatedReport:
    report = db.session.scalar(
        db.select(ConsolidatedReport).filter_by(period=period).order_by(ConsolidatedReport.id.desc()).limit(1)
    )
    assert report is not None
    return report


class TestOneReportPerPeriod:
    def test_the_form_opens_the_oldest_period_the_county_owes_under_the_due_rule(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        seeded.config["TRACKER_NOW"] = "2024-07-01T10:00:00+08:00"
        plan, county = _plan(), _department(COUNTY)
        # Every quarter from 2021Q1 to 2024Q1 already reported: 2024Q2 (requested 2024-06-24) is owed.
        reported = {f"{y}Q{q}" for y in range(2021, 2024) for q in range(1, 5)} | {"2024Q1"}
        for key in sorted(reported):
            p = parse_period(key)
            db.session.add(
                ConsolidatedReport(
                    plan_id=plan.id,
                    department_id=county.id,
                    period=key,
                    period_start=p.start,
                    period_end=p.end,
                    state="approved",
                    created_at=clock.now(),
                )
            )
        db.session.commit()
        assert consolidated.plan_cycle(plan) == "quarter"
        assert consolidated.default_period(plan, county.id, clock.today(), city_workdays()).key == "2024Q2"
        login("staff", COUNTY)
        response = client.get("/consolidated")
        assert response.status_code == 302 and response.headers["Location"].endswith("/consolidated/2024Q2")
        my = client.get("/my").get_data(as_text=True)
        assert "2024年第二季度落实报告（20 项措施），截止 2024-07-05" in my
        seeded.config["TRACKER_NOW"] = "2024-06-21T10:00:00+08:00"  # 2024Q2 is requested from 2024-06-24
        my = client.get("/my").get_data(as_text=True)
        assert "没有欠报的落实报告；2024年第二季度落实报告自 2024-06-24 起报送。" in my
        # Nothing reported yet: the oldest period owed is the plan's first.
        db.session.execute(db.delete(ConsolidatedReport))
        db.session.commit()
        assert consolidated.default_period(plan, county.id, clock.today(), city_workdays()).key == "2021Q1"

    def test_a_county_submits_one_report_for_all_its_measures_and_one_review_approves_all(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        seeded.config["TRACKER_NOW"] = "2024-07-01T10:00:00+08:00"
        measures = _measures()
        assert len(measures) > 10  # the county implements most of the plan's measures
        login("staff", COUNTY)
        page = client.get("/consolidated/2024Q2").get_data(as_text=True)
        assert all(f'name="narrative-{t.id}"' in page for t in measures)
        task_page = client.get(f"/tasks/{measures[0].code}").get_data(as_text=True)
        assert 'href="/consolidated"' in task_page and f"/tasks/{measures[0].code}/report" not in task_page

        response = _post(client, "2024Q2", measures, "submit")
        assert response.status_code == 302, response.get_data(as_text=True)
        report = _report()
        lines = consolidated.report_lines(report)
        assert report.state == "submitted"
        assert {c.task_id for c in lines} == {t.id for t in measures}
        assert all(c.state == "submitted" and c.narrative for c in lines)

        # 我的任务 shows one consolidated report, not one 本期待报送 line per measure.
        my = client.get("/my").get_data(as_text=True)
        assert "落实报告" in my and "本期待报送" not in my  # a county owes no report per measure

        # The coordinators' queue has one item for the county, and its lines are not listed one by one.
        client.post("/logout")
        login("coordinator", "市发展改革委")
        queue = client.get("/reviews").get_data(as_text=True)
        assert "县级落实报告（1）" in queue and "进展报告（0）" in queue
        response = client.post(f"/consolidated/reviews/{report.id}", data={"decision": "approve"})
        assert response.status_code == 302, response.get_data(as_text=True)
        db.session.expire_all()
        assert _report().state == "approved"
        assert {c.state for c in db.session.scalars(db.select(CheckIn).filter_by(consolidated_id=report.id))} == {
            "approved"
        }
        assert db.session.scalar(db.select(db.func.count(Review.id))) == len(measures)

        # Each measure's page shows the county's line among the task's reports.
        page = client.get(f"/tasks/{measures[0].code}").get_data(as_text=True)
        assert COUNTY in page and f"/consolidated/reviews/{report.id}" in page

    def test_a_returned_report_is_fixed_by_a_new_one_superseding_it(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        seeded.config["TRACKER_NOW"] = "2024-07-01T10:00:00+08:00"
        measures = _measures()
        staff = login("staff", COUNTY)
        _post(client, "2024Q2", measures, "submit")
        first = _report()
        coordinator = db.session.scalar(db.select(Department.id).filter_by(name="市发展改革委"))
        assert coordinator is not None
        refused = client.post(f"/consolidated/reviews/{first.id}", data={"decision": "return", "comment": "x"})
        assert refused.status_code == 403  # a county does not review its own report
        consolidated.review_report(
            report_id=first.id, decision="return", comment="请补充数据", now=clock.now(), user_id=None, version_id=None
        )
        assert {c.state for c in consolidated.report_lines(first)} == {"returned"}

        page = client.get("/consolidated/2024Q2").get_data(as_text=True)
        assert "请补充数据" in page
        response = _post(
            client, "2024Q2", measures, "submit", report_id=str(first.id), version_id=str(first.version_id)
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        fix = _report()
        assert fix.id != first.id and fix.supersedes_id == first.id and fix.state == "submitted"
        old_lines = {c.task_id: c.id for c in consolidated.report_lines(first)}
        assert {c.supersedes_id for c in consolidated.report_lines(fix)} == set(old_lines.values())
        assert fix.author_id == staff.id

    def test_a_stale_save_answers_409_and_keeps_the_newer_draft(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        seeded.config["TRACKER_NOW"] = "2024-07-01T10:00:00+08:00"
        measures = _measures()
        login("staff", COUNTY)
        assert _post(client, "2024Q2", measures, "draft").status_code == 302
        draft = _report()
        opened = draft.version_id
        # A colleague saves the draft first.
        assert (
            _post(client, "2024Q2", measures, "draft", report_id=str(draft.id), version_id=str(opened)).status_code
            == 302
        )
        db.session.expire_all()
        assert _report().version_id == opened + 1
        stale = _post(client, "2024Q2", measures, "submit", report_id=str(draft.id), version_id=str(opened))
        assert stale.status_code == 409
        db.session.expire_all()
        assert _report().state == "draft"

    def test_another_county_cannot_edit_it(self, seeded: Flask, client: FlaskClient, login) -> None:
        seeded.config["TRACKER_NOW"] = "2024-07-01T10:00:00+08:00"
        measures = _measures()
        login("staff", COUNTY)
        _post(client, "2024Q2", measures, "draft")
        draft = _report()
        client.post("/logout")
        login("staff", "安阳县人民政府")
        # Its own form is its own report: the other county's draft is neither shown nor changed.
        page = client.get("/consolidated/2024Q2").get_data(as_text=True)
        assert f'value="{draft.id}"' not in page
        response = _post(client, "2024Q2", measures, "submit", report_id=str(draft.id), version_id="1")
        assert response.status_code in {400, 409}
        db.session.expire_all()
        assert db.session.get(ConsolidatedReport, draft.id).state == "draft"  # type: ignore[union-attr]
        assert client.get(f"/consolidated/reviews/{draft.id}").status_code == 404  # a draft is its county's
        client.post("/logout")
        login("staff", "市交通运输局")  # a bureau implements no measure: no consolidated form
        assert client.get("/consolidated/2024Q2").status_code == 403

    def test_a_submitted_report_needs_a_narrative_on_every_measure(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        seeded.config["TRACKER_NOW"] = "2024-07-01T10:00:00+08:00"
        measures = _measures()
        login("staff", COUNTY)
        response = _post(client, "2024Q2", measures[:-1], "submit")
        assert response.status_code == 400
        assert db.session.scalar(db.select(db.func.count(ConsolidatedReport.id))) == 0
        assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 0

    def test_a_line_is_not_reviewed_on_its_own(self, seeded: Flask, client: FlaskClient, login) -> None:
        seeded.config["TRACKER_NOW"] = "2024-07-01T10:00:00+08:00"
        login("staff", COUNTY)
        _post(client, "2024Q2", _measures(), "submit")
        line = consolidated.report_lines(_report())[0]
        with pytest.raises(ReportError):
            review_checkin(
                checkin_id=line.id, decision="approve", comment="", now=clock.now(), user_id=None, version_id=None
            )
        db.session.rollback()
        assert db.session.get(CheckIn, line.id).state == "submitted"  # type: ignore[union-attr]


class TestBulkAcknowledge:
    def test_bulk_acknowledge_records_one_history_row_per_assignment(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        county = _department(COUNTY)
        pending = db.session.scalar(
            db.select(db.func.count(Assignment.id)).filter_by(department_id=county.id, acknowledged_at=None)
        )
        assert pending and pending > 10
        user = login("staff", COUNTY)
        my = client.get("/my").get_data(as_text=True)
        assert f"全部签收（{pending} 项）" in my
        assert client.post("/my/acknowledge-all", data={}).status_code == 400  # not confirmed: nothing signed
        response = client.post("/my/acknowledge-all", data={"confirm": "1"})
        assert response.status_code == 302
        db.session.expire_all()
        assert not db.session.scalar(
            db.select(db.func.count(Assignment.id)).filter_by(department_id=county.id, acknowledged_at=None)
        )
        rows = list(
            db.session.scalars(
                db.select(AuditLog).filter_by(entity="assignment", field="acknowledged_at", user_id=user.id)
            )
        )
        ids = {a.id for a in db.session.scalars(db.select(Assignment).filter_by(department_id=county.id))}
        assert len(rows) == pending and {r.entity_id for r in rows} == ids

    def test_acknowledging_twice_changes_nothing(self, seeded: Flask) -> None:
        county = _department(COUNTY)
        first = acknowledge_all(department_id=county.id, now=clock.now(), user_id=None)
        assert first > 0
        assert acknowledge_all(department_id=county.id, now=clock.now(), user_id=None) == 0
        assert db.session.scalar(db.select(db.func.count(AuditLog.id)).filter_by(field="acknowledged_at")) == first


def test_the_county_pages_in_english_show_no_chinese_but_the_plans_own_words(
    seeded: Flask, client: FlaskClient, login
) -> None:
    from .test_i18n import _data_strings, _interface_chinese

    seeded.config["TRACKER_NOW"] = "2024-07-01T10:00:00+08:00"
    measures = _measures()
    login("staff", COUNTY)
    client.post("/language", data={"locale": "en"})
    data = {"action": "submit"}
    for t in measures:
        data[f"status-{t.id}"], data[f"narrative-{t.id}"] = "in_progress", "on track"
    pages = {"/my": client.get("/my"), "/consolidated/2024Q2": client.get("/consolidated/2024Q2")}
    assert client.post("/consolidated/2024Q2", data=data).status_code == 302
    pages["/consolidated/2024Q2 (submitted)"] = client.get("/consolidated/2024Q2")
    client.post("/logout")
    login("coordinator", "市发展改革委")
    client.post("/language", data={"locale": "en"})
    pages["/reviews"] = client.get("/reviews")
    pages["/consolidated/reviews"] = client.get(f"/consolidated/reviews/{_report().id}")
    words = _data_strings()
    left = {url: found for url, r in pages.items() if (found := _interface_chinese(r.get_data(as_text=True), words))}
    assert not left, f"Chinese interface text in English pages: {left}"
    assert "Acknowledge all" in pages["/my"].get_data(as_text=True)
    assert "County implementation reports (1)" in pages["/reviews"].get_data(as_text=True)
