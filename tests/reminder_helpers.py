"""Helpers for the reminder tests: a real SMTP server on loopback and plan shaping."""

from __future__ import annotations

import email
import socket
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller

from tracker.extensions import db
from tracker.models import Target, Task


@dataclass
class Inbox:
    """Collects every message the SMTP server accepts."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=default)
        msg["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(msg)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["X-Envelope-To"]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_smtp(port: int) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox


def text_of(msg: EmailMessage) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def html_of(msg: EmailMessage) -> str:
    return msg.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]


def only_task(code: str, due: date) -> Task:
    """Leave one open task, due on ``due``; close the others and move every target out of the way."""
    for t in db.session.scalars(db.select(Task)):
        if t.code == code:
            t.due = due
            t.status = "in_progress"
        else:
            t.status = "done"
    for target in db.session.scalars(db.select(Target)):
        target.due = date(2031, 12, 31)
    db.session.commit()
    return db.session.scalar(db.select(Task).filter_by(code=code))
