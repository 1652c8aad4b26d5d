"""The account behind a session or an API token, kept by each process between requests
(tracker/accounts/sessions.py): read once while the shared data version stands, and every change to it
seen by the next request — made through another process (here: another app on the same database and the
same Redis, as a second gunicorn worker or the command line would be).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event

from tracker import clock, create_app
from tracker.accounts.admin import change_account, set_active
from tracker.accounts.sessions import end_sessions
from tracker.api.tokens import create_token, revoke_token
from tracker.extensions import db
from tracker.models import ApiToken, User

from .conftest import PASSWORD

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ACCOUNT_READ = re.compile(r"\bFROM\s+\"?user\"?\s", re.I)
TOKEN_READ = re.compile(r"\bFROM\s+\"?api_token\"?\s", re.I)


def _config(database_url: str, tmp_path: Path, cache_url: str, prefix: str) -> dict[str, object]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "TRACKER_NOW": "2024-06-03T10:00:00+08:00",
        "UPLOAD_FOLDER": str(tmp_path),
        "MAIL_SERVER": None,
        "SESSION_IDLE_MINUTES": 60 * 24,
        "CACHE_URL": cache_url,
        "CACHE_KEY_PREFIX": prefix,
    }


@pytest.fixture
def two_processes(mini_plan: Flask, database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, Flask]]:
    """Two apps on the test database sharing one Redis: the web worker, and another process that writes."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail(f"Redis is not answering at {REDIS_URL}: start redis-server (.ci/run does)")
    prefix = f"test-accounts-{uuid.uuid4().hex}"
    web = create_app(_config(database_url, tmp_path, REDIS_URL, prefix))
    other = create_app(_config(database_url, tmp_path, REDIS_URL, prefix))
    yield web, other
    for app in (web, other):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    client = redis.Redis.from_url(REDIS_URL)
    if keys := client.keys(f"{prefix}*"):
        client.delete(*keys)


@contextmanager
def account_reads(app: Flask, table: re.Pattern[str] = ACCOUNT_READ) -> Iterator[list[str]]:
    """The statements of ``app``'s engine inside the block that read the ``user`` table (or ``table``)."""
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def listen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if table.search(statement):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def _in(app: Flask, email: str, change) -> None:  # type: ignore[no-untyped-def]
    """Run ``change(user, admin)`` in ``app`` (another process) and commit there."""
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email=email))
        admin = db.session.scalar(db.select(User).filter_by(email="admin@test.local"))
        change(user, admin)
        db.session.commit()
        db.session.remove()


def _user_line(browser) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'<span class="user">(.*?)</span>', browser.get("/tasks").get_data(as_text=True), re.S)
    assert found
    return found.group(1)


@pytest.mark.redis
def test_the_account_is_read_once_and_each_change_elsewhere_is_seen_by_the_next_request(
    two_processes: tuple[Flask, Flask], make_user
) -> None:
    web, other = two_processes
    make_user("admin", email="admin@test.local")
    user = make_user("leader")
    browser = web.test_client()
    assert browser.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert browser.get("/tasks").status_code == 200  # the account read once, and kept
    with account_reads(web) as reads:
        assert browser.get("/tasks").status_code == 200
        assert browser.get("/matrix").status_code == 200
    assert reads == []

    # A new role: its sessions end, and the person logs in again to a page that names the new role.
    assert "领导" in _user_line(browser)
    _in(other, user.email, lambda u, admin: change_account(u, role="coordinator", department_id=None,
                                                           now=clock.now(), by=admin))  # fmt: skip
    assert browser.get("/tasks").status_code == 302
    assert browser.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert "统筹协调" in _user_line(browser)

    # The security administrator ends its sessions; then the account is disabled.
    _in(other, user.email, lambda u, admin: end_sessions(u, now=clock.now(), by_id=admin.id, reason="test"))
    assert browser.get("/tasks").status_code == 302
    assert browser.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert browser.get("/tasks").status_code == 200
    _in(other, user.email, lambda u, admin: set_active(u, False, now=clock.now(), by=admin))
    assert browser.get("/tasks").status_code == 302
    assert browser.post("/login", data={"email": user.email, "password": PASSWORD}).status_code != 302


