"""Targets with their figures, completion share, on-track state and history.

A target's *actual* is its own unit's figure by the one rule of :mod:`tracker.tasks.figures`: for a
city target the city's own approved figure, or the roll-up of the counties' figures where the target
is additive and allocated to counties, else none — never a county's or a department's figure. A
county's target (附件 1 / 附件 3) reads that county's figures. A fixed number of queries whatever
the number of targets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ..extensions import db
from ..i18n import N_
from ..models import County, Plan, Target, TargetValue, Task
from ..models.plan import TARGET_GROUPS
from ..tasks.figures import CityFigure, load_figures
from .rules import TRACK_LABELS, Alternative, TargetSpec, milestone_done, on_track, path_start, target_share

__all__ = ["CountyRow", "MetricSum", "TargetRow", "load_targets", "target_spec"]


def target_spec(t: Target) -> TargetSpec:
    """What the rules need of a stored target, its alternative criteria included (one rule: any-of)."""
    return TargetSpec(
        t.comparison, t.value, t.value_min, t.baseline, tuple(Alternative.of(a) for a in t.alternatives or [])
    )


@dataclass
class TargetRow:
    target: Target
    figure: CityFigure
    task_label: str = ""
    county: str = ""
    task_code: str = ""

    @property
    def values(self) -> list[TargetValue]:
        """The target's own unit's values, oldest first (its history)."""
        return self.figure.own

    @property
    def latest(self) -> TargetValue | None:
        return self.figure.latest

    @property
    def actual(self) -> float | None:
        return self.figure.value

    @property
    def period(self) -> str:
        return self.figure.period

    @property
    def share(self) -> float | None:
        return target_share(target_spec(self.target), self.actual)

    @property
    def done(self) -> bool:
        """For milestones: done or not."""
        return milestone_done(self.actual)

    def track(self, plan_start: date) -> str:
        if self.target.is_milestone:
            return "reached" if self.done else "no_data"
        on = self.figure.period_end or plan_start
        start = path_start(self.target.baseline_year, plan_start)
        return on_track(self.share, on=on, start=start, due=self.target.due)

    def track_label(self, plan_start: date) -> str:
        if self.target.is_milestone:
            return N_("已完成") if self.done else N_("未完成")
        return TRACK_LABELS[self.track(plan_start)]


def load_targets(plan: Plan, *, on: date | None = None) -> list[TargetRow]:
    """Every target of the plan with its figure at ``on`` (all approved values when None)."""
    targets = list(
        db.session.scalars(db.select(Target).filter_by(plan_id=plan.id).order_by(Target.position, Target.id))
    )
    figures = load_figures(targets, plan.id, on=on)
    labels = {
        tid: (label, code)
        for tid, label, code in db.session.execute(db.select(Task.id, Task.label, Task.code).filter_by(plan_id=plan.id))
    }
    counties = dict(db.session.execute(db.select(County.id, County.name)).all())
    return [
        TargetRow(
            t,
            figures[t.id],
            labels.get(t.task_id, ("", ""))[0] if t.task_id else "",
            counties.get(t.county_id, "") if t.county_id else "",
            labels.get(t.task_id, ("", ""))[1] if t.task_id else "",
        )
        for t in targets
    ]


def grouped(rows: list[TargetRow], groups: list[str]) -> list[tuple[str, str, list[TargetRow]]]:
    return [(g, TARGET_GROUPS.get(g, g), [r for r in rows if r.target.group == g]) for g in groups]


def page_of_groups(
    groups: list[tuple[str, str, list[TargetRow]]], page: int, size: int
) -> tuple[list[tuple[str, str, list[TargetRow]]], int, int]:
    """Page ``page`` (from 1) of the grouped rows, ``size`` rows at a time across the groups, in order:
    the groups with rows on that page (every group when there is one page), the page and the page count."""
    total = sum(len(rows) for _, _, rows in groups)
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    first, last = (page - 1) * size, page * size
    out, seen = [], 0
    for key, label, rows in groups:
        part = rows[max(0, first - seen) : max(0, last - seen)]
        seen += len(rows)
        if part or pages == 1:
            out.append((key, label, part))
    return out, page, pages


@dataclass
class CountyRow:
    county_id: int
    name: str
    energy: TargetRow | None = None
    pollutants: dict[str, TargetRow] = field(default_factory=dict)


@dataclass
class MetricSum:
    """One pollutant: the city target beside the sum of the county allocations."""

    metric: str
    name: str
    unit: str
    city: TargetRow | None
    allocated: float
    actual: float | None

    @property
    def ratio(self) -> float | None:
        if self.city is None or not self.city.target.value:
            return None
        return self.allocated / self.city.target.value


def by_county(rows: list[TargetRow], counties: list[County]) -> tuple[list[CountyRow], list[MetricSum], list[str]]:
    """Per county its 附件 1 and 附件 3 targets; per pollutant metric the allocations' sum vs the city."""
    out = {c.id: CountyRow(c.id, c.name) for c in counties}
    metrics: list[str] = []
    for r in rows:
        t = r.target
        if t.county_id is None or t.county_id not in out:
            continue
        if t.group == "county_energy":
            out[t.county_id].energy = r
        elif t.group == "county_pollutant":
            out[t.county_id].pollutants[t.metric] = r
            if t.metric not in metrics:
                metrics.append(t.metric)
    city = {r.target.metric: r for r in rows if r.target.group == "city"}
    sums: list[MetricSum] = []
    for m in metrics:
        allocations = [c.pollutants[m] for c in out.values() if m in c.pollutants]
        actuals = [a.actual for a in allocations if a.actual is not None]
        first = allocations[0].target
        sums.append(
            MetricSum(
                m,
                first.name,
                first.unit,
                city.get(m),
                round(sum(a.target.value or 0 for a in allocations), 2),
                round(sum(actuals), 2) if actuals else None,
            )
        )
    return list(out.values()), sums, metrics
