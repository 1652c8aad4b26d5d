"""The plan as a graph: the rows handed in, the node names, building the graph and walking its dependencies.

Pure networkx.

No Flask app, no database session: :mod:`tracker.graph.service` queries the rows and hands them in
(messages go through Flask-Babel's ``gettext``, which returns the Chinese outside an app).
Every function here takes a graph (and plain values) and returns plain values, so each is tested
by the doctests in its docstring and by ``tests/test_graph_analytics.py``; the analyses are in
:mod:`tracker.graph.analysis`.

Nodes are prefixed strings so that one graph holds every kind of thing:

============  ==========================  ==========================================
prefix        kind                        attributes
============  ==========================  ==========================================
``task:``     ``task``                    code, label, title, section, due, status, parent
``target:``   ``target``                  key, name, group, due, county
``dept:``     ``department``              name, dept_kind, county
``county:``   ``county``                  name
============  ==========================  ==========================================

Edges carry ``kind``:

- ``depends``: prerequisite task → dependent task (``lag_days`` in working days, ``rationale``);
  downstream therefore follows the edge direction.
- ``contributes``: task → target it delivers (``rationale``); ``has_target``: task → a target written
  inside the measure itself.
- ``owns``: department → task (``role``: lead / responsible / support / implementing).
- ``allocated``: county → a target allocated to it; ``governs``: county government → its county.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import networkx as nx
from flask_babel import gettext

from ..collector import paused_gc
from ..errors import DependencyCycleError, NotFound

__all__ = [
    "AssignmentRow",
    "ContributionRow",
    "CountyRow",
    "DepartmentRow",
    "DependencyCycleError",
    "DependencyLinks",
    "DependencyRow",
    "PlanRows",
    "TargetRow",
    "TaskRow",
    "build_graph",
    "check_new_dependency",
    "county_node",
    "department_node",
    "dependency_dag",
    "dependency_links",
    "natural_key",
    "target_node",
    "task_attrs",
    "task_node",
    "topological_order",
]


# ── rows: what the service hands in ──────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class TaskRow:
    code: str
    title: str
    due: date
    label: str = ""
    section: int = 0
    status: str = "not_started"
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class TargetRow:
    key: str
    name: str
    group: str
    due: date
    county: str | None = None
    task: str | None = None  # the measure the target is written in, if any


@dataclass(frozen=True, slots=True)
class DepartmentRow:
    name: str
    kind: str
    county: str | None = None


@dataclass(frozen=True, slots=True)
class CountyRow:
    name: str


@dataclass(frozen=True, slots=True)
class AssignmentRow:
    task: str
    department: str
    role: str


@dataclass(frozen=True, slots=True)
class DependencyRow:
    task: str
    depends_on: str
    lag_days: int = 0
    rationale: str = ""
    id: int | None = None
    origin: str = "stated"  # stated by the plan, inferred when the plan file was made, or added in the app


@dataclass(frozen=True, slots=True)
class ContributionRow:
    task: str
    target: str
    rationale: str = ""
    id: int | None = None
    origin: str = "stated"


@dataclass
class PlanRows:
    """Everything :func:`build_graph` needs, as plain rows."""

    tasks: list[TaskRow] = field(default_factory=list)
    targets: list[TargetRow] = field(default_factory=list)
    departments: list[DepartmentRow] = field(default_factory=list)
    counties: list[CountyRow] = field(default_factory=list)
    assignments: list[AssignmentRow] = field(default_factory=list)
    dependencies: list[DependencyRow] = field(default_factory=list)
    contributions: list[ContributionRow] = field(default_factory=list)


# "task:" and "dept:" are both five characters: the hot loops slice ``node[5:]`` to get the code or name.
def task_node(code: str) -> str:
    """The node id of a task: ``task:3.1``."""
    return f"task:{code}"


def target_node(key: str) -> str:
    return f"target:{key}"


def department_node(name: str) -> str:
    return f"dept:{name}"


def county_node(name: str) -> str:
    return f"county:{name}"


def natural_key(code: str) -> tuple[Any, ...]:
    """Sort key that puts ``3.2`` before ``3.10``.

    Examples
    --------
    >>> sorted(["3.10", "4.1", "3.2"], key=natural_key)
    ['3.2', '3.10', '4.1']
    """
    return tuple([(0, int(p), "") if p.isdigit() else (1, 0, p) for p in _NUMBERS.split(code) if p])


_NUMBERS = re.compile(r"(\d+)")


# ── building ─────────────────────────────────────────────────────────────────────────────────────


def build_graph(rows: PlanRows) -> nx.DiGraph:
    """Build the one graph of tasks, targets, departments and counties from plain rows.

    Rows that name an unknown task, target, department or county are skipped (the database's
    foreign keys make that impossible; a hand-built row list might not). A repeated row keeps
    its node's or edge's first place and gives it the later row's attributes.

    The dependency structure (:func:`dependency_links`) is worked out here too, from the rows.

    Examples
    --------
    >>> d = date(2025, 12, 31)
    >>> g = build_graph(PlanRows(
    ...     tasks=[TaskRow("3.1", "工业升级", d), TaskRow("4.1", "能耗双控", d)],
    ...     targets=[TargetRow("city-ei", "能耗强度", "city", d)],
    ...     departments=[DepartmentRow("市发展改革委", "bureau")],
    ...     assignments=[AssignmentRow("4.1", "市发展改革委", "lead")],
    ...     dependencies=[DependencyRow("3.1", "4.1", lag_days=5, rationale="双控引导升级")],
    ...     contributions=[ContributionRow("3.1", "city-ei")],
    ... ))
    >>> g.edges["task:4.1", "task:3.1"]["kind"], g.edges["task:4.1", "task:3.1"]["lag_days"]
    ('depends', 5)
    >>> g.edges["dept:市发展改革委", "task:4.1"]["role"]
    'lead'
    >>> sorted(g.successors("task:3.1"))
    ['target:city-ei']
    """
    with paused_gc():
        return _build(rows)


def _build(rows: PlanRows) -> nx.DiGraph:
    g = nx.DiGraph()
    # Written straight into the graph's own dicts, as ``add_nodes_from`` and ``add_edges_from`` write
    # them but without copying each attribute dict twice (a quarter of the build at 20,000 tasks): a
    # new node or edge takes its dict, a repeated one is updated in place. Every endpoint exists already.
    node, succ, pred = g._node, g._succ, g._pred

    def add_node(names: dict[str, str], key: str, name: str, attrs: dict[str, Any]) -> None:
        if name in node:
            node[name].update(attrs)
        else:
            node[name] = attrs
            succ[name] = {}
            pred[name] = {}
            names[key] = name

    def add_edge(u: str, v: str, attrs: dict[str, Any]) -> None:
        edge = succ[u].get(v)
        if edge is None:
            succ[u][v] = pred[v][u] = attrs
        else:
            edge.update(attrs)

    # Each kind's node names by code, key or name: a row's ends are looked up, not spelled out again,
    # and every edge holds the node's own string.
    counties: dict[str, str] = {}
    tasks: dict[str, str] = {}
    targets: dict[str, str] = {}
    departments: dict[str, str] = {}
    for c in rows.counties:
        add_node(counties, c.name, "county:" + c.name, {"kind": "county", "name": c.name, "label": c.name})
    for t in rows.tasks:
        add_node(
            tasks,
            t.code,
            "task:" + t.code,
            {
                "kind": "task",
                "code": t.code,
                "label": t.label or t.code,
                "title": t.title,
                "section": t.section,
                "due": t.due,
                "status": t.status,
                "parent": t.parent or "",
            },
        )
    for t in rows.targets:
        add_node(
            targets,
            t.key,
            "target:" + t.key,
            {
                "kind": "target",
                "key": t.key,
                "name": t.name,
                "label": t.name,
                "group": t.group,
                "due": t.due,
                "county": t.county or "",
            },
        )
    for d in rows.departments:
        add_node(
            departments,
            d.name,
            "dept:" + d.name,
            {"kind": "department", "name": d.name, "label": d.name, "dept_kind": d.kind, "county": d.county or ""},
        )
    for t in rows.targets:
        if t.task and t.task in tasks:
            add_edge(tasks[t.task], targets[t.key], {"kind": "has_target"})
    for t in rows.targets:
        if t.county and t.county in counties:
            add_edge(counties[t.county], targets[t.key], {"kind": "allocated"})
    for d in rows.departments:
        if d.county and d.county in counties:
            add_edge(departments[d.name], counties[d.county], {"kind": "governs"})
    for a in rows.assignments:
        v, u = tasks.get(a.task), departments.get(a.department)
        if v is not None and u is not None:
            add_edge(u, v, {"kind": "owns", "role": a.role})
    later: dict[str, dict[str, int]] = {}  # prerequisite → {dependent: lag}, as the edges hold them
    for dep in rows.dependencies:
        v, u = tasks.get(dep.task), tasks.get(dep.depends_on)
        if v is not None and u is not None:
            add_edge(
                u,
                v,
                {
                    "kind": "depends",
                    "lag_days": dep.lag_days,
                    "rationale": dep.rationale,
                    "id": dep.id if dep.id is not None else -1,
                    "origin": dep.origin,
                },
            )
            later.setdefault(dep.depends_on, {})[dep.task] = dep.lag_days
    for con in rows.contributions:
        u, v = tasks.get(con.task), targets.get(con.target)
        if u is not None and v is not None:
            add_edge(
                u,
                v,
                {
                    "kind": "contributes",
                    "rationale": con.rationale,
                    "id": con.id if con.id is not None else -1,
                    "origin": con.origin,
                },
            )
    order = list(tasks)  # codes in plan order
    links = _link(order, {code: list(later[code].items()) if code in later else [] for code in order})
    g.__networkx_cache__[_LINKS_KEY] = links
    return g


# Where each graph keeps its dependency structure: networkx's own per-graph cache, which it empties
# whenever the graph is changed through its methods, so a changed graph derives the structure again.
_LINKS_KEY = "tracker.graph.dependency_links"


def dependency_dag(g: nx.DiGraph) -> nx.DiGraph:
    """The tasks alone, keyed by code, with an edge prerequisite → dependent for each dependency.

    For drawing and for callers who want networkx algorithms; the analyses here walk the same
    structure as plain dicts, derived once per graph.

    Examples
    --------
    >>> d = date(2025, 12, 31)
    >>> g = build_graph(PlanRows(tasks=[TaskRow("a", "A", d), TaskRow("b", "B", d)],
    ...                          dependencies=[DependencyRow("b", "a")]))
    >>> list(dependency_dag(g).edges)
    [('a', 'b')]
    """
    links = dependency_links(g)
    dag = nx.DiGraph()
    dag.add_nodes_from(links.order)
    dag.add_edges_from((u, v, {"lag_days": lag}) for u in links.order for v, lag in links.succ[u])
    return dag


@dataclass(frozen=True)
class DependencyLinks:
    """The dependency structure as plain dicts: what the analyses walk (much cheaper than networkx)."""

    order: list[str]  # task codes in plan order
    succ: dict[str, list[tuple[str, int]]]  # prerequisite → [(dependent, lag)]
    pred: dict[str, list[tuple[str, int]]]  # dependent → [(prerequisite, lag)]
    topo: list[str]  # prerequisites first, ties in plan order (as far as it goes when ``cyclic``)
    cyclic: bool = False


def dependency_links(g: nx.DiGraph) -> DependencyLinks:
    """The graph's dependency structure; raises ``networkx.NetworkXUnfeasible`` if it has a cycle."""
    links = _links(g)
    if links.cyclic:
        raise nx.NetworkXUnfeasible(gettext("依赖关系中存在循环"))
    return links


