"""The login throttle: who waits how long after failed logins.

Failures are counted for the pair (account as typed, client address) and for the client address
across all accounts, never for the account alone: someone guessing from elsewhere slows down
himself, not the account's owner at her own desk, and a client that tries many accounts is slowed
down too. An account is the address as typed, whether or not it exists, so an unknown account
shows the same lock-out as a real one and nothing tells them apart.

The rules (:class:`Rule`) are pure; the counts live in ``login_failure`` and are raised with one
upsert, so parallel guesses cannot slip past each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import LoginFailure

__all__ = ["ACCOUNT_FROM_CLIENT", "ANY_ACCOUNT", "FROM_CLIENT", "Rule", "clear_account", "record_failure", "wait"]

ANY_ACCOUNT = ""  # the ``account`` of a client's count across all accounts


@dataclass(frozen=True)
class Rule:
    """After ``free`` failures each further one doubles the wait, from ``first_wait`` up to ``max_wait``;
    failures are forgotten once none came for ``forget_after``."""

    free: int
    first_wait: timedelta = timedelta(seconds=30)
    max_wait: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=1)

    def delay(self, failures: int) -> timedelta:
        """How long to wait after ``failures`` consecutive failures.

        >>> rule = Rule(free=3)
        >>> rule.delay(3), rule.delay(4), rule.delay(5)
        (datetime.timedelta(0), datetime.timedelta(seconds=30), datetime.timedelta(seconds=60))
        >>> rule.delay(20)
        datetime.timedelta(seconds=900)
        """
        if failures <= self.free:
            return timedelta(0)
        return min(self.first_wait * 2 ** min(failures - self.free - 1, 32), self.max_wait)

    def wait(self, failures: int, last_failure_at: datetime, now: datetime) -> timedelta:
        """What is left of the wait at ``now`` (nothing once the failures are forgotten).

        >>> t = datetime(2024, 6, 3, 10, 0)
        >>> Rule(free=3).wait(4, t, t + timedelta(seconds=10))
        datetime.timedelta(seconds=20)
        >>> Rule(free=3).wait(20, t, t + timedelta(hours=2))
        datetime.timedelta(0)
        """
        if now - last_failure_at >= self.forget_after:
            return timedelta(0)
        return max(last_failure_at + self.delay(failures) - now, timedelta(0))


# One account from one client: three tries, then 30 s, 60 s … up to 15 minutes.
ACCOUNT_FROM_CLIENT = Rule(free=3)
# One client across accounts: generous, since an office may share one address behind NAT.
FROM_CLIENT = Rule(free=30)


def _keys(account: str, client: str | None) -> list[tuple[str, str, Rule]]:
    client = (client or "-")[:64]
    return [(account[:254], client, ACCOUNT_FROM_CLIENT), (ANY_ACCOUNT, client, FROM_CLIENT)]


def wait(account: str, client: str | None, *, now: datetime) -> int:
    """Whole seconds ``client`` must wait before trying ``account`` again (0: go ahead)."""
    longest = timedelta(0)
    for key_account, key_client, rule in _keys(account, client):
        row = db.session.get(LoginFailure, (key_account, key_client))
        if row is not None:
            longest = max(longest, rule.wait(row.failures, row.last_failure_at, now))
    return int(longest.total_seconds()) + 1 if longest else 0


def record_failure(account: str, client: str | None, *, now: datetime) -> None:
    """Count one more failure for the pair and for the client (in the caller's transaction)."""
    table = LoginFailure.__table__
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for key_account, key_client, rule in _keys(account, client):
        stale = table.c.last_failure_at <= now - rule.forget_after
        statement = insert(table).values(account=key_account, client=key_client, failures=1, last_failure_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.account, table.c.client],
            set_={"failures": case((stale, 1), else_=table.c.failures + 1), "last_failure_at": now},
        )
        db.session.execute(statement)


def record_success(account: str, client: str | None) -> None:
    """The pair starts afresh; the client's count across accounts does not (one good login would reset it)."""
    key_account, key_client, _rule = _keys(account, client)[0]
    db.session.execute(
        db.delete(LoginFailure).where(LoginFailure.account == key_account, LoginFailure.client == key_client)
    )


def clear_account(account: str) -> None:
    """Forget the account's failures from every client (an administrator reset its password)."""
    db.session.execute(db.delete(LoginFailure).where(LoginFailure.account == account.strip().lower()[:254]))
