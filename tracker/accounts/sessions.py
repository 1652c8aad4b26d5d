"""Sessions: which account a session cookie stands for, ending every session of an account, and the
idle timeout (等保 2.0 level 2).

A session names its account as ``"<id>:<session_version>"`` (``User.get_id``). Raising the
account's ``session_version`` — at logout, a password change or reset, disabling the account, or
by the security administrator — makes every cookie issued before worthless, copies included.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .. import audit
from ..extensions import db
from ..models import ApiToken, User

__all__ = ["end_sessions", "idle_expired", "load_session_user", "revoke_api_tokens"]


def load_session_user(session_id: str) -> User | None:
    """The account a session names, if that session has not been ended since.

    A session without a version (issued before versions existed, or forged) names nobody.
    """
    user_id, sep, version = session_id.partition(":")
    if not sep or not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
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
