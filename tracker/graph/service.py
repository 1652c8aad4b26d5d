"""The graph service: reads the plan's rows in a fixed number of queries, keeps the built graph
cached until the data changes, and owns the coordinators' edits to dependencies and contributions.

Web and CLI both call these functions; the analysis itself is pure and lives in
:mod:`tracker.graph.model` and :mod:`tracker.graph.analysis`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import networkx as nx
from flask import current_app, has_request_context
from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from .. import audit
from .. import graph as gx
from ..errors import NotFound, TrackerError
from ..extensions import db
from ..i18n import N_
from ..models import (
    Assignment,
    AuditLog,
    Contribution,
    County,
    Department,
    Dependency,
    Plan,
    Section,
    Target,
    Task,
    User,
)
from ..numbers import LAG_MAX, NumberError, bounded_int
from ..tasks.lifecycle import ensure_open
from ..tasks.queries import city_workdays
from . import stream
from .render import department_scene, task_scene

EXPORT_FORMATS = {
    "graphml": "application/graphml+xml",
    "gexf": "application/gexf+xml",
    "json": "application/json",
}
IMPACT_LIMIT = 20  # late tasks whose impact /graph spells out
LIST_LIMIT = 200  # rows of the order and conflict lists on /graph
LIGHTS = ("red", "yellow", "green")


class LinkError(TrackerError):
    """A dependency or contribution cannot be added: missing rationale, unknown task, duplicate."""


# ── warning lights: the one rule of tracker/lights.py, fed as the leadership pages feed it ─────────


def plan_lights(plan: Plan, today: date) -> dict[str, str]:
    """The warning light of every task of ``plan``, exactly as the dashboard and matrix show it."""
    from ..tasks.state import current, light_rule

    snap = current(plan, today=today, rule=light_rule(current_app.config["LIGHT_RULE"]))
    return {st.task.code: st.light for st in snap.states}


def _task_light(plan: Plan, code: str, today: date) -> str:
    """One task's light, as :func:`plan_lights` gives it. With a data version the plan's kept state
    answers (built once per version for every page); without one (the cache off) only this task's rows
    are read: a task page does not build the whole plan's state for one light."""
    from ..cache import data_version
    from ..tasks.state import light_rule, task_states

    if has_request_context() and data_version() is not None:
        return plan_lights(plan, today).get(code, "green")
    task_id = db.session.scalar(select(Task.id).where(Task.plan_id == plan.id, Task.code == code))
    if task_id is None:
        return "green"
    states = task_states(plan, [task_id], today=today, rule=light_rule(current_app.config["LIGHT_RULE"]))
    return states[0].light if states else "green"


# ── reading and caching ──────────────────────────────────────────────────────────────────────────


