"""Personal API tokens: created and revoked by their owner, kept only as a SHA-256 hash, and a
fixed-window rate limit per token, counted in one store shared by every worker process.

Every API call names its token, so each process keeps the live tokens it has read (:class:`KnownTokens`),
as they stood at the shared data version (``tracker.cache``) it read them at, like the accounts of
``tracker.accounts.sessions``. Revoking a token, and every change to its owner, bump that version, so a
revoked token or a disabled owner is refused by the next call of every process; a token's last use (its
only other write) does not. Only with a data version every process shares (Redis), and for at most
``KNOWN_MAX_AGE`` seconds, as for the accounts.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from limits import RateLimitItemPerSecond
from sqlalchemy import inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit, cache
from ..accounts.sessions import KNOWN_MAX_AGE, account
from ..errors import NotFound, TrackerError
from ..extensions import db, limiter
from ..models import ApiToken, User

PREFIX = "trk_"
# How stale a token's "last used" may be: written at most once a minute, not on every call.
LAST_USED_EVERY = timedelta(minutes=1)


class TokenError(TrackerError):
    """A token cannot be created or is not valid."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(user: User, name: str, *, now: datetime) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it and the secret, which is never shown again."""
    name = name.strip()
    if not name or len(name) > 64:
        raise TokenError(_("请填写令牌名称（不超过 64 个字）"))
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_hash(secret), prefix=secret[:12], created_at=now)
    db.session.add(token)
    db.session.flush()
    audit.record(now=now, action="create", entity="api_token", entity_id=token.id, new=name, user_id=user.id)
    db.session.commit()
    return token, secret


def user_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(db.select(ApiToken).filter_by(user_id=user.id).order_by(ApiToken.id.desc())))


def revoke_token(user: User, token_id: int, *, now: datetime) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_("没有这个令牌"))
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record(now=now, action="revoke", entity="api_token", entity_id=token.id, user_id=user.id)
        db.session.commit()
    return token


class KnownTokens:
    """The live tokens this process has read, by the hash of their secret, each with the data version it
    was read at (one process's memory). A copy is detached and never changed: a call gets its own
    instance of it (``Session.merge(load=False)``, no read)."""

    def __init__(self, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._copies: dict[str, tuple[tuple[int, float], float, ApiToken]] = {}

    def get(self, token_hash: str, version: tuple[int, float]) -> ApiToken | None:
        found = self._copies.get(token_hash)
        if found is None or found[0] != version or time.monotonic() - found[1] > KNOWN_MAX_AGE:
            return None
        return found[2]

    def keep(self, token: ApiToken, version: tuple[int, float]) -> None:
        """Keep a copy of live ``token`` as it is in this session: read after ``version`` was read, its
        last use possibly just written (a change that does not move the version)."""
        copy = ApiToken(**{attr.key: getattr(token, attr.key) for attr in inspect(ApiToken).column_attrs})
        make_transient_to_detached(copy)  # persistent facts, no pending change: mergeable without a read
        with self._lock:
            if len(self._copies) >= self.max_entries:
                self._copies.clear()  # every copy is one query away
            self._copies[copy.token_hash] = (version, time.monotonic(), copy)

    def clear(self) -> None:
        with self._lock:
            self._copies.clear()


def known_tokens() -> KnownTokens:
    """This app's copies (one per app: tests run several apps in one process)."""
    return current_app.extensions.setdefault("tracker_known_tokens", KnownTokens())


def authenticate(secret: str, *, now: datetime) -> ApiToken | None:
    """The live token with this secret whose owner is active, or None.

    A warm call reads nothing from the database: the token is this process's copy while the shared
    data version stands, and so is its owner (``account``).
    """
    if not secret.startswith(PREFIX):
        return None
    digest = _hash(secret)
    version = cache.shared_data_version()  # read before the row: a copy is good for this version only
    copy = known_tokens().get(digest, version) if version is not None else None
    if copy is not None:
        token = db.session.merge(copy, load=False)
    else:
        token = db.session.scalar(db.select(ApiToken).filter_by(token_hash=digest))
        if token is None or token.revoked_at is not None:
            return None
    owner = account(token.user_id)
    if owner is None or not owner.active:
        return None
    # A read must not write on every call: the time of last use is kept to the minute.
    last = token.last_used_at
    written = last is None or not timedelta(0) <= now - last < LAST_USED_EVERY
    if written:
        token.last_used_at = now
    if version is not None and (copy is None or written):
        known_tokens().keep(token, version)  # before the commit, which expires what the session holds
    if written:
        db.session.commit()  # bookkeeping: does not move the data version
        owner = account(token.user_id)  # the commit expired the session's instance
    set_committed_value(token, "user", owner)  # token.user without a read (and not a change to save)
    return token


def rate_limit_hit(token_id: int, *, limit: int, window: int) -> tuple[bool, int]:
    """Count one call of a token in its fixed window; return (allowed, seconds until the window resets:
    worked out only for a refused call, which says it in Retry-After; ``window`` for an allowed one).

    The count lives in Flask-Limiter's storage (``RATELIMIT_STORAGE_URI``): in memory by default, in
    Redis in production, so that every worker process counts against one limit. Windows run on real
    time, not the app's clock: a demo frozen "as of" a date must not freeze the window.
    """
    item = RateLimitItemPerSecond(limit, window)
    keys = (current_app.config.get("RATELIMIT_KEY_PREFIX") or "tracker", "api-token", str(token_id))
    try:
        strategy = limiter.limiter
        if strategy.hit(item, *keys):  # one round trip to the store for an allowed call
            return True, window
        reset_at, _remaining = strategy.get_window_stats(item, *keys)
    except Exception:
        current_app.logger.exception("rate-limit storage unavailable; the call is let through")
        return True, window
    return False, max(1, math.ceil(reset_at - time.time()))