@pytest.mark.redis
def test_a_token_and_its_owner_are_kept_but_a_revoked_token_or_a_disabled_owner_is_refused_at_once(
    two_processes: tuple[Flask, Flask], make_user
) -> None:
    web, other = two_processes
    make_user("admin", email="admin@test.local")
    owner = make_user("leader")
    first, first_secret = create_token(owner, "one", now=clock.now())
    second, second_secret = create_token(owner, "two", now=clock.now())
    third, third_secret = create_token(owner, "three", now=clock.now())
    api = web.test_client()
    one, two, three = ({"Authorization": f"Bearer {s}"} for s in (first_secret, second_secret, third_secret))
    for headers in (one, two, three):
        assert api.get("/api/v1/plans", headers=headers).status_code == 200
    with account_reads(web) as reads, account_reads(web, TOKEN_READ) as token_reads:
        assert api.get("/api/v1/plans", headers=one).status_code == 200
        assert api.get("/api/v1/plans/mini/tasks", headers=two).status_code == 200
    assert reads == [] and token_reads == []  # a warm call reads neither the token nor its owner

    # Revoked through the owner's page in another process: refused by this one's next call.
    first_id = first.id
    _in(other, owner.email, lambda u, _admin: revoke_token(u, first_id, now=clock.now()))
    assert api.get("/api/v1/plans", headers=one).status_code == 401
    assert api.get("/api/v1/plans", headers=two).status_code == 200

    # Revoked by a bare change of its row (no audit record to move the version): refused all the same.
    assert api.get("/api/v1/plans", headers=three).status_code == 200  # kept at the current version
    third_id = third.id

    def revoke_row(_u: User, _admin: User) -> None:
        db.session.get(ApiToken, third_id).revoked_at = clock.now()

    _in(other, owner.email, revoke_row)
    assert api.get("/api/v1/plans", headers=three).status_code == 401

    # The owner disabled: every token of theirs refused at once.
    assert api.get("/api/v1/plans", headers=two).status_code == 200
    _in(other, owner.email, lambda u, admin: set_active(u, False, now=clock.now(), by=admin))
    assert api.get("/api/v1/plans", headers=two).status_code == 401
    assert second.id  # the second token itself was never revoked: its owner was


@pytest.mark.redis
def test_a_kept_token_answers_only_for_its_own_owner_and_scope(two_processes: tuple[Flask, Flask], make_user) -> None:
    web, _other = two_processes
    fgw, sthj = make_user("staff", "市发展改革委"), make_user("staff", "市生态环境局")
    headers = {u.email: {"Authorization": f"Bearer {create_token(u, 'x', now=clock.now())[1]}"} for u in (fgw, sthj)}
    api = web.test_client()
    mine = "/api/v1/plans/mini/tasks?department=mine"
    first = {email: (api.get("/api/v1/me", headers=h).get_json(), api.get(mine, headers=h).get_json())
             for email, h in headers.items()}  # fmt: skip
    for _round in range(2):  # warm: the kept tokens and accounts, and the cached lists
        for email, h in headers.items():
            assert api.get("/api/v1/me", headers=h).get_json()["email"] == email
            assert api.get(mine, headers=h).get_json() == first[email][1]
    assert first[fgw.email][1] != first[sthj.email][1]
    assert {t["code"] for t in first[fgw.email][1]} == {
        t["code"] for t in first[fgw.email][1] if "市发展改革委" in {d["name"] for d in t["departments"]}
    }


def test_without_a_version_every_process_shares_the_account_is_read_every_time(
    mini_plan: Flask, database_url: str, tmp_path: Path, make_user
) -> None:
    # A process's own memory version would not move for a write from the command line (another process).
    web = create_app(_config(database_url, tmp_path, "memory://", "memory"))
    user = make_user("leader")
    browser = web.test_client()
    assert browser.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert browser.get("/tasks").status_code == 200
    with account_reads(web) as reads:
        assert browser.get("/tasks").status_code == 200
    assert len(reads) == 1
    with web.app_context():
        db.session.remove()
        db.engine.dispose()
