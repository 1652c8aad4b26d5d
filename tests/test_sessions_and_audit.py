"""等保 2.0 level 2 and issue 14 class 8: sessions end (logout, password change, idle time, the
security administrator), the password policy, and the audit log only the auditor reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask, g
from flask.testing import FlaskClient

from tracker import clock
from tracker.extensions import db
from tracker.models import AuditLog

from .conftest import PASSWORD


def _fresh(client: FlaskClient) -> FlaskClient:
    g.pop("_login_user", None)  # one app context spans the test's requests: forget the last user
    return client


def _copy_session(source: FlaskClient, target: FlaskClient) -> None:
    cookie = source.get_cookie("session")
    assert cookie is not None
    target.set_cookie("session", cookie.value)


def test_a_session_cookie_copied_before_logout_no_longer_works(
    mini_plan: Flask, client: FlaskClient, make_user
) -> None:
    user = make_user("leader")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    thief = mini_plan.test_client()
    _copy_session(client, thief)
    assert _fresh(thief).get("/tasks").status_code == 200
    _fresh(client).post("/logout")
    assert _fresh(thief).get("/tasks").status_code == 302


def test_a_password_change_ends_every_other_session(mini_plan: Flask, client: FlaskClient, make_user) -> None:
    user = make_user("leader")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    elsewhere = mini_plan.test_client()
    _copy_session(client, elsewhere)
    changed = _fresh(client).post(
        "/password", data={"old": PASSWORD, "new": "fresh-pass-42", "confirm": "fresh-pass-42"}
    )
    assert changed.status_code == 302
    assert _fresh(client).get("/tasks").status_code == 200
    assert _fresh(elsewhere).get("/tasks").status_code == 302


def test_an_idle_session_ends_after_the_configured_time(mini_plan: Flask, client: FlaskClient, login) -> None:
    mini_plan.config["SESSION_IDLE_MINUTES"] = 30  # the production default (the fixtures lift it)
    login("leader")
    start = clock.now()
    mini_plan.config["TRACKER_NOW"] = start + timedelta(minutes=29)
    assert _fresh(client).get("/tasks").status_code == 200  # activity: the idle time starts again
    mini_plan.config["TRACKER_NOW"] = start + timedelta(minutes=58)
    assert _fresh(client).get("/tasks").status_code == 200
    mini_plan.config["TRACKER_NOW"] = start + timedelta(minutes=89)
    ended = _fresh(client).get("/tasks")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    mini_plan.config["SESSION_IDLE_MINUTES"] = 5
    login("leader")
    mini_plan.config["TRACKER_NOW"] = start + timedelta(minutes=95)
    assert _fresh(client).get("/tasks").status_code == 302


def test_logins_and_failed_logins_are_logged_with_the_client_address(
    mini_plan: Flask, client: FlaskClient, make_user
) -> None:
    user = make_user("leader")
    client.post("/login", data={"email": user.email, "password": "wrong-wrong"})
    _fresh(client).post("/login", data={"email": "ghost@x.cn", "password": "whatever1"})
    _fresh(client).post("/login", data={"email": user.email, "password": PASSWORD})
    rows = db.session.scalars(db.select(AuditLog).where(AuditLog.action.in_(["login", "login_failed"]))).all()
    assert [(r.action, r.actor) for r in rows] == [
        ("login_failed", user.email),
        ("login_failed", "ghost@x.cn"),
        ("login", user.email),
    ]
    assert all(r.ip == "127.0.0.1" for r in rows)


def test_only_the_auditor_reads_the_audit_log(mini_plan: Flask, client: FlaskClient, login) -> None:
    for role in ("admin", "security", "coordinator", "leader"):
        login(role)
        assert _fresh(client).get("/audit").status_code == 403, role
        _fresh(client).post("/logout")
    login("auditor")
    page = _fresh(client).get("/audit?kind=logins").get_data(as_text=True)
    assert "login" in page and "@test.local" in page
    assert _fresh(client).get("/").headers["Location"].endswith("/audit")
    assert _fresh(client).get("/admin/users").status_code == 403


def test_administrative_operations_are_in_the_audit_log(mini_plan: Flask, client: FlaskClient, login) -> None:
    admin = login("admin")
    _fresh(client).post("/admin/departments", data={"name": "市数据局", "kind": "bureau"})
    _fresh(client).post("/logout")
    login("auditor")
    page = _fresh(client).get("/audit?kind=admin").get_data(as_text=True)
    assert "市数据局" in page and admin.email in page


def test_the_security_administrator_ends_an_accounts_sessions(
    mini_plan: Flask, client: FlaskClient, login, make_user
) -> None:
    user = make_user("leader")
    theirs = mini_plan.test_client()
    _fresh(theirs).post("/login", data={"email": user.email, "password": PASSWORD})
    mini_plan.config["SESSION_IDLE_MINUTES"] = 30
    login("security")
    assert "30 分钟" in _fresh(client).get("/security").get_data(as_text=True)
    assert _fresh(client).post(f"/security/users/{user.id}/end-sessions").status_code == 302
    assert _fresh(theirs).get("/tasks").status_code == 302
    assert _fresh(client).get("/admin/users").status_code == 403  # not the system administrator


def test_the_idle_timeout_is_thirty_minutes_unless_configured(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from tracker.config import from_environment

    monkeypatch.delenv("SESSION_IDLE_MINUTES", raising=False)
    assert from_environment(str(tmp_path))["SESSION_IDLE_MINUTES"] == 30
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "15")
    assert from_environment(str(tmp_path))["SESSION_IDLE_MINUTES"] == 15
