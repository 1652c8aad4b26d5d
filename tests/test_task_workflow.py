"""Extensions (延期申请), acknowledging (签收), breaking down (分解), contacts, leaders and signed links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from tracker.extensions import db
from tracker.models import Assignment, AuditLog, CheckIn, Department, ExtensionRequest
from tracker.reminders.links import SESSION_KEY, grant_key

from .conftest import task_by_code


def test_the_lead_asks_for_more_time_and_approval_moves_the_deadline(mini_plan, client: FlaskClient, login) -> None:
    client.application.config["TRACKER_NOW"] = "2026-03-02T10:00:00+08:00"
    login("staff", "市交通运输局")
    early = client.post("/tasks/3.1/extension", data={"new_due": "2030-06-30", "reason": "资金"})
    assert early.status_code == 400 and "应晚于现在的时限" in early.get_data(as_text=True)
    no_reason = client.post("/tasks/3.1/extension", data={"new_due": "2031-06-30", "reason": ""})
    assert no_reason.status_code == 400 and "请填写延期理由" in no_reason.get_data(as_text=True)
    assert (
        client.post("/tasks/3.1/extension", data={"new_due": "2031-06-30", "reason": "资金未到位"}).status_code == 302
    )
    request_row = db.session.scalar(db.select(ExtensionRequest))
    assert request_row is not None and request_row.state == "pending"

    client.post("/logout")
    login("coordinator", "市发展改革委")
    assert "资金未到位" in client.get("/reviews").get_data(as_text=True)
    client.post(f"/extensions/{request_row.id}", data={"decision": "approve", "version_id": "1"})
    task = task_by_code("3.1")
    assert task.due.isoformat() == "2031-06-30" and task.original_due.isoformat() == "2030-12-31"
    changes = db.session.scalars(db.select(AuditLog).filter_by(entity="task", entity_id=task.id, field="due")).all()
    assert any(h.old == "2030-12-31" and h.new == "2031-06-30" and h.action == "extension_approved" for h in changes)
    page = client.get("/tasks/3.1").get_data(as_text=True)
    assert "原定 2030-12-31" in page and "延期申请获同意" in page


def test_no_extension_after_the_deadline_and_supporters_cannot_ask(mini_plan, client: FlaskClient, login) -> None:
    client.application.config["TRACKER_NOW"] = "2031-01-05T10:00:00+08:00"
    login("staff", "市交通运输局")
    late = client.post("/tasks/3.1/extension", data={"new_due": "2031-06-30", "reason": "晚了"})
    assert late.status_code == 400 and "已超过完成时限" in late.get_data(as_text=True)
    client.post("/logout")
    login("staff", "市生态环境局")  # supports 3.1
    assert client.post("/tasks/3.1/extension", data={"new_due": "2031-06-30", "reason": "x"}).status_code == 403


def test_a_department_acknowledges_its_assignment_once_and_coordinators_see_who_has_not(
    mini_plan, client: FlaskClient, login
) -> None:
    staff = login("staff", "市生态环境局")
    assert "待签收" in client.get("/my").get_data(as_text=True)
    assert client.post("/tasks/3.1/acknowledge").status_code == 302
    assert client.post("/tasks/3.1/acknowledge").status_code == 302  # twice changes nothing
    dept = db.session.scalar(db.select(Department).filter_by(name="市生态环境局"))
    assignment = db.session.scalar(db.select(Assignment).filter_by(department_id=dept.id))  # type: ignore[union-attr]
    assert assignment is not None and assignment.acknowledged_by_id == staff.id
    acks = db.session.scalars(
        db.select(AuditLog).filter_by(entity="assignment", entity_id=assignment.id, action="update")
    )
    assert sorted(h.field for h in acks) == ["acknowledged_at", "acknowledged_by_id"]
    client.post("/logout")
    login("coordinator", "市发展改革委")
    pending = client.get("/assignments/pending").get_data(as_text=True)
    assert "市交通运输局" in pending and "市生态环境局" not in pending


def test_the_lead_breaks_its_task_down_into_a_sub_task(mini_plan, client: FlaskClient, login) -> None:
    login("staff", "市交通运输局")
    form = client.get("/tasks/3.1/breakdown").get_data(as_text=True)
    assert "3.1.2" in form
    transport = db.session.scalar(db.select(Department).filter_by(name="市交通运输局"))
    assert transport is not None
    data = {"code": "3.1.2", "label": "三（一）2", "title": "充电桩建设", f"role-{transport.id}": "lead"}
    too_late = client.post("/tasks/3.1/breakdown", data={**data, "due": "2031-01-01"})
    assert too_late.status_code == 400 and "不能晚于上级任务" in too_late.get_data(as_text=True)
    assert client.post("/tasks/3.1/breakdown", data={**data, "due": "2028-06-30"}).status_code == 302
    sub = task_by_code("3.1.2")
    assert sub.parent_id == task_by_code("3.1").id and sub.label == "三（一）2" and sub.due.isoformat() == "2028-06-30"
    assert [(a.department_id, a.role) for a in sub.assignments] == [(transport.id, "lead")]
    assert "充电桩建设" in client.get("/tasks/3.1").get_data(as_text=True)
    assert db.session.scalar(db.select(AuditLog).filter_by(action="breakdown", new="3.1.2")) is not None
    taken = client.post("/tasks/3.1/breakdown", data={**data, "due": "2028-06-30"})
    assert "已被使用" in taken.get_data(as_text=True)


def test_coordinators_edit_contacts_with_history(mini_plan, client: FlaskClient, login) -> None:
    login("coordinator", "市发展改革委")
    dept = db.session.scalar(db.select(Department).filter_by(name="市交通运输局"))
    assert dept is not None
    bad = client.post(f"/departments/{dept.id}/contacts", data={"contact_emails": "不是邮箱", "version_id": "1"})
    assert bad.status_code == 400 and "电子邮件地址无效" in bad.get_data(as_text=True)
    ok = client.post(f"/departments/{dept.id}/contacts", data={"contact_emails": "a@x.cn，b@x.cn", "version_id": "1"})
    assert ok.status_code == 302
    db.session.expire_all()
    assert dept.contact_emails == "a@x.cn,b@x.cn"
    assert db.session.scalar(db.select(AuditLog).filter_by(entity="department", field="contact_emails")) is not None


def test_a_leader_reads_everything_and_changes_nothing(seeded, client: FlaskClient, login) -> None:
    login("leader")
    for url in ["/tasks", "/tasks/3.1", "/reviews", "/assignments/pending"]:
        assert client.get(url).status_code == 200, url
    assert client.get("/my").status_code == 302
    page = client.get("/tasks/3.1").get_data(as_text=True)
    assert "报送进展" not in page and "编辑任务" not in page
    assert client.post("/tasks/3.1/report", data={"status": "done", "percent": "100"}).status_code == 403
    assert client.get("/tasks/3.1/edit").status_code == 403


def test_a_signed_link_grant_opens_the_report_form_without_login(mini_plan, client: FlaskClient) -> None:
    dept = db.session.scalar(db.select(Department).filter_by(name="市生态环境局"))
    assert dept is not None
    expires = (datetime(2030, 1, 1, tzinfo=UTC) + timedelta(days=1)).isoformat()
    with client.session_transaction() as s:
        s[SESSION_KEY] = {grant_key("mini", "3.1"): {"department_id": dept.id, "period": "2026Q1", "expires": expires}}
    page = client.get("/tasks/3.1/report").get_data(as_text=True)
    assert "市生态环境局" in page and "2026年第一季度" in page
    response = client.post(
        "/tasks/3.1/report",
        data={"status": "in_progress", "percent": "5", "narrative": "经邮件链接报送", "action": "submit"},
    )
    assert response.status_code == 302
    checkin = db.session.scalar(db.select(CheckIn))
    assert checkin is not None and checkin.department_id == dept.id and checkin.state == "submitted"
    assert client.get("/tasks/4.1/report").status_code == 302  # the grant opens that one form only
    assert client.get("/tasks/3.1").status_code == 302


def test_coordinators_change_and_add_assignments_with_history_and_locking(mini_plan, client, login) -> None:
    login("coordinator", "市发展改革委")
    task = task_by_code("3.1")
    support = next(a for a in task.assignments if a.role == "support")
    assert "市生态环境局" in client.get("/tasks/3.1/assignments").get_data(as_text=True)
    ok = client.post(
        f"/assignments/{support.id}", data={"role": "responsible", "role_text": "负责", "note": "", "version_id": "1"}
    )
    assert ok.status_code == 302
    stale = client.post(
        f"/assignments/{support.id}",
        data={"role": "lead", "role_text": "牵头", "note": "我的备注", "version_id": "1",
              "original": '{"role": "support", "role_text": "配合", "note": ""}'},
    )  # fmt: skip
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "我的备注" in page and "responsible" in page
    db.session.expire_all()
    assert support.role == "responsible"
    change = db.session.scalar(db.select(AuditLog).filter_by(entity="assignment", entity_id=support.id, field="role"))
    assert change is not None and (change.old, change.new) == ("support", "responsible")

    county = db.session.scalar(db.select(Department).filter_by(name="乙区人民政府"))
    assert county is not None
    added = client.post("/tasks/3.1/assignments", data={"department_id": str(county.id), "role": "implementing"})
    assert added.status_code == 302
    again = client.post("/tasks/3.1/assignments", data={"department_id": str(county.id), "role": "implementing"})
    assert again.status_code == 400 and "已在本任务的责任单位中" in again.get_data(as_text=True)
    assert "乙区人民政府" in client.get("/tasks/3.1").get_data(as_text=True)


def test_the_cli_lists_what_waits_for_review(mini_plan, runner, client, login) -> None:
    login("staff", "市交通运输局")
    client.application.config["TRACKER_NOW"] = "2026-03-02T10:00:00+08:00"
    client.post(
        "/tasks/3.1/report", data={"status": "in_progress", "percent": "5", "narrative": "x", "action": "submit"}
    )
    client.post("/tasks/3.1/extension", data={"new_due": "2031-06-30", "reason": "资金未到位"})
    result = runner.invoke(args=["reports", "queue"])
    assert result.exit_code == 0
    assert "待审核报告 1 份" in result.output and "市交通运输局 · 2026Q1" in result.output
    assert "2030-12-31 → 2031-06-30：资金未到位" in result.output


def test_closing_after_the_original_deadline_counts_as_late_even_when_extended(mini_plan, client, login) -> None:
    from datetime import date

    from tracker.reports.service import closure_label, decide_extension, request_extension

    task = task_by_code("3.1")
    lead = db.session.scalar(db.select(Department).filter_by(name="市交通运输局"))
    assert lead is not None
    now = datetime(2030, 12, 1, 2, 0, tzinfo=UTC)
    rejected = request_extension(task=task, department_id=lead.id, reason="一", new_due=date(2031, 3, 31), now=now,
                                 user_id=None)  # fmt: skip
    decide_extension(request_id=rejected.id, approve=False, comment="理由不充分", now=now, user_id=None, version_id=1)
    assert task_by_code("3.1").due == date(2030, 12, 31)
    granted = request_extension(task=task, department_id=lead.id, reason="二", new_due=date(2031, 6, 30), now=now,
                                user_id=None)  # fmt: skip
    decide_extension(request_id=granted.id, approve=True, comment="", now=now, user_id=None, version_id=1)
    assert task_by_code("3.1").due == date(2031, 6, 30)

    client.application.config["TRACKER_NOW"] = "2031-03-02T10:00:00+08:00"
    login("staff", "市交通运输局")
    # the period named, as 我的任务 names it (without one the form opens the oldest period owed, 2026Q1)
    client.post(
        "/tasks/3.1/report?period=2031Q1",
        data={"status": "done", "percent": "100", "narrative": "完成", "action": "submit"},
    )
    checkin = db.session.scalar(db.select(CheckIn))
    assert checkin is not None and checkin.period == "2031Q1"
    client.post("/logout")
    login("coordinator", "市发展改革委")
    client.post(f"/reviews/{checkin.id}", data={"decision": "approve"})
    task = task_by_code("3.1")
    assert task.closed_on == date(2031, 3, 2) and closure_label(task) == "逾期办结"
    page = client.get("/tasks/3.1").get_data(as_text=True)
    assert "逾期办结" in page and "延期申请被驳回" in page and "理由不充分" in page


def test_a_malformed_date_is_refused_in_chinese(mini_plan, client, login) -> None:
    client.application.config["TRACKER_NOW"] = "2026-03-02T10:00:00+08:00"
    login("staff", "市交通运输局")
    response = client.post("/tasks/3.1/extension", data={"new_due": "明年六月", "reason": "x"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "日期格式应为 2025-06-30" in page and "Not a valid" not in page
    empty = client.post("/tasks/3.1/extension", data={"new_due": "", "reason": "x"}).get_data(as_text=True)
    assert "请填写新的完成时限" in empty


def test_a_sub_task_starts_when_it_is_created(mini_plan, client, login) -> None:
    client.application.config["TRACKER_NOW"] = "2027-05-10T10:00:00+08:00"
    login("staff", "市交通运输局")
    transport = db.session.scalar(db.select(Department).filter_by(name="市交通运输局"))
    assert transport is not None
    data = {
        "code": "3.1.5",
        "label": "三（一）5",
        "title": "场站改造",
        "due": "2028-06-30",
        f"role-{transport.id}": "lead",
    }
    assert client.post("/tasks/3.1/breakdown", data=data).status_code == 302
    sub = task_by_code("3.1.5")
    assert sub.start.isoformat() == "2027-05-10" and sub.reporting_cycle == task_by_code("3.1").reporting_cycle
