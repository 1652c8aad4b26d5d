"""Analyses of the plan graph: critical chain, due conflicts, delay impact, workload, co-ownership, checks, export.

Pure networkx over the graph built by :mod:`tracker.graph.model`: no Flask app, no database session.
Lags count working days through an ``add_days`` function; the default is the statutory calendar
of :mod:`tracker.tasks.workdays` (the service passes one that includes the city's own overrides).
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from typing import Any

import networkx as nx

from ..collector import paused_gc
from ..tasks.workdays import add_workdays
from .model import (  # the rows and build_graph are also the doctests' names
    AssignmentRow,  # noqa: F401
    ContributionRow,  # noqa: F401
    DepartmentRow,  # noqa: F401
    DependencyLinks,
    DependencyRow,  # noqa: F401
    PlanRows,  # noqa: F401
    TargetRow,  # noqa: F401
    TaskRow,  # noqa: F401
    _links,
    build_graph,  # noqa: F401
    department_node,
    dependency_links,
    natural_key,
    task_attrs,
    task_node,
)

__all__ = [
    "CO_OWNERSHIP_ROLES",
    "OWNER_ROLES",
    "ROLE_WEIGHTS",
    "Checks",
    "CriticalChain",
    "DueConflict",
    "Hub",
    "Impact",
    "ImpactedTarget",
    "Workload",
    "at_risk_impact",
    "co_ownership_network",
    "coordination_hubs",
    "critical_chain",
    "delay_impact",
    "department_workload",
    "downstream_tasks",
    "due_conflicts",
    "export_copy",
    "graph_checks",
    "owners",
    "select_tasks",
    "targets_at_risk",
    "top_shared_pairs",
    "upstream_tasks",
]

# How much a role weighs in a department's workload: the one place to change it.
ROLE_WEIGHTS: dict[str, float] = {"lead": 3.0, "responsible": 2.0, "support": 1.0, "implementing": 1.0}
# Roles that make a department answerable for a task (a task without one is flagged).
OWNER_ROLES = frozenset({"lead", "responsible"})
# Roles that count in the co-ownership network. The nine county governments implement every measure
# (三（一）: 以下均需各县（市、区）政府落实), so counting ``implementing`` would link everyone to everyone.
CO_OWNERSHIP_ROLES = frozenset({"lead", "responsible", "support"})


AddDays = Callable[[date, int], date]


@dataclass(frozen=True)
class CriticalChain:
    """The chain of tasks that sets the latest projected finish, prerequisites first."""

    tasks: list[str]
    finish: date | None


def critical_chain(g: nx.DiGraph, add_days: AddDays = add_workdays) -> CriticalChain:
    """The critical chain by due dates and lags.

    A task's projected finish is the later of its own due date and, for each prerequisite, the
    prerequisite's projected finish plus the lag. The chain ends at the task with the latest
    projected finish and walks back through the prerequisites that set it; ties go to the longer
    chain, so with equal due dates and no lags it is the longest chain of dependencies.

    Examples
    --------
    >>> d = date(2025, 12, 31)
    >>> g = build_graph(PlanRows(
    ...     tasks=[TaskRow("a", "A", d), TaskRow("b", "B", d), TaskRow("c", "C", d), TaskRow("x", "X", d)],
    ...     dependencies=[DependencyRow("b", "a"), DependencyRow("c", "b", lag_days=5)]))
    >>> chain = critical_chain(g)
    >>> chain.tasks, chain.finish
    (['a', 'b', 'c'], datetime.date(2026, 1, 8))

    A prerequisite due well before its dependent does not bind it:

    >>> g = build_graph(PlanRows(tasks=[TaskRow("a", "A", date(2024, 6, 30)), TaskRow("b", "B", d)],
    ...                          dependencies=[DependencyRow("b", "a")]))
    >>> critical_chain(g).tasks
    ['b']
    >>> critical_chain(build_graph(PlanRows())).tasks
    []
    """
    links = dependency_links(g)
    nodes = g._node
    finish: dict[str, date] = {}
    length: dict[str, int] = {}
    via: dict[str, str | None] = {}
    # add_days's answers: thousands of links share a few thousand (date, lag) pairs, and working-day
    # arithmetic is the costly step.
    shifted: dict[tuple[date, int], date] = {}
    for code in links.topo:
        best, best_len, best_via = nodes["task:" + code]["due"], 1, None
        for pred, lag in links.pred[code]:
            if lag:
                key = (finish[pred], lag)
                cand = shifted.get(key)
                if cand is None:
                    cand = shifted[key] = add_days(*key)
            else:
                cand = finish[pred]
            if cand > best or (cand == best and length[pred] + 1 > best_len):
                best, best_len, best_via = cand, length[pred] + 1, pred
        finish[code], length[code], via[code] = best, best_len, best_via
    if not finish:
        return CriticalChain([], None)
    end = max(links.order, key=lambda c: (finish[c], length[c]))  # the first in plan order on a tie
    chain: list[str] = []
    cursor: str | None = end
    while cursor is not None:
        chain.append(cursor)
        cursor = via[cursor]
    return CriticalChain(chain[::-1], finish[end])


@dataclass(frozen=True)
class DueConflict:
    """``task`` is due before ``depends_on`` (plus the lag) can be finished."""

    task: str
    depends_on: str
    task_due: date
    required: date


@paused_gc()  # thousands of conflicts in a plan whose dates were never checked
def due_conflicts(g: nx.DiGraph, add_days: AddDays = add_workdays) -> list[DueConflict]:
    """Dependencies whose dependent task is due before its prerequisite's due date plus the lag.

    Examples
    --------
    >>> g = build_graph(PlanRows(
    ...     tasks=[TaskRow("a", "A", date(2025, 12, 31)), TaskRow("b", "B", date(2024, 12, 31))],
    ...     dependencies=[DependencyRow("b", "a")]))
    >>> [(c.task, c.depends_on, c.required.isoformat()) for c in due_conflicts(g)]
    [('b', 'a', '2025-12-31')]
    """
    nodes = g._node
    found = []
    links = dependency_links(g)
    shifted: dict[tuple[date, int], date] = {}  # add_days's answers, as in critical_chain

    def required(due: date, lag: int) -> date:
        key = (due, lag)
        day = shifted.get(key)
        if day is None:
            day = shifted[key] = add_days(due, lag)
        return day

    for u in links.order:
        due_u = nodes["task:" + u]["due"]
        for v, lag in links.succ[u]:
            due_v = nodes["task:" + v]["due"]
            if due_v < due_u:  # a conflict whatever the lag; skip the date arithmetic
                found.append(DueConflict(v, u, due_v, required(due_u, lag)))
            elif lag and due_v < (day := required(due_u, lag)):
                found.append(DueConflict(v, u, due_v, day))
    return found  # in plan order of the prerequisites


# ── neighbourhood and delay impact ───────────────────────────────────────────────────────────────


def upstream_tasks(g: nx.DiGraph, code: str) -> list[str]:
    """Every task ``code`` depends on, directly or not, in code order.

    Examples
    --------
    >>> d = date(2025, 12, 31)
    >>> g = build_graph(PlanRows(tasks=[TaskRow(c, c, d) for c in "abc"],
    ...                          dependencies=[DependencyRow("b", "a"), DependencyRow("c", "b")]))
    >>> upstream_tasks(g, "c"), downstream_tasks(g, "a")
    (['a', 'b'], ['b', 'c'])
    """
    task_attrs(g, code)
    return _in_code_order(_reachable(_links(g).pred, code))


def downstream_tasks(g: nx.DiGraph, code: str) -> list[str]:
    """Every task that depends on ``code``, directly or not, in code order (see :func:`upstream_tasks`)."""
    task_attrs(g, code)
    return _in_code_order(_reachable(_links(g).succ, code))


def _reachable(links: Mapping[str, list[tuple[str, int]]], start: str) -> set[str]:
    """Task codes reachable from ``start`` along ``links`` (the dependency structure's succ or pred)."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        for other, _ in links[stack.pop()]:
            if other not in seen:
                seen.add(other)
                stack.append(other)
    seen.discard(start)
    return seen


def _in_code_order(codes: Iterable[str]) -> list[str]:
    codes = list(codes)
    if len(codes) > 1:  # most lists of a late task's targets or dependents hold one code
        codes.sort(key=natural_key)
    return codes


def owners(g: nx.DiGraph, code: str) -> list[tuple[str, str]]:
    """``(department, role)`` pairs holding a role on task ``code``, leads first.

    Examples
    --------
    >>> g = build_graph(PlanRows(tasks=[TaskRow("a", "A", date(2025, 12, 31))],
    ...     departments=[DepartmentRow("乙局", "bureau"), DepartmentRow("甲局", "bureau")],
    ...     assignments=[AssignmentRow("a", "乙局", "support"), AssignmentRow("a", "甲局", "lead")]))
    >>> owners(g, "a")
    [('甲局', 'lead'), ('乙局', 'support')]
    """
    pairs = [(u[5:], e["role"]) for u, e in g._pred[task_node(code)].items() if e["kind"] == "owns"]
    return sorted(pairs, key=lambda p: (_ROLE_ORDER.get(p[1], 99), p[0]))


_ROLE_ORDER = {role: i for i, role in enumerate(ROLE_WEIGHTS)}


@dataclass
class ImpactedTarget:
    key: str
    name: str
    group: str
    via: list[str]  # the impacted tasks that feed it
    owners: list[str]  # lead / responsible departments of those tasks, and the county government
    county: str | None = None


@dataclass
class Impact:
    """What a late task puts at risk: its downstream tasks and the targets they all feed."""

    task: str
    light: str
    tasks: list[str]
    targets: list[ImpactedTarget]
    owners: dict[str, list[tuple[str, str]]]  # task code → (department, role)
    labels: dict[str, str] = field(default_factory=dict)  # task code → "三（一） 标题"

    @property
    def departments(self) -> list[str]:
        """Every department owning an impacted task or target, by name."""
        names = {name for pairs in self.owners.values() for name, _ in pairs}
        names.update(name for t in self.targets for name in t.owners)
        return sorted(names)


def delay_impact(g: nx.DiGraph, code: str, light: str = "red") -> Impact:
    """Every task downstream of ``code`` and every target ``code`` or those tasks feed, with owners.

    A target counts when a task contributes to it or when it is written inside the task.

    Examples
    --------
    >>> d = date(2025, 12, 31)
    >>> g = build_graph(PlanRows(
    ...     tasks=[TaskRow("4.7", "统计监测", d), TaskRow("4.2", "总量控制", d), TaskRow("3.5", "农业", d)],
    ...     targets=[TargetRow("city-cod", "COD 减排量", "city", d)],
    ...     departments=[DepartmentRow("市生态环境局", "bureau")],
    ...     assignments=[AssignmentRow("4.2", "市生态环境局", "responsible")],
    ...     dependencies=[DependencyRow("4.2", "4.7")],
    ...     contributions=[ContributionRow("4.2", "city-cod")]))
    >>> impact = delay_impact(g, "4.7")
    >>> impact.tasks, [(t.key, t.via, t.owners) for t in impact.targets], impact.departments
    (['4.2'], [('city-cod', ['4.2'], ['市生态环境局'])], ['市生态环境局'])
    """
    task_attrs(g, code)
    return _impact(g, _links(g), code, light, {})


def _impact(
    g: nx.DiGraph, links: DependencyLinks, code: str, light: str, owners_of: dict[str, list[tuple[str, str]]]
) -> Impact:
    """:func:`delay_impact`, with each task's owners looked up once in ``owners_of`` (shared by a run of them)."""
    hit = [code, *_in_code_order(_reachable(links.succ, code))]
    nodes, succ, pred = g._node, g._succ, g._pred
    feeds: dict[str, list[str]] = defaultdict(list)
    for c in hit:
        for target, edge in succ["task:" + c].items():
            if edge.get("kind") in _FEEDS:
                feeds[target].append(c)
    task_owners = {}
    for c in hit:
        found = owners_of.get(c)
        if found is None:
            found = owners_of[c] = owners(g, c)
        task_owners[c] = list(found)  # each impact its own lists
    targets = []
    for node, via in feeds.items():
        data = nodes[node]
        names = {name for c in via for name, role in task_owners[c] if role in OWNER_ROLES}
        names.update(nodes[u]["name"] for u in _county_governments(pred, node))
        targets.append(
            ImpactedTarget(
                data["key"],
                data["name"],
                data["group"],
                _in_code_order(via),
                sorted(names),
                data.get("county") or None,
            )
        )
    targets.sort(key=lambda t: (_GROUP_ORDER.get(t.group, 9), t.key))
    labels = {}
    for c in hit:
        data = nodes["task:" + c]
        labels[c] = f"{data['label']} {data['title']}".strip()
    return Impact(code, light, hit[1:], targets, task_owners, labels)


_FEEDS = frozenset({"contributes", "has_target"})
_GROUP_ORDER = {"city": 0, "sector": 1, "county_energy": 2, "county_pollutant": 3, "task": 4}


def _county_governments(pred: Mapping[str, Mapping[str, Mapping[str, Any]]], target: str) -> Iterable[str]:
    for county, edge in pred[target].items():
        if edge.get("kind") == "allocated":
            for dept, e in pred[county].items():
                if e.get("kind") == "governs":
                    yield dept


@paused_gc()  # a thousand impacts at 20,000 tasks, each a few dicts and lists
def at_risk_impact(g: nx.DiGraph, lights: Mapping[str, str]) -> list[Impact]:
    """The :func:`delay_impact` of each red or yellow task, red first, then in code order.

    ``lights`` maps task code → ``"red"`` / ``"yellow"`` / ``"green"`` (codes not in the graph are ignored).

    Examples
    --------
    >>> d = date(2025, 12, 31)
    >>> g = build_graph(PlanRows(tasks=[TaskRow(c, c, d) for c in "abc"],
    ...                          dependencies=[DependencyRow("b", "a")]))
    >>> [(i.task, i.light, i.tasks) for i in at_risk_impact(g, {"a": "yellow", "b": "green", "c": "red"})]
    [('c', 'red', []), ('a', 'yellow', ['b'])]
    """
    late = [
        (0 if light == "red" else 1, natural_key(code), code, light)
        for code, light in lights.items()
        if light in {"red", "yellow"} and task_node(code) in g
    ]
    links: DependencyLinks = _links(g)
    owners_of: dict[str, list[tuple[str, str]]] = {}  # a task downstream of several late ones is looked up once
    return [_impact(g, links, code, light, owners_of) for _, _, code, light in sorted(late)]


def targets_at_risk(impacts: Iterable[Impact]) -> dict[str, list[str]]:
    """Target key → the late or at-risk tasks that threaten it, from :func:`at_risk_impact`.

    Examples
    --------
    >>> d = date(2025, 12, 31)
    >>> g = build_graph(PlanRows(tasks=[TaskRow("a", "A", d)], targets=[TargetRow("t", "T", "city", d)],
    ...                          contributions=[ContributionRow("a", "t")]))
    >>> targets_at_risk(at_risk_impact(g, {"a": "red"}))
    {'t': ['a']}
    """
    found: dict[str, list[str]] = defaultdict(list)
    for impact in impacts:
        for t in impact.targets:
            found[t.key].append(impact.task)
    return dict(found)


# ── departments ──────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Workload:
    department: str
    dept_kind: str
    score: float
    roles: dict[str, int]

    @property
    def tasks(self) -> int:
        return sum(self.roles.values())


def department_workload(g: nx.DiGraph, weights: Mapping[str, float] = ROLE_WEIGHTS) -> list[Workload]:
    """Each department's load: tasks by role, and a score weighing each role by ``weights``.

    Departments without tasks are listed with score 0; heaviest first, then by name.

    Examples
    --------
    >>> d = date(2025, 12, 31)
    >>> g = build_graph(PlanRows(tasks=[TaskRow("a", "A", d), TaskRow("b", "B", d)],
    ...     departments=[DepartmentRow("甲", "bureau"), DepartmentRow("乙", "bureau"), DepartmentRow("丙", "bureau")],
    ...     assignments=[AssignmentRow("a", "甲", "lead"), AssignmentRow("a", "乙", "support"),
    ...                  AssignmentRow("b", "乙", "support")]))
    >>> [(w.department, w.score, w.tasks) for w in department_workload(g)]
    [('甲', 3.0, 1), ('乙', 2.0, 2), ('丙', 0.0, 0)]
    """
    result = []
    succ = g._succ
    for node, data in g._node.items():
        if data["kind"] != "department":
            continue
        roles: dict[str, int] = {}
        for edge in succ[node].values():
            if role := edge.get("role"):
                roles[role] = roles.get(role, 0) + 1
        score = sum(weights.get(role, 0.0) * n for role, n in roles.items())
        result.append(Workload(data["name"], data["dept_kind"], float(score), roles))
    result.sort(key=lambda w: (-w.score, -w.tasks, w.department))
    return result


@paused_gc()  # ~50,000 pairs at 20,000 tasks, each a list and a dict kept in the network
def co_ownership_network(g: nx.DiGraph, roles: Iterable[str] = CO_OWNERSHIP_ROLES) -> nx.Graph:
    """Departments linked by the tasks they share (in ``roles``); ``weight`` = number of shared tasks.

    Every department is a node, linked or not. Each edge keeps the shared task codes in ``tasks``.

    Examples
    --------
    >>> d = date(2025, 12, 31)
    >>> g = build_graph(PlanRows(tasks=[TaskRow("a", "A", d), TaskRow("b", "B", d)],
    ...     departments=[DepartmentRow(n, "bureau") for n in "甲乙丙"],
    ...     assignments=[AssignmentRow("a", "甲", "lead"), AssignmentRow("a", "乙", "support"),
    ...                  AssignmentRow("b", "甲", "lead"), AssignmentRow("b", "乙", "support"),
    ...                  AssignmentRow("b", "丙", "implementing")]))
    >>> net = co_ownership_network(g)
    >>> net.edges["甲", "乙"]["weight"], net.edges["甲", "乙"]["tasks"], net.has_edge("甲", "丙")
    (2, ['a', 'b'], False)
    """
    wanted = set(roles)
    net = nx.Graph()
    net.add_nodes_from(data["name"] for data in g._node.values() if data["kind"] == "department")
    # Count in a plain dict first: one edge per pair, not one update per shared task.
    shared: dict[tuple[str, str], list[str]] = defaultdict(list)
    pred = g._pred
    for node, data in g._node.items():  # tasks in plan order
        if data["kind"] != "task":
            continue
        names = [u[5:] for u, e in pred[node].items() if e["kind"] == "owns" and e["role"] in wanted]
        if len(names) < 2:
            continue
        names.sort()
        code = node[5:]
        for pair in combinations(names, 2):
            shared[pair].append(code)
    # Each pair is new and both ends are in the network: written straight into its adjacency,
    # as ``add_edges_from`` would write them, without copying each edge's dict.
    adj = net._adj
    for (a, b), codes in shared.items():
        adj[a][b] = adj[b][a] = {"weight": len(codes), "tasks": codes}
    return net


@dataclass(frozen=True)
class Hub:
    department: str
    betweenness: float
    degree: int
    strength: int  # shared tasks summed over partners


def coordination_hubs(
    net: nx.Graph, top: int = 10, sample_above: int = 300, sample: int = 64, backbone: int = 12
) -> list[Hub]:
    """The departments that tie the network together, by betweenness centrality.

    Up to ``sample_above`` departments the betweenness is exact, on every tie. Beyond, a dense
    network (400 departments share tens of thousands of pairs) is first reduced to its backbone —
    each department's ``backbone`` strongest ties — and betweenness is estimated from ``sample``
    seeded source departments, so the ranking is stable and takes a fraction of a second.
    Ties go to the larger degree, then strength (shared tasks summed over partners).

    Examples
    --------
    >>> net = nx.Graph([("甲", "乙"), ("乙", "丙"), ("乙", "丁")])
    >>> [(h.department, h.degree) for h in coordination_hubs(net, top=2)]
    [('乙', 3), ('丁', 1)]
    """
    n = net.number_of_nodes()
    if n == 0:
        return []
    adj = net._adj
    # Each department's tie weights in networkx's order: its strength, and its backbone's threshold.
    weights = {node: [data.get("weight", 1) for data in ties.values()] for node, ties in adj.items()}
    if n <= sample_above:
        between = nx.betweenness_centrality(net)
    else:
        core = nx.Graph()
        core.add_nodes_from(net)
        for node, ties in adj.items():
            # The strongest ties by (-weight, name): only ties as heavy as the backbone-th heaviest can be
            # among them, so only those are sorted (names are unique among ties: no two sort alike).
            heaviest = sorted(weights[node], reverse=True)
            least = heaviest[backbone - 1] if 0 < backbone <= len(heaviest) else None
            strongest = sorted(
                [(-w, other) for other, w in zip(ties, weights[node], strict=True) if least is None or w >= least]
            )
            core.add_edges_from((node, other) for _, other in strongest[:backbone])
        between = nx.betweenness_centrality(core, k=min(sample, n), seed=0)
    hubs = []
    for node, ties in adj.items():
        # networkx's degree and weighted degree (a self-loop counts twice), without its views.
        degree = len(ties) + (node in ties)
        strength = sum(weights[node]) + (node in ties and ties[node].get("weight", 1))
        hubs.append(Hub(node, round(between[node], 4), degree, int(strength)))
    hubs.sort(key=lambda h: (-h.betweenness, -h.degree, -h.strength, h.department))
    return hubs[:top]


def top_shared_pairs(net: nx.Graph, top: int = 10) -> list[tuple[str, str, int, list[str]]]:
    """The pairs of departments that share the most tasks: ``(a, b, shared, task codes)``.

    Examples
    --------
    >>> net = nx.Graph()
    >>> net.add_edge("甲", "乙", weight=3, tasks=["a", "b", "c"])
    >>> net.add_edge("甲", "丙", weight=1, tasks=["a"])
    >>> top_shared_pairs(net, top=1)
    [('乙', '甲', 3, ['a', 'b', 'c'])]
    """
    if top <= 0:
        return []
    # Each pair once, its names in order (a self-loop once too), from networkx's adjacency.
    adj = net._adj
    weights = [data["weight"] for a, ties in adj.items() for b, data in ties.items() if not b < a]
    if not weights:
        return []
    # Only pairs as heavy as the top-th heaviest can be among the top: just those are sorted.
    least = heapq.nlargest(top, weights)[-1]
    pairs = [
        (a, b, data) for a, ties in adj.items() for b, data in ties.items() if data["weight"] >= least and not b < a
    ]
    best = heapq.nsmallest(top, pairs, key=lambda p: (-p[2]["weight"], p[0], p[1]))
    return [(a, b, data["weight"], list(data.get("tasks", []))) for a, b, data in best]


# ── checks ───────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Checks:
    """Gaps in the plan's structure, each a list of codes / keys / names."""

    tasks_without_owner: list[str]
    targets_without_contribution: list[str]
    departments_without_task: list[str]

    @property
    def ok(self) -> bool:
        return not (self.tasks_without_owner or self.targets_without_contribution or self.departments_without_task)


def graph_checks(g: nx.DiGraph) -> Checks:
    """A task with no lead or responsible department, a target nothing delivers, an idle department.

    A target is delivered when a task contributes to it or when it is written inside a task.

    Examples
    --------
    >>> d = date(2025, 12, 31)
    >>> g = build_graph(PlanRows(tasks=[TaskRow("a", "A", d), TaskRow("b", "B", d)],
    ...     targets=[TargetRow("t1", "T1", "city", d), TargetRow("t2", "T2", "task", d, task="b")],
    ...     departments=[DepartmentRow("甲", "bureau"), DepartmentRow("乙", "bureau")],
    ...     assignments=[AssignmentRow("a", "甲", "lead"), AssignmentRow("b", "甲", "support")]))
    >>> graph_checks(g)
    Checks(tasks_without_owner=['b'], targets_without_contribution=['t1'], departments_without_task=['乙'])
    """
    no_owner, no_contribution, idle = [], [], []
    pred, succ = g._pred, g._succ
    for node, data in g._node.items():
        kind = data["kind"]
        if kind == "task":
            for e in pred[node].values():
                if e["kind"] == "owns" and e["role"] in OWNER_ROLES:
                    break
            else:
                no_owner.append(data["code"])
        elif kind == "target":
            for e in pred[node].values():
                if e["kind"] in _FEEDS:
                    break
            else:
                no_contribution.append(data["key"])
        elif kind == "department":
            for e in succ[node].values():
                if e["kind"] == "owns":
                    break
            else:
                idle.append(data["name"])
    return Checks(sorted(no_owner, key=natural_key), sorted(no_contribution), sorted(idle))


# ── selecting what to draw ───────────────────────────────────────────────────────────────────────


def select_tasks(
    g: nx.DiGraph, *, section: int | None = None, department: str | None = None, around: str | None = None
) -> list[str]:
    """Task codes matching every filter given: a section, a department's tasks, one task's neighbourhood.

    The neighbourhood of a task is the task, everything upstream and everything downstream.

    Examples
    --------
    >>> d = date(2025, 12, 31)
    >>> g = build_graph(PlanRows(tasks=[TaskRow("3.1", "", d, section=3), TaskRow("4.1", "", d, section=4),
    ...                                 TaskRow("4.2", "", d, section=4)],
    ...                          departments=[DepartmentRow("甲", "bureau")],
    ...                          assignments=[AssignmentRow("4.2", "甲", "lead")],
    ...                          dependencies=[DependencyRow("3.1", "4.1")]))
    >>> select_tasks(g, section=4), select_tasks(g, department="甲"), select_tasks(g, around="3.1")
    (['4.1', '4.2'], ['4.2'], ['3.1', '4.1'])
    """
    codes = {data["code"] for _, data in g.nodes(data=True) if data["kind"] == "task"}
    if section is not None:
        codes &= {c for c in codes if g.nodes[task_node(c)]["section"] == section}
    if department is not None:
        node = department_node(department)
        mine = {g.nodes[v]["code"] for _, v, k in g.out_edges(node, data="kind") if k == "owns"} if node in g else set()
        codes &= mine
    if around is not None:
        codes &= {around, *upstream_tasks(g, around), *downstream_tasks(g, around)}
    return sorted(codes, key=natural_key)


# ── export ───────────────────────────────────────────────────────────────────────────────────────


def _plain(value: Any) -> str | int | float | bool | None:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return "；".join(str(v) for v in value)
    return str(value)


def export_copy(g: nx.DiGraph) -> nx.DiGraph:
    """A copy whose every attribute is a str, int, float or bool (GraphML and GEXF need that).

    Dates become ISO strings, lists are joined, and ``None`` values are dropped, so the file
    round-trips through ``networkx.read_graphml`` with every attribute intact.

    Examples
    --------
    >>> g = build_graph(PlanRows(tasks=[TaskRow("a", "A", date(2025, 12, 31))]))
    >>> export_copy(g).nodes["task:a"]["due"]
    '2025-12-31'
    """
    out = nx.DiGraph()
    out.graph.update(_plain_attrs(g.graph))
    for node, data in g.nodes(data=True):
        out.add_node(node, **_plain_attrs(data))
    for u, v, data in g.edges(data=True):
        out.add_edge(u, v, **_plain_attrs(data))
    return out


def _plain_attrs(data: Mapping[str, Any]) -> dict[str, Any]:
    plain = {key: _plain(value) for key, value in data.items()}
    return {key: value for key, value in plain.items() if value is not None}
