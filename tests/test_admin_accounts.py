"""The system administrator's users page, password links by email, and the accounts the CLI makes."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask, g
from flask.testing import FlaskClient, FlaskCliRunner

from tracker import clock
from tracker.api.tokens import create_token
from tracker.extensions import db
from tracker.models import ApiToken, AuditLog, Department, OutboxMessage, User

from .conftest import PASSWORD
from .reminder_helpers import Inbox, text_of

LINK = re.compile(r"http://[^\s]+/password/set/[\w.\-]+")


def _fresh(client: FlaskClient) -> FlaskClient:
    g.pop("_login_user", None)  # the tests hold one app context open: forget the previous request's user
    return client


def _department(name: str) -> Department:
    return db.session.scalar(db.select(Department).filter_by(name=name))


def _invite(client: FlaskClient, email: str = "li.ming@linzhou.gov.cn", role: str = "staff") -> User:
    department = _department("市交通运输局")
    response = client.post(
        "/admin/users", data={"email": email, "name": "李明", "role": role, "department_id": str(department.id)}
    )
    assert response.status_code == 302
    return db.session.scalar(db.select(User).filter_by(email=email))


def _link(inbox: Inbox, email: str) -> str:
    [message] = inbox.to(email)
    found = LINK.search(text_of(message))
    assert found, text_of(message)
    return found.group(0).removeprefix("http://127.0.0.1:5000")


def test_admin_creates_an_account_and_the_person_sets_the_password_from_the_email(
    mini_plan: Flask, client: FlaskClient, login, smtp: Inbox
) -> None:
    admin = login("admin")
    user = _invite(client)
    assert user.role == "staff" and user.department.name == "市交通运输局"
    message = inbox_message = smtp.to(user.email)[0]
    assert "设置您的规划任务督办系统密码" in message["Subject"]
    body = text_of(inbox_message)
    assert "/password/set/" in body and "规划任务督办系统" in body  # a link to set it, never a password
    # Written to the outbox first, then sent once; its page never shows the live link.
    row = db.session.scalar(db.select(OutboxMessage).filter_by(kind="account"))
    assert row.status == "sent"
    page = client.get(f"/admin/outbox/{row.id}").get_data(as_text=True)
    assert "/password/set/" not in page
    link = _link(smtp, user.email)

    client.post("/logout")
    person = _fresh(client)
    assert "设置密码" in person.get(link).get_data(as_text=True)
    assert person.post(link, data={"new": "linzhou-road-88", "confirm": "linzhou-road-88"}).status_code == 302
    login_ok = _fresh(person).post("/login", data={"email": user.email, "password": "linzhou-road-88"})
    assert login_ok.status_code == 302
    assert _fresh(person).get("/my").status_code == 200
    # Single use: the same link does nothing now.
    _fresh(person).post("/logout")
    reused = _fresh(person).post(link, data={"new": "another-pass-77", "confirm": "another-pass-77"})
    assert reused.status_code == 400 and "已使用" in reused.get_data(as_text=True)
    actions = set(db.session.scalars(db.select(AuditLog.action).filter_by(entity="user", user_id=admin.id)))
    assert {"create", "send_set_link"} <= actions


def test_a_set_password_link_expires(mini_plan: Flask, client: FlaskClient, login, smtp: Inbox) -> None:
    login("admin")
    user = _invite(client)
    link = _link(smtp, user.email)
    _fresh(client).post("/logout")
    mini_plan.config["TRACKER_NOW"] = clock.now() + timedelta(hours=73)
    expired = _fresh(client).get(link)
    assert expired.status_code == 400 and "已过期" in expired.get_data(as_text=True)


def test_a_tampered_link_is_refused(mini_plan: Flask, client: FlaskClient) -> None:
    response = client.get("/password/set/eyJ1Ijo1fQ.forged.sig")
    assert response.status_code == 400 and "链接无效" in response.get_data(as_text=True)


def test_the_new_password_must_follow_the_policy(mini_plan: Flask, client: FlaskClient, login, smtp: Inbox) -> None:
    login("admin")
    user = _invite(client, email="wangfang@linzhou.gov.cn")
    link = _link(smtp, user.email)
    _fresh(client).post("/logout")
    for bad, reason in [("short", "至少 8 位"), ("wangfang2024", "账号名"), ("qwerty123", "常见密码")]:
        page = _fresh(client).post(link, data={"new": bad, "confirm": bad}).get_data(as_text=True)
        assert reason in page


def test_reset_answers_the_same_for_known_and_unknown_addresses_and_ends_old_sessions(
    mini_plan: Flask, client: FlaskClient, make_user, smtp: Inbox
) -> None:
    user = make_user("leader")
    other = mini_plan.test_client()
    assert _fresh(other).post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    known = _fresh(client).post("/password/forgot", data={"email": user.email}, follow_redirects=True)
    unknown = _fresh(client).post("/password/forgot", data={"email": "nobody@x.cn"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    strip = lambda page: page.get_data(as_text=True)  # noqa: E731
    assert strip(known) == strip(unknown)
    assert len(smtp.messages) == 1 and "重置" in smtp.messages[0]["Subject"]
    link = _link(smtp, user.email)
    assert _fresh(client).post(link, data={"new": "brand-new-pass-5", "confirm": "brand-new-pass-5"}).status_code == 302
    # The session opened before the reset is over.
    assert _fresh(other).get("/tasks").status_code == 302
    assert _fresh(client).post("/login", data={"email": user.email, "password": "brand-new-pass-5"}).status_code == 302


def test_disabling_an_account_ends_its_sessions_and_its_api_tokens(
    mini_plan: Flask, client: FlaskClient, login, make_user
) -> None:
    staff = make_user("staff", "市交通运输局")
    _token, secret = create_token(staff, "sync", now=clock.now())
    theirs = mini_plan.test_client()
    assert _fresh(theirs).post("/login", data={"email": staff.email, "password": PASSWORD}).status_code == 302
    login("admin")
    assert _fresh(client).post(f"/admin/users/{staff.id}/active", data={"active": "0"}).status_code == 302
    assert db.session.get(User, staff.id).active is False
    assert _fresh(theirs).get("/my").status_code == 302
    assert db.session.scalar(db.select(ApiToken.revoked_at).filter_by(user_id=staff.id)) is not None
    api = _fresh(theirs).get("/api/v1/plans", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401
    # Re-enabled: the person logs in again (the old sessions stay ended).
    _fresh(client).post(f"/admin/users/{staff.id}/active", data={"active": "1"})
    assert _fresh(theirs).post("/login", data={"email": staff.email, "password": PASSWORD}).status_code == 302
    history = db.session.scalars(db.select(AuditLog.new).filter_by(entity="user", entity_id=staff.id, field="active"))
    assert list(history) == ["False", "True"]


def test_admin_changes_role_and_department_in_the_history(
    mini_plan: Flask, client: FlaskClient, login, make_user
) -> None:
    staff = make_user("staff", "市交通运输局")
    login("admin")
    target = _department("乙区人民政府")
    client.post(f"/admin/users/{staff.id}", data={"role": "coordinator", "department_id": str(target.id)})
    staff = db.session.get(User, staff.id)
    assert (staff.role, staff.department_id) == ("coordinator", target.id)
    fields = {r.field: (r.old, r.new) for r in db.session.scalars(db.select(AuditLog).filter_by(entity_id=staff.id))}
    assert fields["role"] == ("staff", "coordinator")


def test_admin_cannot_touch_own_account_nor_the_security_and_audit_accounts(
    mini_plan: Flask, client: FlaskClient, login, make_user
) -> None:
    admin = login("admin")
    auditor = make_user("auditor")
    client.post(f"/admin/users/{admin.id}/active", data={"active": "0"})
    client.post(f"/admin/users/{auditor.id}", data={"role": "admin", "department_id": ""})
    client.post("/admin/users", data={"email": "a2@x.cn", "role": "auditor", "department_id": ""})
    assert db.session.get(User, admin.id).active is True
    assert db.session.get(User, auditor.id).role == "auditor"
    assert db.session.scalar(db.select(User).filter_by(email="a2@x.cn")) is None


def test_users_page_lists_role_department_language_last_login_and_state(
    mini_plan: Flask, client: FlaskClient, login, make_user
) -> None:
    staff = make_user("staff", "市交通运输局")
    staff.locale = "en"
    staff.active = False
    db.session.commit()
    login("admin")
    page = client.get("/admin/users").get_data(as_text=True)
    for text in (staff.email, "部门填报员", "市交通运输局", "English", "从未登录", "已停用"):
        assert text in page


def test_accounts_from_the_cli_change_their_password_at_first_login_but_demo_accounts_do_not(
    seeded: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    args = ["users", "create", "new@x.cn", "--role", "leader", "--password", "given-by-ops-1"]
    assert runner.invoke(args=args).exit_code == 0
    _fresh(client).post("/login", data={"email": "new@x.cn", "password": "given-by-ops-1"})
    forced = _fresh(client).get("/tasks")
    assert forced.status_code == 302 and forced.headers["Location"].endswith("/password")
    changed = _fresh(client).post(
        "/password", data={"old": "given-by-ops-1", "new": "my-own-choice-2", "confirm": "my-own-choice-2"}
    )
    assert changed.status_code == 302
    assert _fresh(client).get("/tasks").status_code == 200  # this session goes on after the change
    _fresh(client).post("/logout")
    assert runner.invoke(args=["users", "demo"]).exit_code == 0
    _fresh(client).post("/login", data={"email": "leader@demo.local", "password": "demo-2025"})
    assert _fresh(client).get("/tasks").status_code == 200


def test_cli_refuses_a_password_against_the_policy(mini_plan: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["users", "create", "x@x.cn", "--role", "leader", "--password", "12345678"])
    assert result.exit_code == 1 and "常见密码" in result.output


def test_an_administrators_reset_voids_the_old_password_and_mails_a_link(
    mini_plan: Flask, client: FlaskClient, login, make_user, smtp: Inbox
) -> None:
    staff = make_user("staff", "市交通运输局")
    theirs = mini_plan.test_client()
    assert _fresh(theirs).post("/login", data={"email": staff.email, "password": PASSWORD}).status_code == 302
    login("admin")
    assert _fresh(client).post(f"/admin/users/{staff.id}/reset").status_code == 302
    assert _fresh(theirs).get("/my").status_code == 302  # its sessions ended
    _fresh(theirs).post("/login", data={"email": staff.email, "password": PASSWORD})
    assert _fresh(theirs).get("/my").status_code == 302  # the old password no longer works
    link = _link(smtp, staff.email)
    _fresh(theirs).post(link, data={"new": "chosen-by-me-31", "confirm": "chosen-by-me-31"})
    assert _fresh(theirs).post("/login", data={"email": staff.email, "password": "chosen-by-me-31"}).status_code == 302
