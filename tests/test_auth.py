"""Accounts: login with throttling, logout, password change, the users CLI, pages behind login."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient, FlaskCliRunner

from tracker import clock
from tracker.accounts.service import DEMO_ACCOUNTS
from tracker.extensions import db
from tracker.models import LoginFailure, User

from .conftest import PASSWORD


def test_anonymous_visitor_is_sent_to_the_login_page(mini_plan, client: FlaskClient) -> None:
    response = client.get("/tasks/3.1")
    assert response.status_code == 302
    assert "/login?next=/tasks/3.1" in response.headers["Location"]
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_login_follows_next_but_never_to_another_site(mini_plan, client: FlaskClient, make_user) -> None:
    user = make_user("leader")
    ok = client.post("/login?next=/tasks/3.1", data={"email": user.email, "password": PASSWORD})
    assert ok.headers["Location"] == "/tasks/3.1"
    client.post("/logout")
    evil = client.post("/login?next=//evil.example/x", data={"email": user.email, "password": PASSWORD})
    assert "evil" not in evil.headers["Location"]


def test_wrong_password_is_refused_and_repeated_failures_slow_down(app, client: FlaskClient, make_user) -> None:
    user = make_user("leader")
    for _ in range(3):
        page = client.post("/login", data={"email": user.email, "password": "wrong-one"}).get_data(as_text=True)
        assert "邮箱或密码不正确" in page
    client.post("/login", data={"email": user.email, "password": "wrong-one"})
    # Now even the right password waits.
    page = client.post("/login", data={"email": user.email, "password": PASSWORD}).get_data(as_text=True)
    assert "秒后再试" in page
    app.config["TRACKER_NOW"] = clock.now() + timedelta(seconds=31)
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert db.session.get(LoginFailure, (user.email, "127.0.0.1")) is None  # the count starts afresh


def test_password_is_stored_hashed_with_scrypt(app, make_user) -> None:
    user = make_user("leader")
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash


def test_password_change_needs_the_old_password(mini_plan, client: FlaskClient, login) -> None:
    user = login("leader")
    page = client.post("/password", data={"old": "nope-nope", "new": "new-pass-1", "confirm": "new-pass-1"}).get_data(
        as_text=True
    )
    assert "原密码不正确" in page
    ok = client.post("/password", data={"old": PASSWORD, "new": "new-pass-1", "confirm": "new-pass-1"})
    assert ok.status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": "new-pass-1"}).status_code == 302


def test_users_create_command_makes_an_account_and_refuses_bad_input(seeded, runner: FlaskCliRunner) -> None:
    args = ["users", "create", "a@b.cn", "--role", "staff", "--department", "市生态环境局", "--password", "longenough"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert db.session.scalar(db.select(User).filter_by(email="a@b.cn")).department.name == "市生态环境局"
    again = runner.invoke(args=args)
    assert again.exit_code == 1 and "已存在" in again.output
    no_dept = runner.invoke(args=["users", "create", "c@b.cn", "--role", "staff", "--password", "longenough"])
    assert no_dept.exit_code == 1 and "必须属于一个单位" in no_dept.output
    unknown = runner.invoke(
        args=["users", "create", "d@b.cn", "--role", "staff", "--department", "市某局", "--password", "longenough"]
    )
    assert unknown.exit_code == 1 and "市某局" in unknown.output


def test_demo_accounts_cover_every_role_and_are_created_once(seeded, runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["users", "demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["users", "demo"])
    assert second.exit_code == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == len(DEMO_ACCOUNTS)
    roles = {u.role for u in db.session.scalars(db.select(User))}
    assert roles == {"staff", "head", "coordinator", "leader", "admin", "security", "auditor"}
    assert "linzhou@demo.local" in first.output and "林州市人民政府" in first.output
