"""The page cache: pages that depend only on the plan's data, kept behind a data version every write bumps.

What it owns:

- **The data version.** One number for the whole database. Every committed write to a table a cached
  page can show bumps it (:func:`_note_changes` and :func:`_bump_after_commit`, SQLAlchemy session
  events: the one place; the app writes only through ``db.session``). Writes to bookkeeping tables no
  cached page shows (the scheduler's runs, the outbox, reminder records, login failures) do not, or
  the scheduler would empty the cache every minute; nor do a sign-in's or an API call's records (the
  last login, a token's last use). Revoking an API token does: what a process keeps of a token
  (``tracker.api.tokens``) is good while the version stands.
- **The store.** ``CACHE_URL``: ``memory://`` (default; one process, as ``make run`` serves) or
  ``redis://…`` (every worker and machine shares one version and one set of pages). Under gunicorn a
  memory store would let a write through one worker go unseen by the others, so there the cache is off
  unless it is Redis. ``CACHE_ENABLED=0`` turns it off (to measure pages cold). If Redis stops
  answering, pages are rendered as without a cache, and the web log says so.
- **Cached views.** :func:`cached_view` wraps a GET view. The key is the data version, the full URL,
  the city's date, and whatever changes what this person may see: role, department, language, the
  light rule. So one department's draft (shown only on its own pages) is never served to another. What
  is personal on every page — the header's name line and the form's CSRF token — is cut out before
  storing and put back per request. A page with a message waiting to be flashed is not cached.
- **Conditional GET.** A cached answer carries an ETag made of its key (so of the data version and
  the viewer's scope) and a Last-Modified of the last write: a browser asking again with
  ``If-None-Match`` gets ``304 Not Modified`` without anything being read or rendered.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import (
    Flask,
    Response,
    current_app,
    has_app_context,
    has_request_context,
    render_template,
    request,
    session,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from . import clock
from .config import running_under_gunicorn

__all__ = [
    "IGNORED_TABLES",
    "PageCache",
    "cached_view",
    "data_version",
    "init_app",
    "page_cache",
    "shared_data_version",
]

# Tables no cached page reads: writing them does not bump the data version.
IGNORED_TABLES = frozenset(
    {
        "calendar_feed",
        "login_failure",
        "job_setting",
        "job_run",
        "reminder_sent",
        "outbox_message",
        "outbox_attachment",
        "bulletin",
        "evidence_blob",  # written with its attachment row, which bumps
        "alembic_version",
    }
)
CSRF_MARK = "\x1ecsrf\x1e"
USER_MARK = "\x1euser\x1e"
_CSRF_MARK, _USER_MARK = CSRF_MARK.encode(), USER_MARK.encode()
_USER_LINE = re.compile(r'<span class="user">.*?</span>', re.S)
_DML = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)
_EXTENSION = "tracker_cache"
DIRTY = "cache_dirty"  # in a database session's info: it has flushed writes that will bump the version
CHANGED_TASKS = "cache_tasks"  # … the tasks whose rows it wrote (for the kept plan states)
CHANGED_ALL = "cache_all"  # … it wrote something else a plan state reads


@dataclass(frozen=True)
class Change:
    """What one bump of the data version changed, for the kept plan states (``tracker.tasks.state``):
    the tasks whose rows were written, or None when anything else the state reads was. ``previous`` and
    ``stamp`` are the times of the bump before and of this one, so that a chain of changes is known to
    run unbroken from a kept version to the current one."""

    previous: float
    stamp: float
    tasks: frozenset[int] | None


CHANGES_KEPT = 200  # bumps whose changes are kept: a state more bumps behind is built again
CHANGE_TTL = 3600
_BUMP_SCRIPT = """
local previous = redis.call('GET', KEYS[2]) or ''
local n = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3] .. n, previous .. '|' .. ARGV[1] .. '|' .. ARGV[2], 'EX', ARGV[3])
return n
"""


class MemoryStore:
    """The version and the pages in this process's memory: right for one process (``make run``)."""

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._version = (1, time.time())
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._changes: OrderedDict[int, Change] = OrderedDict()

    def version(self) -> tuple[int, float]:
        return self._version

    def bump(self, tasks: frozenset[int] | None = None) -> None:
        with self._lock:
            previous = self._version
            self._version = (previous[0] + 1, time.time())
            self._changes[self._version[0]] = Change(previous[1], self._version[1], tasks)
            while len(self._changes) > CHANGES_KEPT:
                self._changes.popitem(last=False)
            self._entries.clear()  # every entry was keyed by an older version

    def changes(self, first: int, last: int) -> list[Change | None]:
        with self._lock:
            return [self._changes.get(n) for n in range(first, last + 1)]

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, ttl: int) -> None:
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


