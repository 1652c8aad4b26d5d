"""Pure rules of the leadership views: target completion, on track, plan progress and phase.

Nothing here touches the database or the clock: every date is an argument.

Reporting periods, who owes a report and when it is due are the task core's (:mod:`tracker.tasks.due`,
:mod:`tracker.tasks.duties`); this module holds the rules about targets and the plan's progress.

Target completion (``target_share``): the share of the way from baseline to target,
``(actual - baseline) / (target - baseline)``; with no baseline (reduction amounts such as
“减排量 9786 吨” or “下降 18%”) it is ``actual / target``. A range counts from its lower bound.
For a ceiling (``<=``/``<``) with no baseline, meeting the ceiling is 1 and exceeding it is
``target / actual``. Milestones (no comparison) have no share: a milestone is done when its
latest actual is 1 or more (1 = 已完成, 0 = 未完成).

Alternative criteria (``alternatives``: "力争达到 70%以上或在 2020 年基础上增加 5%以上"): the target is
one target, met when any criterion holds; its share is the best of its criteria's shares. A criterion
on the change over a baseline (basis ``change``) can be judged only once that baseline is known.

On track (``on_track``): the share is compared with the linear path from the baseline year's end
(or the plan start when there is no baseline year) to the target's due date, evaluated at the
date of the actual (its period end), not at today.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ..i18n import N_

__all__ = [
    "Alternative",
    "TargetSpec",
    "criteria_met",
    "expected_share",
    "milestone_done",
    "on_track",
    "plan_phase",
    "plan_progress",
    "target_share",
]


@dataclass(frozen=True)
class Alternative:
    """One more criterion that meets the target: on the value itself (``level``) or on its rise over
    ``baseline`` (``change``)."""

    comparison: str
    value: float
    basis: str = "level"
    baseline: float | None = None

    @classmethod
    def of(cls, raw: dict[str, object]) -> Alternative:
        """From a target's ``alternatives`` entry (as the plan file and the model keep it)."""
        baseline = raw.get("baseline")
        return cls(
            str(raw.get("comparison") or ">="),
            float(raw.get("value") or 0),  # type: ignore[arg-type]
            str(raw.get("basis") or "level"),
            float(baseline) if baseline is not None else None,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class TargetSpec:
    """What the rules need of a target."""

    comparison: str | None
    value: float | None
    value_min: float | None = None
    baseline: float | None = None
    alternatives: tuple[Alternative, ...] = ()


def _goal(spec: TargetSpec) -> float | None:
    return spec.value_min if spec.comparison == "range" else spec.value


def target_share(spec: TargetSpec, actual: float | None) -> float | None:
    """Share of the way done (1.0 = reached); None for milestones, missing actuals or no goal.

    With alternative criteria, the best share of any criterion that can be judged (any-of):

    >>> either = TargetSpec(">=", 70, alternatives=(Alternative(">=", 5, "change", baseline=62),))
    >>> target_share(either, 67), target_share(either, 35)
    (1.0, 0.5)
    >>> target_share(TargetSpec(">=", 70, alternatives=(Alternative(">=", 5, "change"),)), 67)  # no baseline
    0.9571428571428572
    """
    shares = [_share(spec, actual)]
    for alt in spec.alternatives:
        if alt.basis == "change":
            if alt.baseline is None:
                continue  # the baseline the rise is measured from is not known yet
            criterion = TargetSpec(alt.comparison, alt.baseline + alt.value, baseline=alt.baseline)
        else:
            criterion = TargetSpec(alt.comparison, alt.value)
        shares.append(_share(criterion, actual))
    known = [s for s in shares if s is not None]
    return max(known) if known else None


def criteria_met(spec: TargetSpec, actual: float | None) -> bool:
    """Whether any criterion of the target holds for ``actual`` (its own or an alternative).

    >>> criteria_met(TargetSpec(">=", 70, alternatives=(Alternative(">=", 5, "change", baseline=62),)), 67)
    True
    >>> criteria_met(TargetSpec(">=", 70), 67)
    False
    """
    share = target_share(spec, actual)
    return share is not None and share >= 1


def _share(spec: TargetSpec, actual: float | None) -> float | None:
    """The share of one criterion (the target's own, without its alternatives).

    >>> round(target_share(TargetSpec(">=", 16.2, baseline=11), 13.8), 3)
    0.538
    >>> target_share(TargetSpec("<=", 297, baseline=300), 298.5)
    0.5
    >>> target_share(TargetSpec(">=", 9786), 4893)
    0.5
    >>> target_share(TargetSpec("range", None, value_min=2), 3)
    1.5
    >>> target_share(TargetSpec("<=", 1.3), 1.2), target_share(TargetSpec("<=", 1.3), 2.6)
    (1.0, 0.5)
    >>> target_share(TargetSpec(None, None), 1) is None
    True
    >>> target_share(TargetSpec(">=", 20, baseline=20), 20)
    1.0
    """
    goal = _goal(spec)
    if spec.comparison is None or goal is None or actual is None:
        return None
    if spec.baseline is not None and goal != spec.baseline:
        return (actual - spec.baseline) / (goal - spec.baseline)
    if spec.baseline is not None:  # target equals baseline: keep it
        return 1.0 if _meets(spec.comparison, actual, goal) else 0.0
    if spec.comparison in {"<=", "<"}:
        if _meets(spec.comparison, actual, goal):
            return 1.0
        return goal / actual if actual else 0.0
    if goal == 0:
        return 1.0 if actual >= 0 else 0.0
    return actual / goal


def _meets(comparison: str, actual: float, goal: float) -> bool:
    return {
        ">=": actual >= goal,
        ">": actual > goal,
        "<=": actual <= goal,
        "<": actual < goal,
    }.get(comparison, actual >= goal)


def milestone_done(actual: float | None) -> bool:
    """A milestone is done when its latest actual is 1 or more.

    >>> milestone_done(None), milestone_done(0), milestone_done(1)
    (False, False, True)
    """
    return actual is not None and actual >= 1


def expected_share(on: date, start: date, due: date) -> float:
    """Share of the linear path from ``start`` to ``due`` expected on ``on`` (clamped to 0..1).

    >>> expected_share(date(2023, 7, 2), date(2021, 1, 1), date(2025, 12, 31))
    0.5
    >>> expected_share(date(2020, 1, 1), date(2021, 1, 1), date(2025, 12, 31))
    0.0
    >>> expected_share(date(2026, 1, 1), date(2021, 1, 1), date(2025, 12, 31))
    1.0
    """
    if on <= start:
        return 0.0
    if on >= due or due <= start:
        return 1.0
    return round((on - start).days / (due - start).days, 2)


def path_start(baseline_year: int | None, plan_start: date) -> date:
    """Where the linear path starts: the end of the baseline year, else the plan start.

    >>> path_start(2020, date(2021, 1, 1)), path_start(None, date(2021, 1, 1))
    (datetime.date(2020, 12, 31), datetime.date(2021, 1, 1))
    """
    return date(baseline_year, 12, 31) if baseline_year is not None else plan_start


def on_track(share: float | None, *, on: date, start: date, due: date) -> str:
    """``'reached'``, ``'on_track'``, ``'behind'`` or ``'no_data'``.

    >>> on_track(0.6, on=date(2023, 7, 2), start=date(2021, 1, 1), due=date(2025, 12, 31))
    'on_track'
    >>> on_track(0.4, on=date(2023, 7, 2), start=date(2021, 1, 1), due=date(2025, 12, 31))
    'behind'
    >>> on_track(1.0, on=date(2022, 1, 1), start=date(2021, 1, 1), due=date(2025, 12, 31))
    'reached'
    >>> on_track(None, on=date(2022, 1, 1), start=date(2021, 1, 1), due=date(2025, 12, 31))
    'no_data'
    """
    if share is None:
        return "no_data"
    if share >= 1:
        return "reached"
    return "on_track" if share >= expected_share(on, start, due) else "behind"


TRACK_LABELS = {
    "reached": N_("已达成"),
    "on_track": N_("进度正常"),
    "behind": N_("滞后于时序"),
    "no_data": N_("暂无数据"),
}


def plan_progress(progresses: Iterable[tuple[int, str]]) -> float | None:
    """The plan's overall progress: the unweighted mean of its measures' progress, done = 100.

    The plan gives its measures no weights, so each counts the same (callers pass top-level
    measures only: a sub-task's work is part of its measure's progress).

    >>> plan_progress([(50, "in_progress"), (80, "done"), (0, "not_started")])
    50.0
    >>> plan_progress([]) is None
    True
    """
    values = [100 if status == "done" else max(0, min(100, p)) for p, status in progresses]
    if not values:
        return None
    return round(sum(values) / len(values), 1)


def plan_phase(today: date, start: date, end: date) -> str:
    """``'before'``, ``'running'`` or ``'after'`` the plan period.

    >>> plan_phase(date(2020, 12, 31), date(2021, 1, 1), date(2025, 12, 31))
    'before'
    >>> plan_phase(date(2025, 12, 31), date(2021, 1, 1), date(2025, 12, 31))
    'running'
    >>> plan_phase(date(2026, 11, 25), date(2021, 1, 1), date(2025, 12, 31))
    'after'
    """
    if today < start:
        return "before"
    return "running" if today <= end else "after"