def _links(g: nx.DiGraph) -> DependencyLinks:
    """The graph's dependency structure, cycle or not, derived once per graph (:func:`build_graph` does it)."""
    cache = getattr(g, "__networkx_cache__", None)  # None where networkx turned caching off
    links = cache.get(_LINKS_KEY) if cache is not None else None
    if links is not None:
        return links
    order = [node[5:] for node, kind in g.nodes(data="kind") if kind == "task"]
    adjacency = g._succ
    succ = {
        code: [
            (other[5:], edge["lag_days"])
            for other, edge in adjacency["task:" + code].items()
            if edge["kind"] == "depends"
        ]
        for code in order
    }
    links = _link(order, succ)
    if cache is not None:
        cache[_LINKS_KEY] = links
    return links


def _link(order: list[str], succ: dict[str, list[tuple[str, int]]]) -> DependencyLinks:
    """The rest of :class:`DependencyLinks` from the tasks in plan order and each one's dependents."""
    pred: dict[str, list[tuple[str, int]]] = {code: [] for code in order}
    for code in order:  # each dependent's prerequisites in plan order
        for other, lag in succ[code]:
            pred[other].append((code, lag))
    # Kahn's algorithm with a heap on plan position: the order is stable and reads like the plan.
    position = {code: i for i, code in enumerate(order)}
    if all(position[code] < position[other] for code in order for other, _ in succ[code]):
        # Every prerequisite comes earlier in the plan (the usual case): the plan's order is the one
        # Kahn's algorithm would give (the smallest position first at every step), without the heap.
        return DependencyLinks(order, succ, pred, list(order), False)
    waiting = {code: len(pred[code]) for code in order}
    heap = [position[code] for code in order if not waiting[code]]
    heapq.heapify(heap)
    topo = []
    while heap:
        code = order[heapq.heappop(heap)]
        topo.append(code)
        for other, _ in succ[code]:
            waiting[other] -= 1
            if not waiting[other]:
                heapq.heappush(heap, position[other])
    return DependencyLinks(order, succ, pred, topo, len(topo) != len(order))