class RedisStore:
    """The version and the pages in Redis: one for every worker and machine.

    The version is a counter (``INCR``: two writers never lose a bump) and the time of the last bump;
    pages expire after ``ttl`` seconds, and pages of an old version are never asked for again.
    """

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self.counter, self.stamp, self.prefix = f"{prefix}:version", f"{prefix}:version-time", f"{prefix}:page:"
        self.change_prefix = f"{prefix}:change:"
        self._bump = self.client.register_script(_BUMP_SCRIPT)

    def version(self) -> tuple[int, float]:
        counter, stamp = self.client.mget(self.counter, self.stamp)
        if stamp is None:
            # A Redis that lost its keys (it keeps nothing on disk) would count again from 0, and a
            # worker's near copies and kept states of the old count would be taken for current. A new
            # era starts with a bump instead: the pair (count, time of the bump) is never seen twice.
            self.bump()
            counter, stamp = self.client.mget(self.counter, self.stamp)
        return int(counter or 0), float(stamp or 0)

    def bump(self, tasks: frozenset[int] | None = None) -> None:
        # One script, so the count, its time and its change record move together.
        written = "*" if tasks is None else ",".join(map(str, sorted(tasks)))
        self._bump(keys=[self.counter, self.stamp, self.change_prefix], args=[repr(time.time()), written, CHANGE_TTL])

    def changes(self, first: int, last: int) -> list[Change | None]:
        out: list[Change | None] = []
        for raw in self.client.mget([f"{self.change_prefix}{n}" for n in range(first, last + 1)]):
            if raw is None:
                out.append(None)
                continue
            previous, stamp, written = raw.decode().split("|")
            tasks = None if written == "*" else frozenset(int(t) for t in written.split(",") if t)
            out.append(Change(float(previous or 0), float(stamp), tasks))
        return out

    def get(self, key: str) -> bytes | None:
        return self.client.get(self.prefix + key)  # type: ignore[return-value]

    def set(self, key: str, value: bytes, ttl: int) -> None:
        self.client.set(self.prefix + key, value, ex=ttl)


