"""The sweep and delivery end to end: the real plan, a real SMTP server on loopback, the app clock."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask

from tracker import clock
from tracker.extensions import db
from tracker.models import CheckIn, Department, OutboxMessage, ReminderSent, Review, User, WorkdayOverride
from tracker.reminders import mailer, service

from .reminder_helpers import Inbox, dept, free_port, html_of, only_task, start_smtp, task, text_of


def at(app: Flask, moment: str) -> None:
    app.config["TRACKER_NOW"] = clock.parse_instant(moment)


def sweep_and_send(app: Flask, moment: str) -> tuple[service.SweepReport, mailer.DeliveryReport]:
    at(app, moment)
    report = service.sweep(clock.now())
    return report, mailer.deliver(clock.now(), app.config)


def keys() -> set[str]:
    return set(db.session.scalars(db.select(ReminderSent.key)))


def staff(make_user, department: str, email: str) -> User:  # type: ignore[no-untyped-def]
    return make_user("staff", department, email=email)


class TestDigest:
    def test_a_week_before_the_deadline_each_bureau_gets_one_digest_of_all_its_tasks(
        self, seeded: Flask, smtp: Inbox, make_user
    ) -> None:
        staff(make_user, "市发展改革委", "fgw@test.local")
        staff(make_user, "林州市人民政府", "linzhou@test.local")
        fgw = dept("市发展改革委")
        fgw.contact_emails = "office@fgw.test"
        db.session.commit()

        report, sent = sweep_and_send(seeded, "2025-12-24T09:00")

        assert sent.sent == len(smtp.messages) and sent.failed == 0
        mails = smtp.to("fgw@test.local")
        assert len(mails) == 1  # one email per bureau, never one per task
        mail = mails[0]
        assert "office@fgw.test" in mail["X-Envelope-To"]
        assert mail["Auto-Submitted"] == "auto-generated"
        assert mail["X-Auto-Response-Suppress"] == "All"
        assert mail["Precedence"] == "bulk"
        assert "市发展改革委" in mail["Subject"]
        text, html = text_of(mail), html_of(mail)
        own_tasks = [t for t in fgw.assignments]
        assert own_tasks
        for a in own_tasks:
            assert f"{a.task.label} {a.task.title}" in text
            assert a.task.title in html
        assert "距截止还有 7 天" in text
        assert "贵单位职责：牵头" in text
        assert text.count("/r/") >= len(own_tasks)
        # sorted by due date: the 2022 targets' chasers come before the tasks due 2025-12-31
        assert text.index("2022-12-31") < text.index("2025-12-31")
        assert len(smtp.to("linzhou@test.local")) == 1
        # bureaus without any address are held in the outbox, not dropped
        held = db.session.scalars(db.select(OutboxMessage).filter_by(status="held")).all()
        assert held and all(m.recipients == "" and m.last_error for m in held)
        assert {m.department_id for m in report.queued} >= {fgw.id, dept("市生态环境局").id}

    def test_a_second_sweep_at_the_same_moment_sends_nothing(self, seeded: Flask, smtp: Inbox, make_user) -> None:
        staff(make_user, "市发展改革委", "fgw@test.local")
        sweep_and_send(seeded, "2025-12-24T09:00")
        count = len(smtp.messages)
        report, sent = sweep_and_send(seeded, "2025-12-24T09:00")
        assert report.queued == [] and sent.sent == 0
        # and the next day nothing already sent comes again
        report, _ = sweep_and_send(seeded, "2025-12-25T09:00")
        assert all("距截止还有 7 天" not in m.body_text for m in report.queued)
        assert len(smtp.messages) == count + len([m for m in report.queued if m.status != "held"])

    def test_recipients_are_chosen_per_department(self, seeded: Flask, smtp: Inbox, make_user) -> None:
        staff(make_user, "市发展改革委", "fgw@test.local")
        fgw = dept("市发展改革委")
        fgw.contact_emails = "office@fgw.test"
        fgw.remind_staff = False
        db.session.commit()
        sweep_and_send(seeded, "2025-12-24T09:00")
        assert len(smtp.to("office@fgw.test")) == 1
        assert smtp.to("fgw@test.local") == []

    def test_leadership_gets_one_weekly_digest(self, seeded: Flask, smtp: Inbox, make_user) -> None:
        make_user("leader", None, email="boss@test.local")
        sweep_and_send(seeded, "2025-12-22T09:00")
        sweep_and_send(seeded, "2025-12-24T09:00")
        mails = smtp.to("boss@test.local")
        assert len(mails) == 1 and "督办周报" in mails[0]["Subject"]
        assert "30 天内到期" in text_of(mails[0])
        sweep_and_send(seeded, "2025-12-29T09:00")
        assert len(smtp.to("boss@test.local")) == 2


class TestStages:
    def _deadline_keys(self, code: str) -> set[str]:
        t = task(code)
        return {k for k in keys() if f":task:{t.id}:" in k and k.split(":")[0] in {"deadline", "chase", "escalation"}}

    def test_catch_up_sends_only_the_latest_missed_stage(self, seeded: Flask) -> None:
        t = only_task("3.1", date(2025, 12, 31))
        at(seeded, "2025-12-30T09:00")
        service.sweep(clock.now())
        stages = {k.split(":")[4] for k in self._deadline_keys("3.1")}
        assert stages == {"before-1"}
        assert len({k.split(":")[1] for k in self._deadline_keys("3.1")}) == len(t.assignments)

    def test_each_stage_goes_out_once_30_7_1_and_on_the_day(self, seeded: Flask) -> None:
        only_task("3.1", date(2025, 12, 31))
        for moment in ("2025-12-01", "2025-12-02", "2025-12-24", "2025-12-30", "2025-12-31", "2025-12-31T15:00"):
            at(seeded, moment)
            service.sweep(clock.now())
        lead = dept("市工业和信息化局").id
        own = sorted(k.split(":")[4] for k in self._deadline_keys("3.1") if k.split(":")[1] == str(lead))
        assert own == sorted(["before-30", "before-7", "before-1", "before-0"])

    def test_national_day_moves_the_stage_to_the_next_working_day(self, seeded: Flask) -> None:
        only_task("3.1", date(2024, 10, 31))
        for day in range(1, 8):
            at(seeded, f"2024-10-0{day}")
            service.sweep(clock.now())
        assert self._deadline_keys("3.1") == set()
        at(seeded, "2024-10-08")
        service.sweep(clock.now())
        assert {k.split(":")[4] for k in self._deadline_keys("3.1")} == {"before-30"}

    def test_a_make_up_sunday_sends_reminders(self, seeded: Flask) -> None:
        only_task("3.1", date(2024, 10, 6))
        at(seeded, "2024-09-29")  # Sunday, a 调休 working day
        service.sweep(clock.now())
        assert {k.split(":")[4] for k in self._deadline_keys("3.1")} == {"before-7"}

    def test_a_local_day_off_holds_the_stage(self, seeded: Flask) -> None:
        only_task("3.1", date(2025, 12, 31))
        db.session.add(WorkdayOverride(day=date(2025, 12, 24), is_workday=False, note="本地调整"))
        db.session.commit()
        at(seeded, "2025-12-24")
        service.sweep(clock.now())
        assert self._deadline_keys("3.1") == set()

    def test_chasers_follow_weekly_then_stop(self, seeded: Flask) -> None:
        only_task("3.1", date(2024, 6, 28))
        for day in ("2024-07-01", "2024-07-08", "2024-07-15", "2024-07-22", "2024-07-29", "2024-08-05", "2024-09-02"):
            at(seeded, day)
            service.sweep(clock.now())
        lead = dept("市工业和信息化局").id
        chasers = sorted(k.split(":")[4] for k in self._deadline_keys("3.1") if k.startswith(f"chase:{lead}:"))
        assert chasers == ["after-1", "after-2", "after-3", "after-4"]

    def test_overdue_task_escalates_to_coordinators_once(self, seeded: Flask) -> None:
        t = only_task("3.1", date(2024, 6, 28))
        at(seeded, "2024-07-12")
        service.sweep(clock.now())
        assert not [k for k in keys() if k.startswith("escalation:")]
        for day in ("2024-07-15", "2024-07-16"):
            at(seeded, day)
            service.sweep(clock.now())
        escalations = sorted(k for k in keys() if k.startswith("escalation:"))
        coordinating = db.session.scalars(db.select(Department.id).filter_by(coordinating=True)).all()
        assert escalations == sorted(f"escalation:{c}:task:{t.id}:2024-06-28" for c in coordinating)
        bodies = db.session.scalars(
            db.select(OutboxMessage.body_text).where(OutboxMessage.department_id == coordinating[0])
        ).all()
        assert sum("【逾期督办】" in b for b in bodies) == 1

    def test_a_done_task_gets_nothing(self, seeded: Flask) -> None:
        t = only_task("3.1", date(2025, 12, 31))
        t.status = "done"
        db.session.commit()
        at(seeded, "2025-12-24")
        service.sweep(clock.now())
        assert not [k for k in keys() if f":task:{t.id}:" in k]


class TestCheckins:
    def _checkin_keys(self) -> set[str]:
        return {k for k in keys() if k.startswith("checkin")}

    def test_requests_then_a_chaser_unless_the_report_came(self, seeded: Flask) -> None:
        t = only_task("3.1", date(2025, 12, 31))
        fgw = dept("市发展改革委")
        db.session.add(
            CheckIn(
                task_id=t.id,
                department_id=fgw.id,
                period="2024Q1",
                period_start=date(2024, 1, 1),
                period_end=date(2024, 3, 31),
                state="approved",
                created_at=clock.now(),
            )
        )
        db.session.commit()
        at(seeded, "2024-06-21")
        service.sweep(clock.now())
        assert not [k for k in self._checkin_keys() if k.startswith(f"checkin:{fgw.id}:")]
        at(seeded, "2024-06-24")
        service.sweep(clock.now())
        assert f"checkin:{fgw.id}:task:{t.id}:2024Q2" in keys()
        holders = {a.department_id for a in t.assignments}
        # counties that implement the task are asked too
        assert dept("林州市人民政府").id in holders
        assert {k.split(":")[1] for k in self._checkin_keys() if k.startswith("checkin:")} == {str(h) for h in holders}
        at(seeded, "2024-07-01")
        service.sweep(clock.now())
        assert f"checkin_chase:{fgw.id}:task:{t.id}:2024Q2" in keys()

    def test_a_returned_report_brings_a_note_once(self, seeded: Flask) -> None:
        t = only_task("3.1", date(2025, 12, 31))
        fgw = dept("市发展改革委")
        checkin = CheckIn(
            task_id=t.id,
            department_id=fgw.id,
            period="2024Q2",
            period_start=date(2024, 4, 1),
            period_end=date(2024, 6, 30),
            state="returned",
            created_at=clock.now(),
        )
        db.session.add(checkin)
        db.session.flush()
        db.session.add(Review(checkin_id=checkin.id, decision="return", comment="请补充数据", created_at=clock.now()))
        db.session.commit()
        at(seeded, "2024-06-05")
        service.sweep(clock.now())
        service.sweep(clock.now())
        message = db.session.scalar(db.select(OutboxMessage).filter_by(department_id=fgw.id))
        assert "报送被退回" in message.body_text and "请补充数据" in message.body_text
        assert (
            db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage).filter_by(department_id=fgw.id))
            == 1
        )

    def test_after_the_plan_each_department_gets_one_final_assessment_request(self, seeded: Flask) -> None:
        for day in ("2026-03-02", "2026-03-09"):
            at(seeded, day)
            service.sweep(clock.now())
        finals = [k for k in keys() if k.startswith("final:")]
        holders = {a.department_id for t in db.session.scalars(db.select(service.Task)) for a in t.assignments}
        assert len(finals) == len(holders)
        assert not [k for k in keys() if k.startswith("checkin:")]


class TestDelivery:
    def test_smtp_down_then_up_delivers_every_message_once(self, seeded: Flask, make_user) -> None:
        staff(make_user, "市发展改革委", "fgw@test.local")
        staff(make_user, "市生态环境局", "sthj@test.local")
        port = free_port()
        seeded.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT_SECONDS=2)
        report, down = sweep_and_send(seeded, "2025-12-24T09:00")
        pending = [m for m in report.queued if m.status != "held"]
        assert down.sent == 0 and down.retrying == len(pending) == 2
        row = db.session.get(OutboxMessage, pending[0].id)
        assert row.status == "pending" and row.attempts == 1 and "无法连接" in row.last_error
        assert row.next_attempt_at == clock.now() + timedelta(seconds=60)

        controller, inbox = start_smtp(port)
        try:
            assert mailer.deliver(clock.now(), seeded.config).sent == 0  # backing off: not yet
            at(seeded, "2025-12-24T09:02")
            assert mailer.deliver(clock.now(), seeded.config).sent == 2
            at(seeded, "2025-12-24T10:00")
            assert mailer.deliver(clock.now(), seeded.config).sent == 0
        finally:
            controller.stop()
        assert len(inbox.to("fgw@test.local")) == 1 and len(inbox.to("sthj@test.local")) == 1

    def test_after_the_last_attempt_a_message_is_failed_not_dropped(self, seeded: Flask, make_user) -> None:
        staff(make_user, "市发展改革委", "fgw@test.local")
        seeded.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=2)
        sweep_and_send(seeded, "2025-12-24T09:00")
        at(seeded, "2025-12-24T10:00")
        report = mailer.deliver(clock.now(), seeded.config)
        assert report.failed == 1
        row = db.session.scalar(db.select(OutboxMessage).filter_by(department_id=dept("市发展改革委").id))
        assert row.status == "failed" and row.attempts == 2

    def test_without_a_mail_server_mail_waits_in_the_outbox(self, seeded: Flask, make_user) -> None:
        staff(make_user, "市发展改革委", "fgw@test.local")
        _, sent = sweep_and_send(seeded, "2025-12-24T09:00")
        assert sent.sent == 0 and sent.waiting == 1
        assert "留在发件箱" in sent.summary()

    def test_a_claimed_row_is_not_taken_by_a_second_deliverer_until_its_lease_runs_out(
        self, seeded: Flask, make_user
    ) -> None:
        staff(make_user, "市发展改革委", "fgw@test.local")
        sweep_and_send(seeded, "2025-12-24T09:00")
        first = mailer._claim(clock.now(), 10)
        assert len(first) == 1 and first[0].status == "sending"
        assert mailer._claim(clock.now(), 10) == []
        assert len(mailer._claim(clock.now() + mailer.LEASE, 10)) == 1  # the first deliverer died


def test_two_sweeps_at_once_queue_each_reminder_once(seeded: Flask, make_user) -> None:
    """Two schedulers (or a scheduler and the CLI) sweeping the same moment: nothing is doubled."""
    import threading

    staff(make_user, "市发展改革委", "fgw@test.local")
    at(seeded, "2025-12-24T09:00")
    now = clock.now()
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            with seeded.app_context():
                start.wait()
                results.append(len(service.sweep(now).queued))
                db.session.remove()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    total = db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage))
    assert sum(results) == total
    per_department = db.session.execute(
        db.select(OutboxMessage.department_id, db.func.count()).group_by(OutboxMessage.department_id)
    ).all()
    assert all(count == 1 for _, count in per_department)
    sent_to = db.session.scalar(db.select(db.func.count()).select_from(ReminderSent))
    assert sent_to == db.session.scalar(db.select(db.func.count(db.distinct(ReminderSent.key))))
