"""The one submission service: the web form and the API take the same path, a report is stored whole
or not at all, the period is the due rule's, and the database keeps one live report per period."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import IntegrityError

from tracker import clock
from tracker.api.tokens import create_token
from tracker.errors import ConflictError
from tracker.extensions import db
from tracker.models import Attachment, AuditLog, CheckIn, Department, OutboxMessage, Target, TargetValue, Task
from tracker.reminders.links import make_token
from tracker.reports import attachments, service
from tracker.reports.submission import PERCENT_RANGE, Reporter, Submission, submit_report
from tracker.tasks.periods import parse_period

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
REPORT = {"status": "in_progress", "percent": 30, "narrative": "完成 12 辆新能源公交车采购。"}


@pytest.fixture
def bearer(make_user):  # type: ignore[no-untyped-def]
    def make(role: str = "leader", department: str | None = None) -> dict[str, str]:
        _token, secret = create_token(make_user(role, department), "测试", now=clock.now())
        return {"Authorization": f"Bearer {secret}"}

    return make


def _one(model: Any, **by: Any) -> Any:
    row = db.session.scalar(db.select(model).filter_by(**by))
    assert row is not None, by
    return row


def _count(model: Any) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model)) or 0


def _files(app: Flask) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return [p for p in folder.iterdir() if p.is_file()] if folder.exists() else []


class TestStoredWholeOrNotAtAll:
    def test_when_the_evidence_store_fails_nothing_is_submitted_and_no_file_is_left(
        self, mini_plan: Flask, client: FlaskClient, login, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        login("staff", "市交通运输局")
        bus = _one(Target, key="3.1-bus")
        real_store = attachments.store_attachment
        calls: list[str] = []

        def store_then_fail(**kwargs: Any) -> Attachment:
            calls.append(kwargs["filename"])
            if len(calls) == 2:  # the first file is written, the second cannot be
                raise OSError("disk full")
            return real_store(**kwargs)

        monkeypatch.setattr(attachments, "store_attachment", store_then_fail)
        response = client.post(
            "/tasks/3.1/report",
            data={
                "status": "in_progress",
                "percent": "40",
                "narrative": "附两份台账",
                "action": "submit",
                f"value-{bus.id}": "35",
                f"source-{bus.id}": "市交通运输局台账",
                "evidence": [(io.BytesIO(PDF), "一.pdf"), (io.BytesIO(PDF), "二.pdf")],
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 503
        page = response.get_data(as_text=True)
        assert "佐证材料未能保存" in page and "附两份台账" in page  # said, and the input kept
        assert calls == ["一.pdf", "二.pdf"]
        db.session.expire_all()
        assert (_count(CheckIn), _count(TargetValue), _count(Attachment)) == (0, 0, 0)
        assert db.session.scalar(db.select(AuditLog).filter_by(entity="check_in")) is None
        assert _files(mini_plan) == []  # the first file went with the rollback

    def test_a_report_with_evidence_is_stored_in_one_commit(
        self, mini_plan: Flask, client: FlaskClient, login, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        login("staff", "市交通运输局")
        commits: list[int] = []
        real_commit = db.session.commit
        monkeypatch.setattr(db.session, "commit", lambda: (commits.append(1), real_commit())[1])
        response = client.post(
            "/tasks/3.1/report",
            data={**{k: str(v) for k, v in REPORT.items()}, "action": "submit", "evidence": (io.BytesIO(PDF), "a.pdf")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 302
        assert len(commits) == 1
        checkin = _one(CheckIn, state="submitted")
        assert _one(Attachment, checkin_id=checkin.id).filename == "a.pdf"
        assert len(_files(mini_plan)) == 1


class TestOneRuleOneMessage:
    def test_the_form_and_the_api_word_a_broken_rule_the_same_way(
        self, mini_plan: Flask, client: FlaskClient, login, bearer
    ) -> None:
        staff = bearer("staff", "市交通运输局")
        api = client.post("/api/v1/tasks/3.1/checkins", json={**REPORT, "percent": 101}, headers=staff)
        assert api.status_code == 422
        assert api.get_json()["error"]["fields"] == {"percent": PERCENT_RANGE}
        login("staff", "市交通运输局")
        page = client.post("/tasks/3.1/report", data={"status": "in_progress", "percent": "101", "action": "submit"})
        assert page.status_code == 400 and PERCENT_RANGE in page.get_data(as_text=True)
        bus = _one(Target, key="3.1-bus")
        page = client.post(
            "/tasks/3.1/report",
            data={**REPORT, "action": "submit", f"value-{bus.id}": "1e309", f"source-{bus.id}": "台账"},
        )
        api = client.post(
            "/api/v1/tasks/3.1/checkins",
            json={**REPORT, "values": [{"target_key": "3.1-bus", "value": 1e308 * 10, "source": "台账"}]},
            headers=staff,
        )
        assert page.status_code == 400 and "实际值应为有限的数字" in page.get_data(as_text=True)
        assert api.status_code == 422 and api.get_json()["error"]["fields"]["values[0].value"].startswith(
            "实际值应为有限的数字"
        )
        assert _count(CheckIn) == 0


class TestThePeriod:
    def test_without_a_period_the_oldest_period_owed_is_reported(
        self, mini_plan: Flask, client: FlaskClient, bearer
    ) -> None:
        mini_plan.config["TRACKER_NOW"] = "2026-08-03T10:00:00+08:00"  # 2026Q1 and Q2 are requested
        staff = bearer("staff", "市交通运输局")
        first = client.post("/api/v1/tasks/3.1/checkins", json=REPORT, headers=staff)
        assert first.status_code == 201 and first.get_json()["period"] == "2026Q1"
        second = client.post("/api/v1/tasks/3.1/checkins", json=REPORT, headers=staff)
        assert second.status_code == 201 and second.get_json()["period"] == "2026Q2"
        # a draft is not a report: the period stays owed
        draft = client.post("/api/v1/tasks/3.1/checkins", json={**REPORT, "submit": False}, headers=staff)
        assert draft.status_code == 201 and draft.get_json()["period"] == "2026Q3"

    def test_a_period_outside_the_reporting_window_is_refused(
        self, mini_plan: Flask, client: FlaskClient, login, bearer
    ) -> None:
        staff = bearer("staff", "市交通运输局")
        for key in ("2099Q1", "1900Q1", "2025Q4"):
            response = client.post("/api/v1/tasks/3.1/checkins", json={**REPORT, "period": key}, headers=staff)
            assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"period"}
        login("staff", "市交通运输局")
        response = client.get("/tasks/3.1/report?period=2099Q1")
        assert response.status_code == 400 and "不在本任务的报送期限内" in response.get_data(as_text=True)
        assert client.get("/tasks/3.1/report?period=2030Q4").status_code == 200
        assert _count(CheckIn) == 0


class TestOneLiveReport:
    def test_the_database_refuses_a_second_live_report_for_a_period(self, mini_plan: Flask) -> None:
        task, dept = _one(Task, code="3.1"), _one(Department, name="市交通运输局")

        def row(state: str) -> CheckIn:
            return CheckIn(
                task_id=task.id,
                department_id=dept.id,
                period="2026Q1",
                period_start=parse_period("2026Q1").start,
                period_end=parse_period("2026Q1").end,
                state=state,
                created_at=clock.now(),
            )

        db.session.add_all([row("returned"), row("returned"), row("draft")])
        db.session.commit()  # returned reports may repeat: each was superseded by its fix
        db.session.add(row("submitted"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert _count(CheckIn) == 3

    def test_two_first_saves_at_once_make_one_report_and_one_conflict(
        self, mini_plan: Flask, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Both writers read "no report yet" before either writes (the row lock is taken out, so only
        the database's unique index stands between them), on SQLite and PostgreSQL."""
        task_id = _one(Task, code="3.1").id
        dept_id = _one(Department, name="市交通运输局").id
        db.session.remove()
        barrier = threading.Barrier(2, timeout=10)
        real_latest = service.latest_checkin
        waited: set[str] = set()

        def latest_then_wait(*args: Any) -> CheckIn | None:
            found = real_latest(*args)
            name = threading.current_thread().name
            if name not in waited:  # only the first read: the one that decides "create"
                waited.add(name)
                barrier.wait()
            return found

        monkeypatch.setattr(service, "_lock_task", lambda task_id: None)
        monkeypatch.setattr(service, "latest_checkin", latest_then_wait)
        results: dict[str, str] = {}

        def writer(name: str) -> None:
            with mini_plan.app_context():
                task = db.session.get(Task, task_id)
                department = db.session.get(Department, dept_id)
                assert task is not None and department is not None
                try:
                    submit_report(
                        task=task,
                        reporter=Reporter(department, None),
                        period=parse_period("2026Q1"),
                        submission=Submission("in_progress", 10, f"{name} 的初稿", submit=False),
                        now=clock.now(),
                        folder=mini_plan.config["UPLOAD_FOLDER"],
                        max_mb=1,
                    )
                    results[name] = "saved"
                except ConflictError as exc:
                    results[name] = "conflict: " + str(exc)
                except Exception as exc:
                    results[name] = f"error: {exc!r}"
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=writer, args=(n,), name=n) for n in ("甲", "乙")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        outcomes = sorted(r.split(":")[0] for r in results.values())
        assert outcomes == ["conflict", "saved"], results
        assert "本单位已有人先保存了本期报告" in next(r for r in results.values() if r.startswith("conflict"))
        assert _count(CheckIn) == 1

    def test_a_save_that_loses_the_race_answers_409_on_the_form_and_the_api(
        self, mini_plan: Flask, client: FlaskClient, login, bearer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The colleague's draft lands between our read and our write: the index refuses ours."""
        staff = bearer("staff", "市交通运输局")
        assert (
            client.post("/api/v1/tasks/3.1/checkins", json={**REPORT, "submit": False}, headers=staff).status_code
            == 201
        )
        real_latest = service.latest_checkin
        blind: list[int] = []

        def not_yet_there(*args: Any) -> CheckIn | None:
            if not blind:  # the first read misses the colleague's draft, as it would a moment earlier
                blind.append(1)
                return None
            return real_latest(*args)

        monkeypatch.setattr(service, "latest_checkin", not_yet_there)
        monkeypatch.setattr(service, "_lock_task", lambda task_id: None)
        api = client.post("/api/v1/tasks/3.1/checkins", json={**REPORT, "submit": False}, headers=staff)
        assert api.status_code == 409 and api.get_json()["error"]["code"] == "conflict"
        assert api.get_json()["error"]["message"] == "本单位已有人先保存了本期报告，请核对后重新保存。"
        blind.clear()
        login("staff", "市交通运输局")
        page = client.post(
            "/tasks/3.1/report?period=2026Q1",
            data={"status": "in_progress", "percent": "9", "narrative": "我的版本", "action": "save"},
        )
        assert page.status_code == 409
        assert "本单位已有人先保存了本期报告" in page.get_data(as_text=True) and "我的版本" in page.get_data(
            as_text=True
        )
        assert _count(CheckIn) == 1


class TestDraftsStayHome:
    def test_the_api_targets_show_a_draft_value_only_to_its_department(
        self, mini_plan: Flask, client: FlaskClient, bearer
    ) -> None:
        owner = bearer("staff", "市交通运输局")
        draft = {**REPORT, "submit": False, "values": [{"target_key": "3.1-bus", "value": 42, "source": "草稿台账"}]}
        assert client.post("/api/v1/tasks/3.1/checkins", json=draft, headers=owner).status_code == 201

        def bus_values(headers: dict[str, str]) -> list[Any]:
            rows = client.get("/api/v1/plans/mini/targets", headers=headers).get_json()
            return next(t for t in rows if t["key"] == "3.1-bus")["values"]

        assert [v["source"] for v in bus_values(owner)] == ["草稿台账"]
        for other in (bearer("leader"), bearer("staff", "市发展改革委"), bearer("coordinator", "市生态环境局")):
            assert bus_values(other) == []
        sent = {**draft, "submit": True, "version_id": 1}
        assert client.post("/api/v1/tasks/3.1/checkins", json=sent, headers=owner).status_code == 201
        assert [v["source"] for v in bus_values(bearer("leader"))] == ["草稿台账"]  # submitted: seen

    def test_the_task_page_and_the_api_checkins_keep_a_draft_home(
        self, mini_plan: Flask, client: FlaskClient, bearer, login
    ) -> None:
        owner = bearer("staff", "市交通运输局")
        body = {**REPORT, "narrative": "尚未定稿的内容", "submit": False}
        assert client.post("/api/v1/tasks/3.1/checkins", json=body, headers=owner).status_code == 201
        listed = client.get("/api/v1/plans/mini/checkins", headers=bearer("leader")).get_json()
        assert listed == [] or all(c["state"] != "draft" for c in listed)
        login("staff", "市发展改革委")
        assert "尚未定稿的内容" not in client.get("/tasks/3.1").get_data(as_text=True)
        client.post("/logout")
        login("staff", "市交通运输局")
        assert "尚未定稿的内容" in client.get("/tasks/3.1").get_data(as_text=True)


class TestReminderLinks:
    def _digest_with_link(self, app: Flask, department: Department) -> tuple[OutboxMessage, str]:
        token = make_token(
            app.config["SECRET_KEY"],
            department_id=department.id,
            task_code="3.1",
            period="2026Q1",
            plan_key="mini",
            now=clock.now(),
        )
        link = app.config["BASE_URL"] + "/r/" + token
        message = OutboxMessage(
            dedupe_key=f"digest:{department.id}:test",
            kind="digest",
            department_id=department.id,
            recipients="sthj@example.gov.cn",
            subject="【督办提醒】",
            body_text=f"三（一）填报链接：{link}",
            body_html=f'<a href="{link}">填报</a>',
            status="pending",
            created_at=clock.now(),
        )
        db.session.add(message)
        db.session.commit()
        return message, token

    def test_a_link_opens_its_own_report_only_and_the_report_says_where_it_came_from(
        self, mini_plan: Flask, client: FlaskClient, login
    ) -> None:
        department = _one(Department, name="市生态环境局")
        message, token = self._digest_with_link(mini_plan, department)
        assert client.get("/r/" + token).status_code == 302
        assert client.get("/tasks/3.1/report?period=2026Q2").status_code == 403  # ?period= cannot move it
        refused = client.post(
            "/tasks/3.1/report?period=2026Q2",
            data={"status": "in_progress", "percent": "5", "narrative": "换个报送期", "action": "submit"},
        )
        assert refused.status_code == 403 and _count(CheckIn) == 0
        assert client.get("/tasks/4.1/report").status_code == 302  # another task: log in first
        page = client.get("/tasks/3.1/report").get_data(as_text=True)
        assert "市生态环境局" in page and "2026年第一季度" in page
        sent = client.post(
            "/tasks/3.1/report",
            data={"status": "in_progress", "percent": "5", "narrative": "经邮件链接报送", "action": "submit"},
        )
        assert sent.status_code == 302
        checkin = _one(CheckIn, state="submitted")
        assert (checkin.department_id, checkin.period, checkin.author_id) == (department.id, "2026Q1", None)
        assert (checkin.via_link, checkin.via_link_message_id) == (True, message.id)
        audit = _one(AuditLog, entity="check_in", action="submit")
        assert audit.actor == f"reminder-link:{department.id}:{message.id}"

        login("coordinator", "市发展改革委")
        assert "经提醒链接报送（市生态环境局）" in client.get("/tasks/3.1").get_data(as_text=True)
        assert "经提醒链接报送（市生态环境局）" in client.get(f"/reviews/{checkin.id}").get_data(as_text=True)

    def test_the_outbox_never_shows_a_usable_link(self, mini_plan: Flask, client: FlaskClient, login) -> None:
        message, token = self._digest_with_link(mini_plan, _one(Department, name="市生态环境局"))
        login("admin")
        page = client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
        assert token not in page and token[:20] not in page
        assert "/r/" + token[:6] + "…" in page  # still recognisable as the link it was
        assert message.body_text.endswith(token)  # what is sent is untouched


def test_a_draft_is_seen_on_no_page_export_or_api_of_anyone_else(
    mini_plan: Flask, client: FlaskClient, login, bearer
) -> None:
    """Every surface that reads reports or values, as a leader, a coordinator and another department."""
    owner = login("staff", "市交通运输局")
    bus = _one(Target, key="3.1-bus")
    saved = client.post(
        "/tasks/3.1/report?period=2026Q1",
        data={
            "status": "in_progress",
            "percent": "40",
            "narrative": "草稿机密进展",
            "action": "save",
            f"value-{bus.id}": "77.5",
            f"source-{bus.id}": "草稿机密来源",
            "evidence": (io.BytesIO(PDF), "草稿机密.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302
    draft = _one(CheckIn, state="draft")
    attachment = _one(Attachment, checkin_id=draft.id)
    assert "草稿机密进展" in client.get("/tasks/3.1").get_data(as_text=True)  # its own department sees it
    client.post("/logout")
    pages = ["/dashboard", "/matrix", "/matrix.csv", "/targets", "/counties", "/assessment", "/tasks", "/tasks/3.1"]
    pages.append(f"/departments/{owner.department_id}")
    for role, department in (("leader", None), ("coordinator", "市发展改革委"), ("staff", "市发展改革委")):
        login(role, department)
        for url in pages:
            response = client.get(url)
            assert response.status_code in {200, 302}, url
            text = response.get_data(as_text=True)
            assert "草稿机密" not in text and "77.5" not in text, (role, url)
        assert client.get(f"/reviews/{draft.id}").status_code in {403, 404}
        assert client.get(f"/attachments/{attachment.id}").status_code == 403
        client.post("/logout")
        headers = bearer(role, department)
        for url in ("/api/v1/plans/mini/checkins", "/api/v1/plans/mini/targets", "/api/v1/plans/mini/tasks/3.1"):
            text = client.get(url, headers=headers).get_data(as_text=True)
            assert "草稿机密" not in text and "77.5" not in text, (role, url)
