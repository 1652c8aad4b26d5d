"""Failed logins, counted per (account as typed, client address) and per client address: the login throttle.

The rule that reads these counts is ``tracker/accounts/throttle.py``. An account is the address as
typed, whether or not such an account exists, so the throttle answers alike for both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime


class LoginFailure(db.Model):
    """Consecutive failed logins of ``account`` from ``client`` ("" account: from ``client`` to any account)."""

    __tablename__ = "login_failure"

    account: Mapped[str] = mapped_column(String(254), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int]
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime())
