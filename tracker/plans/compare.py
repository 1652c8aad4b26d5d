"""Two plans side by side: their targets where they measure the same thing, and each department's duties.

A target of one plan *matches* a target of the other when both measure the same indicator for the
same place: the same county (or both the city's), and the same name once normalised
(:func:`normalise_name`: years, brackets, spaces and punctuation dropped, so
“单位生产总值能源消耗比2020年下降” and “单位生产总值能源消耗比 2025 年下降” are one indicator);
a target left over is matched by its ``metric`` when both plans name the same one. The rest are
listed apart. The first plan's latest actual, completion share and on-track state are those of
the targets page (:mod:`tracker.leadership.targets`), not computed again here.

Departments are one directory shared by all plans: per department, how many tasks it holds in each
role in each plan, and which tasks it leads.

The matching (:func:`match_targets`, :func:`department_duties`) is pure; :func:`compare_plans`
reads the two plans (a fixed number of queries whatever their size).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from ..extensions import db
from ..i18n import N_
from ..leadership.targets import TargetRow, load_targets
from ..models import Department, Plan, Task
from ..models.org import ROLES
from ..tasks.queries import plan_tasks

__all__ = [
    "Comparison",
    "DepartmentDuties",
    "TargetPair",
    "compare_plans",
    "department_duties",
    "match_targets",
    "normalise_name",
    "plan_phase",
]

PHASES = {"running": N_("进行中"), "ended": N_("已结束"), "upcoming": N_("未开始")}

_YEAR = re.compile(r"(比|较|到|至|于)?(19|20)\d{2}年(末|底|度)?")
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]|〔[^〕]*〕")
_NOISE = re.compile(r"[\s\"'“”‘’、，,。.·:：;；!！?？%]+")
_ORDINAL = re.compile(r"十[一二三四五六七八九]?五(时期|期间)?")  # 十四五, 十五五: the plan's name, not the indicator's
# A trailing direction (下降, 提高 …, maybe as a rate) or 目标: the comparison says which way, not the name.
_DIRECTION = re.compile(r"(目标|(累计)?(下降|降低|减少|提高|提升|增长|增加)(率|幅度)?)+$")


def plan_phase(plan: Plan, today: date) -> str:
    """``running``, ``ended`` or ``upcoming``: where ``today`` falls against the plan's dates.

    >>> p = Plan(start=date(2021, 1, 1), end=date(2025, 12, 31))
    >>> [plan_phase(p, date(y, 6, 1)) for y in (2020, 2023, 2026)]
    ['upcoming', 'running', 'ended']
    """
    if today < plan.start:
        return "upcoming"
    return "ended" if today > plan.end else "running"


def normalise_name(name: str) -> str:
    """An indicator's name reduced to what it measures: full-width forms folded; years (“比2020年”,
    “到 2030 年”), the plan's ordinal (“十四五”), bracketed notes, “全市”, a trailing direction
    (下降, 降低率 …) or 目标, spaces and punctuation dropped.

    >>> normalise_name("单位生产总值能源消耗比2020年下降")
    '单位生产总值能源消耗'
    >>> normalise_name("全市单位生产总值能源消耗")
    '单位生产总值能源消耗'
    >>> normalise_name("“十四五”万元 GDP 能耗降低率目标") == normalise_name("万元GDP能耗降低率")
    True
    >>> normalise_name("化学需氧量（COD）重点工程减排量")
    '化学需氧量重点工程减排量'
    """
    text = unicodedata.normalize("NFKC", name or "").lower()
    text = _BRACKETS.sub("", text)
    text = re.sub(r"\s+", "", text)
    text = _YEAR.sub("", text)
    text = _ORDINAL.sub("", text.replace("全市", ""))
    text = _NOISE.sub("", text)
    return _DIRECTION.sub("", text) or text


@dataclass
class TargetPair:
    """One indicator in both plans: ``a`` the first plan's target (with its actuals), ``b`` the second's."""

    a: TargetRow
    b: TargetRow
    by: str  # "name" or "metric": what matched them

    @property
    def county(self) -> str:
        return self.a.county


def _place(row: TargetRow) -> str:
    return row.county


def match_targets(
    rows_a: list[TargetRow], rows_b: list[TargetRow]
) -> tuple[list[TargetPair], list[TargetRow], list[TargetRow]]:
    """(matched pairs in the first plan's order, the first plan's unmatched, the second's unmatched).

    By place and normalised name first; of what is left, by place and metric. Several targets of one
    plan with the same key are paired in order.
    """
    pairs: list[TargetPair] = []
    left_a, left_b = list(rows_a), list(rows_b)
    for by, key in (
        ("name", lambda r: normalise_name(r.target.name)),
        ("metric", lambda r: (r.target.metric or "").strip()),
    ):
        waiting: dict[tuple[str, str], list[TargetRow]] = {}
        for row in left_b:
            k = key(row)
            if k:
                waiting.setdefault((_place(row), k), []).append(row)
        still_a: list[TargetRow] = []
        taken: set[int] = set()
        for row in left_a:
            k = key(row)
            candidates = waiting.get((_place(row), k)) if k else None
            if candidates:
                other = candidates.pop(0)
                taken.add(id(other))
                pairs.append(TargetPair(row, other, by))
            else:
                still_a.append(row)
        left_a = still_a
        left_b = [r for r in left_b if id(r) not in taken]
    order = {id(r): i for i, r in enumerate(rows_a)}
    pairs.sort(key=lambda p: order[id(p.a)])
    return pairs, left_a, left_b


@dataclass
class DepartmentDuties:
    """One department's duties in the two plans: tasks per role, and the tasks it leads."""

    department: Department
    roles_a: Counter[str] = field(default_factory=Counter)
    roles_b: Counter[str] = field(default_factory=Counter)
    led_a: list[Task] = field(default_factory=list)
    led_b: list[Task] = field(default_factory=list)

    @property
    def total_a(self) -> int:
        return sum(self.roles_a.values())

    @property
    def total_b(self) -> int:
        return sum(self.roles_b.values())


def department_duties(
    tasks_a: list[Task], tasks_b: list[Task], departments: list[Department]
) -> list[DepartmentDuties]:
    """Per department holding any role in either plan (in directory order): its duties in each.

    ``tasks_*`` carry their assignments (as :func:`tracker.tasks.queries.plan_tasks` loads them).
    """
    rows = {d.id: DepartmentDuties(d) for d in departments}
    for tasks, side in ((tasks_a, "a"), (tasks_b, "b")):
        for task in tasks:
            for a in task.assignments:
                row = rows.get(a.department_id)
                if row is None:
                    continue
                getattr(row, f"roles_{side}")[a.role] += 1
                if a.role == "lead":
                    getattr(row, f"led_{side}").append(task)
    return [r for r in rows.values() if r.total_a or r.total_b]


@dataclass
class Comparison:
    a: Plan
    b: Plan
    pairs: list[TargetPair]
    only_a: list[TargetRow]
    only_b: list[TargetRow]
    departments: list[DepartmentDuties]
    roles: list[str] = field(default_factory=lambda: list(ROLES))


def compare_plans(a: Plan, b: Plan) -> Comparison:
    """The comparison of plan ``a`` (usually the earlier) with plan ``b``."""
    pairs, only_a, only_b = match_targets(load_targets(a), load_targets(b))
    departments = list(db.session.scalars(db.select(Department).order_by(Department.position, Department.id)))
    duties = department_duties(plan_tasks(a), plan_tasks(b), departments)
    return Comparison(a, b, pairs, only_a, only_b, duties)
