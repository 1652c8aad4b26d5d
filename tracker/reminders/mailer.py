"""Outbox delivery over SMTP: claim due rows, send, retry with exponential backoff, never drop.

A row is *claimed* before it is sent: its status becomes ``sending`` with a lease
(``next_attempt_at`` a few minutes ahead) in a committed transaction. On PostgreSQL the claim reads
with ``FOR UPDATE SKIP LOCKED``, so two deliverers never take the same row; on SQLite the database
lock serialises them (one process). A deliverer that dies mid-batch leaves its rows to be re-claimed
when the lease runs out; one that meets an error it did not expect releases the rows it had not
reached before it stops. After ``MAIL_MAX_ATTEMPTS`` failures a row is ``failed`` and shown to the
coordinators on the outbox page. Without ``MAIL_SERVER`` nothing is sent: mail waits in the outbox.

A message that cannot be sent fails alone: a message that cannot even be written (an address with a
control character stored before addresses were checked, say) is ``failed`` at once with its error,
and the others of the batch go out.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from flask_babel import gettext

from ..contacts import is_valid_address
from ..extensions import db
from ..i18n import N_
from ..models import OutboxAttachment, OutboxMessage

__all__ = ["DeliveryReport", "backoff", "build_email", "deliver", "requeue"]

LEASE = timedelta(minutes=5)
AUTO_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All", "Precedence": "bulk"}


# Stored in the outbox as written here (Chinese) and translated where shown (``|label``).
NO_RECIPIENTS = N_("没有收件地址：请在单位设置中填写联系邮箱或开通填报员账号。")
CANNOT_CONNECT = N_("无法连接邮件服务器：")
CANNOT_WRITE = N_("无法生成邮件（收件地址或标题有误，不再重试）：")


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    waiting: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = gettext(
            "发送 %(sent)s 封，待重试 %(retrying)s 封，发送失败 %(failed)s 封。",
            sent=self.sent,
            retrying=self.retrying,
            failed=self.failed,
        )
        if self.waiting:
            text += gettext("未配置邮件服务器（MAIL_SERVER）：%(n)s 封留在发件箱。", n=self.waiting)
        return text


def backoff(attempts: int, base_seconds: int) -> timedelta:
    """Wait before the next try after ``attempts`` failures: base, 2×base, 4×base …

    >>> backoff(1, 60), backoff(3, 60)
    (datetime.timedelta(seconds=60), datetime.timedelta(seconds=240))
    """
    return timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0))


def build_email(row: OutboxMessage, sender: str, attachments: Sequence[OutboxAttachment] = ()) -> EmailMessage:
    """The message of an outbox row; ``ValueError`` if an address is invalid or a header carries CR/LF."""
    bad = [a for a in (p.strip(" \t") for p in row.recipients.split(",")) if a and not is_valid_address(a)]
    if bad:
        raise ValueError(", ".join(repr(a) for a in bad))
    msg = EmailMessage()
    msg["Subject"] = row.subject
    msg["From"] = sender
    msg["To"] = row.recipients
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = make_msgid(idstring=f"outbox-{row.id}", domain=sender.rpartition("@")[2] or None)
    for name, value in AUTO_HEADERS.items():
        msg[name] = value
    msg.set_content(row.body_text)
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html")
    for a in attachments:
        maintype, _, subtype = a.content_type.partition("/")
        msg.add_attachment(a.data, maintype=maintype, subtype=subtype, filename=a.filename)
    return msg


def _attachments(rows: list[OutboxMessage]) -> dict[int, list[OutboxAttachment]]:
    """The files of the claimed rows, in one query."""
    out: dict[int, list[OutboxAttachment]] = {}
    query = (
        db.select(OutboxAttachment)
        .where(OutboxAttachment.message_id.in_([r.id for r in rows]))
        .order_by(OutboxAttachment.id)
    )
    for a in db.session.scalars(query):
        out.setdefault(a.message_id, []).append(a)
    return out


def _claim(now: datetime, limit: int, only_ids: list[int] | None = None) -> list[OutboxMessage]:
    query = (
        db.select(OutboxMessage)
        .where(
            OutboxMessage.status.in_(["pending", "sending"]),
            db.or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if only_ids is not None:
        query = query.where(OutboxMessage.id.in_(only_ids))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(db.session.scalars(query))
    for row in rows:
        row.status = "sending"
        row.next_attempt_at = now + LEASE
    db.session.commit()
    return rows


def _connect(config: dict[str, Any]) -> smtplib.SMTP:
    host, port, timeout = config["MAIL_SERVER"], int(config["MAIL_PORT"]), config.get("MAIL_TIMEOUT_SECONDS", 20)
    if config.get("MAIL_USE_SSL"):
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
    if config.get("MAIL_USERNAME"):
        smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    return smtp


def _failed(
    row: OutboxMessage,
    error: str,
    now: datetime,
    config: dict[str, Any],
    report: DeliveryReport,
    *,
    permanent: bool = False,
) -> None:
    row.attempts += 1
    row.last_error = error[:2000]
    if permanent or row.attempts >= int(config.get("MAIL_MAX_ATTEMPTS", 6)):
        row.status = "failed"
        row.next_attempt_at = None
        report.failed += 1
    else:
        row.status = "pending"
        row.next_attempt_at = now + backoff(row.attempts, int(config.get("MAIL_RETRY_BASE_SECONDS", 60)))
        report.retrying += 1
    report.errors.append(f"#{row.id}: {error}")


def deliver(
    now: datetime, config: dict[str, Any], *, limit: int = 200, only_ids: list[int] | None = None
) -> DeliveryReport:
    """Send every due outbox row once; failures are rescheduled or, after the last try, marked failed.

    ``only_ids`` sends just those rows (a password link the web queued a moment ago), claimed the same way.
    """
    report = DeliveryReport()
    if not config.get("MAIL_SERVER"):
        report.waiting = db.session.scalar(
            db.select(db.func.count()).select_from(OutboxMessage).filter_by(status="pending")
        )
        return report
    rows = _claim(now, limit, only_ids)
    if not rows:
        return report
    try:
        smtp = _connect(config)
    except (OSError, smtplib.SMTPException) as exc:
        for row in rows:
            _failed(row, CANNOT_CONNECT + f"{exc}", now, config, report)
        db.session.commit()
        return report
    sender = config["MAIL_DEFAULT_SENDER"]
    done: set[int] = set()
    files = _attachments(rows)
    try:
        for row in rows:
            _send_one(smtp, row, sender, now, config, report, files.get(row.id, []))
            db.session.commit()  # one row at a time: a crash never resends what went out
            done.add(row.id)
    except BaseException:
        # Something no message caused (the database went away, the process is stopping): give back
        # the rows not reached, so the next run sends them instead of waiting for the lease.
        db.session.rollback()
        _release([row.id for row in rows if row.id not in done])
        raise
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.quit()
    return report


def _send_one(
    smtp: smtplib.SMTP,
    row: OutboxMessage,
    sender: str,
    now: datetime,
    config: dict[str, Any],
    report: DeliveryReport,
    attachments: Sequence[OutboxAttachment] = (),
) -> None:
    try:
        message = build_email(row, sender, attachments)
    except (ValueError, TypeError, UnicodeError) as exc:
        # Retrying cannot help: the row fails alone, at once, with its reason on the outbox page.
        _failed(row, CANNOT_WRITE + f"{exc}", now, config, report, permanent=True)
        return
    try:
        smtp.send_message(message)
    except (OSError, smtplib.SMTPException, ValueError, UnicodeError) as exc:
        _failed(row, f"{type(exc).__name__}: {exc}", now, config, report)
        return
    row.attempts += 1
    row.status = "sent"
    row.sent_at = now
    row.next_attempt_at = None
    row.last_error = ""
    report.sent += 1


def _release(ids: list[int]) -> None:
    with contextlib.suppress(Exception):  # best effort: the lease frees them anyway
        db.session.execute(
            db.update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "sending")
            .values(status="pending", next_attempt_at=None)
        )
        db.session.commit()


def requeue(row: OutboxMessage, recipients: list[str] | None) -> None:
    """Send a failed or held message again, to ``recipients`` when given (the department's current ones)."""
    if row.status not in {"failed", "held"}:
        return
    if recipients is not None:
        row.recipients = ", ".join(recipients)
    if not row.recipients:
        row.status, row.last_error = "held", NO_RECIPIENTS
    else:
        row.status, row.attempts, row.next_attempt_at, row.last_error = "pending", 0, None, ""
    db.session.commit()
