"""A small iCalendar (RFC 5545) writer: all-day events, CRLF line ends, lines folded at 75 octets.

Pure: no Flask, no database. All-day ``DATE`` values need no VTIMEZONE: a deadline is a day in the
city, whatever the subscriber's time zone.

>>> text = calendar("测试", [Event("u1@x", date(2025, 12, 31), "截止", "说明")], stamp=datetime(2024, 6, 3, tzinfo=UTC))
>>> "DTSTART;VALUE=DATE:20251231" in text and text.endswith("END:VCALENDAR\\r\\n")
True
>>> fold("A" * 80)
'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\\r\\n AAAAA'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

__all__ = ["Event", "calendar", "escape", "fold"]


@dataclass(frozen=True)
class Event:
    uid: str
    day: date
    summary: str
    description: str = ""
    url: str = ""
    categories: tuple[str, ...] = field(default_factory=tuple)


def escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11)."""
    return (
        text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line so no physical line exceeds 75 octets, never splitting a UTF-8 character."""
    out: list[str] = []
    current = ""
    size = 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        limit = 75 if not out else 74  # continuation lines start with one space
        if size + n > limit:
            out.append(current)
            current, size = "", 0
        current += ch
        size += n
    out.append(current)
    return "\r\n ".join(out)


def calendar(name: str, events: Iterable[Event], *, stamp: datetime) -> str:
    """The VCALENDAR text of ``events``; ``stamp`` is the DTSTAMP (when the feed was generated)."""
    dtstamp = stamp.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//tracker//规划任务督办系统//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
        "X-WR-TIMEZONE:Asia/Shanghai",
    ]
    for e in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e.uid}",
            f"DTSTAMP:{dtstamp}",
            f"DTSTART;VALUE=DATE:{e.day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{e.day + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{escape(e.summary)}",
            "TRANSP:TRANSPARENT",
        ]
        if e.description:
            lines.append(f"DESCRIPTION:{escape(e.description)}")
        if e.url:
            lines.append(f"URL:{e.url}")
        if e.categories:
            lines.append("CATEGORIES:" + ",".join(escape(c) for c in e.categories))
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
