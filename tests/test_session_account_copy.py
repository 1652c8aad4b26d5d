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
from tracker.models import User

from .conftest import PASSWORD

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ACCOUNT_READ = re.compile(r"\bFROM\s+\"?user\"?\s", re.I)


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
def account_reads(app: Flask) -> Iterator[list[str]]:
    """The statements of ``app``'s engine inside the block that read the ``user`` table."""
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def listen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if ACCOUNT_READ.search(statement):
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
def test_a_tokens_owner_is_kept_but_a_revoked_token_or_a_disabled_owner_is_refused_at_once(
    two_processes: tuple[Flask, Flask], make_user
) -> None:
    web, other = two_processes
    make_user("admin", email="admin@test.local")
    owner = make_user("leader")
    first, first_secret = create_token(owner, "one", now=clock.now())
    _second, second_secret = create_token(owner, "two", now=clock.now())
    api = web.test_client()
    one, two = ({"Authorization": f"Bearer {s}"} for s in (first_secret, second_secret))
    assert api.get("/api/v1/plans", headers=one).status_code == 200
    with account_reads(web) as reads:
        assert api.get("/api/v1/plans", headers=one).status_code == 200
    assert reads == []

    # Revoking a token does not move the data version: the token's row is read on every call.
    first_id = first.id
    _in(other, owner.email, lambda u, _admin: revoke_token(u, first_id, now=clock.now()))
    assert api.get("/api/v1/plans", headers=one).status_code == 401
    assert api.get("/api/v1/plans", headers=two).status_code == 200
    _in(other, owner.email, lambda u, admin: set_active(u, False, now=clock.now(), by=admin))
    assert api.get("/api/v1/plans", headers=two).status_code == 401


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
