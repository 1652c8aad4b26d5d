"""Numbers read from people, files and URLs: finite and in range, or refused with a named error.

One place decides what a number typed into a form, sent to the API, read from a workbook or a
YAML plan file, or found in a URL may be. A value of ``inf``, ``NaN`` or ``1e309`` is never stored
(it would break every page and JSON answer that shows it), and an integer too large for the
database's INTEGER column never reaches a query (it would answer 500 instead of 404 or 422).

Each rule has one message: :class:`NumberError` carries it, and every caller shows it as it is.
"""

from __future__ import annotations

import math
import re
from typing import Any

from flask_babel import gettext as _

from .errors import TrackerError

__all__ = [
    "ID_MAX",
    "LAG_MAX",
    "VALUE_LIMIT",
    "NumberError",
    "bounded_int",
    "finite_number",
    "int_or_none",
    "parse_number",
]

# The largest id or count the app takes: PostgreSQL's INTEGER (SQLite's is wider).
ID_MAX = 2**31 - 1
# The largest magnitude of a target or reported value: far beyond any plan's figure (a province's
# GDP in yuan is about 10¹³), far below where a float loses whole units.
VALUE_LIMIT = 1e15
# A dependency's lag, in working days: four years of them is already more than a plan lasts.
LAG_MAX = 1000

# ASCII digits only: Python's float() and int() also read "١٢" and "1_000", which nobody types.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")


class NumberError(TrackerError, ValueError):
    """A number that is not one, not finite, or out of its range; the message names the rule."""


def _format(bound: float) -> str:
    return f"{bound:g}"


def finite_number(value: Any, *, low: float = -VALUE_LIMIT, high: float = VALUE_LIMIT) -> float:
    """``value`` (an int, a float or text) as a finite float within ``low``..``high``.

    Text may carry thousands separators (``1,234.5`` or ``1，234.5``).

    >>> finite_number("1,234.5")
    1234.5
    >>> finite_number("inf")
    Traceback (most recent call last):
    ...
    tracker.numbers.NumberError: 应为数字：'inf'
    >>> finite_number(float("nan"))
    Traceback (most recent call last):
    ...
    tracker.numbers.NumberError: 应为有限的数字
    """
    if isinstance(value, bool):
        raise NumberError(_("应为数字：%(text)s", text=repr(value)))
    if isinstance(value, str):
        value = parse_number(value)
    if not isinstance(value, int | float):
        raise NumberError(_("应为数字：%(text)s", text=repr(value)))
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise NumberError(_("应为有限的数字"))
    if not low <= number <= high:
        raise NumberError(_("应在 %(low)s 到 %(high)s 之间", low=_format(low), high=_format(high)))
    return number


def parse_number(text: str) -> float:
    """Text typed by a person as a float (not yet checked for range); ``NumberError`` if it is not one."""
    cleaned = text.strip().replace(",", "").replace("，", "")
    if not _NUMBER.fullmatch(cleaned):
        raise NumberError(_("应为数字：%(text)s", text=repr(text.strip()[:40])))
    return float(cleaned)  # may be inf ("1e309"): finite_number refuses it


def bounded_int(value: Any, *, low: int = 0, high: int = ID_MAX) -> int:
    """``value`` (an int or ASCII-digit text) as an integer within ``low``..``high``.

    >>> bounded_int("42")
    42
    >>> bounded_int(10**30)
    Traceback (most recent call last):
    ...
    tracker.numbers.NumberError: 应为 0 到 2147483647 之间的整数
    """
    if isinstance(value, str):
        text = value.strip()
        if not _INTEGER.fullmatch(text) or len(text) > 20:
            raise NumberError(_("应为 %(low)s 到 %(high)s 之间的整数", low=low, high=high))
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise NumberError(_("应为 %(low)s 到 %(high)s 之间的整数", low=low, high=high))
    return value


def int_or_none(text: str | None, *, low: int = 0, high: int = ID_MAX) -> int | None:
    """A form field's integer, or None when it is empty, not an integer or out of range."""
    if text in (None, ""):
        return None
    try:
        return bounded_int(text, low=low, high=high)
    except NumberError:
        return None