def load_rows(plan: Plan) -> gx.PlanRows:
    """Every row the graph needs, in seven queries whatever the size of the plan."""
    parent = aliased(Task)
    tasks = [
        gx.TaskRow(code, title, due, label, section, status, parent_code)
        for code, title, due, label, section, status, parent_code in db.session.execute(
            select(Task.code, Task.title, Task.due, Task.label, Section.number, Task.status, parent.code)
            .join(Section, Section.id == Task.section_id)
            .outerjoin(parent, parent.id == Task.parent_id)
            .where(Task.plan_id == plan.id)
            .order_by(Task.position, Task.id)
        )
    ]
    targets = [
        gx.TargetRow(key, name, group, due, county, task)
        for key, name, group, due, county, task in db.session.execute(
            select(Target.key, Target.name, Target.group, Target.due, County.name, Task.code)
            .outerjoin(County, County.id == Target.county_id)
            .outerjoin(Task, Task.id == Target.task_id)
            .where(Target.plan_id == plan.id)
            .order_by(Target.position, Target.id)
        )
    ]
    departments = [
        gx.DepartmentRow(name, kind, county)
        for name, kind, county in db.session.execute(
            select(Department.name, Department.kind, County.name)
            .outerjoin(County, County.id == Department.county_id)
            .order_by(Department.position, Department.id)
        )
    ]
    counties = [gx.CountyRow(name) for name in db.session.scalars(select(County.name).order_by(County.position))]
    assignments = [
        gx.AssignmentRow(code, name, role)
        for code, name, role in db.session.execute(
            select(Task.code, Department.name, Assignment.role)
            .join(Task, Task.id == Assignment.task_id)
            .join(Department, Department.id == Assignment.department_id)
            .where(Task.plan_id == plan.id)
            .order_by(Assignment.task_id, Assignment.position)
        )
    ]
    prereq = aliased(Task)
    dependencies = [
        gx.DependencyRow(code, on, lag, rationale, id_, origin)
        for id_, code, on, lag, rationale, origin in db.session.execute(
            select(Dependency.id, Task.code, prereq.code, Dependency.lag_days, Dependency.rationale, Dependency.origin)
            .join(Task, Task.id == Dependency.task_id)
            .join(prereq, prereq.id == Dependency.depends_on_id)
            .where(Task.plan_id == plan.id)
            .order_by(Dependency.id)
        )
    ]
    contributions = [
        gx.ContributionRow(code, key, rationale, id_, origin)
        for id_, code, key, rationale, origin in db.session.execute(
            select(Contribution.id, Task.code, Target.key, Contribution.rationale, Contribution.origin)
            .join(Task, Task.id == Contribution.task_id)
            .join(Target, Target.id == Contribution.target_id)
            .where(Task.plan_id == plan.id)
            .order_by(Contribution.id)
        )
    ]
    return gx.PlanRows(tasks, targets, departments, counties, assignments, dependencies, contributions)


def fingerprint(plan: Plan) -> tuple[Any, ...]:
    """A cheap summary that changes whenever the graph's data does (one query).

    Versioned rows (tasks, targets, assignments, departments) change ``sum(version_id)`` on every
    update; links are summed by their endpoints and lags; the newest history row catches the rest.
    """

    def agg(model: Any, *extra: Any) -> list[Any]:
        return [
            select(func.count()).select_from(model).scalar_subquery(),
            select(func.coalesce(func.max(model.id), 0)).scalar_subquery(),
            *(select(func.coalesce(func.sum(e), 0)).scalar_subquery() for e in extra),
        ]

    columns = [
        *agg(Task, Task.version_id),
        *agg(Target, Target.version_id),
        *agg(Assignment, Assignment.version_id),
        *agg(Department, Department.version_id),
        *agg(County),
        *agg(Dependency, Dependency.task_id * 7919 + Dependency.depends_on_id, Dependency.lag_days),
        *agg(Contribution, Contribution.task_id * 7919 + Contribution.target_id),
        select(func.coalesce(func.max(AuditLog.id), 0)).scalar_subquery(),
    ]
    return (plan.id, *db.session.execute(select(*columns)).one())


def plan_graph(plan: Plan) -> nx.DiGraph:
    """The plan's graph, rebuilt only when :func:`fingerprint` changed since the last build.

    The cache lives on the app object, so each worker process (and each test app) has its own.
    Callers must treat the graph as read-only.
    """
    cache: dict[int, tuple[tuple[Any, ...], nx.DiGraph]] = current_app.extensions.setdefault("tracker.graph", {})
    key = fingerprint(plan)
    hit = cache.get(plan.id)
    if hit is not None and hit[0] == key:
        return hit[1]
    graph = gx.build_graph(load_rows(plan))
    graph.graph.update(plan=plan.key, title=plan.title)
    cache[plan.id] = (key, graph)
    return graph


# ── coordinators' edits ──────────────────────────────────────────────────────────────────────────


def _task_id(plan: Plan, code: str) -> int:
    task_id = db.session.scalar(select(Task.id).filter_by(plan_id=plan.id, code=code.strip()))
    if task_id is None:
        raise NotFound(gettext("没有编号为 %(code)s 的任务。", code=code))
    return task_id


