"""Leaders' instructions (批示): written by leaders and coordinators, answered by the task's lead
department, tracked (open / answered / overdue), reminded and chased like a deadline."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient

from tracker import clock
from tracker.extensions import db
from tracker.instructions import service
from tracker.models import AuditLog, Instruction, OutboxMessage
from tracker.reminders import service as reminders

from .conftest import PASSWORD, dept_by_name, task_by_code

LEAD = "市交通运输局"  # 3.4's first lead department


def _as(client: FlaskClient, user) -> None:  # type: ignore[no-untyped-def]
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def test_write_answer_and_who_may(seeded: Flask, client: FlaskClient, make_user) -> None:
    leader = make_user("leader")
    lead_staff = make_user("staff", LEAD)
    co_lead_staff = make_user("staff", "市发展改革委")
    _as(client, lead_staff)
    refused = client.post("/tasks/3.4/instructions", data={"text": "抓紧推进", "answer_by": "2024-06-30"})
    assert refused.status_code == 403  # staff do not write 批示

    _as(client, leader)
    page = client.get("/tasks/3.4").get_data(as_text=True)
    assert "作出批示" in page
    for bad, message in [
        ({"text": " ", "answer_by": "2024-06-30"}, "请填写批示内容"),
        ({"text": "抓紧推进", "answer_by": "2024-05-01"}, "答复时限不能早于今天"),
        ({"text": "抓紧推进", "answer_by": "6月30日"}, "日期格式应为"),
        ({"text": "抓紧推进", "answer_by": ""}, "请填写答复时限"),
    ]:
        shown = client.post("/tasks/3.4/instructions", data=bad, follow_redirects=True).get_data(as_text=True)
        assert message in shown
    assert db.session.scalar(db.select(db.func.count(Instruction.id))) == 0  # nothing half-written
    done = client.post(
        "/tasks/3.4/instructions", data={"text": "请加快充电设施建设，报进展。", "answer_by": "2024-06-30"}
    )
    assert done.status_code == 302
    instruction = db.session.scalar(db.select(Instruction))
    assert instruction is not None and instruction.department_id == dept_by_name(LEAD).id
    assert service.state_of(instruction, clock.today()) == "open"
    task = task_by_code("3.4")
    assert db.session.scalar(db.select(AuditLog).filter_by(entity="task", entity_id=task.id, action="instruction"))
    page = client.get("/tasks/3.4").get_data(as_text=True)
    assert "领导批示（1）" in page and "请加快充电设施建设" in page and "待答复" in page and "领导批示" in page

    _as(client, co_lead_staff)  # the other lead department is not the one asked
    assert client.post(f"/instructions/{instruction.id}/answer", data={"text": "好"}).status_code == 403
    _as(client, lead_staff)
    my = client.get("/my").get_data(as_text=True)
    assert "待答复的领导批示（1）" in my
    assert 'name="text"' in client.get("/tasks/3.4").get_data(as_text=True)  # the answer form
    empty = client.post(f"/instructions/{instruction.id}/answer", data={"text": ""}, follow_redirects=True)
    assert "请填写答复内容" in empty.get_data(as_text=True)
    answered = client.post(f"/instructions/{instruction.id}/answer", data={"text": "已新建充电桩 120 个。"})
    assert answered.status_code == 302
    db.session.expire_all()
    assert service.state_of(instruction, clock.today()) == "answered"
    page = client.get("/tasks/3.4").get_data(as_text=True)
    assert "已新建充电桩 120 个。" in page and "已答复" in page and "答复批示" in page  # the answer and its history row
    assert "待答复的领导批示" not in client.get("/my").get_data(as_text=True)


def test_an_unanswered_instruction_is_reminded_then_chased(seeded: Flask, make_user) -> None:
    leader = make_user("leader")
    make_user("staff", LEAD, email="jtj@test.local")
    instruction = service.create(
        task=task_by_code("3.4"), text="请报充电设施进展", answer_by=date(2024, 6, 14), now=clock.now(), user=leader
    )
    reminders.sweep(clock.now(), kinds={"deadline"})  # written: the department hears of it at once

    def newest() -> str:
        return db.session.scalar(
            db.select(OutboxMessage.body_text)
            .filter_by(department_id=dept_by_name(LEAD).id, kind="digest")
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )

    first = newest()
    assert "【领导批示】领导批示：请报充电设施进展（请于 2024-06-14 前答复）" in first
    assert "【到期提醒】领导批示" not in first  # the stage already due when it was written: said by the notice
    seeded.config["TRACKER_NOW"] = clock.parse_instant("2024-06-07T09:00")
    reminders.sweep(clock.now(), kinds={"deadline"})
    assert "领导批示待答复：请报充电设施进展，答复时限 2024-06-14，距截止还有 7 天" in newest()
    seeded.config["TRACKER_NOW"] = clock.parse_instant("2024-06-17T09:00")  # the Monday after the date
    assert service.state_of(instruction, clock.today()) == "overdue"
    reminders.sweep(clock.now(), kinds={"deadline"})
    text = newest()
    assert "领导批示待答复：请报充电设施进展" in text and "已逾期（第 1 次催办）" in text
    seeded.config["TRACKER_NOW"] = clock.parse_instant("2024-07-01T09:00")  # over 14 days late
    reminders.sweep(clock.now(), kinds={"escalation"})
    escalated = db.session.scalar(
        db.select(OutboxMessage.body_text)
        .filter_by(department_id=dept_by_name("市发展改革委").id, kind="digest")  # a coordinating office
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    assert "领导批示逾期 17 天未答复：请报充电设施进展；答复单位：市交通运输局" in escalated
