"""No lost updates: stale saves answer 409 with what changed and the input kept; a real race on PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tracker import clock, create_app
from tracker.errors import ConflictError
from tracker.extensions import db
from tracker.models import CheckIn, Department, Task
from tracker.reports.service import CheckInData, save_checkin
from tracker.tasks.periods import period_for


def _draft(department: str = "市交通运输局") -> CheckIn:
    task = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    dept = db.session.scalar(db.select(Department).filter_by(name=department))
    assert task is not None and dept is not None
    return save_checkin(
        task=task,
        department_id=dept.id,
        period=period_for(date(2026, 1, 3), "quarter"),
        data=CheckInData("in_progress", 10, "初稿"),
        submit=False,
        now=clock.now(),
        user_id=None,
        editing_id=None,
        version_id=None,
    )


def test_a_stale_draft_save_gets_409_with_what_changed_and_the_input_kept(mini_plan, client: FlaskClient, login):
    login("staff", "市交通运输局")
    form = client.get("/tasks/3.1/report?period=2026Q1").get_data(as_text=True)
    assert "2026年第一季度" in form
    draft = _draft()
    original = json.dumps({"status": "in_progress", "percent": "10", "narrative": "初稿"}, ensure_ascii=False)
    # A colleague saves first: version 1 → 2.
    first = client.post(
        "/tasks/3.1/report?period=2026Q1",
        data={"status": "in_progress", "percent": "30", "narrative": "同事的修改", "action": "draft",
              "checkin_id": draft.id, "version_id": "1", "original": original},
    )  # fmt: skip
    assert first.status_code == 302
    # We still hold version 1.
    stale = client.post(
        "/tasks/3.1/report?period=2026Q1",
        data={"status": "lagging", "percent": "20", "narrative": "我的内容", "action": "draft",
              "checkin_id": draft.id, "version_id": "1", "original": original},
    )  # fmt: skip
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "数据已被他人修改" in page and "同事的修改" in page and "初稿" in page  # old vs current
    assert "我的内容" in page  # our input kept
    db.session.expire_all()
    assert db.session.get(CheckIn, draft.id).narrative == "同事的修改"  # type: ignore[union-attr]
    # The 409 page now carries the current version: saving from it again is a deliberate overwrite.
    assert 'name="version_id" type="hidden" value="2"' in page
    again = client.post(
        "/tasks/3.1/report?period=2026Q1",
        data={"status": "lagging", "percent": "20", "narrative": "我的内容", "action": "draft",
              "checkin_id": draft.id, "version_id": "2"},
    )  # fmt: skip
    assert again.status_code == 302


def test_a_new_report_while_a_colleague_created_one_is_a_conflict(mini_plan, client: FlaskClient, login) -> None:
    login("staff", "市交通运输局")
    _draft()
    response = client.post(
        "/tasks/3.1/report?period=2026Q1",
        data={"status": "in_progress", "percent": "30", "narrative": "我的", "action": "submit"},
    )
    assert response.status_code == 409 and "我的" in response.get_data(as_text=True)


def test_a_stale_task_edit_gets_409(mini_plan, client: FlaskClient, login) -> None:
    login("coordinator", "市发展改革委")
    ok = client.post("/tasks/3.1/edit", data={"title": "新名称", "due": "2030-06-30", "reporting_cycle": "month",
                                                "version_id": "1"})  # fmt: skip
    assert ok.status_code == 302
    task = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    assert task is not None and (task.title, task.due, task.reporting_cycle) == ("新名称", date(2030, 6, 30), "month")
    assert task.original_due == date(2030, 12, 31)
    original = json.dumps({"title": "交通减排工程", "due": "2030-12-31", "reporting_cycle": "quarter"})
    stale = client.post("/tasks/3.1/edit", data={"title": "另一个名称", "due": "2030-12-31",
                                                   "reporting_cycle": "quarter", "version_id": "1",
                                                   "original": original})  # fmt: skip
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "新名称" in page and "另一个名称" in page and "交通减排工程" in page
    assert "任务名称" in client.get("/tasks/3.1").get_data(as_text=True)  # history shown


def test_a_post_without_csrf_token_is_refused(mini_plan, database_url, tmp_path) -> None:
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": True,
         "TRACKER_NOW": "2026-03-02", "UPLOAD_FOLDER": str(tmp_path)}
    )  # fmt: skip
    client = app.test_client()
    response = client.post("/tasks/3.1/report", data={"status": "in_progress", "percent": "1"})
    assert response.status_code == 400 and "表单已过期" in response.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # the form itself carries a token
    with app.app_context():
        db.engine.dispose()


@pytest.mark.postgres  # the row-lock race needs PostgreSQL: the PostgreSQL pass runs it, the SQLite pass deselects it
def test_two_writers_race_exactly_one_wins_and_nothing_is_lost(mini_plan: Flask, database_url: str) -> None:
    draft = _draft()
    task_id, dept_id = draft.task_id, draft.department_id
    db.session.remove()
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def writer(name: str) -> None:
        with mini_plan.app_context():
            mine = db.session.get(CheckIn, draft.id)  # both read version 1
            assert mine is not None and mine.version_id == 1
            task = db.session.get(Task, task_id)
            barrier.wait()
            try:
                save_checkin(
                    task=task,  # type: ignore[arg-type]
                    department_id=dept_id,
                    period=period_for(date(2026, 1, 3), "quarter"),
                    data=CheckInData("in_progress", 50, f"{name} 的内容"),
                    submit=False,
                    now=clock.now(),
                    user_id=None,
                    editing_id=draft.id,
                    version_id=1,
                )
                results[name] = "won"
            except ConflictError:
                db.session.rollback()
                results[name] = "conflict"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results.values()) == ["conflict", "won"]
    winner = next(n for n, r in results.items() if r == "won")
    saved = db.session.get(CheckIn, draft.id)
    assert saved is not None and saved.narrative == f"{winner} 的内容" and saved.version_id == 2
    assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 1
