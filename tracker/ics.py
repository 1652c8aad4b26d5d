"""iCalendar (RFC 5545) feeds written with the ``icalendar`` library: all-day events only.

The library escapes text (a bare CR in a task title included), folds lines at 75 octets without
splitting a character, and ends lines with CRLF. Pure: no Flask, no database. All-day ``DATE``
values need no VTIMEZONE: a deadline is a day in the city, whatever the subscriber's time zone.

>>> events = [Event("u1@x", date(2025, 12, 31), "截止\\r", "说明")]
>>> text = calendar("测试", events, stamp=datetime(2024, 6, 3, tzinfo=UTC))
>>> "DTSTART;VALUE=DATE:20251231" in text and text.endswith("END:VCALENDAR\\r\\n")
True
>>> "SUMMARY:截止\\\\n\\r\\n" in text
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

__all__ = ["Event", "calendar"]

# RFC 5545 allows no control character in TEXT but HTAB (line breaks are escaped as \n).
_CONTROLS = dict.fromkeys(c for c in [*range(32), 127] if chr(c) not in "\t\r\n")


@dataclass(frozen=True)
class Event:
    uid: str
    day: date
    summary: str
    description: str = ""
    url: str = ""
    categories: tuple[str, ...] = field(default_factory=tuple)


def _text(value: str) -> str:
    return value.translate(_CONTROLS)


def calendar(name: str, events: Iterable[Event], *, stamp: datetime) -> str:
    """The VCALENDAR text of ``events``; ``stamp`` is the DTSTAMP (when the feed was generated)."""
    import icalendar  # loaded by the first feed, not by every web worker at start

    cal = icalendar.Calendar()
    cal.add("prodid", "-//tracker//规划任务督办系统//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _text(name))
    cal.add("x-wr-timezone", "Asia/Shanghai")
    dtstamp = stamp.astimezone(UTC)
    for e in events:
        event = icalendar.Event()
        event.add("uid", _text(e.uid))
        event.add("dtstamp", dtstamp)
        event.add("dtstart", e.day)
        event.add("dtend", e.day + timedelta(days=1))
        event.add("summary", _text(e.summary))
        event.add("transp", "TRANSPARENT")
        if e.description:
            event.add("description", _text(e.description))
        if e.url:
            event.add("url", _text(e.url))
        if e.categories:
            event.add("categories", [_text(c) for c in e.categories])
        cal.add_component(event)
    return cal.to_ical().decode("utf-8")