class PageCache:
    """The app's cache: a store, whether it is on, and how long a page is kept.

    With Redis, pages this process has already fetched are also kept in its memory (``near``): their
    keys carry the data version, so such a copy is never stale, and a hit costs one Redis call (the
    version) instead of two.
    """

    def __init__(self, store: MemoryStore | RedisStore | None, ttl: int) -> None:
        self.store, self.ttl = store, ttl
        self.near = MemoryStore(max_entries=128) if isinstance(store, RedisStore) else None
        self.lines = MemoryStore(max_entries=256)  # the viewers' name lines (:func:`_user_line`)

    @property
    def enabled(self) -> bool:
        return self.store is not None

    @property
    def shared(self) -> bool:
        """Is the data version one for every process (Redis), so that a write anywhere moves it?"""
        return isinstance(self.store, RedisStore)

    def version(self) -> tuple[int, float] | None:
        if self.store is None:
            return None
        try:
            return self.store.version()
        except Exception:
            current_app.logger.exception("page cache unavailable: pages are rendered without it")
            return None

    def bump(self, tasks: frozenset[int] | None = None) -> None:
        """Move the data version: ``tasks`` are the tasks whose rows changed, None for anything else."""
        if self.store is None:
            return
        try:
            self.store.bump(tasks)
        except Exception:
            current_app.logger.exception("page cache: the data version could not be bumped")

    def tasks_changed(self, since: tuple[int, float], now: tuple[int, float]) -> frozenset[int] | None:
        """The tasks whose rows changed from version ``since`` to ``now``, or None when that is not known
        for sure (anything else changed, too many bumps, a record missing, a chain that does not run
        unbroken from ``since`` to ``now``): then whoever asks builds afresh."""
        if self.store is None or not since[0] < now[0] <= since[0] + CHANGES_KEPT:
            return None
        try:
            changes = self.store.changes(since[0] + 1, now[0])
        except Exception:
            current_app.logger.exception("page cache: the changes could not be read")
            return None
        tasks: set[int] = set()
        stamp = since[1]
        for change in changes:
            if change is None or change.tasks is None or change.previous != stamp:
                return None
            tasks |= change.tasks
            stamp = change.stamp
        return frozenset(tasks) if stamp == now[1] else None

    def get(self, key: str) -> bytes | None:
        near = self.near.get(key) if self.near is not None else None
        if near is not None or self.store is None:
            return near
        try:
            value = self.store.get(key)
        except Exception:
            current_app.logger.exception("page cache unavailable")
            return None
        if value is not None and self.near is not None:
            self.near.set(key, value, self.ttl)
        return value

    def set(self, key: str, value: bytes) -> None:
        if self.near is not None:
            self.near.set(key, value, self.ttl)
        try:
            if self.store is not None:
                self.store.set(key, value, self.ttl)
        except Exception:
            current_app.logger.exception("page cache unavailable")


def init_app(app: Flask) -> None:
    """Choose the store from ``CACHE_URL`` / ``CACHE_ENABLED`` and register the write hooks (once)."""
    url = app.config.get("CACHE_URL") or "memory://"
    store: MemoryStore | RedisStore | None = None
    if app.config.get("CACHE_ENABLED", True):
        if url.startswith(("redis://", "rediss://", "unix://")):
            store = RedisStore(url, app.config.get("CACHE_KEY_PREFIX") or "tracker")
        elif url == "memory://" and not running_under_gunicorn():
            store = MemoryStore()
        elif url != "memory://":
            raise RuntimeError(f"tracker: CACHE_URL must be memory:// or redis://…, not {url!r}")
    app.extensions[_EXTENSION] = PageCache(store, int(app.config.get("CACHE_TTL", 600)))
    _register_session_events()


def page_cache() -> PageCache:
    return current_app.extensions[_EXTENSION]


def data_version() -> tuple[int, float] | None:
    """The data version (counter, time of the last write), read once per request; None without a cache.

    Kept on the request, not on ``g``: an app context (and its ``g``) may outlive one request.
    """
    if "tracker.cache_version" not in request.environ:
        request.environ["tracker.cache_version"] = page_cache().version()
    return request.environ["tracker.cache_version"]


def shared_data_version() -> tuple[int, float] | None:
    """The data version when every process shares it (Redis), else None; None outside a request.

    What a process may keep of the database between requests (``tracker.accounts.sessions``) is good
    while this number stays the same: a write through any process of any machine moves it.
    """
    if not has_request_context() or not page_cache().shared:
        return None
    return data_version()


# --- the one place where writes bump the version -------------------------------------------------

_registered = False


def _register_session_events() -> None:
    global _registered
    if _registered:
        return
    _registered = True
    event.listen(Session, "after_flush", _note_flush)
    event.listen(Session, "do_orm_execute", _note_statement)
    event.listen(Session, "after_commit", _bump_after_commit)
    event.listen(Session, "after_rollback", _forget)


def _note_changes(session: Session, tables: set[str]) -> None:
    if tables - IGNORED_TABLES:
        session.info[DIRTY] = True
    if tables & STATE_TABLES:  # a statement or a row the plan state reads, not one task's: it is built again
        session.info[CHANGED_ALL] = True


