"""Targets with their latest approved actuals, completion share, on-track state and history.

Three queries whatever the number of targets: the plan's targets, their values (approved or
entered without a check-in), and the plan's tasks for labels. A target's *latest actual* is its
latest value by period end then id whose check-in is approved, or that has no check-in (entered
by a coordinator or imported).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_

from ..extensions import db
from ..i18n import N_
from ..models import CheckIn, County, Plan, Target, TargetValue, Task
from ..models.plan import TARGET_GROUPS
from .rules import TRACK_LABELS, TargetSpec, milestone_done, on_track, path_start, target_share

__all__ = ["CountyRow", "MetricSum", "TargetRow", "load_targets"]


@dataclass
class TargetRow:
    target: Target
    values: list[TargetValue]
    task_label: str = ""
    county: str = ""
    task_code: str = ""

    @property
    def latest(self) -> TargetValue | None:
        return self.values[-1] if self.values else None

    @property
    def actual(self) -> float | None:
        return self.latest.value if self.latest else None

    @property
    def share(self) -> float | None:
        t = self.target
        return target_share(TargetSpec(t.comparison, t.value, t.value_min, t.baseline), self.actual)

    @property
    def done(self) -> bool:
        """For milestones: done or not."""
        return milestone_done(self.actual)

    def track(self, plan_start: date) -> str:
        if self.target.is_milestone:
            return "reached" if self.done else "no_data"
        on = self.latest.period_end if self.latest else plan_start
        start = path_start(self.target.baseline_year, plan_start)
        return on_track(self.share, on=on, start=start, due=self.target.due)

    def track_label(self, plan_start: date) -> str:
        if self.target.is_milestone:
            return N_("已完成") if self.done else N_("未完成")
        return TRACK_LABELS[self.track(plan_start)]


def load_targets(plan: Plan) -> list[TargetRow]:
    targets = list(
        db.session.scalars(db.select(Target).filter_by(plan_id=plan.id).order_by(Target.position, Target.id))
    )
    values = db.session.scalars(
        db.select(TargetValue)
        .join(Target, Target.id == TargetValue.target_id)
        .outerjoin(CheckIn, CheckIn.id == TargetValue.checkin_id)
        .where(Target.plan_id == plan.id, or_(TargetValue.checkin_id.is_(None), CheckIn.state == "approved"))
        .order_by(TargetValue.period_end, TargetValue.id)
    )
    by_target: dict[int, list[TargetValue]] = {}
    for v in values:
        by_target.setdefault(v.target_id, []).append(v)
    labels = {
        tid: (label, code)
        for tid, label, code in db.session.execute(db.select(Task.id, Task.label, Task.code).filter_by(plan_id=plan.id))
    }
    counties = dict(db.session.execute(db.select(County.id, County.name)).all())
    return [
        TargetRow(
            t,
            by_target.get(t.id, []),
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