def add_dependency(
    plan: Plan,
    task: str,
    depends_on: str,
    *,
    rationale: str,
    now: datetime,
    lag_days: int = 0,
    user_id: int | None = None,
    actor: str = "",
) -> Dependency:
    """Record "``task`` depends on ``depends_on``"; refuse a cycle (naming it), a duplicate, no rationale."""
    ensure_open(plan)
    task, depends_on, rationale = task.strip(), depends_on.strip(), rationale.strip()
    if not rationale:
        raise LinkError(gettext("请填写依据（引用计划原文）。"))
    try:
        bounded_int(lag_days, high=LAG_MAX)
    except NumberError as exc:
        raise LinkError(gettext("滞后天数：%(problem)s", problem=str(exc))) from None
    task_id, depends_on_id = _task_id(plan, task), _task_id(plan, depends_on)
    # Serialise dependency edits per plan (PostgreSQL row lock; SQLite has one writer anyway), so two
    # coordinators cannot each add half of a cycle: the check below then sees every committed edge.
    db.session.execute(select(Plan.id).where(Plan.id == plan.id).with_for_update())
    gx.check_new_dependency(plan_graph(plan), task, depends_on)
    if db.session.scalar(select(Dependency.id).filter_by(task_id=task_id, depends_on_id=depends_on_id)):
        raise LinkError(gettext("依赖关系已存在：%(task)s 依赖 %(depends_on)s。", task=task, depends_on=depends_on))
    dep = Dependency(
        task_id=task_id,
        depends_on_id=depends_on_id,
        lag_days=lag_days,
        rationale=rationale,
        origin="added",  # a named person's decision on a date, kept by every reload of the plan file
        added_by_id=user_id,
        added_at=now,
    )
    _create(dep, "dependency", _dependency_words(task, depends_on, dep), now=now, user_id=user_id, actor=actor)
    return dep


def remove_dependency(
    plan: Plan, dependency_id: int, *, now: datetime, user_id: int | None = None, actor: str = ""
) -> None:
    """Delete one dependency of ``plan``, keeping what it was in the history."""
    ensure_open(plan)
    row = db.session.execute(
        select(Dependency, Task.code)
        .join(Task, Task.id == Dependency.task_id)
        .where(Dependency.id == dependency_id, Task.plan_id == plan.id)
    ).first()
    if row is None:
        raise NotFound(gettext("没有这条依赖关系。"))
    dep, code = row
    on = db.session.scalar(select(Task.code).filter_by(id=dep.depends_on_id))
    _unlink(plan, dep, "dependency", f"{code}←{on}", now=now, user_id=user_id, actor=actor)
    _delete(dep, "dependency", _dependency_words(code, on, dep), now=now, user_id=user_id, actor=actor)


def add_contribution(
    plan: Plan, task: str, target: str, *, rationale: str, now: datetime, user_id: int | None = None, actor: str = ""
) -> Contribution:
    """Record that ``task`` contributes to the target keyed ``target``."""
    ensure_open(plan)
    task, target, rationale = task.strip(), target.strip(), rationale.strip()
    if not rationale:
        raise LinkError(gettext("请填写依据（引用计划原文）。"))
    task_id = _task_id(plan, task)
    target_id = db.session.scalar(select(Target.id).filter_by(plan_id=plan.id, key=target))
    if target_id is None:
        raise NotFound(gettext("没有编号为 %(target)s 的目标。", target=target))
    if db.session.scalar(select(Contribution.id).filter_by(task_id=task_id, target_id=target_id)):
        raise LinkError(gettext("贡献关系已存在：%(task)s → %(target)s。", task=task, target=target))
    con = Contribution(
        task_id=task_id, target_id=target_id, rationale=rationale, origin="added", added_by_id=user_id, added_at=now
    )
    _create(con, "contribution", f"{task}→{target}：{rationale}", now=now, user_id=user_id, actor=actor)
    return con


