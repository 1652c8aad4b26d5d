"""The app's one clock.

Every rule that depends on time takes ``now`` as an argument; the callers get it from here.
``TRACKER_NOW`` (config or environment) freezes the clock, so a demo can run "as of" any date and
tests never sleep.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_babel import gettext as _

CITY_TZ = ZoneInfo("Asia/Shanghai")


def parse_instant(text: str) -> datetime:
    """Parse an ISO date or datetime; a naive value is read as city time. Returns aware UTC.

    A bad ``TRACKER_NOW`` is parsed (and reported) by ``now()``, inside the app context, so the
    error is in the site language; with no app at all, Chinese.
    """
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(
            _("不是有效的日期或时间：%(text)s（应为 ISO 格式，如 2024-06-01 或 2024-06-01T09:00）", text=repr(text))
        ) from exc
    if len(text) == 10:  # a bare date means the start of the working day in the city
        parsed = datetime.combine(parsed.date(), time(9, 0))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=CITY_TZ)
    return parsed.astimezone(UTC)


@functools.lru_cache(maxsize=16)
def _frozen(text: str) -> datetime:
    """``TRACKER_NOW`` parsed once, not at every call (several per request). A bad value raises each time."""
    return parse_instant(text)


def now() -> datetime:
    """The current instant, aware UTC, honouring a frozen clock in the app config."""
    if has_app_context():
        frozen = current_app.config.get("TRACKER_NOW")
        if frozen:
            return frozen if isinstance(frozen, datetime) else _frozen(str(frozen))
    return datetime.now(UTC)


def city_date(instant: datetime) -> date:
    """The calendar date in Asia/Shanghai of an instant."""
    return instant.astimezone(CITY_TZ).date()


def today() -> date:
    """Today's date in the city."""
    return city_date(now())
