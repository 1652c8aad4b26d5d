"""Validation of a plan file (YAML or JSON) into plain, checked Python values.

Pure: no database. Every problem is collected with the entry and field it concerns, so a bad
file is reported whole and loading writes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from flask_babel import gettext as _

from ..contacts import is_valid_address
from ..errors import PlanFileError
from ..models.links import LINK_ORIGINS
from ..models.org import COUNTY_KINDS, DEPARTMENT_KINDS, ROLES
from ..models.plan import COMPARISONS, REPORTING_CYCLES, TARGET_GROUPS
from ..numbers import ID_MAX, LAG_MAX, NumberError, bounded_int, finite_number

# libyaml's safe loader when PyYAML was built with it: eight times faster on the seeded plan.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PLAN_GROUPS = {"city", "sector", "county_energy", "county_pollutant"}


@dataclass
class PlanData:
    """A validated plan file."""

    plan: dict[str, Any]
    counties: list[dict[str, Any]]
    departments: list[dict[str, Any]]
    sections: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    targets: list[dict[str, Any]]
    dependencies: list[dict[str, Any]] = field(default_factory=list)
    contributions: list[dict[str, Any]] = field(default_factory=list)


def read_plan_file(path: str | Path) -> PlanData:
    """Read and validate a plan file; raise ``PlanFileError`` naming every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError([(str(path), _("无法读取文件：%(error)s", error=exc))]) from exc
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_YAML_LOADER)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise PlanFileError([(str(path), _("格式错误：%(error)s", error=exc))]) from exc
    return validate(raw)


class _Checker:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append((where, message))

    def text(self, entry: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
        value = entry.get(key)
        if value is None or value == "":
            if required:
                self.fail(f"{where}.{key}", _("必填"))
            return ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.fail(f"{where}.{key}", _("应为文本，而不是 %(type)s", type=type(value).__name__))
            return ""
        return str(value).strip()

    def number(self, entry: dict[str, Any], key: str, where: str) -> float | None:
        value = entry.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"{where}.{key}", _("应为数字，而不是 %(value)r", value=value))
            return None
        try:
            return finite_number(value)
        except NumberError as exc:  # YAML's .nan and .inf, or a figure beyond any plan's
            self.fail(f"{where}.{key}", str(exc))
            return None

    def integer(
        self, entry: dict[str, Any], key: str, where: str, default: int | None = None, *, high: int = ID_MAX
    ) -> int | None:
        value = entry.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{where}.{key}", _("应为整数，而不是 %(value)r", value=value))
            return None
        try:
            return bounded_int(value, high=high)
        except NumberError as exc:
            self.fail(f"{where}.{key}", str(exc))
            return None

    def day(self, entry: dict[str, Any], key: str, where: str, default: date | None = None) -> date | None:
        value = entry.get(key)
        if value is None:
            if default is None:
                self.fail(f"{where}.{key}", _("必填（日期，如 2025-12-31）"))
            return default
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{where}.{key}", _("不是有效日期：%(value)r（应为 YYYY-MM-DD）", value=value))
            return default

    def choice(self, entry: dict[str, Any], key: str, where: str, allowed: dict[str, str] | set[str]) -> str:
        value = entry.get(key)
        if value not in allowed:
            allowed_text = " / ".join(sorted(allowed))
            self.fail(f"{where}.{key}", _("应为 %(allowed)s 之一，而不是 %(value)r", allowed=allowed_text, value=value))
            return ""
        return str(value)

    def entries(self, raw: dict[str, Any], key: str, *, required: bool = True) -> list[dict[str, Any]]:
        value = raw.get(key)
        if value is None:
            if required:
                self.fail(key, _("必填（列表）"))
            return []
        if not isinstance(value, list):
            self.fail(key, _("应为列表"))
            return []
        good = []
        for i, entry in enumerate(value):
            if isinstance(entry, dict):
                good.append(entry)
            else:
                self.fail(f"{key}[{i}]", _("应为键值对象"))
        return good