def remove_contribution(
    plan: Plan, contribution_id: int, *, now: datetime, user_id: int | None = None, actor: str = ""
) -> None:
    """Delete one contribution of ``plan``, keeping what it was in the history."""
    ensure_open(plan)
    row = db.session.execute(
        select(Contribution, Task.code, Target.key)
        .join(Task, Task.id == Contribution.task_id)
        .join(Target, Target.id == Contribution.target_id)
        .where(Contribution.id == contribution_id, Task.plan_id == plan.id)
    ).first()
    if row is None:
        raise NotFound(gettext("没有这条贡献关系。"))
    con, code, key = row
    _unlink(plan, con, "contribution", f"{code}→{key}", now=now, user_id=user_id, actor=actor)
    _delete(con, "contribution", f"{code}→{key}：{con.rationale}", now=now, user_id=user_id, actor=actor)


def _dependency_words(task: str, depends_on: str | None, dep: Dependency) -> str:
    """How the history names a dependency (stored as written, like the rest of the history)."""
    return f"{task}←{depends_on}（滞后 {dep.lag_days} 个工作日）：{dep.rationale}"


def _create(row: Dependency | Contribution, entity: str, words: str, **who: Any) -> None:
    """Insert a link and record it in the history, in one commit."""
    db.session.add(row)
    db.session.flush()
    audit.record(action="create", entity=entity, entity_id=row.id, new=words, **who)
    db.session.commit()


def _unlink(plan: Plan, row: Dependency | Contribution, entity: str, key: str, **who: Any) -> None:
    """Remember that the app removed a link of the plan file (stated or inferred), so that a reload of
    the file does not bring it back (``tracker.plans.loader``): an ``unlink`` history row, field the plan."""
    if row.origin != "added":
        audit.record(action="unlink", entity=entity, entity_id=row.id, field=plan.key, old=row.origin, new=key, **who)


def _delete(row: Dependency | Contribution, entity: str, words: str, **who: Any) -> None:
    """Delete a link, keeping what it was in the history, in one commit."""
    audit.record(action="delete", entity=entity, entity_id=row.id, old=words, **who)
    db.session.delete(row)
    db.session.commit()


# ── what the pages and the CLI show ──────────────────────────────────────────────────────────────


@dataclass
class Neighbourhood:
    """A task's place in the graph, for its page."""

    code: str
    light: str
    upstream: list[dict[str, Any]]  # direct prerequisites
    downstream: list[dict[str, Any]]  # direct dependents
    all_upstream: list[str]
    impact: gx.Impact


def task_neighbourhood(plan: Plan, code: str, today: date) -> Neighbourhood:
    """Upstream and downstream of one task and what its delay puts at risk."""
    graph = plan_graph(plan)
    light = _task_light(plan, code, today)
    node = gx.task_node(code)

    def link(other: str, data: Mapping[str, Any]) -> dict[str, Any]:
        o = graph.nodes[other]
        return {"code": o["code"], "label": o["label"], "title": o["title"], **data}

    upstream = [link(u, d) for u, _, d in graph.in_edges(node, data=True) if d["kind"] == "depends"]
    downstream = [link(v, d) for _, v, d in graph.out_edges(node, data=True) if d["kind"] == "depends"]
    return Neighbourhood(
        code=code,
        light=light,
        upstream=sorted(upstream, key=lambda x: gx.natural_key(x["code"])),
        downstream=sorted(downstream, key=lambda x: gx.natural_key(x["code"])),
        all_upstream=gx.upstream_tasks(graph, code),
        impact=gx.delay_impact(graph, code, light),
    )


def at_risk_impact(plan: Plan, today: date) -> list[gx.Impact]:
    """For the dashboard: what every red or yellow task of ``plan`` puts at risk."""
    return gx.at_risk_impact(plan_graph(plan), plan_lights(plan, today))


def checks(plan: Plan) -> gx.Checks:
    return gx.graph_checks(plan_graph(plan))


def export(plan: Plan, fmt: str) -> str:
    """The plan's graph as GraphML, GEXF or node-link JSON text."""
    return "".join(export_chunks(plan, fmt))