# What the kept plan states (tracker.tasks.state) read. A write to one task's rows is noted by task, so
# that a kept state can be brought up to date task by task; a write to any other of these tables makes
# it be built again. Writes to other tables leave the state as it is (pages derived from it, like the
# assessment, are worked out again all the same: they are kept per version).
STATE_TABLES = frozenset({"department", "plan", "section", "calendar_override", "task", "assignment", "check_in"})
TASK_MOVES = frozenset({"parent_id", "position", "section_id", "plan_id", "code"})  # what orders or names it


def _task_of(obj: object, new: bool, deleted: bool) -> int | None:
    """The task whose rows ``obj`` is, when the kept state can be brought up to date for it alone."""
    table = getattr(obj, "__tablename__", "?")
    if table in {"check_in", "assignment"}:
        task_id = getattr(obj, "task_id", None)
        moved = not new and not deleted and inspect(obj).attrs.task_id.history.has_changes()
        return None if moved else task_id
    if table == "task" and not new and not deleted:
        changed = {a.key for a in inspect(obj).attrs if a.history.has_changes()}
        return None if changed & TASK_MOVES else getattr(obj, "id", None)
    return None


def _note_tasks(session: Session) -> None:
    for objects, new, deleted in (
        (session.new, True, False),
        (session.dirty, False, False),
        (session.deleted, False, True),
    ):
        for obj in objects:
            if getattr(obj, "__tablename__", "?") not in STATE_TABLES:
                continue
            task_id = _task_of(obj, new, deleted)
            if task_id is None:
                session.info[CHANGED_ALL] = True
            else:
                session.info.setdefault(CHANGED_TASKS, set()).add(task_id)


# Sign-ins write the account's last login and an audit row; no cached page shows either, and at
# morning logins a bump per login would empty every page and every kept plan state again and again.
SIGN_IN_ACTIONS = frozenset({"login", "login_failed", "logout"})
# Per table, the columns whose change alone is bookkeeping: the last login, a token's last use (written
# at most once a minute per token and process). Any other change to these rows moves the version: a
# role, a disabled account, a revoked token must be seen by every process's next request.
BOOKKEEPING_COLUMNS = {"user": frozenset({"last_login_at"}), "api_token": frozenset({"last_used_at"})}


def _shown(obj: object, new: bool) -> bool:
    """Can this written object change what a cached page shows, or what a process keeps between requests
    (accounts, API tokens)? Not a sign-in's or an API call's bookkeeping."""
    table = getattr(obj, "__tablename__", "?")
    if table == "audit_log" and new:
        return not (getattr(obj, "entity", None) == "user" and getattr(obj, "action", None) in SIGN_IN_ACTIONS)
    if table == "api_token" and new:
        return False  # nobody has kept a token not yet made (a secret not found is not kept)
    if table in BOOKKEEPING_COLUMNS and not new:
        state = inspect(obj)
        changed = {a.key for a in state.attrs if a.history.has_changes()}
        return not changed <= BOOKKEEPING_COLUMNS[table]
    return True


def _note_flush(session: Session, _context: object) -> None:
    tables = {getattr(obj, "__tablename__", "?") for obj in session.new if _shown(obj, True)}
    tables |= {getattr(obj, "__tablename__", "?") for obj in session.dirty if _shown(obj, False)}
    tables |= {getattr(obj, "__tablename__", "?") for obj in session.deleted}
    if tables - IGNORED_TABLES:
        session.info[DIRTY] = True
    _note_tasks(session)


def _note_statement(state: Any) -> None:
    statement = state.statement
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(statement, "table", None)
        _note_changes(state.session, {getattr(table, "name", "?")})
    elif not state.is_select:
        match = _DML.match(str(statement))  # text("UPDATE …") and the like
        if match:
            _note_changes(state.session, {match.group(1).lower()})


