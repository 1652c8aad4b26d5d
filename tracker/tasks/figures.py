"""Figures belong to the unit they measure: the one rule for "what is the city's figure of a target".

Every actual (TargetValue) measures one unit: the city, one county or one department
(``unit_kind``). Which unit a new value measures is :func:`value_unit`'s answer, given who reports:

- a county government reports its county's figure (and a county's own 附件 1 / 附件 3 target is
  always measured on that county);
- a department that answers for the task (牵头, or 负责 where no one leads) reports the city's figure
  of a city target (the figure form of :mod:`tracker.reports.figures_entry` stores the city's figures
  of the plan-level targets for coordinators and the coordinating offices);
- any other department (配合, or one 负责 for its own share beside a lead) reports its own share.

The city figure of a target at a date (:func:`city_figure`), from its approved values up to that date:

1. the city's own figure, the latest one, when there is one;
2. else, when the target is additive (:func:`is_additive`) and the plan allocates it to counties
   (附件 1 / 附件 3: county targets of the same metric), the sum of each county's latest figure,
   with the coverage ("9 个县（市、区）中 7 个已报");
3. else none: a county's or a department's figure is never shown as the city's. Rates and
   percentages (%, 吨/万元, …) are never summed.

The per-county breakdown is shown in every case. Pure functions (no session, no clock) except
:func:`load_figures`, which reads a plan's approved values in a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import CheckIn, County, Department, Target, TargetValue

__all__ = [
    "ADDITIVE_UNITS",
    "CityFigure",
    "CountyShare",
    "city_figure",
    "is_additive",
    "load_figures",
    "own_values",
    "value_counts",
    "value_unit",
]

# Units of counts and amounts: the counties' figures add up to the city's. Anything else (a
# percentage, a rate such as 吨/万元 or 克标准煤/千瓦时, a dimensionless ratio, a milestone) does not.
ADDITIVE_UNITS = frozenset(
    {"家", "个", "座", "项", "户", "辆", "台", "套", "处", "条", "公里", "千米", "吨", "万吨", "千克", "亿元", "万元"}
    | {"千瓦", "万千瓦", "兆瓦", "万千瓦时", "亿千瓦时", "平方米", "万平方米", "立方米", "万立方米", "吨标准煤"}
    | {"万吨标准煤", "蒸吨", "人", "所", "辆次"}
)


def is_additive(unit: str | None, comparison: str | None) -> bool:
    """Whether counties' figures of a target in this unit may be summed into the city's.

    >>> is_additive("家", ">="), is_additive("吨", ">="), is_additive("%", ">=")
    (True, True, False)
    >>> is_additive("吨/万元", "<="), is_additive("", ">="), is_additive("家", None)
    (False, False, False)
    """
    return comparison is not None and (unit or "").strip() in ADDITIVE_UNITS


def value_unit(
    target: Target, department: Department | None, roles: Iterable[tuple[int, str]] = ()
) -> tuple[str, int | None]:
    """The unit a value reported by ``department`` on ``target`` measures: (kind, county id).

    ``roles``: the (department id, role) pairs of the target's task. Returns ("county", id),
    ("city", None) or ("department", None) (the department is the value's ``department_id``).
    """
    if target.county_id is not None:
        return "county", target.county_id
    if department is not None and department.kind == "county" and department.county_id is not None:
        return "county", department.county_id
    if department is None:
        return "city", None
    pairs = list(roles)
    if target.task_id is None:
        return "city", None  # a plan-level target has no task: its entry form admits only who answers for it
    leads = {d for d, r in pairs if r == "lead"}
    answering = leads or {d for d, r in pairs if r == "responsible"}
    return ("city", None) if department.id in answering else ("department", None)


@dataclass(frozen=True)
class CountyShare:
    county_id: int
    name: str
    value: TargetValue | None
    allocated: float | None = None  # the county's allocation (附件 1 / 附件 3), when the plan has one


@dataclass
class CityFigure:
    """A target's figure for its own unit, how it was found, and the breakdown beside it."""

    target: Target
    value: float | None
    kind: str  # "own" (its unit's own figure), "rollup" (sum of counties), "none"
    own: list[TargetValue] = field(default_factory=list)  # its own unit's values, oldest first
    counties: list[CountyShare] = field(default_factory=list)
    departments: list[TargetValue] = field(default_factory=list)  # latest per department
    additive: bool = False
    allocated: bool = False

    @property
    def reported(self) -> int:
        return sum(1 for c in self.counties if c.value is not None)

    @property
    def expected(self) -> int:
        return len(self.counties)

    @property
    def latest(self) -> TargetValue | None:
        return self.own[-1] if self.kind == "own" and self.own else None

    @property
    def period(self) -> str:
        if self.latest is not None:
            return self.latest.period
        if self.kind == "rollup":
            return max((c.value.period for c in self.counties if c.value is not None), default="")
        return ""

    @property
    def period_end(self) -> date | None:
        if self.latest is not None:
            return self.latest.period_end
        if self.kind == "rollup":
            return max((c.value.period_end for c in self.counties if c.value is not None), default=None)
        return None


def _latest(values: Iterable[TargetValue]) -> TargetValue | None:
    out = None
    for v in values:
        if out is None or (v.period_end, v.id) >= (out.period_end, out.id):
            out = v
    return out


def own_values(target: Target, values: Iterable[TargetValue]) -> list[TargetValue]:
    """The values measuring the target's own unit (its county, or the city), oldest first."""
    if target.county_id is not None:
        mine = [v for v in values if v.unit_kind == "county" and v.county_id == target.county_id]
    else:
        mine = [v for v in values if v.unit_kind == "city"]
    return sorted(mine, key=lambda v: (v.period_end, v.id))


def city_figure(
    target: Target,
    values: Sequence[TargetValue],
    counties: Sequence[County],
    *,
    allocations: Sequence[tuple[Target, Sequence[TargetValue]]] = (),
    on: date | None = None,
) -> CityFigure:
    """The figure of ``target`` for its own unit at ``on`` (all dates when None), with its breakdown.

    ``values``: the target's approved values (any unit); ``allocations``: for a city target the plan
    splits among counties, each county target of the same metric with its approved values.
    """
    if on is not None:
        values = [v for v in values if v.period_end <= on]
        allocations = [(t, [v for v in vs if v.period_end <= on]) for t, vs in allocations]
    own = own_values(target, values)
    additive = is_additive(target.unit, target.comparison)
    departments: dict[int | None, TargetValue] = {}
    for v in sorted(values, key=lambda v: (v.period_end, v.id)):  # the newest of each department stays
        if v.unit_kind == "department":
            departments[v.department_id] = v
    shares: list[CountyShare] = []
    if target.county_id is None:
        by_county: dict[int, Target] = {t.county_id: t for t, _vs in allocations if t.county_id is not None}
        alloc_values = {t.county_id: vs for t, vs in allocations}
        for c in counties:
            if allocations:
                if c.id not in by_county:
                    continue
                mine = [v for v in alloc_values[c.id] if v.unit_kind == "county" and v.county_id == c.id]
                shares.append(CountyShare(c.id, c.name, _latest(mine), by_county[c.id].value))
            else:
                mine = [v for v in values if v.unit_kind == "county" and v.county_id == c.id]
                if mine:
                    shares.append(CountyShare(c.id, c.name, _latest(mine)))
    figure = CityFigure(
        target,
        None,
        "none",
        own,
        shares,
        list(departments.values()),
        additive,
        bool(allocations),
    )
    if own:
        figure.value, figure.kind = own[-1].value, "own"
    elif additive and allocations and figure.reported:
        figure.value = round(sum(c.value.value for c in shares if c.value is not None), 6)
        figure.kind = "rollup"
    return figure


def value_counts() -> ColumnElement[bool]:
    """The one answer to "does this stored value count" (a query joined to CheckIn on the value's report):
    a value on a report counts once its report is approved; one entered without a report (the figure
    form, an import, the demo) once it is approved (a coordinator's entry is; a unit's staff's waits)."""
    return or_(
        and_(TargetValue.checkin_id.is_(None), TargetValue.state == "approved"),
        CheckIn.state == "approved",
    )


def approved_values(plan_id: int) -> dict[int, list[TargetValue]]:
    """A plan's values that count (:func:`value_counts`)."""
    rows = db.session.scalars(
        db.select(TargetValue)
        .join(Target, Target.id == TargetValue.target_id)
        .outerjoin(CheckIn, CheckIn.id == TargetValue.checkin_id)
        .where(Target.plan_id == plan_id, value_counts())
        .order_by(TargetValue.period_end, TargetValue.id)
        .options(selectinload(TargetValue.department))
    )
    out: dict[int, list[TargetValue]] = {}
    for v in rows:
        out.setdefault(v.target_id, []).append(v)
    return out


def allocations_of(targets: Sequence[Target]) -> dict[int, list[Target]]:
    """City target id → the county targets (附件 1 / 附件 3) that split it, by shared metric."""
    by_metric: dict[str, list[Target]] = {}
    for t in targets:
        if t.county_id is not None and t.task_id is None and t.metric:
            by_metric.setdefault(t.metric, []).append(t)
    return {
        t.id: by_metric[t.metric]
        for t in targets
        if t.county_id is None and t.task_id is None and t.metric and t.metric in by_metric
    }


def load_figures(targets: Sequence[Target], plan_id: int, *, on: date | None = None) -> dict[int, CityFigure]:
    """Every target's figure (see :func:`city_figure`): three queries whatever the plan's size."""
    values = approved_values(plan_id)
    counties = list(db.session.scalars(db.select(County).order_by(County.position, County.id)))
    alloc = allocations_of(targets)
    return {
        t.id: city_figure(
            t,
            values.get(t.id, []),
            counties,
            allocations=[(a, values.get(a.id, [])) for a in alloc.get(t.id, [])],
            on=on,
        )
        for t in targets
    }