def export_chunks(plan: Plan, fmt: str) -> Iterator[str]:
    """The plan's graph as GraphML, GEXF or node-link JSON, in pieces: the XML formats are written by
    the streaming writers of :mod:`tracker.graph.stream` (a 20,000-task plan in about a second)."""
    if fmt not in EXPORT_FORMATS:
        raise LinkError(gettext("导出格式应为 %(join)s 之一。", join=" / ".join(EXPORT_FORMATS)))
    graph = plan_graph(plan)
    if fmt == "json":
        return iter([json.dumps(nx.node_link_data(gx.export_copy(graph), edges="edges"), ensure_ascii=False, indent=1)])
    return stream.iter_graphml(graph) if fmt == "graphml" else stream.iter_gexf(graph)


def link_lists(plan: Plan) -> dict[str, Any]:
    """Dependencies and contributions with their endpoints' labels, for the coordinators' page."""
    graph = plan_graph(plan)
    nodes = graph.nodes
    deps, cons = [], []
    for u, v, d in graph.edges(data=True):
        if d["kind"] == "depends":
            deps.append({"id": d["id"], "task": nodes[v], "depends_on": nodes[u], **d})
        elif d["kind"] == "contributes":
            cons.append({"id": d["id"], "task": nodes[u], "target": nodes[v], **d})
    for rows, model in ((deps, Dependency), (cons, Contribution)):
        who = _added_by(model, [x["id"] for x in rows if x.get("origin") == "added"])
        for x in rows:
            x["added_by"], x["added_at"] = who.get(x["id"], ("", None))
    deps.sort(key=lambda x: (gx.natural_key(x["task"]["code"]), gx.natural_key(x["depends_on"]["code"])))
    cons.sort(key=lambda x: (gx.natural_key(x["task"]["code"]), x["target"]["key"]))
    tasks = [nodes[gx.task_node(c)] for c in gx.select_tasks(graph)]
    targets = [d for _, d in graph.nodes(data=True) if d["kind"] == "target"]
    return {"dependencies": deps, "contributions": cons, "tasks": tasks, "targets": targets}


