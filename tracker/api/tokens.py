"""Personal API tokens: created and revoked by their owner, kept only as a SHA-256 hash, and a
fixed-window rate limit per token, counted in one store shared by every worker process."""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from limits import RateLimitItemPerSecond
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit
from ..accounts.sessions import account
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


def authenticate(secret: str, *, now: datetime) -> ApiToken | None:
    """The live token with this secret whose owner is active, or None."""
    if not secret.startswith(PREFIX):
        return None
    token = db.session.scalar(db.select(ApiToken).filter_by(token_hash=_hash(secret)))
    if token is None or token.revoked_at is not None:
        return None
    # The owner as the session's account is read: this process's copy while the data version stands
    # (a token's own row is read every time: revoking it does not move the version).
    owner = account(token.user_id)
    if owner is None or not owner.active:
        return None
    set_committed_value(token, "user", owner)  # token.user without a read (and not a change to save)
    # A read must not write on every call: the time of last use is kept to the minute.
    last = token.last_used_at
    if last is None or not timedelta(0) <= now - last < LAST_USED_EVERY:
        token.last_used_at = now
        db.session.commit()
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
