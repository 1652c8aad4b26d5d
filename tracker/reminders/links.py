"""Signed links from reminder emails: a token that opens one department's report form on one task.

The token is signed with the app's secret and expires. Following it stores a *grant* in the
session that opens that form only — it logs nobody in: every other page still asks for an account.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from ..errors import TrackerError
from ..i18n import N_

SALT = "report-link"
SESSION_KEY = "report_grants"


class LinkError(TrackerError):
    """The link is invalid or has expired. The message stays Chinese (``follow_link`` tells the two
    apart by it) and is translated where shown."""


def make_token(
    secret: str, *, department_id: int, task_code: str, period: str, plan_key: str, now: datetime | None = None
) -> str:
    """A signed token; ``now`` (the app clock) stamps it, so its age is measured on the same clock."""
    data = {"d": department_id, "t": task_code, "p": period, "k": plan_key}
    if now is None:
        return URLSafeTimedSerializer(secret, salt=SALT).dumps(data)
    stamp = int(now.timestamp())
    signer = type("ClockSigner", (TimestampSigner,), {"get_timestamp": lambda self: stamp})
    return URLSafeTimedSerializer(secret, salt=SALT, signer=signer).dumps(data)


def read_token(secret: str, token: str, *, max_age_seconds: int, now: datetime) -> dict[str, Any]:
    """The token's payload; ``LinkError`` if it was tampered with or is older than ``max_age_seconds``.

    Age is measured against ``now`` (the app clock), so a frozen clock in tests and demos applies.
    """
    serializer = URLSafeTimedSerializer(secret, salt=SALT)
    try:
        data, signed_at = serializer.loads(token, return_timestamp=True)
    except SignatureExpired as exc:  # pragma: no cover - we check age ourselves below
        raise LinkError(N_("链接已过期，请登录系统填报。")) from exc
    except BadSignature as exc:
        raise LinkError(N_("链接无效。")) from exc
    if (now - signed_at).total_seconds() > max_age_seconds:
        raise LinkError(N_("链接已过期，请登录系统填报。"))
    return {"department_id": data["d"], "task_code": data["t"], "period": data["p"], "plan_key": data["k"]}


def store_grant(session: MutableMapping[str, Any], payload: dict[str, Any], *, expires: datetime) -> None:
    grants = dict(session.get(SESSION_KEY, {}))
    grants[payload["task_code"]] = {
        "department_id": payload["department_id"],
        "period": payload["period"],
        "expires": expires.isoformat(),
    }
    session[SESSION_KEY] = grants


def grant_for(session: MutableMapping[str, Any], task_code: str, *, now: datetime) -> dict[str, Any] | None:
    """The grant (department_id, period) the session holds for ``task_code``, if still valid."""
    grant = session.get(SESSION_KEY, {}).get(task_code)
    if not grant or datetime.fromisoformat(grant["expires"]) < now:
        return None
    return grant