def _bump_after_commit(session: Session) -> None:
    # After the commit: a reader who sees the new version can only read the new data.
    changed_all = session.info.pop(CHANGED_ALL, False)
    tasks = session.info.pop(CHANGED_TASKS, set())
    if session.info.pop(DIRTY, False) and has_app_context() and _EXTENSION in current_app.extensions:
        page_cache().bump(None if changed_all else frozenset(tasks))
        if has_request_context():  # what this request reads after its own write is the new version
            request.environ.pop("tracker.cache_version", None)


def _forget(session: Session) -> None:
    for key in (DIRTY, CHANGED_ALL, CHANGED_TASKS):
        session.info.pop(key, None)


# --- cached views ---------------------------------------------------------------------------------


def _scope() -> tuple[object, ...]:
    """What changes what the viewer may see besides the data: role, department, language, rule, day."""
    from flask_babel import get_locale

    user = current_user
    return (
        getattr(user, "role", None),
        getattr(user, "department_id", None),
        str(get_locale()),
        repr(current_app.config.get("LIGHT_RULE")),
        clock.today().isoformat(),
    )


def _personal(html: str) -> str:
    """The page as stored: without the viewer's name line and CSRF token."""
    html = html.replace(generate_csrf(), CSRF_MARK)
    return _USER_LINE.sub(USER_MARK, html, count=1)


def _personalise(html: bytes, version: tuple[int, float]) -> bytes:
    """The stored page with this viewer's name line and CSRF token, as bytes: a page of tens of KiB is
    not decoded and encoded again on every hit."""
    if _USER_MARK in html:
        html = html.replace(_USER_MARK, _user_line(version), 1)
    return html.replace(_CSRF_MARK, generate_csrf().encode())


def _user_line(version: tuple[int, float]) -> bytes:
    """The header's name line for this viewer, rendered once per data version, account and language.

    It shows the account's name, role and department (data: the version moves when they change) in the
    request's language; kept in this process only, so rendering it again is all a miss costs.
    """
    from flask_babel import get_locale

    lines = page_cache().lines
    key = f"{version}\x1f{current_user.get_id()}\x1f{get_locale()}"
    line = lines.get(key)
    if line is None:
        line = render_template("_user_line.html").encode()
        lines.set(key, line, 0)
    return line


def cached_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve a GET view's answer from the cache when the data and the viewer's scope are the same.

    The view may return HTML (a ``str``) or a 200 ``Response`` (JSON); anything else (a redirect, an
    error) is passed through uncached.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.method != "GET" or session.get("_flashes") or not current_app.config.get("CACHE_ENABLED", True):
            return view(*args, **kwargs)
        version = data_version()
        if version is None:
            return view(*args, **kwargs)
        key = hashlib.sha256(repr((version, request.full_path, _scope())).encode()).hexdigest()[:40]
        etag = f"p{key}"
        modified = datetime.fromtimestamp(int(version[1]), UTC) if version[1] else None
        if etag in request.if_none_match:
            return _conditional(Response(status=304), etag, modified)
        cache = page_cache()
        stored = cache.get(key)
        if stored is None:
            answer = view(*args, **kwargs)
            if isinstance(answer, str):
                stored = b"text/html; charset=utf-8\n" + _personal(answer).encode()
            elif isinstance(answer, Response) and answer.status_code == 200 and not answer.direct_passthrough:
                stored = answer.mimetype.encode() + b"\n" + answer.get_data()
            else:
                return answer
            cache.set(key, stored)
        mimetype, _sep, body = stored.partition(b"\n")
        if mimetype.startswith(b"text/html"):
            response = Response(_personalise(body, version), mimetype="text/html")
        else:
            response = Response(body, mimetype=mimetype.decode())
        return _conditional(response, etag, modified)

    return wrapper


def _conditional(response: Response, etag: str, modified: datetime | None) -> Response:
    response.set_etag(etag)
    if modified is not None:
        response.last_modified = modified
    # The browser keeps the page but asks each time; the answer depends on the session's account.
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Cookie", "Authorization", "Accept-Language"))
    return response
