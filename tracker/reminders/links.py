"""Signed links from reminder emails: a token that opens one department's report form on one task.

The token names the task's plan too (several plans may number a task ``3.1``); the grant is kept
under plan and code, and the link opens the form of that plan's task.

The token is signed with the app's secret and expires. Following it stores a *grant* in the
session that opens that form only — one task, one department, one period; it logs nobody in: every
other page still asks for an account. The grant remembers which digest (outbox message) carried the
link, so a report made through it records where it came from. Pages that show a message's body to
staff of the app (the outbox) show its links masked: a link there must not be usable.
"""

from __future__ import annotations

import hmac
import json
import re
import time
import zlib
from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer, want_bytes
from itsdangerous.encoding import base64_encode, int_to_bytes

from ..errors import TrackerError
from ..extensions import db
from ..i18n import N_
from ..models import OutboxMessage

SALT = "report-link"
SESSION_KEY = "report_grants"


class LinkError(TrackerError):
    """The link is invalid or has expired. The message stays Chinese (``follow_link`` tells the two
    apart by it) and is translated where shown."""


class LinkSigner:
    """Signs report links with one secret and one clock reading; a sweep signs a link per task line
    (over 100,000 at five times province scale).

    The tokens are byte for byte what ``URLSafeTimedSerializer(secret, salt=SALT).dumps`` writes (and
    ``read_token`` reads them so): compact JSON, zlib when it is shorter, URL-safe base64, the time
    stamp, an HMAC-SHA1. itsdangerous re-derives the key from the secret and salt for every token and
    builds its JSON encoder and HMAC anew each time; here the key, the encoder and the stamp are made
    once and each token is one JSON encoding and one HMAC.
    """

    def __init__(self, secret: str, now: datetime | None = None) -> None:
        """``now`` (the app clock) stamps the tokens, so their age is measured on the same clock; without
        it each token is stamped when signed (as itsdangerous does)."""
        signer = URLSafeTimedSerializer(secret, salt=SALT).make_signer()
        # the signing key itsdangerous derives (its default: HMAC of the salt under the secret)
        self._key = signer.derive_key()
        self._digest = signer.algorithm.digest_method  # type: ignore[attr-defined]
        self._sep = want_bytes(signer.sep)
        self._stamp = None if now is None else self._stamped(int(now.timestamp()))
        # itsdangerous's compact JSON (``_CompactJSON``), one encoder for every token
        self._encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def _stamped(self, stamp: int) -> bytes:
        return self._sep + base64_encode(int_to_bytes(stamp))

    def token(self, *, department_id: int, task_code: str, period: str, plan_key: str) -> str:
        """A signed token, as ``URLSafeTimedSerializer.dumps`` writes it."""
        payload = self._encode({"d": department_id, "t": task_code, "p": period, "k": plan_key}).encode("utf-8")
        compressed = zlib.compress(payload)
        # as ``URLSafeSerializerMixin.dump_payload``: compressed (marked with a dot) only if shorter
        shorter = len(compressed) < len(payload) - 1
        value = b"." + base64_encode(compressed) if shorter else base64_encode(payload)
        value += self._stamp or self._stamped(int(time.time()))
        signature = hmac.digest(self._key, value, self._digest)
        return (value + self._sep + base64_encode(signature)).decode("ascii")


def make_token(
    secret: str, *, department_id: int, task_code: str, period: str, plan_key: str, now: datetime | None = None
) -> str:
    """A signed token; ``now`` (the app clock) stamps it, so its age is measured on the same clock."""
    return LinkSigner(secret, now).token(
        department_id=department_id, task_code=task_code, period=period, plan_key=plan_key
    )


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


def store_grant(
    session: MutableMapping[str, Any], payload: dict[str, Any], *, expires: datetime, message_id: int | None = None
) -> None:
    grants = dict(session.get(SESSION_KEY, {}))
    grants[grant_key(payload["plan_key"], payload["task_code"])] = {
        "department_id": payload["department_id"],
        "period": payload["period"],
        "message_id": message_id,
        "expires": expires.isoformat(),
    }
    session[SESSION_KEY] = grants


def digest_of(token: str, department_id: int) -> int | None:
    """The id of the department's outbox message that carried this link (the first copy), if any."""
    return db.session.scalar(
        db.select(OutboxMessage.id)
        .where(
            OutboxMessage.department_id == department_id,
            OutboxMessage.body_text.contains("/r/" + token, autoescape=True),
        )
        .order_by(OutboxMessage.id)
        .limit(1)
    )


# A link's token: URL-safe base64 and dots. The first characters stay, to tell links apart.
_LINK = re.compile(r"(/r/)([A-Za-z0-9_\-]{6})[A-Za-z0-9_.\-]+")


def mask_links(text: str) -> str:
    """``text`` with every signed link cut short, so that it opens nothing.

    >>> mask_links("填报链接：https://x.gov.cn/r/eyJkIjo3LCJ0IjoiMy4xIn0.ZxY.abc 截止")
    '填报链接：https://x.gov.cn/r/eyJkIj… 截止'
    """
    return _LINK.sub(r"\1\2…", text)


def grant_key(plan_key: str, task_code: str) -> str:
    """A grant is for one task of one plan: several plans may have a task ``3.1``."""
    return f"{plan_key}/{task_code}"


def grant_for(
    session: MutableMapping[str, Any], plan_key: str, task_code: str, *, now: datetime
) -> dict[str, Any] | None:
    """The grant (department_id, period) the session holds for task ``task_code`` of plan ``plan_key``,
    if still valid."""
    grant = session.get(SESSION_KEY, {}).get(grant_key(plan_key, task_code))
    if not grant or datetime.fromisoformat(grant["expires"]) < now:
        return None
    return grant