def task_attrs(g: nx.DiGraph, code: str) -> dict[str, Any]:
    node = task_node(code)
    if node not in g:
        raise NotFound(gettext("没有编号为 %(code)s 的任务。", code=code))
    return g.nodes[node]


# ── dependencies: cycles, order, chain, conflicts ────────────────────────────────────────────────


def check_new_dependency(g: nx.DiGraph, task: str, depends_on: str) -> None:
    """Refuse a dependency "``task`` depends on ``depends_on``" that would close a cycle.

    Raises :class:`~tracker.errors.DependencyCycleError` naming the cycle in "depends on" order
    (each code depends on the next), or :class:`~tracker.errors.NotFound` for an unknown task.

    Examples
    --------
    >>> d = date(2025, 12, 31)
    >>> g = build_graph(PlanRows(tasks=[TaskRow(c, c, d) for c in "abc"],
    ...                          dependencies=[DependencyRow("b", "a"), DependencyRow("c", "b")]))
    >>> check_new_dependency(g, "c", "a")  # c → a is fine: no path from c back to a
    >>> check_new_dependency(g, "a", "c")
    Traceback (most recent call last):
    ...
    tracker.errors.DependencyCycleError: 依赖关系将形成循环，已拒绝：a → c → b → a
    >>> check_new_dependency(g, "a", "a")
    Traceback (most recent call last):
    ...
    tracker.errors.DependencyCycleError: 依赖关系将形成循环，已拒绝：a → a
    """
    task_attrs(g, task)
    task_attrs(g, depends_on)
    if task == depends_on:
        raise DependencyCycleError([task, task])
    path = _dependency_path(
        g, task_node(task), task_node(depends_on)
    )  # does depends_on already (transitively) depend on task?
    if path is not None:
        raise DependencyCycleError([task, *(g.nodes[n]["code"] for n in reversed(path))])


