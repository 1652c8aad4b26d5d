"""Drawing the graphs as server-side SVG: pure layout arithmetic, no Flask, no JavaScript.

Each function turns a (sub)graph into a :class:`Scene` of positioned boxes, circles and paths;
the templates in ``templates/graph/`` write the SVG elements. Layouts are deterministic (the same
data always draws the same picture) and linear in the number of nodes drawn.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from flask_babel import gettext

from .. import graph as gx

MAX_TASK_NODES = 400  # beyond this the page asks for a filter instead of drawing an unreadable picture
MAX_DEPARTMENT_EDGES = 400

TASK_W, TASK_H, COL_GAP, ROW_GAP, MARGIN = 190, 34, 70, 12, 16
TARGET_W = 230


@dataclass
class Scene:
    width: int = 0
    height: int = 0
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    too_many: int = 0  # node count when the scene was not drawn


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def task_scene(
    g: nx.DiGraph,
    codes: Collection[str],
    lights: Mapping[str, str],
    target_groups: Collection[str],
    max_nodes: int = MAX_TASK_NODES,
    at_risk: Collection[str] = (),
) -> Scene:
    """Tasks in layers by dependency depth (prerequisites left), the targets they feed in the last column.

    Within a layer, tasks are ordered by the mean row of their prerequisites (one barycentre pass,
    which removes most crossings), and the first layer by the mean row of its dependents.
    ``at_risk`` holds node ids (``task:…``, ``target:…``) to outline as threatened by a late task.
    """
    selected = set(codes)
    dag = gx.dependency_dag(g).subgraph(selected)
    targets: dict[str, list[str]] = {}
    for code in selected:
        for _, node, kind in g.out_edges(gx.task_node(code), data="kind"):
            if kind in {"contributes", "has_target"} and g.nodes[node]["group"] in target_groups:
                targets.setdefault(node, []).append(code)
    total = len(selected) + len(targets)
    if total > max_nodes:
        return Scene(too_many=total)

    scene = Scene()
    pos: dict[str, tuple[int, int]] = {}
    layers = _ordered_layers(dag)
    risky = set(at_risk)
    tallest = 0
    for col, layer in enumerate(layers):
        x = MARGIN + col * (TASK_W + COL_GAP)
        for row, code in enumerate(layer):
            y = MARGIN + row * (TASK_H + ROW_GAP)
            data = g.nodes[gx.task_node(code)]
            pos[gx.task_node(code)] = (x, y)
            scene.nodes.append(
                {
                    "kind": "task",
                    "x": x,
                    "y": y,
                    "w": TASK_W,
                    "h": TASK_H,
                    "code": code,
                    "text": _short(f"{data['label']} {data['title']}", 13),
                    "title": gettext(
                        "%(label)s %(title)s（截止 %(due)s）",
                        label=data["label"],
                        title=data["title"],
                        due=data["due"].isoformat(),
                    ),
                    "light": lights.get(code, "green"),
                    "at_risk": gx.task_node(code) in risky,
                }
            )
        tallest = max(tallest, len(layer))
    tx = MARGIN + len(layers) * (TASK_W + COL_GAP)
    order = {"city": 0, "sector": 1, "county_energy": 2, "county_pollutant": 3, "task": 4}
    for row, node in enumerate(sorted(targets, key=lambda n: (order.get(g.nodes[n]["group"], 9), n))):
        data = g.nodes[node]
        y = MARGIN + row * (TASK_H + ROW_GAP)
        pos[node] = (tx, y)
        name = data["name"] + (f"（{data['county']}）" if data["county"] else "")
        scene.nodes.append(
            {
                "kind": "target",
                "x": tx,
                "y": y,
                "w": TARGET_W,
                "h": TASK_H,
                "key": data["key"],
                "group": data["group"],
                "text": _short(name, 15),
                "title": f"{name}（{data['key']}）",
                "at_risk": node in risky,
            }
        )
    tallest = max(tallest, len(targets))
    for u, v, data in g.edges(data=True):
        if u in pos and v in pos and data["kind"] in {"depends", "contributes", "has_target"}:
            (x1, y1), (x2, y2) = pos[u], pos[v]
            x1, y1, y2 = x1 + TASK_W, y1 + TASK_H // 2, y2 + TASK_H // 2
            mid = (x1 + x2) // 2
            scene.edges.append(
                {
                    "kind": data["kind"],
                    "d": f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2 - 4},{y2}",
                    "title": data.get("rationale", ""),
                    "lag": data.get("lag_days", 0),
                    # stated / inferred / added: inferred links are drawn dashed (the plan does not print them)
                    "origin": data.get("origin", "stated"),
                }
            )
    scene.width = tx + (TARGET_W if targets else 0) + MARGIN
    scene.height = MARGIN * 2 + max(tallest, 1) * (TASK_H + ROW_GAP)
    return scene


def _ordered_layers(dag: nx.DiGraph) -> list[list[str]]:
    layers = [sorted(layer, key=gx.natural_key) for layer in nx.topological_generations(dag)]
    row: dict[str, float] = {}
    for depth, layer in enumerate(layers):
        if depth:
            layer.sort(key=lambda c: (_mean(row[p] for p in dag.predecessors(c)), gx.natural_key(c)))
        row.update((code, i) for i, code in enumerate(layer))
    if len(layers) > 1:  # the first layer follows its dependents, isolated tasks last
        first = layers[0]
        first.sort(key=lambda c: (_mean(row[s] for s in dag.successors(c)), gx.natural_key(c)))
    return layers


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else math.inf


def department_scene(
    net: nx.Graph, workloads: list[gx.Workload], max_edges: int = MAX_DEPARTMENT_EDGES, min_weight: int = 1
) -> Scene:
    """Departments on a circle (in directory order), sized by workload; edges weighted by shared tasks."""
    names = [w.department for w in workloads if w.department in net]
    load = {w.department: w for w in workloads}
    n = len(names)
    radius = max(240, int(n * 36 / (2 * math.pi)))
    label_room = 170
    cx = cy = radius + label_room
    scene = Scene(width=2 * cx, height=2 * cy)
    pos: dict[str, tuple[float, float]] = {}
    for i, name in enumerate(sorted(names, key=lambda d: (load[d].dept_kind, -load[d].score, d))):
        angle = 2 * math.pi * i / max(n, 1) - math.pi / 2
        x, y = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        pos[name] = (x, y)
        r = min(16.0, 3 + 1.5 * math.sqrt(load[name].score))
        # Radial labels never overlap their neighbours; the left half is turned to read left to right.
        degrees = math.degrees(angle)
        right = math.cos(angle) >= 0
        lx, ly = cx + (radius + r + 6) * math.cos(angle), cy + (radius + r + 6) * math.sin(angle)
        scene.nodes.append(
            {
                "name": name,
                "x": round(x, 1),
                "y": round(y, 1),
                "r": round(r, 1),
                "kind": load[name].dept_kind,
                "lx": round(lx, 1),
                "ly": round(ly, 1),
                "rotate": round(degrees if right else degrees + 180, 1),
                "anchor": "start" if right else "end",
                "title": gettext(
                    "%(name)s：加权任务量 %(score)s，共 %(tasks)s 项",
                    name=name,
                    score=f"{load[name].score:g}",
                    tasks=load[name].tasks,
                ),
            }
        )
    edges = sorted(
        ((a, b, d["weight"]) for a, b, d in net.edges(data=True) if d["weight"] >= min_weight),
        key=lambda e: -e[2],
    )[:max_edges]
    heaviest = max((w for _, _, w in edges), default=1)
    for a, b, w in edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        scene.edges.append(
            {
                "x1": round(x1, 1),
                "y1": round(y1, 1),
                "x2": round(x2, 1),
                "y2": round(y2, 1),
                "width": round(0.6 + 4 * w / heaviest, 2),
                "title": gettext("%(a)s — %(b)s：共同承担 %(w)s 项任务", a=a, b=b, w=w),
            }
        )
    return scene
