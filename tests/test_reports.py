"""Departments report progress on the real plan; coordinators return and approve; the task shows it."""

from __future__ import annotations

import io

from flask.testing import FlaskClient

from tracker.extensions import db
from tracker.models import AuditLog, CheckIn, Review, Target, TargetValue

from .conftest import task_by_code

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _target(key: str) -> Target:
    target = db.session.scalar(db.select(Target).filter_by(key=key))
    assert target is not None
    return target


def _report(client: FlaskClient, code: str = "3.1", action: str = "submit", period: str = "", **extra: object):  # type: ignore[no-untyped-def]
    data: dict[str, object] = {
        "status": "in_progress",
        "percent": "40",
        "narrative": "已创建绿色工厂 3 家。",
        "problems": "资金不足",
        "next_steps": "继续推进",
        "action": action,
    }
    data.update(extra)
    url = f"/tasks/{code}/report" + (f"?period={period}" if period else "")
    return client.post(url, data=data, content_type="multipart/form-data")


def test_county_reports_is_returned_fixes_and_is_approved(seeded, client: FlaskClient, login) -> None:
    """The 'done when' walk: 林州 submits 3.1 with a value and a PDF; returned; fixed; approved; shown."""
    staff = login("staff", "林州市人民政府")
    factories = _target("3.1-green-factories")
    # Opened without a period, the form asks for the oldest period 林州 still owes (the due rule);
    # the walk reports the current one, named as a reminder link or 我的任务 names it.
    assert "2021年第一季度" in client.get("/tasks/3.1/report").get_data(as_text=True)
    page = client.get("/tasks/3.1/report?period=2024Q2").get_data(as_text=True)
    assert "2024年第二季度" in page and "创建绿色工厂（园区）" in page

    response = _report(
        client,
        period="2024Q2",
        **{
            f"value-{factories.id}": "3",
            f"source-{factories.id}": "林州市工信局台账",
            "evidence": (io.BytesIO(PDF), "台账.pdf"),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    first = db.session.scalar(db.select(CheckIn))
    assert first is not None and first.state == "submitted" and first.period == "2024Q2"
    assert first.author_id == staff.id
    value = db.session.scalar(db.select(TargetValue))
    assert value is not None
    assert (value.value, value.source, value.checkin_id, value.department_id, value.reporter_id) == (
        3,
        "林州市工信局台账",
        first.id,
        staff.department_id,
        staff.id,
    )

    client.post("/logout")
    login("coordinator", "市发展改革委")
    queue = client.get("/reviews").get_data(as_text=True)
    assert "林州市人民政府" in queue and "重点行业绿色升级工程" in queue
    review_page = client.get(f"/reviews/{first.id}").get_data(as_text=True)
    assert "台账.pdf" in review_page
    assert "林州市工信局台账" in review_page and "创建绿色工厂（园区）" in review_page  # the values reviewed
    refused = client.post(f"/reviews/{first.id}", data={"decision": "return", "comment": ""})
    assert refused.status_code == 400 and "退回时请填写意见" in refused.get_data(as_text=True)
    client.post(f"/reviews/{first.id}", data={"decision": "return", "comment": "请补充工厂名单"})
    db.session.expire_all()
    assert first.state == "returned"

    client.post("/logout")
    login("staff", "林州市人民政府")
    home = client.get("/my").get_data(as_text=True)
    assert "被退回待修改" in home
    form = client.get("/tasks/3.1/report?period=2024Q2").get_data(as_text=True)
    assert "请补充工厂名单" in form and "已创建绿色工厂 3 家。" in form
    response = _report(
        client,
        period="2024Q2",
        narrative="已创建绿色工厂 3 家：甲厂、乙厂、丙厂。",
        checkin_id=str(first.id),
        **{f"value-{factories.id}": "3", f"source-{factories.id}": "林州市工信局台账（附名单）"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    rows = db.session.scalars(db.select(CheckIn).order_by(CheckIn.id)).all()
    assert [c.state for c in rows] == ["returned", "submitted"]
    assert rows[1].supersedes_id == first.id
    assert rows[0].narrative == "已创建绿色工厂 3 家。"  # the returned report is kept as it was

    client.post("/logout")
    login("coordinator", "市发展改革委")
    assert client.post(f"/reviews/{rows[1].id}", data={"decision": "approve", "comment": "同意"}).status_code == 302
    assert len(db.session.scalars(db.select(Review)).all()) == 2
    task = task_by_code("3.1")
    # 林州 implements 3.1 but does not lead it: its approved report does not set the task's status.
    assert task.status == "not_started"
    page = client.get("/tasks/3.1").get_data(as_text=True)
    assert "甲厂、乙厂、丙厂" in page and "林州市工信局台账（附名单）" in page and "请补充工厂名单" in page


def test_approving_the_primary_departments_report_sets_status_and_history(seeded, client: FlaskClient, login) -> None:
    login("staff", "市工业和信息化局")  # responsible on 3.1, which names no lead
    assert _report(client, percent="60").status_code == 302
    checkin = db.session.scalar(db.select(CheckIn))
    assert checkin is not None
    client.post("/logout")
    login("coordinator", "市发展改革委")
    client.post(f"/reviews/{checkin.id}", data={"decision": "approve"})
    task = task_by_code("3.1")
    assert (task.status, task.progress) == ("in_progress", 60)
    history = db.session.scalars(db.select(AuditLog).filter_by(entity="task", entity_id=task.id)).all()
    assert {(h.field, h.old, h.new) for h in history} >= {
        ("status", "not_started", "in_progress"),
        ("progress", "0", "60"),
    }
    listing = client.get("/tasks").get_data(as_text=True)
    assert "推进中" in listing and "60%" in listing
    page = client.get("/tasks/3.1").get_data(as_text=True)
    assert "变更历史" in page and "未启动" in page and "进度" in page


def test_a_lead_reporting_done_applies_to_close_and_approval_closes_the_task(mini_plan, client, login) -> None:
    login("staff", "市交通运输局")  # lead of mini 3.1 (due 2030)
    client.application.config["TRACKER_NOW"] = "2026-06-03T10:00:00+08:00"
    assert _report(client, status="done", percent="100").status_code == 302
    checkin = db.session.scalar(db.select(CheckIn))
    assert checkin is not None
    client.post("/logout")
    login("coordinator", "市发展改革委")
    assert "办结申请" in client.get("/reviews").get_data(as_text=True)
    client.post(f"/reviews/{checkin.id}", data={"decision": "approve"})
    task = task_by_code("3.1")
    assert task.status == "done" and task.progress == 100
    assert task.closed_on is not None and task.closed_on.isoformat() == "2026-06-03"
    assert "按期办结" in client.get("/tasks/3.1").get_data(as_text=True)


def test_a_draft_is_edited_in_place_and_seen_only_by_its_department(seeded, client: FlaskClient, login) -> None:
    login("staff", "林州市人民政府")
    assert _report(client, action="draft", narrative="").status_code == 302
    draft = db.session.scalar(db.select(CheckIn))
    assert draft is not None and draft.state == "draft"
    again = _report(client, action="draft", percent="50", checkin_id=str(draft.id), version_id=str(draft.version_id))
    assert again.status_code == 302
    assert len(db.session.scalars(db.select(CheckIn)).all()) == 1
    db.session.expire_all()
    assert draft.percent == 50
    assert "草稿" in client.get("/my").get_data(as_text=True)
    client.post("/logout")
    login("staff", "市发展改革委")
    assert "资金不足" not in client.get("/tasks/3.1").get_data(as_text=True)


def test_invalid_input_is_refused_in_chinese_and_kept(seeded, client: FlaskClient, login) -> None:
    login("staff", "林州市人民政府")
    factories = _target("3.1-green-factories")
    response = _report(
        client, percent="120", narrative="", **{f"value-{factories.id}": "很多", f"source-{factories.id}": "台账X"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "完成百分比应为 0 到 100 之间的整数" in page
    assert "提交前请填写进展情况" in page
    assert "应为数字：" in page  # the rule of tracker/numbers.py
    assert "台账X" in page and "资金不足" in page
    assert db.session.scalar(db.select(CheckIn)) is None


def test_staff_report_only_for_tasks_their_department_holds(seeded, client: FlaskClient, login) -> None:
    login("staff", "市教育局")
    assert client.get("/tasks/3.1/report").status_code == 403
    assert _report(client).status_code == 403
    assert client.get("/tasks/3.1").status_code == 200  # but they see every task


def test_a_report_for_a_period_of_another_cycle_is_refused(seeded, client: FlaskClient, login) -> None:
    login("staff", "林州市人民政府")
    response = client.get("/tasks/3.1/report?period=2024-05")
    assert response.status_code == 400 and "按季报报送" in response.get_data(as_text=True)
    assert "2024年第一季度" in client.get("/tasks/3.1/report?period=2024Q1").get_data(as_text=True)


def test_staff_land_on_their_department_home_and_others_on_the_dashboard(seeded, client, login) -> None:
    login("staff", "林州市人民政府")
    assert client.get("/").headers["Location"].endswith("/my")
    home = client.get("/my").get_data(as_text=True)
    # a county owes its consolidated 落实 report, not one report per measure (tasks.duties)
    assert "林州市人民政府" in home and "落实报告" in home and "本期待报送" not in home
    client.post("/logout")
    login("staff", "市发展改革委")
    assert "本期待报送" in client.get("/my").get_data(as_text=True)
    client.post("/logout")
    login("coordinator", "市发展改革委")
    assert client.get("/").headers["Location"].endswith("/dashboard")


def test_a_late_report_for_an_earlier_period_does_not_roll_the_status_back(mini_plan, client, login) -> None:
    login("staff", "市交通运输局")
    client.application.config["TRACKER_NOW"] = "2026-06-03T10:00:00+08:00"
    assert _report(client, percent="50", period="2026Q2").status_code == 302
    assert _report(client, percent="20", period="2026Q2").status_code == 409  # already submitted for 2026Q2
    late = client.post(
        "/tasks/3.1/report?period=2026Q1",
        data={"status": "lagging", "percent": "20", "narrative": "补报一季度", "action": "submit"},
    )
    assert late.status_code == 302
    client.post("/logout")
    login("coordinator", "市发展改革委")
    q2, q1 = db.session.scalars(db.select(CheckIn).order_by(CheckIn.id)).all()
    client.post(f"/reviews/{q2.id}", data={"decision": "approve"})
    client.post(f"/reviews/{q1.id}", data={"decision": "approve"})
    task = task_by_code("3.1")
    assert (task.status, task.progress) == ("in_progress", 50)


def test_after_the_deadline_the_form_asks_for_the_oldest_period_still_owed(mini_plan, client, login) -> None:
    # Changed with issue 12 (one due rule): the form used to open the task's last period whatever was
    # owed; it opens the oldest period the department has not reported, as 我的任务 and reminders do.
    login("staff", "市交通运输局")
    client.application.config["TRACKER_NOW"] = "2031-02-01T10:00:00+08:00"
    assert "2026年第一季度" in client.get("/tasks/3.1/report").get_data(as_text=True)
    assert _report(client, period="2026Q1").status_code == 302
    assert "2026年第二季度" in client.get("/tasks/3.1/report").get_data(as_text=True)


def test_tampered_choices_are_refused_in_chinese(mini_plan, client: FlaskClient, login) -> None:
    login("staff", "市交通运输局")
    page = _report(client, status="finished").get_data(as_text=True)
    assert "请选择状态" in page and "Not a valid" not in page
    assert _report(client).status_code == 302
    checkin = db.session.scalar(db.select(CheckIn))
    assert checkin is not None
    client.post("/logout")
    login("coordinator", "市发展改革委")
    response = client.post(f"/reviews/{checkin.id}", data={"decision": "maybe"})
    assert response.status_code == 400 and "请选择通过或退回" in response.get_data(as_text=True)
