"""Password links by email: the set-password link a new account receives and the reset link.

A link is signed with the app's secret, stamped by the app clock and expires
(``PASSWORD_LINK_HOURS``: set 72 h, reset 2 h by default). It is single-use without a table: it
carries a fingerprint of the account's password hash and session version, and setting the password
changes both, so a used (or superseded) link no longer matches. The mail is written to the outbox
first and sent from there like every other mail; the outbox page never shows its body.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from .. import audit
from ..errors import TrackerError
from ..extensions import db
from ..i18n import HTML_LANG, LOCALES, N_, site_locale
from ..models import OutboxMessage, User
from . import throttle
from .passwords import PasswordPolicyError, check_password
from .service import hash_password
from .sessions import end_sessions

__all__ = [
    "ACCOUNT_MAIL_KIND",
    "LinkError",
    "make_link_token",
    "read_link_token",
    "request_reset",
    "send_link",
    "set_password",
]

SALT = "account-password"
ACCOUNT_MAIL_KIND = "account"  # outbox rows of this kind hold a live link: their body is never shown
PURPOSES = ("set", "reset")


class LinkError(TrackerError):
    """The link is invalid, used or expired; the message is in Chinese and translated where shown."""


def _fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.password_hash}|{user.session_version}".encode()).hexdigest()[:20]


def make_link_token(secret: str, user: User, purpose: str, *, now: datetime) -> str:
    stamp = int(now.timestamp())
    signer = type("ClockSigner", (TimestampSigner,), {"get_timestamp": lambda self: stamp})
    data = {"u": user.id, "p": purpose, "f": _fingerprint(user)}
    return URLSafeTimedSerializer(secret, salt=SALT, signer=signer).dumps(data)


def read_link_token(secret: str, token: str, *, now: datetime, hours: dict[str, int]) -> tuple[User, str]:
    """The account and purpose a link is for; ``LinkError`` if tampered with, expired or used."""
    try:
        data, signed_at = URLSafeTimedSerializer(secret, salt=SALT).loads(token, return_timestamp=True)
        user_id, purpose, fingerprint = int(data["u"]), str(data["p"]), str(data["f"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkError(N_("链接无效。")) from None
    if purpose not in PURPOSES:
        raise LinkError(N_("链接无效。"))
    if (now - signed_at).total_seconds() > hours[purpose] * 3600:
        raise LinkError(N_("链接已过期，请重新申请。"))
    user = db.session.get(User, user_id)
    if user is None or not user.active or not secrets.compare_digest(_fingerprint(user), fingerprint):
        raise LinkError(N_("链接已使用或已失效，请重新申请。"))
    return user, purpose


def send_link(user: User, purpose: str, *, now: datetime, by_id: int | None) -> OutboxMessage:
    """Write the set-password (``set``) or reset (``reset``) mail to the outbox (the caller commits),
    in the account's language."""
    config = current_app.config
    token = make_link_token(config["SECRET_KEY"], user, purpose, now=now)
    link = config["BASE_URL"].rstrip("/") + "/password/set/" + token
    hours = config["PASSWORD_LINK_HOURS"][purpose]
    language = user.locale if user.locale in LOCALES else site_locale()
    with force_locale(language):
        subject = (
            gettext("设置您的规划任务督办系统密码") if purpose == "set" else gettext("重置您的规划任务督办系统密码")
        )
        context: dict[str, Any] = {"user": user, "link": link, "hours": hours, "purpose": purpose}
        context["email_lang"] = HTML_LANG[language]
        text = render_template("email/password_link.txt", **context)
        html = render_template("email/password_link.html", **context)
    message = OutboxMessage(
        dedupe_key=f"account:{purpose}:{user.id}:{secrets.token_hex(8)}",
        kind=ACCOUNT_MAIL_KIND,
        department_id=None,
        recipients=user.email,
        subject=subject,
        body_text=text,
        body_html=html,
        status="pending",
        attempts=0,
        last_error="",
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    audit.record(now=now, action="send_" + purpose + "_link", entity="user", entity_id=user.id, user_id=by_id)
    return message


def request_reset(email: str, *, now: datetime) -> OutboxMessage | None:
    """Queue a reset mail if ``email`` is an active account; the caller answers the same either way."""
    user = db.session.scalar(db.select(User).filter_by(email=email.strip().lower()))
    if user is None or not user.active:
        audit.record(now=now, action="reset_requested_unknown", entity="user", entity_id=None, actor=email[:254])
        db.session.commit()
        return None
    message = send_link(user, "reset", now=now, by_id=None)
    db.session.commit()
    return message


def set_password(user: User, password: str, *, now: datetime) -> None:
    """Set the password through a link: the policy applies, the link is used up, old sessions end."""
    try:
        check_password(password, email=user.email, name=user.name)
    except PasswordPolicyError as exc:
        raise LinkError(str(exc)) from None
    user.password_hash = hash_password(password)
    user.must_change_password = False
    throttle.clear_account(user.email)  # the mailbox's owner proved herself: no wait left from anywhere
    end_sessions(user, now=now, by_id=user.id, reason="password_set")
    audit.record(now=now, action="update", entity="user", entity_id=user.id, field="password", user_id=user.id)
    db.session.commit()