def validate(raw: Any) -> PlanData:
    """Check a parsed plan document; return it normalised or raise ``PlanFileError``."""
    c = _Checker()
    if not isinstance(raw, dict):
        raise PlanFileError([("(file)", _("顶层应为对象，包含 plan、departments、tasks 等"))])
    plan_raw = raw.get("plan")
    if not isinstance(plan_raw, dict):
        c.fail("plan", _("必填（对象）"))
        plan_raw = {}
    plan = {
        "key": c.text(plan_raw, "key", "plan"),
        "title": c.text(plan_raw, "title", "plan"),
        "start": c.day(plan_raw, "start", "plan"),
        "end": c.day(plan_raw, "end", "plan"),
        "source": c.text(plan_raw, "source", "plan", required=False),
        "basis": c.text(plan_raw, "basis", "plan", required=False),
        # the due rule's settings (tracker.tasks.due); absent: the defaults
        "report_request_workdays": c.integer(plan_raw, "report_request_workdays", "plan"),
        "report_due_days": c.integer(plan_raw, "report_due_days", "plan"),
    }
    for key in ("report_request_workdays", "report_due_days"):
        if plan[key] is not None and not 0 <= plan[key] <= 60:
            c.fail(f"plan.{key}", _("应为 0—60 之间的整数"))
    if plan["start"] and plan["end"] and plan["start"] >= plan["end"]:
        c.fail("plan.end", _("结束日期应晚于开始日期"))
    plan_end: date | None = plan["end"]

    counties = []
    for i, entry in enumerate(c.entries(raw, "counties", required=False)):
        where = f"counties[{i}]"
        counties.append({"name": c.text(entry, "name", where), "kind": c.choice(entry, "kind", where, COUNTY_KINDS)})
    county_names = _unique(c, counties, "name", "counties")

    departments = []
    for i, entry in enumerate(c.entries(raw, "departments")):
        where = f"departments[{i}]"
        name = c.text(entry, "name", where)
        where = f"departments[{i}]({name})"
        county = c.text(entry, "county", where, required=False) or None
        if county and county not in county_names:
            c.fail(f"{where}.county", _("未在 counties 中定义：%(county)s", county=county))
        emails = entry.get("emails") or []
        if not isinstance(emails, list) or not all(isinstance(e, str) and is_valid_address(e) for e in emails):
            c.fail(f"{where}.emails", _("应为电子邮件地址列表"))
            emails = []
        departments.append(
            {
                "name": name,
                "kind": c.choice(entry, "kind", where, DEPARTMENT_KINDS),
                "county": county,
                "coordinating": bool(entry.get("coordinating", False)),
                "emails": emails,
            }
        )
    department_names = _unique(c, departments, "name", "departments")

    sections = []
    for i, entry in enumerate(c.entries(raw, "sections")):
        where = f"sections[{i}]"
        sections.append(
            {
                "number": c.integer(entry, "number", where),
                "label": c.text(entry, "label", where),
                "title": c.text(entry, "title", where),
            }
        )
    section_numbers = _unique(c, sections, "number", "sections")

    tasks = []
    targets_seen: dict[str, str] = {}
    for i, entry in enumerate(c.entries(raw, "tasks")):
        code = c.text(entry, "code", f"tasks[{i}]")
        where = f"tasks[{i}]({code})"
        section = c.integer(entry, "section", where)
        if section is not None and section not in section_numbers:
            c.fail(f"{where}.section", _("未在 sections 中定义：%(section)s", section=section))
        assignments = []
        for j, a in enumerate(c.entries(entry, "departments")):
            awhere = f"{where}.departments[{j}]"
            name = c.text(a, "name", awhere)
            if name and name not in department_names:
                c.fail(f"{awhere}.name", _("未在 departments 中定义：%(name)s", name=name))
            assignments.append(
                {
                    "name": name,
                    "role": c.choice(a, "role", awhere, ROLES),
                    "role_text": c.text(a, "role_text", awhere, required=False),
                    "note": c.text(a, "note", awhere, required=False),
                    # the open party (各有关部门) this department was named for, when it was
                    "open_party": c.text(a, "open_party", awhere, required=False),
                }
            )
        _unique(c, assignments, "name", f"{where}.departments")
        task_targets = [
            _target(c, t, f"{where}.targets[{j}]", plan_end, county_names, group="task", seen=targets_seen)
            for j, t in enumerate(c.entries(entry, "targets", required=False))
        ]
        open_parties = _open_parties(c, entry, where)
        cycle = entry.get("reporting_cycle", "quarter")
        if cycle not in REPORTING_CYCLES:
            c.fail(f"{where}.reporting_cycle", _("应为 %(allowed)s 之一", allowed=" / ".join(REPORTING_CYCLES)))
        start = c.day(entry, "start", where, default=plan["start"])
        due = c.day(entry, "due", where, default=plan_end)
        if start and due and start > due:
            c.fail(f"{where}.due", _("截止日期早于开始日期"))
        tasks.append(
            {
                "code": code,
                "label": c.text(entry, "label", where),
                "section": section,
                "parent": c.text(entry, "parent", where, required=False) or None,
                "title": c.text(entry, "title", where),
                "text": c.text(entry, "text", where, required=False),
                "responsibility": c.text(entry, "responsibility", where, required=False),
                "open_parties": open_parties,
                "start": start,
                "due": due,
                "reporting_cycle": cycle,
                "departments": assignments,
                "targets": task_targets,
            }
        )
    task_codes = _unique(c, tasks, "code", "tasks")
    for t in tasks:
        if t["parent"] and t["parent"] not in task_codes:
            c.fail(f"tasks({t['code']}).parent", _("未定义的上级任务：%(parent)s", parent=t["parent"]))
        if t["parent"] == t["code"]:
            c.fail(f"tasks({t['code']}).parent", _("任务不能是自己的上级"))

    targets = [
        _target(c, t, f"targets[{i}]", plan_end, county_names, group=None, seen=targets_seen)
        for i, t in enumerate(c.entries(raw, "targets", required=False))
    ]
    target_keys = set(targets_seen)

    dependencies = []
    for i, entry in enumerate(c.entries(raw, "dependencies", required=False)):
        where = f"dependencies[{i}]"
        d = {
            "task": c.text(entry, "task", where),
            "depends_on": c.text(entry, "depends_on", where),
            "lag_days": c.integer(entry, "lag_days", where, default=0, high=LAG_MAX) or 0,
            "rationale": c.text(entry, "rationale", where),
            **_provenance(c, entry, where),
        }
        for key in ("task", "depends_on"):
            if d[key] and d[key] not in task_codes:
                c.fail(f"{where}.{key}", _("未定义的任务：%(task)s", task=d[key]))
        if d["task"] and d["task"] == d["depends_on"]:
            c.fail(where, _("任务不能依赖自己"))
        dependencies.append(d)
    contributions = []
    for i, entry in enumerate(c.entries(raw, "contributions", required=False)):
        where = f"contributions[{i}]"
        d = {
            "task": c.text(entry, "task", where),
            "target": c.text(entry, "target", where),
            "rationale": c.text(entry, "rationale", where),
            **_provenance(c, entry, where),
        }
        if d["task"] and d["task"] not in task_codes:
            c.fail(f"{where}.task", _("未定义的任务：%(task)s", task=d["task"]))
        if d["target"] and d["target"] not in target_keys:
            c.fail(f"{where}.target", _("未定义的目标：%(target)s", target=d["target"]))
        contributions.append(d)

    if c.problems:
        raise PlanFileError(c.problems)
    return PlanData(plan, counties, departments, sections, tasks, targets, dependencies, contributions)