def _dependency_path(g: nx.DiGraph, source: str, target: str) -> list[str] | None:
    """Shortest path along ``depends`` edges (breadth first, only what is reachable from ``source``)."""
    parent: dict[str, str | None] = {source: None}
    frontier = [source]
    succ = g._succ
    while frontier:
        nxt = []
        for node in frontier:
            for other, data in succ[node].items():
                if data["kind"] == "depends" and other not in parent:
                    parent[other] = node
                    if other == target:
                        path = [other]
                        while (step := parent[path[-1]]) is not None:
                            path.append(step)
                        return path[::-1]
                    nxt.append(other)
        frontier = nxt
    return None


def topological_order(g: nx.DiGraph) -> list[str]:
    """Task codes with every prerequisite before its dependents; otherwise in plan order.

    Plan order is the order the tasks were given to :func:`build_graph` (the service gives them
    in the plan's own order).

    Examples
    --------
    >>> d = date(2025, 12, 31)
    >>> g = build_graph(PlanRows(tasks=[TaskRow(c, c, d) for c in ["3.1", "3.2", "3.10", "4.1"]],
    ...                          dependencies=[DependencyRow("3.1", "4.1")]))
    >>> topological_order(g)
    ['3.2', '3.10', '4.1', '3.1']
    """
    return list(dependency_links(g).topo)
