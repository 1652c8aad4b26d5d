"""Warning lights (预警 红/黄/绿): one pure rule, written down here and configurable.

The rule, for a task that is not done:

* **red** — overdue (today is after the due date), or the latest report says 滞后 / 受阻, or progress
  is behind the linear schedule (start → due) by more than ``red_behind`` percentage points;
* **yellow** — due within ``due_soon_days`` days, or behind the linear schedule by more than
  ``yellow_behind`` points, or the report for the current period is missing;
* **green** — otherwise.

A done task is green. Thresholds live in :class:`LightRule`; the app reads them from config
(``LIGHT_RULE``) so a coordinator's office can tune them without a code change.

>>> rule = LightRule()
>>> light(rule, today=date(2024, 6, 1), start=date(2021, 1, 1), due=date(2025, 12, 31),
...       status="in_progress", progress=60, report_missing=False)
'green'
>>> light(rule, today=date(2026, 1, 1), start=date(2021, 1, 1), due=date(2025, 12, 31),
...       status="in_progress", progress=99, report_missing=False)
'red'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..i18n import N_

__all__ = ["LIGHT_LABELS", "LightRule", "expected_progress", "light", "light_reasons"]

LIGHT_LABELS = {"red": N_("红灯"), "yellow": N_("黄灯"), "green": N_("绿灯")}


@dataclass(frozen=True)
class LightRule:
    """Thresholds of the warning-light rule."""

    due_soon_days: int = 30
    yellow_behind: float = 10.0
    red_behind: float = 25.0


def expected_progress(today: date, start: date, due: date) -> float:
    """Percent complete the linear schedule expects on ``today`` (0 before start, 100 from due).

    >>> expected_progress(date(2021, 7, 2), date(2021, 1, 1), date(2021, 12, 31))
    50.0
    """
    if today <= start:
        return 0.0
    if today >= due:
        return 100.0
    return round(100.0 * (today - start).days / (due - start).days, 1)


def light_reasons(
    rule: LightRule,
    *,
    today: date,
    start: date,
    due: date,
    status: str,
    progress: int,
    report_missing: bool,
) -> tuple[str, list[str]]:
    """The light and the reasons for it, in Chinese, most serious first."""
    if status == "done":
        return "green", []
    behind = expected_progress(today, start, due) - progress
    red: list[str] = []
    if today > due:
        red.append(f"已逾期 {(today - due).days} 天")
    if status == "lagging":
        red.append("报送状态为滞后")
    if status == "blocked":
        red.append("报送状态为受阻")
    if behind > rule.red_behind:
        red.append(f"进度落后时序 {behind:.0f} 个百分点")
    if red:
        return "red", red
    yellow: list[str] = []
    days_left = (due - today).days
    if days_left <= rule.due_soon_days:
        yellow.append(f"距截止还有 {days_left} 天")
    if behind > rule.yellow_behind:
        yellow.append(f"进度落后时序 {behind:.0f} 个百分点")
    if report_missing:
        yellow.append("本期进展未报送")
    if yellow:
        return "yellow", yellow
    return "green", []


def light(
    rule: LightRule,
    *,
    today: date,
    start: date,
    due: date,
    status: str,
    progress: int,
    report_missing: bool,
) -> str:
    """Just the colour: ``'red'``, ``'yellow'`` or ``'green'``."""
    return light_reasons(
        rule, today=today, start=start, due=due, status=status, progress=progress, report_missing=report_missing
    )[0]
