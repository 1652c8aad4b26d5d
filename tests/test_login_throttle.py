"""Login tells nobody which accounts exist, and its throttle slows the guesser, not the account's owner."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

import tracker.accounts.service
import tracker.accounts.throttle
from tracker import clock, create_app
from tracker.accounts.throttle import ACCOUNT_FROM_CLIENT, FROM_CLIENT
from tracker.extensions import db
from tracker.models import LoginFailure

from .conftest import PASSWORD

OWNER_DESK = "10.1.1.5"
ELSEWHERE = "10.9.9.66"
WRONG = "not-the-password"
LOCKED = "登录失败次数过多"


def _login(client: FlaskClient, email: str, password: str, address: str = OWNER_DESK):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def _message(response) -> str:  # type: ignore[no-untyped-def]
    text = response.get_data(as_text=True)
    for message in ("邮箱或密码不正确。", LOCKED):
        if message in text:
            return message
    return f"{response.status_code}"


def test_known_and_unknown_accounts_get_the_same_answers_to_the_lock_out(app, client: FlaskClient, make_user) -> None:
    user = make_user("leader")
    known = [_message(_login(client, user.email, WRONG)) for _ in range(ACCOUNT_FROM_CLIENT.free + 2)]
    unknown = [_message(_login(client, "x@y.cn", WRONG)) for _ in range(ACCOUNT_FROM_CLIENT.free + 2)]
    assert known == unknown
    assert known[: ACCOUNT_FROM_CLIENT.free + 1] == ["邮箱或密码不正确。"] * (ACCOUNT_FROM_CLIENT.free + 1)
    assert known[-1] == LOCKED
    pages = [_login(client, email, WRONG).get_data(as_text=True) for email in (user.email, "x@y.cn")]
    assert [re.findall(r"请 (\d+) 秒后再试", page) for page in pages] == [["31"], ["31"]]


def test_an_unknown_account_costs_the_same_password_check_as_a_real_one(
    app, client: FlaskClient, make_user, monkeypatch
) -> None:
    user = make_user("leader")
    checked: list[str] = []
    real_check = tracker.accounts.service.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        checked.append(pwhash.split("$")[0])  # method and cost, e.g. scrypt:32768:8:1
        return real_check(pwhash, password)

    monkeypatch.setattr(tracker.accounts.service, "check_password_hash", counting)
    _login(client, user.email, WRONG)
    _login(client, "nobody@test.local", WRONG)
    user.active = False
    db.session.commit()
    _login(client, user.email, PASSWORD)  # a disabled account: refused after the same work
    assert checked == [user.password_hash.split("$")[0]] * 3


def test_known_and_unknown_accounts_cost_the_same_password_check(
    app, client: FlaskClient, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The time a login takes is the password hash's: an unknown account pays one hash check with the same
    parameters as a real one (counted and compared, not timed: a timed test is a load test)."""
    user = make_user("leader")
    real = tracker.accounts.service.check_password_hash
    methods: list[str] = []

    def counting(pwhash: str, password: str) -> bool:
        methods.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)

    monkeypatch.setattr(tracker.accounts.service, "check_password_hash", counting)
    assert _message(_login(client, user.email, WRONG, "10.0.0.1")) == "邮箱或密码不正确。"
    assert _message(_login(client, "nobody@test.local", WRONG, "10.0.0.2")) == "邮箱或密码不正确。"
    assert len(methods) == 2 and methods[0] == methods[1], methods  # one check each, the same hash method


def test_an_attacker_elsewhere_cannot_lock_the_owner_out(app, client: FlaskClient, make_user) -> None:
    user = make_user("leader")
    for _ in range(10):
        _login(client, user.email, WRONG, ELSEWHERE)
    assert _message(_login(client, user.email, PASSWORD, ELSEWHERE)) == LOCKED  # the guesser waits
    assert _login(client, user.email, PASSWORD, OWNER_DESK).status_code == 302  # the owner does not


def test_one_client_trying_many_accounts_is_slowed_down_everywhere_it_tries(
    app, client: FlaskClient, make_user
) -> None:
    user = make_user("leader")
    for n in range(FROM_CLIENT.free):
        assert _message(_login(client, f"guess{n}@test.local", WRONG, ELSEWHERE)) == "邮箱或密码不正确。"
    assert _message(_login(client, "guess-next@test.local", WRONG, ELSEWHERE)) == "邮箱或密码不正确。"
    assert _message(_login(client, user.email, PASSWORD, ELSEWHERE)) == LOCKED
    assert _login(client, user.email, PASSWORD, OWNER_DESK).status_code == 302


def test_failures_are_forgotten_an_hour_after_the_last_one(app: Flask, client: FlaskClient, make_user) -> None:
    user = make_user("leader")
    for _ in range(ACCOUNT_FROM_CLIENT.free + 3):
        _login(client, user.email, WRONG)
    assert _message(_login(client, user.email, PASSWORD)) == LOCKED
    app.config["TRACKER_NOW"] = clock.now() + ACCOUNT_FROM_CLIENT.forget_after
    assert _login(client, user.email, PASSWORD).status_code == 302
    assert db.session.get(LoginFailure, (user.email, OWNER_DESK)) is None


def test_a_password_reset_can_clear_an_accounts_failures_from_every_client(app, make_user) -> None:
    user = make_user("leader")
    now = clock.now()
    for address in (OWNER_DESK, ELSEWHERE):
        for _ in range(ACCOUNT_FROM_CLIENT.free + 1):
            tracker.accounts.throttle.record_failure(user.email, address, now=now)
    db.session.commit()
    assert tracker.accounts.throttle.wait(user.email, ELSEWHERE, now=now) == 31
    tracker.accounts.throttle.clear_account(user.email.upper())
    db.session.commit()
    assert tracker.accounts.throttle.wait(user.email, ELSEWHERE, now=now + timedelta(seconds=1)) == 0


@pytest.mark.parametrize("hops", [0, 1])
def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(
    app: Flask, make_user, database_url: str, tmp_path, hops: int
) -> None:
    user = make_user("leader")
    proxied = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "TRACKER_NOW": app.config["TRACKER_NOW"],
            "UPLOAD_FOLDER": str(tmp_path),
            "TRUSTED_PROXIES": hops,
        }
    )
    client = proxied.test_client()

    def through_proxy(password: str, forwarded: str) -> int:
        return client.post(
            "/login",
            data={"email": user.email, "password": password},
            headers={"X-Forwarded-For": forwarded},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},  # nginx, for everyone
        ).status_code

    for _ in range(ACCOUNT_FROM_CLIENT.free + 1):
        through_proxy(WRONG, ELSEWHERE)
    # Trusting the proxy, the owner's own address is not locked; not trusting it, everyone is one client.
    assert (through_proxy(PASSWORD, OWNER_DESK) == 302) is bool(hops)
    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()
