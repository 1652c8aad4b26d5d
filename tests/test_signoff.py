"""The department's own sign-off (单位负责人审核): off by default; when on, a staff member's report waits
for the department head, who approves it (on to review) or sends it back with a comment."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tracker import clock
from tracker.extensions import db
from tracker.models import AuditLog, CheckIn, ConsolidatedReport, OutboxMessage, Review
from tracker.reminders import service as reminders
from tracker.reports import consolidated as county
from tracker.reports.service import reported_periods
from tracker.tasks.periods import parse_period

from .conftest import PASSWORD, dept_by_name, task_by_code

LINZHOU = "林州市人民政府"


def _submit(client: FlaskClient, period: str = "2024Q2", narrative: str = "已创建绿色工厂 3 家。"):  # type: ignore[no-untyped-def]
    data = {"status": "in_progress", "percent": "40", "narrative": narrative, "action": "submit"}
    return client.post(f"/tasks/3.1/report?period={period}", data=data, content_type="multipart/form-data")


def _as(client: FlaskClient, user) -> None:  # type: ignore[no-untyped-def]
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def _require(name: str = LINZHOU) -> None:
    dept_by_name(name).requires_head_signoff = True
    db.session.commit()


def test_off_by_default_a_report_goes_straight_to_review(seeded: Flask, client: FlaskClient, login) -> None:
    assert dept_by_name(LINZHOU).requires_head_signoff is False
    login("staff", LINZHOU)
    assert _submit(client).status_code == 302
    assert db.session.scalar(db.select(CheckIn.state)) == "submitted"


def test_head_approves_or_sends_back_with_a_comment(seeded: Flask, client: FlaskClient, make_user) -> None:
    _require()
    staff = make_user("staff", LINZHOU)
    head = make_user("head", LINZHOU)
    coordinator = make_user("coordinator", "市发展改革委")
    other_head = make_user("head", "市发展改革委")
    _as(client, staff)
    assert _submit(client).status_code == 302
    checkin = db.session.scalar(db.select(CheckIn))
    assert checkin is not None and checkin.state == "awaiting_head"
    # the department has answered for the period: the due rule does not chase it as missing
    assert "2024Q2" in reported_periods(checkin.task_id, checkin.department_id)
    my = client.get("/my").get_data(as_text=True)
    assert "待单位负责人审核（1）" in my
    form = client.get("/tasks/3.1/report?period=2024Q2").get_data(as_text=True)
    assert "待单位负责人审核" in form and 'name="narrative"' not in form  # locked while it waits
    assert client.get("/signoff").status_code == 403  # staff do not sign off

    _as(client, coordinator)
    assert "已创建绿色工厂" not in client.get("/reviews").get_data(as_text=True)  # not in review yet

    _as(client, other_head)  # another department's head sees neither the report nor its decision
    assert "三（一）" not in client.get("/signoff").get_data(as_text=True)
    assert client.get(f"/signoff/checkin/{checkin.id}").status_code == 403
    assert client.post(f"/signoff/checkin/{checkin.id}", data={"decision": "approve"}).status_code == 403

    _as(client, head)
    assert client.get("/").headers["Location"].endswith("/signoff")
    queue = client.get("/signoff").get_data(as_text=True)
    assert "待我审核（1）" in queue and "三（一）" in queue
    page = client.get(f"/signoff/checkin/{checkin.id}").get_data(as_text=True)
    assert "已创建绿色工厂 3 家。" in page
    refused = client.post(f"/signoff/checkin/{checkin.id}", data={"decision": "return", "comment": " "})
    assert refused.status_code == 400 and "退回时请填写意见" in refused.get_data(as_text=True)
    assert client.post(f"/signoff/checkin/{checkin.id}", data={}).status_code == 400  # no default decision
    db.session.expire_all()
    assert checkin.state == "awaiting_head" and db.session.scalar(db.select(db.func.count(Review.id))) == 0
    sent_back = client.post(f"/signoff/checkin/{checkin.id}", data={"decision": "return", "comment": "请补充工厂名单"})
    assert sent_back.status_code == 302
    db.session.expire_all()
    assert checkin.state == "returned"
    review = db.session.scalar(db.select(Review))
    assert review is not None and (review.stage, review.decision, review.reviewer_id) == ("head", "return", head.id)

    _as(client, staff)
    form = client.get("/tasks/3.1/report?period=2024Q2").get_data(as_text=True)
    assert "单位负责人退回意见：" in form and "请补充工厂名单" in form
    assert "被退回待修改（1）" in client.get("/my").get_data(as_text=True)
    data = {
        "status": "in_progress",
        "percent": "45",
        "narrative": "已创建绿色工厂 3 家：甲、乙、丙。",
        "action": "submit",
        "checkin_id": str(checkin.id),
        "version_id": str(checkin.version_id),
    }
    resubmit = client.post("/tasks/3.1/report?period=2024Q2", data=data, content_type="multipart/form-data")
    assert resubmit.status_code == 302, resubmit.get_data(as_text=True)
    fixed = db.session.scalar(db.select(CheckIn).order_by(CheckIn.id.desc()))
    assert fixed is not None and fixed.id != checkin.id and fixed.state == "awaiting_head"

    _as(client, head)
    assert client.post(f"/signoff/checkin/{fixed.id}", data={"decision": "approve"}).status_code == 302
    db.session.expire_all()
    assert fixed.state == "submitted"
    assert {a.action for a in db.session.scalars(db.select(AuditLog).filter_by(entity="check_in"))} >= {
        "head_return",
        "head_approve",
    }
    assert client.post(f"/signoff/checkin/{fixed.id}", data={"decision": "approve"}).status_code == 409

    _as(client, coordinator)
    assert "林州市人民政府" in client.get("/reviews").get_data(as_text=True)
    timeline = client.get(f"/reviews/{fixed.id}").get_data(as_text=True)
    assert "单位负责人：" in timeline


def test_a_county_consolidated_report_waits_for_its_head_too(seeded: Flask, make_user) -> None:
    _require()
    staff = make_user("staff", LINZHOU)
    head = make_user("head", LINZHOU)
    department = dept_by_name(LINZHOU)
    plan = task_by_code("3.1").plan
    measures = county.county_measures(plan, department.id)
    lines = [county.LineInput(t.id, "in_progress", "推进中", None) for t in measures]
    report = county.save_report(
        plan=plan,
        department_id=department.id,
        period=parse_period("2024Q1"),
        lines=lines,
        submit=True,
        now=clock.now(),
        user_id=staff.id,
        editing_id=None,
        version_id=None,
    )
    assert report.state == "awaiting_head"
    assert {line.state for line in county.report_lines(report)} == {"awaiting_head"}
    assert county.review_queue() == []
    from tracker.reports import signoff

    assert signoff.queue(department.id).consolidated == [report]
    signoff.decide(
        kind="consolidated",
        report_id=report.id,
        decision="approve",
        comment="",
        now=clock.now(),
        user=head,
        version_id=None,
    )
    db.session.expire_all()
    assert db.session.get(ConsolidatedReport, report.id).state == "submitted"  # type: ignore[union-attr]
    assert {line.state for line in county.report_lines(report)} == {"submitted"}
    assert county.review_queue() == [report]


def test_the_digest_says_a_report_waits_for_the_head_and_reaches_the_head(
    seeded: Flask, client: FlaskClient, make_user
) -> None:
    _require()
    staff = make_user("staff", LINZHOU, email="linzhou-staff@test.local")
    make_user("head", LINZHOU, email="linzhou-head@test.local")
    _as(client, staff)
    assert _submit(client).status_code == 302
    seeded.config["TRACKER_NOW"] = clock.parse_instant("2024-06-04T09:00")
    reminders.sweep(clock.now(), kinds={"returned"})  # the review flow's notices
    message = db.session.scalar(
        db.select(OutboxMessage)
        .filter_by(department_id=dept_by_name(LINZHOU).id, kind="digest")
        .order_by(OutboxMessage.id.desc())
    )
    assert message is not None
    assert "【待单位负责人审核】2024年第二季度 的报送待单位负责人审核" in message.body_text
    assert "linzhou-head@test.local" in message.recipients


def test_the_api_submits_through_the_same_rule(mini_plan: Flask, bearer, client: FlaskClient) -> None:
    _require("甲县人民政府")
    county = bearer("staff", "甲县人民政府")
    coordinator = bearer("coordinator", "市发展改革委")
    body = {"status": "in_progress", "percent": 30, "narrative": "完成 12 辆新能源公交车采购。"}
    response = client.post("/api/v1/tasks/3.1/checkins", json=body, headers=county)
    assert response.status_code == 201 and response.get_json()["state"] == "awaiting_head"
    checkin_id = response.get_json()["id"]
    review = client.post(f"/api/v1/checkins/{checkin_id}/review", json={"decision": "approve"}, headers=coordinator)
    assert review.status_code == 409  # not the coordinators' until the head has approved it


def test_an_administrator_makes_a_head_and_turns_the_sign_off_on(
    mini_plan: Flask, client: FlaskClient, make_user
) -> None:
    admin = make_user("admin")
    person = make_user("staff", "市交通运输局")
    department = dept_by_name("市交通运输局")
    _as(client, admin)
    assert "单位负责人" in client.get("/admin/users").get_data(as_text=True)  # the role is offered
    refused = client.post(
        f"/admin/users/{person.id}", data={"role": "head", "department_id": ""}, follow_redirects=True
    )
    assert "单位负责人必须属于一个单位" in refused.get_data(as_text=True)
    client.post(f"/admin/users/{person.id}", data={"role": "head", "department_id": str(department.id)})
    db.session.expire_all()
    assert person.role == "head" and person.department_id == department.id
    page = client.get(f"/admin/departments/{department.id}").get_data(as_text=True)
    assert "报告须经单位负责人审核" in page
    client.post(f"/admin/departments/{department.id}/signoff", data={"required": "1"})
    db.session.expire_all()
    assert department.requires_head_signoff is True
    row = db.session.scalar(db.select(AuditLog).filter_by(entity="department", field="requires_head_signoff"))
    assert row is not None and row.user_id == admin.id
    client.post(f"/admin/departments/{department.id}/signoff", data={})
    db.session.expire_all()
    assert department.requires_head_signoff is False
