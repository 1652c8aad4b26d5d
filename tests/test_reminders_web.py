"""The signed link from a reminder, the outbox and jobs pages, and the CLI sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tracker import clock
from tracker.extensions import db
from tracker.models import JobSetting, OutboxMessage
from tracker.reminders.links import SESSION_KEY, make_token

from .conftest import dept_by_name, task_by_code


def _link_token(app: Flask, **overrides: object) -> str:
    values = {"department_id": dept_by_name("市发展改革委").id, "task_code": "3.7", "period": "2025Q4", "plan_key": "k"}
    values.update(overrides)
    return make_token(app.config["SECRET_KEY"], now=clock.now(), **values)  # type: ignore[arg-type]


class TestSignedLink:
    def test_following_a_link_stores_the_grant_and_opens_the_report_form(self, seeded: Flask, client: FlaskClient):
        response = client.get("/r/" + _link_token(seeded))
        assert response.status_code == 302
        assert response.headers["Location"] == "/tasks/3.7/report?period=2025Q4&plan=k"  # the link's plan
        with client.session_transaction() as session:
            grant = session[SESSION_KEY]["k/3.7"]
        assert grant["department_id"] == dept_by_name("市发展改革委").id and grant["period"] == "2025Q4"

    def test_an_expired_link_says_so_and_offers_the_login(self, seeded: Flask, client: FlaskClient) -> None:
        token = _link_token(seeded)
        seeded.config["TRACKER_NOW"] = clock.now() + timedelta(days=15)
        response = client.get("/r/" + token)
        assert response.status_code == 410
        page = response.get_data(as_text=True)
        assert "链接已过期" in page and 'href="/login"' in page
        with client.session_transaction() as session:
            assert SESSION_KEY not in session

    def test_a_tampered_link_is_refused(self, seeded: Flask, client: FlaskClient) -> None:
        response = client.get("/r/" + _link_token(seeded)[:-3] + "abc")
        assert response.status_code == 400 and "链接无效" in response.get_data(as_text=True)

    def test_the_link_in_a_digest_opens_its_task(self, seeded: Flask, client: FlaskClient, make_user) -> None:
        from tracker.reminders import service

        make_user("staff", "市发展改革委", email="fgw@test.local")
        seeded.config["TRACKER_NOW"] = clock.parse_instant("2025-12-24")
        service.sweep(clock.now())
        body = db.session.scalar(
            db.select(OutboxMessage.body_text).filter_by(department_id=dept_by_name("市发展改革委").id)
        )
        link = next(
            line.split("：", 1)[1] for line in body.splitlines() if "填报链接" in line and "三（七）" not in line
        )
        response = client.get(link.replace(seeded.config["BASE_URL"], ""))
        assert response.status_code == 302 and response.headers["Location"].startswith("/tasks/")
        assert task_by_code(response.headers["Location"].split("/")[2]) is not None


class TestAdminPages:
    @pytest.mark.parametrize("role", ["staff", "leader"])
    def test_staff_and_leaders_may_not_see_them(self, seeded: Flask, client: FlaskClient, login, role: str) -> None:
        login(role, "市发展改革委" if role == "staff" else None)
        assert client.get("/admin/outbox").status_code == 403
        assert client.get("/admin/jobs").status_code == 403
        assert client.post("/admin/jobs/sweep", data={"action": "pause"}).status_code == 403

    def test_coordinators_read_the_outbox_by_department_and_one_message(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        from tracker.reminders import service

        seeded.config["TRACKER_NOW"] = clock.parse_instant("2025-12-24")
        service.sweep(clock.now())
        login("coordinator", "市发展改革委")
        page = client.get("/admin/outbox").get_data(as_text=True)
        assert "【督办提醒】市发展改革委" in page and "【督办提醒】市生态环境局" in page
        assert "提醒与发件箱" in page  # the nav link
        fgw = dept_by_name("市发展改革委")
        page = client.get(f"/admin/outbox?department={fgw.id}").get_data(as_text=True)
        assert "【督办提醒】市发展改革委" in page and "【督办提醒】市生态环境局" not in page
        message = db.session.scalar(db.select(OutboxMessage).filter_by(department_id=fgw.id))
        page = client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
        assert "三（七）" in page and "srcdoc" in page

    def test_admins_pause_resume_run_and_reschedule_jobs(self, seeded: Flask, client: FlaskClient, login) -> None:
        login("admin")
        page = client.get("/admin/jobs").get_data(as_text=True)
        assert "每日提醒" in page and "进展报送通知：市发展改革委" in page
        job = f"checkin:{dept_by_name('市发展改革委').id}"
        client.post(f"/admin/jobs/{job}", data={"action": "pause"})
        client.post(f"/admin/jobs/{job}", data={"action": "run"})
        client.post(f"/admin/jobs/{job}", data={"action": "cron", "cron": "30 8 * * mon"})
        setting = db.session.get(JobSetting, job)
        assert setting.paused and setting.run_now and setting.cron == "30 8 * * mon"
        response = client.post(
            f"/admin/jobs/{job}", data={"action": "cron", "cron": "every day"}, follow_redirects=True
        )
        assert "无效的执行周期" in response.get_data(as_text=True)
        client.post(f"/admin/jobs/{job}", data={"action": "resume"})
        db.session.expire_all()
        assert not db.session.get(JobSetting, job).paused


class TestSweepCommand:
    def test_sweep_at_a_moment_queues_and_a_second_run_sends_nothing(
        self, seeded: Flask, runner: FlaskCliRunner
    ) -> None:
        first = runner.invoke(args=["reminders", "sweep", "--at", "2025-12-24T09:00"])
        assert first.exit_code == 0, first.output
        assert "2025-12-24：新排入发件箱" in first.output and "【督办提醒】市发展改革委" in first.output
        count = db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage))
        second = runner.invoke(args=["reminders", "sweep", "--at", "2025-12-24T09:00"])
        assert "新排入发件箱 0 封" in second.output
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == count

    def test_a_bad_moment_is_a_clear_error(self, seeded: Flask, runner: FlaskCliRunner) -> None:
        result = runner.invoke(args=["reminders", "sweep", "--at", "yesterday"])
        assert result.exit_code != 0 and "不是有效的日期" in result.output


def test_a_held_digest_goes_out_once_the_department_has_an_address(seeded: Flask, client: FlaskClient, login) -> None:
    from tracker.reminders import service

    seeded.config["TRACKER_NOW"] = clock.parse_instant("2025-12-24")
    service.sweep(clock.now())
    gxj = dept_by_name("市工业和信息化局")
    message = db.session.scalar(db.select(OutboxMessage).filter_by(department_id=gxj.id))
    assert message.status == "held"
    login("coordinator", "市发展改革委")
    assert "暂存" in client.get(f"/admin/outbox?status=held&department={gxj.id}").get_data(as_text=True)
    gxj.contact_emails = "office@gxj.test"
    db.session.commit()
    client.post(f"/admin/outbox/{message.id}/retry")
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message.id)
    assert message.status == "pending" and message.recipients == "office@gxj.test"


def test_coordinators_choose_who_receives_a_departments_reminders(seeded: Flask, client: FlaskClient, login) -> None:
    from tracker.models import AuditLog

    login("coordinator", "市发展改革委")
    gxj = dept_by_name("市工业和信息化局")
    assert "市工业和信息化局" in client.get("/admin/recipients").get_data(as_text=True)
    form = {"contact_emails": "A@gxj.test， b@gxj.test", "remind_contacts": "1", "version": gxj.version_id}
    client.post(f"/admin/recipients/{gxj.id}", data=form)
    db.session.expire_all()
    gxj = dept_by_name("市工业和信息化局")
    assert gxj.contact_emails == "a@gxj.test,b@gxj.test" and gxj.remind_contacts and not gxj.remind_staff
    assert db.session.scalar(db.select(AuditLog).filter_by(entity="department", field="remind_staff")) is not None
    stale = client.post(f"/admin/recipients/{gxj.id}", data={**form, "version": gxj.version_id - 1})
    assert stale.status_code == 409
    bad = client.post(
        f"/admin/recipients/{gxj.id}",
        data={**form, "contact_emails": "nobody", "version": gxj.version_id},
        follow_redirects=True,
    )
    assert "电子邮件地址无效" in bad.get_data(as_text=True)


def test_coordinators_declare_local_working_days_and_days_off(seeded: Flask, client: FlaskClient, login) -> None:
    from datetime import date

    from tracker.tasks.queries import city_workdays

    login("coordinator", "市发展改革委")
    page = client.get("/admin/workdays").get_data(as_text=True)
    assert "2004–2026" in page
    client.post("/admin/workdays", data={"day": "2027-10-01", "is_workday": "0", "note": "国庆节"})
    assert not city_workdays().is_workday(date(2027, 10, 1))
    assert "国庆节" in client.get("/admin/workdays").get_data(as_text=True)
    client.post("/admin/workdays", data={"day": "2027-10-01", "action": "remove"})
    assert city_workdays().is_workday(date(2027, 10, 1))
    assert "有效日期" in client.post("/admin/workdays", data={"day": "x"}, follow_redirects=True).get_data(as_text=True)