def _unique(c: _Checker, entries: list[dict[str, Any]], key: str, where: str) -> set[Any]:
    seen: set[Any] = set()
    for entry in entries:
        value = entry[key]
        if value in seen:
            c.fail(where, _("重复：%(value)s", value=value))
        seen.add(value)
    return seen


def _target(
    c: _Checker,
    entry: dict[str, Any],
    where: str,
    plan_end: date | None,
    county_names: set[str],
    *,
    group: str | None,
    seen: dict[str, str],
) -> dict[str, Any]:
    key = c.text(entry, "key", where)
    where = f"{where}({key})"
    if key in seen:
        c.fail(f"{where}.key", _("目标编号重复，已用于 %(where)s", where=seen[key]))
    seen[key] = where
    if group is None:
        group = c.choice(entry, "group", where, PLAN_GROUPS)
    elif entry.get("group", group) != group:
        c.fail(f"{where}.group", _("任务内的目标不能指定 group"))
    comparison = entry.get("comparison")
    if comparison is not None and comparison not in COMPARISONS:
        c.fail(f"{where}.comparison", _("应为 %(allowed)s 之一或留空（里程碑）", allowed=" / ".join(COMPARISONS)))
    value = c.number(entry, "value", where)
    value_min = c.number(entry, "value_min", where)
    value_max = c.number(entry, "value_max", where)
    if comparison == "range":
        if value_min is None or value_max is None:
            c.fail(f"{where}.comparison", _("区间目标需要 value_min 和 value_max"))
        elif value_min > value_max:
            c.fail(f"{where}.value_min", _("区间下限大于上限"))
    elif comparison is not None and value is None:
        c.fail(f"{where}.value", _("比较方式为 %(comparison)s 时必须给出目标值", comparison=comparison))
    county = c.text(entry, "county", where, required=False) or None
    if county and county not in county_names:
        c.fail(f"{where}.county", _("未在 counties 中定义：%(county)s", county=county))
    if group in TARGET_GROUPS and group.startswith("county") and not county:
        c.fail(f"{where}.county", _("县级目标必须指定 county"))
    return {
        "key": key,
        "group": group,
        "category": c.text(entry, "category", where, required=False),
        "name": c.text(entry, "name", where),
        "metric": c.text(entry, "metric", where, required=False),
        "value": value,
        "value_min": value_min,
        "value_max": value_max,
        "unit": c.text(entry, "unit", where, required=False),
        "comparison": comparison,
        "baseline": c.number(entry, "baseline", where),
        "baseline_year": c.integer(entry, "baseline_year", where),
        "change": c.number(entry, "change", where),
        "due": c.day(entry, "due", where, default=plan_end),
        "county": county,
        "source": c.text(entry, "source", where, required=False),
        "note": c.text(entry, "note", where, required=False),
        "alternatives": _alternatives(c, entry, where),
    }


