"""The page cache (tracker/cache.py): a write is seen at once, a person sees only what their scope may,
the personal parts are theirs, unchanged pages answer 304, and the cache can be turned off."""

from __future__ import annotations

import os
import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tracker import cache, clock, create_app
from tracker.api.tokens import authenticate, create_token
from tracker.extensions import db

from .conftest import PASSWORD, count_queries

DRAFT = {"status": "in_progress", "percent": "30", "narrative": "草稿：只有本单位能看", "action": "draft"}


def _version() -> int:
    version = cache.page_cache().version()
    assert version is not None
    return version[0]


def _as(client: FlaskClient, user) -> None:  # type: ignore[no-untyped-def]
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def test_a_second_visit_is_answered_from_the_cache_and_a_write_is_seen_at_once(seeded, client, login) -> None:
    login("staff", "市发展改革委")
    first = client.get("/tasks/3.1").get_data(as_text=True)
    with count_queries() as statements:
        again = client.get("/tasks/3.1")
    assert again.get_data(as_text=True) == first
    assert len(statements) <= 2, statements  # the account and its department: nothing of the plan

    before = _version()
    assert client.post("/tasks/3.1/report", data={**DRAFT, "narrative": "新写的进展"}).status_code == 302
    assert _version() > before
    assert "新写的进展" in client.get("/tasks/3.1").get_data(as_text=True)


def test_a_departments_draft_is_never_served_to_another_department(seeded, client, make_user) -> None:
    fgw, sthj = make_user("staff", "市发展改革委"), make_user("staff", "市生态环境局")
    _as(client, fgw)
    assert client.post("/tasks/3.1/report", data=DRAFT).status_code == 302
    assert DRAFT["narrative"] in client.get("/tasks/3.1").get_data(as_text=True)
    _as(client, sthj)  # same role, same page, same language: another department
    assert DRAFT["narrative"] not in client.get("/tasks/3.1").get_data(as_text=True)
    _as(client, make_user("leader"))
    assert DRAFT["narrative"] not in client.get("/tasks/3.1").get_data(as_text=True)


def test_each_viewer_gets_their_own_name_and_csrf_token_on_a_cached_page(seeded, make_user) -> None:
    first, second = make_user("leader"), make_user("leader")
    one, other = seeded.test_client(), seeded.test_client()  # two browsers, two sessions
    _as(one, first)
    page = one.get("/matrix").get_data(as_text=True)
    _as(other, second)
    cached = other.get("/matrix").get_data(as_text=True)
    assert second.email in cached and first.email not in cached and first.email in page
    # The token is put back per request (tests/test_two_servers.py logs out with it, CSRF checked).
    assert len(set(re.findall(r'name="csrf_token" value="([^"]+)"', cached))) == 1
    assert cache.CSRF_MARK not in cached and cache.USER_MARK not in cached


def test_the_language_is_part_of_the_key(seeded, client, login) -> None:
    login("leader")
    assert "任务清单" in client.get("/tasks").get_data(as_text=True)
    client.post("/language", data={"locale": "en", "next": "/tasks"})
    english = client.get("/tasks").get_data(as_text=True)
    assert 'lang="en"' in english and "<h2>三、" not in english


def test_an_unchanged_page_answers_304_until_the_data_changes(seeded, client, login) -> None:
    login("staff", "市发展改革委")
    etag = client.get("/my").headers["ETag"]
    assert client.get("/my", headers={"If-None-Match": etag}).status_code == 304
    assert client.post("/tasks/3.1/report", data=DRAFT).status_code == 302
    assert "etag" not in client.get("/tasks/3.1").headers  # the page showing "saved" is not cached
    changed = client.get("/my", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.headers["Cache-Control"] == "private, no-cache"


def test_bookkeeping_writes_do_not_empty_the_cache(seeded, make_user) -> None:
    _token, secret = create_token(make_user("leader"), "x", now=clock.now())
    before = _version()
    authenticate(secret, now=clock.now())  # writes the token's last use (bookkeeping)
    assert _version() == before


def test_revoking_a_token_moves_the_version(seeded, make_user) -> None:
    # What each process keeps of a token is good while the version stands (tracker.api.tokens).
    token, _secret = create_token(make_user("leader"), "x", now=clock.now())
    before = _version()
    token.revoked_at = clock.now()  # the row alone, without the audit record revoke_token adds
    db.session.commit()
    assert _version() > before


def test_a_token_in_use_is_written_at_most_once_a_minute(seeded, make_user) -> None:
    from datetime import timedelta

    token, secret = create_token(make_user("leader"), "x", now=clock.now())
    now = clock.now()
    authenticate(secret, now=now)
    with count_queries() as statements:
        authenticate(secret, now=now + timedelta(seconds=30))
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in statements)
    authenticate(secret, now=now + timedelta(minutes=2))
    assert token.last_used_at == now + timedelta(minutes=2)


def test_the_api_task_list_is_cached_per_department(seeded, client, bearer) -> None:
    url = "/api/v1/plans/anyang-14fyp-esr/tasks?department=mine"
    fgw, sthj = bearer("staff", "市发展改革委"), bearer("staff", "市生态环境局")
    mine = client.get(url, headers=fgw).get_json()
    theirs = client.get(url, headers=sthj).get_json()
    assert mine != theirs
    assert client.get(url, headers=fgw).get_json() == mine


