"""Sessions: which account a session cookie stands for, ending every session of an account, and the
idle timeout (等保 2.0 level 2).

A session names its account as ``"<id>:<session_version>"`` (``User.get_id``). Raising the
account's ``session_version`` — at logout, a password change or reset, disabling the account, or
by the security administrator — makes every cookie issued before worthless, copies included.

The account behind a session is read on every logged-in request, so each process keeps the accounts it
has read (:class:`KnownAccounts`), as they stood at the data version (``tracker.cache``) it read them at.
Every committed write to the ``user`` table bumps that version, so a disabled account, an ended session,
a changed role or department is seen by the next request of every process, as without the copy. Only
with a data version every process shares (the page cache in Redis): with a process's own memory version,
a write from the command line (another process) would go unseen. A copy also lives at most
``KNOWN_MAX_AGE`` seconds, in case a write reached the database by some other way than the app's session
(``psql``).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from .. import audit, cache
from ..extensions import db
from ..models import ApiToken, User

__all__ = [
    "KnownAccounts",
    "account",
    "end_sessions",
    "idle_expired",
    "known_accounts",
    "load_session_user",
    "revoke_api_tokens",
]

KNOWN_MAX_AGE = 30.0  # seconds


class KnownAccounts:
    """The accounts this process has read, each with the data version it was read at (one process's memory).

    A copy is detached from any database session and never changed: a request gets its own instance of
    it (``Session.merge(load=False)``, SQLAlchemy's way of putting a cached row into a session without
    reading it), which it may change and commit like any account it read.
    """

    def __init__(self, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._copies: dict[int, tuple[tuple[int, float], float, User]] = {}

    def get(self, user_id: int, version: tuple[int, float]) -> User | None:
        found = self._copies.get(user_id)
        if found is None or found[0] != version or time.monotonic() - found[1] > KNOWN_MAX_AGE:
            return None
        return found[2]

    def keep(self, user: User, version: tuple[int, float]) -> None:
        """Keep a copy of ``user``, read from the database after the data version ``version`` was read."""
        copy = User(**{attr.key: getattr(user, attr.key) for attr in inspect(User).column_attrs})
        make_transient_to_detached(copy)  # persistent facts, no pending change: mergeable without a read
        with self._lock:
            if len(self._copies) >= self.max_entries:
                self._copies.clear()  # every copy is one query away; no need for an order of use
            self._copies[user.id] = (version, time.monotonic(), copy)

    def clear(self) -> None:
        with self._lock:
            self._copies.clear()


def known_accounts() -> KnownAccounts:
    """This app's copies (one per app: tests run several apps, on several databases, in one process)."""
    return current_app.extensions.setdefault("tracker_known_accounts", KnownAccounts())


def account(user_id: int) -> User | None:
    """Account ``user_id`` in this request's database session: from this process's copy when the shared
    data version has not moved since it was read, else read (and copied for the next request)."""
    version = cache.shared_data_version()
    if version is not None and db.session.identity_map.get(identity_key(User, user_id)) is None:
        copy = known_accounts().get(user_id, version)
        if copy is not None:
            return db.session.merge(copy, load=False)
    user = db.session.get(User, user_id)
    if user is not None and version is not None and not _uncommitted():
        known_accounts().keep(user, version)
    return user


def _uncommitted() -> bool:
    """Does this database session hold changes not yet committed (which a copy must not carry)?"""
    session = db.session
    return bool(session.new or session.dirty or session.deleted or session.info.get(cache.DIRTY))


def load_session_user(session_id: str) -> User | None:
    """The account a session names, if that session has not been ended since.

    A session without a version (issued before versions existed, or forged) names nobody.
    """
    user_id, sep, version = session_id.partition(":")
    if not sep or not user_id.isdigit() or not version.isdigit():
        return None
    user = account(int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return user


def end_sessions(user: User, *, now: datetime, by_id: int | None, reason: str) -> None:
    """End every session of ``user`` (the caller commits)."""
    user.session_version += 1
    audit.record(now=now, action="end_sessions", entity="user", entity_id=user.id, new=reason, user_id=by_id)


def revoke_api_tokens(user: User, *, now: datetime, by_id: int | None) -> int:
    """Revoke every live API token of ``user``; return how many (the caller commits)."""
    tokens = db.session.scalars(db.select(ApiToken).filter_by(user_id=user.id, revoked_at=None)).all()
    for token in tokens:
        token.revoked_at = now
        audit.record(now=now, action="revoke", entity="api_token", entity_id=token.id, user_id=by_id)
    return len(tokens)


def idle_expired(last_seen: str | None, now: datetime, limit: timedelta) -> bool:
    """Has a session last seen at ``last_seen`` (ISO instant) been idle longer than ``limit``?

    >>> from datetime import UTC
    >>> t = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)
    >>> idle_expired("2024-06-03T01:29:00+00:00", t, timedelta(minutes=30))
    True
    >>> idle_expired("2024-06-03T01:31:00+00:00", t, timedelta(minutes=30))
    False
    >>> idle_expired(None, t, timedelta(minutes=30)), idle_expired("garbage", t, timedelta(minutes=30))
    (False, True)
    """
    if last_seen is None:
        return False
    try:
        seen = datetime.fromisoformat(last_seen)
    except (TypeError, ValueError):
        return True
    return now - seen > limit