ALTERNATIVE_BASES = {"level", "change"}


def _alternatives(c: _Checker, entry: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """A target's alternative criteria (…或…): each a comparison and value, on the level itself or on its
    change over a baseline; the target is met when its own criterion or any of these holds."""
    out = []
    for j, alt in enumerate(c.entries(entry, "alternatives", required=False)):
        awhere = f"{where}.alternatives[{j}]"
        comparison = c.choice(alt, "comparison", awhere, {k for k in COMPARISONS if k != "range"})
        value = c.number(alt, "value", awhere)
        if value is None:
            c.fail(f"{awhere}.value", _("必填"))
        basis = alt.get("basis", "level")
        if basis not in ALTERNATIVE_BASES:
            basis = c.choice(alt, "basis", awhere, ALTERNATIVE_BASES)
        out.append(
            {
                "basis": basis,
                "comparison": comparison,
                "value": value,
                "unit": c.text(alt, "unit", awhere, required=False),
                "baseline": c.number(alt, "baseline", awhere),
                "baseline_year": c.integer(alt, "baseline_year", awhere),
                "text": c.text(alt, "text", awhere, required=False),
            }
        )
    return out


def _open_parties(c: _Checker, entry: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """The plan's open parties (各有关部门): kept as written, never turned into department names."""
    out = []
    for j, party in enumerate(c.entries(entry, "open_parties", required=False)):
        pwhere = f"{where}.open_parties[{j}]"
        if party.get("expanded"):
            c.fail(f"{pwhere}.expanded", _("开放责任方应按原文保留，不展开为具体单位（expanded 应为 false 或省略）"))
        out.append(
            {
                "text": c.text(party, "text", pwhere),
                "role": c.choice(party, "role", pwhere, ROLES),
                "role_text": c.text(party, "role_text", pwhere, required=False),
                "note": c.text(party, "note", pwhere, required=False),
            }
        )
    _unique(c, out, "text", f"{where}.open_parties")
    return out


def _provenance(c: _Checker, entry: dict[str, Any], where: str) -> dict[str, Any]:
    """A link's origin: ``stated`` by the plan or ``inferred`` (the default: a file that does not say
    is not taken as the plan's word); ``added`` links carry who (``added_by``) and when (``added_at``)."""
    origin = entry.get("origin", "inferred")
    if origin not in LINK_ORIGINS:
        origin = c.choice(entry, "origin", where, LINK_ORIGINS) or "inferred"
    return {
        "origin": origin,
        "added_by": c.text(entry, "added_by", where, required=False) if origin == "added" else "",
        "added_at": c.day(entry, "added_at", where) if origin == "added" and entry.get("added_at") else None,
    }