def test_the_cache_can_be_turned_off(seeded, database_url, tmp_path) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": database_url,
                      "UPLOAD_FOLDER": str(tmp_path), "CACHE_ENABLED": False})  # fmt: skip
    with app.app_context():
        assert not cache.page_cache().enabled


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.mark.redis
def test_with_redis_two_apps_share_one_data_version(seeded: Flask, database_url, tmp_path) -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    config = {"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": database_url,
              "UPLOAD_FOLDER": str(tmp_path), "CACHE_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix}  # fmt: skip
    one, other = create_app(config), create_app(config)
    with one.app_context():
        before = cache.page_cache().version()
        cache.page_cache().set("k", b"text/html\nshared")
        from tracker.tasks.queries import set_workday_override

        set_workday_override(clock.today(), False, "一次写入")  # through one app's session
        db.session.remove()
        db.engine.dispose()
    with other.app_context():
        after = cache.page_cache().version()
        assert cache.page_cache().get("k") == b"text/html\nshared"
        db.session.remove()
        db.engine.dispose()
    assert before is not None and after is not None and after[0] == before[0] + 1
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.delete(*client.keys(f"{prefix}*"))


@pytest.mark.redis
def test_a_redis_that_lost_its_keys_never_hands_out_an_old_version_again(app: Flask) -> None:
    import redis

    store = cache.RedisStore(REDIS_URL, f"test-{uuid.uuid4().hex}")
    first = store.version()
    store.bump()
    bumped = store.version()
    redis.Redis.from_url(REDIS_URL).delete(store.counter, store.stamp)  # as a restarted Redis (no disk)
    again = store.version()
    assert again not in {first, bumped}  # a worker's kept pages and states of those versions stay unused
    assert again[1] >= bumped[1]
    redis.Redis.from_url(REDIS_URL).delete(store.counter, store.stamp)


def _plan_state_reads(statements: list[str]) -> list[str]:
    """The statement that reads every check-in of the plan (tracker.tasks.state builds a state with it)."""
    narrow = "SELECT check_in.id, check_in.task_id, check_in.department_id, check_in.period, check_in.period_end, "
    return [s for s in statements if s.startswith(narrow)]


def test_the_plan_state_is_built_once_per_data_version_and_again_after_a_write(seeded, client, login) -> None:
    from tracker.models import Task
    from tracker.tasks import state

    login("leader")
    state.forget()
    assert client.get("/matrix?section=5").status_code == 200
    with count_queries() as statements:  # another page of the same version: the plan's rows are not read again
        assert client.get("/dashboard").status_code == 200
    assert not _plan_state_reads(statements), statements
    task = db.session.scalar(db.select(Task).filter_by(code="3.2"))
    task.status = "lagging"
    db.session.commit()
    with count_queries() as statements:
        page = client.get("/matrix?status=lagging").get_data(as_text=True)
    assert _plan_state_reads(statements)  # built again
    assert 'id="t3.2"' in page


def test_a_kept_state_serves_later_requests_without_touching_their_sessions(seeded, client, login) -> None:
    """The kept state's departments are detached: pages of later requests (other sessions) render from
    them, and the request's own objects stay attached to the request's session."""
    from tracker.models import Department
    from tracker.tasks import state

    login("leader")
    state.forget()
    ndrc = db.session.scalar(db.select(Department.id).filter_by(name="市发展改革委"))
    pages = ["/dashboard", "/matrix", "/assessment", "/counties", "/tasks/3.1", "/graph", f"/departments/{ndrc}"]
    first = {p: client.get(p).status_code for p in pages}
    version = _version()
    # the same pages again under other addresses: the page cache misses, the kept state is used
    with count_queries() as statements:
        again = {p: client.get(f"{p}?again=1").status_code for p in pages}
    assert _version() == version
    assert not _plan_state_reads(statements)
    assert first == again == {p: 200 for p in pages}


def test_signing_in_keeps_the_cache_but_a_changed_account_does_not(seeded, client, make_user) -> None:
    user = make_user("staff", "市发展改革委")
    before = _version()
    client.post("/login", data={"email": user.email, "password": "wrong password"})  # a failed sign-in
    _as(client, user)  # last login and the audit row are written: no cached page shows them
    assert _version() == before
    user = db.session.merge(user)
    user.role = "coordinator"
    db.session.commit()
    assert _version() == before + 1


@pytest.mark.redis
def test_redis_records_which_tasks_each_bump_changed_in_one_unbroken_chain(app: Flask) -> None:
    import redis

    prefix = f"test-{uuid.uuid4().hex}"
    store = cache.RedisStore(REDIS_URL, prefix)
    pages = cache.PageCache(store, 60)
    start = store.version()
    store.bump(frozenset({3, 5}))
    store.bump(frozenset({7}))
    two = store.version()
    assert pages.tasks_changed(start, two) == {3, 5, 7}
    store.bump(None)  # anything else the plan state reads
    assert pages.tasks_changed(start, store.version()) is None
    assert pages.tasks_changed(two, store.version()) is None
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(store.counter, store.stamp)  # a Redis that lost its count (not its records)
    store.bump(frozenset({9}))
    assert pages.tasks_changed(two, store.version()) is None  # the chain does not run on from `two`
    client.delete(*client.keys(f"{prefix}*"))
