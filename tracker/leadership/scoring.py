"""The assessment (考核) scoring rule: the ONE place its weights live. Pure: no database, no clock.

A unit's score for an assessment window is the weighted mean of up to three components, each 0..1:

* ``targets`` — completion of the unit's targets: per target ``min(1, share / expected)`` where
  ``share`` is the completion share of its latest actual up to the window's end and ``expected`` the
  linear path's share at that date (1 at the deadline); a county is assessed on its 附件 1 / 附件 3
  targets, a department on the targets of the tasks it leads;
* ``punctuality`` — reports submitted by their due date under the one due rule (:mod:`tracker.tasks.due`),
  over the reports owed
  (lead or responsible role) for periods that ended inside the window;
* ``on_time`` — tasks it leads whose original deadline falls inside the window and has passed,
  closed on or before that original deadline (``closed_on <= original_due``).

A component with nothing to measure is left out and the other weights are scaled up. Score = 100 ×
weighted mean; units are ranked by score (no score last), ties by the directory order.

>>> rule = ScoringRule()
>>> score({"targets": 1.0, "punctuality": 0.5, "on_time": None}, rule)
78.6
>>> score({"targets": None, "punctuality": None, "on_time": None}, rule) is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date

from ..i18n import N_

__all__ = ["COMPONENT_LABELS", "ScoringRule", "Window", "score", "target_component", "windows"]

COMPONENT_LABELS = {"targets": N_("目标完成"), "punctuality": N_("报送及时"), "on_time": N_("按期完成")}


@dataclass(frozen=True)
class ScoringRule:
    """Weights of the components and the grace period for reports. Change them here only."""

    targets: float = 0.4
    punctuality: float = 0.3
    on_time: float = 0.3

    def weights(self) -> dict[str, float]:
        return {k: v for k, v in asdict(self).items() if k in COMPONENT_LABELS}


def score(components: Mapping[str, float | None], rule: ScoringRule) -> float | None:
    """Weighted mean × 100 over the components that have a value (0..1 each)."""
    weights = rule.weights()
    present = {k: v for k, v in components.items() if v is not None and weights.get(k)}
    total = sum(weights[k] for k in present)
    if not total:
        return None
    return round(100 * sum(weights[k] * max(0.0, min(1.0, v)) for k, v in present.items()) / total, 1)


def target_component(share: float | None, expected: float) -> float | None:
    """One target's contribution: ``min(1, share / expected)``; None without data or expectation.

    >>> target_component(0.3, 0.6), target_component(0.9, 0.6), target_component(-0.2, 1.0)
    (0.5, 1.0, 0.0)
    >>> target_component(None, 0.5) is None, target_component(0.5, 0.0) is None
    (True, True)
    """
    if share is None or expected <= 0:
        return None
    return max(0.0, min(1.0, share / expected))


@dataclass(frozen=True)
class Window:
    """An assessment window: a year (年度考核), the mid-term review or the five-year assessment."""

    key: str
    label: str
    start: date
    end: date

    def state(self, today: date) -> str:
        if today < self.start:
            return "future"
        return "closed" if today > self.end else "open"


def windows(plan_start: date, plan_end: date) -> list[Window]:
    """Every year of the plan, the mid-term review (its first three years) and the five-year assessment.

    >>> [w.key for w in windows(date(2021, 1, 1), date(2025, 12, 31))]
    ['2021', '2022', '2023', '2024', '2025', 'mid', 'final']
    >>> windows(date(2021, 1, 1), date(2025, 12, 31))[5].end
    datetime.date(2023, 12, 31)
    """
    # The labels stay Chinese (the |label filter translates them where shown, by their pattern).
    out = [
        Window(
            str(y),
            N_("%(year)s 年度考核") % {"year": y},
            max(plan_start, date(y, 1, 1)),
            min(plan_end, date(y, 12, 31)),
        )
        for y in range(plan_start.year, plan_end.year + 1)
    ]
    mid_end = min(plan_end, date(plan_start.year + 2, 12, 31))
    mid = N_("中期评估（%(start)s—%(end)s）") % {"start": plan_start.year, "end": mid_end.year}
    final = N_("五年总体考核（%(start)s—%(end)s）") % {"start": plan_start.year, "end": plan_end.year}
    out.append(Window("mid", mid, plan_start, mid_end))
    out.append(Window("final", final, plan_start, plan_end))
    return out
