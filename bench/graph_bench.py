"""Benchmark of tracker/graph.py on a generated plan: 20,000 tasks and 400 departments, in memory.

Run: ``.venv/bin/python bench/graph_bench.py [--tasks N] [--departments N] [--seed S]``.
Pure: no database, no Flask. Prints the time of each step and the total; results in bench/README.md.

The generated plan is shaped like a real one scaled up: 5 sections, tasks grouped in programmes
of 50 that depend on each other inside the programme (each task on 1–2 earlier ones), a few
cross-programme links to "mechanism" tasks, 1–2 lead and 0–4 supporting departments per task,
2,000 targets each fed by 1–3 tasks, 40 of the 400 departments county governments with allocated
targets, and 5 % of the tasks red or yellow.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import networkx as nx

from tracker import graph as gx
from tracker.graph import stream


def generate(n_tasks: int, n_departments: int, seed: int) -> tuple[gx.PlanRows, dict[str, str]]:
    rnd = random.Random(seed)
    start = date(2021, 1, 1)
    counties = [gx.CountyRow(f"县{i}") for i in range(40)]
    departments = [gx.DepartmentRow(f"县{i}人民政府", "county", f"县{i}") for i in range(40)]
    departments += [gx.DepartmentRow(f"局{i}", "bureau") for i in range(n_departments - 40)]
    bureaus = [d.name for d in departments if d.kind == "bureau"]
    tasks, assignments, dependencies = [], [], []
    mechanisms: list[str] = []
    for i in range(n_tasks):
        section = 3 + i * 5 // n_tasks
        code = f"{section}.{i + 1}"
        due = start + timedelta(days=rnd.randrange(365, 5 * 365))
        tasks.append(gx.TaskRow(code, f"任务 {code}", due, label=code, section=section, status="in_progress"))
        if i % 200 == 0:
            mechanisms.append(code)
        for name in rnd.sample(bureaus, rnd.randint(1, 2)):
            assignments.append(gx.AssignmentRow(code, name, "lead"))
        for name in rnd.sample(bureaus, rnd.randint(0, 4)):
            if all(a.department != name or a.task != code for a in assignments[-6:]):
                assignments.append(gx.AssignmentRow(code, name, "support"))
        assignments.append(gx.AssignmentRow(code, departments[i % 40].name, "implementing"))
        programme_start = i - i % 50
        earlier = range(programme_start, i)
        for j in rnd.sample(earlier, min(len(earlier), rnd.randint(1, 2))):
            dependencies.append(gx.DependencyRow(code, tasks[j].code, rnd.choice([0, 0, 5, 10])))
        if mechanisms and i % 50 == 49 and mechanisms[-1] != code:
            dependencies.append(gx.DependencyRow(code, mechanisms[-1]))
    targets, contributions = [], []
    for k in range(2000):
        county = counties[k % 40].name if k % 3 == 0 else None
        key = f"target-{k}"
        group = "county_pollutant" if county else "city"
        targets.append(gx.TargetRow(key, f"目标 {k}", group, date(2025, 12, 31), county))
        for t in rnd.sample(tasks, rnd.randint(1, 3)):
            contributions.append(gx.ContributionRow(t.code, key))
    lights = {t.code: rnd.choice(["red", "yellow"]) for t in rnd.sample(tasks, n_tasks // 20)}
    rows = gx.PlanRows(tasks, targets, departments, counties, assignments, dependencies, contributions)
    return rows, lights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--departments", type=int, default=400)
    parser.add_argument("--networkx-export", action="store_true", help="also time networkx's GraphML writer")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()

    t0 = time.perf_counter()
    rows, lights = generate(args.tasks, args.departments, args.seed)
    print(
        f"generated: {len(rows.tasks)} tasks, {len(rows.departments)} departments, {len(rows.targets)} targets, "
        f"{len(rows.assignments)} assignments, {len(rows.dependencies)} dependencies, "
        f"{len(rows.contributions)} contributions, {len(lights)} red/yellow tasks "
        f"({time.perf_counter() - t0:.2f} s, not counted)"
    )

    results: dict[str, Any] = {}
    timings: list[tuple[str, float, float]] = []  # name, wall seconds, this process's CPU seconds

    def step(name: str, fn: Callable[[], Any]) -> Any:
        t, cpu = time.perf_counter(), time.process_time()
        value = fn()
        timings.append((name, time.perf_counter() - t, time.process_time() - cpu))
        results[name] = value
        return value

    g = step("build_graph", lambda: gx.build_graph(rows))
    first, last = rows.tasks[0].code, rows.tasks[-1].code
    step("check_new_dependency (refused cycle)", lambda: _refused(g, first, last, rows))
    step("topological_order", lambda: gx.topological_order(g))
    step("critical_chain", lambda: gx.critical_chain(g))
    step("due_conflicts", lambda: gx.due_conflicts(g))
    step("delay_impact (one task)", lambda: gx.delay_impact(g, first))
    step(f"at_risk_impact ({len(lights)} tasks)", lambda: gx.at_risk_impact(g, lights))
    step("department_workload", lambda: gx.department_workload(g))
    net = step("co_ownership_network", lambda: gx.co_ownership_network(g))
    step("coordination_hubs", lambda: gx.coordination_hubs(net))
    step("top_shared_pairs", lambda: gx.top_shared_pairs(net))
    step("graph_checks", lambda: gx.graph_checks(g))
    step("select_tasks (neighbourhood)", lambda: gx.select_tasks(g, around=rows.tasks[len(rows.tasks) // 2].code))
    analyses = len(timings)
    if args.networkx_export:
        step(
            "networkx GraphML (export_copy + generate_graphml)",
            lambda: sum(len(x) for x in nx.generate_graphml(gx.export_copy(g))),
        )
    step("GraphML, streaming writer (tracker.graph.stream)", lambda: sum(len(x) for x in stream.iter_graphml(g)))
    step("GEXF, streaming writer (tracker.graph.stream)", lambda: sum(len(x) for x in stream.iter_gexf(g)))

    # Wall time is the figure; CPU time (this process's) shows how much of it was waiting for a shared core.
    width = max(len(name) for name, _, _ in timings)
    print(f"{'step':<{width}}  {'wall':>9}     {'cpu':>9}")
    for name, seconds, cpu in timings:
        print(f"{name:<{width}}  {seconds * 1000:9.1f} ms  {cpu * 1000:9.1f} ms")
    for name, part in (("total: build + every analysis", timings[:analyses]), ("total with the exports", timings)):
        wall, cpu = sum(t for _, t, _ in part), sum(c for _, _, c in part)
        print(f"{name:<{width}}  {wall * 1000:9.1f} ms  {cpu * 1000:9.1f} ms")
    print(
        f"graph: {g.number_of_nodes()} nodes, {g.number_of_edges()} edges; "
        f"co-ownership: {net.number_of_edges()} department pairs; "
        f"critical chain: {len(results['critical_chain'].tasks)} tasks"
    )


def _refused(g: nx.DiGraph, first: str, last: str, rows: gx.PlanRows) -> str:
    # The first task of a programme with a later task depending on it: make it depend on that later task.
    dependent = next(d.task for d in rows.dependencies if d.depends_on == first)
    try:
        gx.check_new_dependency(g, first, dependent)
    except gx.DependencyCycleError as exc:
        return str(exc)
    raise AssertionError("the cycle was not refused")


if __name__ == "__main__":
    main()