def _added_by(model: Any, ids: list[int]) -> dict[int, tuple[str, datetime | None]]:
    """Who added each of these links in the app and when (one query)."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(model.id, User.name, User.email, model.added_at)
        .outerjoin(User, User.id == model.added_by_id)
        .where(model.id.in_(ids))
    )
    return {id_: (name or email or "", at) for id_, name, email, at in rows}


TARGET_VIEWS = {
    "city": (N_("全市主要目标"), {"city"}),
    "plan": (N_("全市目标与行业指标"), {"city", "sector"}),
    "all": (N_("全部目标（含县级和任务目标）"), {"city", "sector", "county_energy", "county_pollutant", "task"}),
    "none": (N_("不显示目标"), set()),
}


@dataclass
class GraphFilters:
    """What ``/graph`` draws: a section, one department's tasks, one task's neighbourhood, which targets."""

    section: int | None = None
    department: str | None = None
    around: str | None = None
    targets: str = "city"


def dependency_overview(plan: Plan, filters: GraphFilters, today: date) -> dict[str, Any]:
    """Everything ``/graph`` shows: the drawing, the order, the critical chain, the conflicts."""
    graph = plan_graph(plan)
    lights = plan_lights(plan, today)
    if filters.around is not None and gx.task_node(filters.around) not in graph:
        raise NotFound(gettext("没有编号为 %(around)s 的任务。", around=filters.around))
    codes = gx.select_tasks(graph, section=filters.section, department=filters.department, around=filters.around)
    groups = TARGET_VIEWS.get(filters.targets, TARGET_VIEWS["city"])[1]
    nodes = graph.nodes
    impacts = gx.at_risk_impact(graph, {c: lights[c] for c in codes if c in lights})
    threatened = {gx.task_node(c) for i in impacts for c in i.tasks} | {
        gx.target_node(t.key) for i in impacts for t in i.targets
    }
    # Lists are capped so that a 2,000-task plan still gives a page one can read: the widest-reaching
    # late tasks first, the order and conflicts of the tasks selected.
    widest = sorted(impacts, key=lambda i: (i.light != "red", -(len(i.tasks) + len(i.targets))))
    selected = set(codes)
    order = [c for c in gx.topological_order(graph) if c in selected]
    calendar = city_workdays()  # one calendar for both: the chain's date arithmetic is the conflicts'
    conflicts = [
        c for c in gx.due_conflicts(graph, calendar.add_workdays) if c.task in selected or c.depends_on in selected
    ]
    return {
        "scene": task_scene(graph, codes, lights, groups, at_risk=threatened),
        "shown": len(codes),
        "total": sum(1 for _, d in graph.nodes(data=True) if d["kind"] == "task"),
        "light_counts": {light: sum(1 for c in codes if lights.get(c) == light) for light in LIGHTS},
        "order": [nodes[gx.task_node(c)] for c in order[:LIST_LIMIT]],
        "order_total": len(order),
        "chain": gx.critical_chain(graph, calendar.add_workdays),
        "conflicts": conflicts[:LIST_LIMIT],
        "conflicts_total": len(conflicts),
        "sections": sorted({d["section"] for _, d in graph.nodes(data=True) if d["kind"] == "task"}),
        "departments": [d["name"] for _, d in graph.nodes(data=True) if d["kind"] == "department"],
        "task_titles": {
            d["code"]: f"{d['label']} {d['title']}" for _, d in graph.nodes(data=True) if d["kind"] == "task"
        },
        "at_risk": widest[:IMPACT_LIMIT],
        "at_risk_total": len(impacts),
    }


def department_overview(plan: Plan, *, include_implementing: bool = False, min_weight: int = 1) -> dict[str, Any]:
    """Everything ``/graph/departments`` shows: workload, the co-ownership network, hubs, top pairs."""
    graph = plan_graph(plan)
    roles = set(gx.CO_OWNERSHIP_ROLES) | ({"implementing"} if include_implementing else set())
    net = gx.co_ownership_network(graph, roles)
    workloads = gx.department_workload(graph)
    return {
        "scene": department_scene(net, workloads, min_weight=min_weight),
        "workloads": workloads,
        "weights": gx.ROLE_WEIGHTS,
        "hubs": gx.coordination_hubs(net),
        "pairs": gx.top_shared_pairs(net),
        "checks": gx.graph_checks(graph),
    }


def check_report(plan: Plan) -> str:
    """The structural checks and date conflicts as text, for ``flask graph check``."""
    graph = plan_graph(plan)
    result = gx.graph_checks(graph)
    conflicts = gx.due_conflicts(graph, city_workdays().add_workdays)

    def line(title: str, items: list[str]) -> str:
        return gettext("%(title)s（%(value)s）：", title=title, value=len(items)) + (
            gettext("、").join(items) if items else gettext("无")
        )

    lines = [
        gettext(
            "%(title)s：%(number_of_nodes)s 个节点，%(number_of_edges)s 条边",
            title=plan.title,
            number_of_nodes=graph.number_of_nodes(),
            number_of_edges=graph.number_of_edges(),
        ),
        line(gettext("没有牵头或负责单位的任务"), result.tasks_without_owner),
        line(gettext("没有任何任务支撑的目标"), result.targets_without_contribution),
        line(gettext("没有承担任何任务的单位"), result.departments_without_task),
        line(
            gettext("截止日期早于所依赖任务的任务"),
            [
                gettext(
                    "%(task)s（%(task_due)s）依赖 %(depends_on)s（需 %(required)s）",
                    task=c.task,
                    task_due=c.task_due.isoformat(),
                    depends_on=c.depends_on,
                    required=c.required.isoformat(),
                )
                for c in conflicts
            ],
        ),
    ]
    return "\n".join(lines)
