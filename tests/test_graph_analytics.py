"""The pure analyses of tracker/graph.py on small hand-made graphs, and its doctests."""

from __future__ import annotations

from datetime import date

import networkx as nx
import pytest

from tracker.errors import DependencyCycleError, NotFound
from tracker.graph import (
    AssignmentRow,
    ContributionRow,
    CountyRow,
    DepartmentRow,
    DependencyRow,
    PlanRows,
    TargetRow,
    TaskRow,
    at_risk_impact,
    build_graph,
    check_new_dependency,
    co_ownership_network,
    coordination_hubs,
    critical_chain,
    delay_impact,
    department_workload,
    downstream_tasks,
    due_conflicts,
    export_copy,
    graph_checks,
    render,
    select_tasks,
    targets_at_risk,
    top_shared_pairs,
    topological_order,
)

END = date(2025, 12, 31)


def small_plan(**overrides: object) -> PlanRows:
    """4.7 → 4.2 → 5.2 and 4.1 → 3.1; targets fed by 4.2 and 3.1; two bureaus and a county."""
    rows = PlanRows(
        tasks=[
            TaskRow("3.1", "工业升级", END, label="三（一）", section=3),
            TaskRow("4.1", "能耗双控", END, label="四（一）", section=4),
            TaskRow("4.2", "总量控制", END, label="四（二）", section=4),
            TaskRow("4.7", "统计监测", END, label="四（七）", section=4),
            TaskRow("5.2", "监督考核", END, label="五（二）", section=5),
        ],
        targets=[
            TargetRow("city-cod", "COD 减排量", "city", END),
            TargetRow("city-ei", "能耗强度", "city", END),
            TargetRow("county-cod-a", "COD 减排量", "county_pollutant", END, county="甲县"),
            TargetRow("3.1-factories", "绿色工厂", "task", END, task="3.1"),
        ],
        counties=[CountyRow("甲县")],
        departments=[
            DepartmentRow("市发展改革委", "bureau"),
            DepartmentRow("市生态环境局", "bureau"),
            DepartmentRow("市统计局", "bureau"),
            DepartmentRow("甲县人民政府", "county", county="甲县"),
            DepartmentRow("市妇联", "party"),
        ],
        assignments=[
            AssignmentRow("3.1", "市发展改革委", "responsible"),
            AssignmentRow("3.1", "甲县人民政府", "implementing"),
            AssignmentRow("4.1", "市发展改革委", "lead"),
            AssignmentRow("4.1", "市统计局", "support"),
            AssignmentRow("4.2", "市生态环境局", "responsible"),
            AssignmentRow("4.7", "市统计局", "responsible"),
            AssignmentRow("4.7", "市发展改革委", "responsible"),
            AssignmentRow("5.2", "市发展改革委", "lead"),
            AssignmentRow("5.2", "市生态环境局", "lead"),
        ],
        dependencies=[
            DependencyRow("4.2", "4.7"),
            DependencyRow("5.2", "4.2", lag_days=10),
            DependencyRow("3.1", "4.1"),
        ],
        contributions=[
            ContributionRow("4.2", "city-cod"),
            ContributionRow("4.2", "county-cod-a"),
            ContributionRow("3.1", "city-ei"),
        ],
    )
    for key, value in overrides.items():
        setattr(rows, key, value)
    return rows


class TestCycles:
    def test_a_dependency_closing_a_cycle_is_refused_and_the_cycle_named(self) -> None:
        g = build_graph(small_plan())
        with pytest.raises(DependencyCycleError) as exc:
            check_new_dependency(g, "4.7", "5.2")
        assert exc.value.cycle == ["4.7", "5.2", "4.2", "4.7"]
        assert "4.7 → 5.2 → 4.2 → 4.7" in str(exc.value)

    def test_a_dependency_in_the_same_direction_as_existing_ones_is_accepted(self) -> None:
        check_new_dependency(build_graph(small_plan()), "5.2", "4.7")

    def test_an_unknown_task_is_not_found(self) -> None:
        with pytest.raises(NotFound):
            check_new_dependency(build_graph(small_plan()), "9.9", "4.7")


class TestOrderAndChain:
    def test_topological_order_puts_prerequisites_first_and_otherwise_follows_codes(self) -> None:
        order = topological_order(build_graph(small_plan()))
        assert order.index("4.7") < order.index("4.2") < order.index("5.2")
        assert order.index("4.1") < order.index("3.1")
        assert order == ["4.1", "3.1", "4.7", "4.2", "5.2"]

    def test_critical_chain_runs_through_the_lag_that_pushes_the_finish_past_the_due_date(self) -> None:
        chain = critical_chain(build_graph(small_plan()))
        assert chain.tasks == ["4.7", "4.2", "5.2"]
        assert chain.finish == date(2026, 1, 15)  # 2025-12-31 plus 10 working days, 元旦 (1 January) off

    def test_a_task_due_before_a_task_it_depends_on_is_flagged(self) -> None:
        rows = small_plan()
        rows.tasks = [t if t.code != "4.2" else TaskRow("4.2", "总量控制", date(2024, 6, 30)) for t in rows.tasks]
        conflicts = due_conflicts(build_graph(rows))
        assert [(c.task, c.depends_on) for c in conflicts] == [("4.2", "4.7")]
        assert conflicts[0].required == END

    def test_a_lag_beyond_the_dependent_due_date_is_a_conflict_too(self) -> None:
        conflicts = due_conflicts(build_graph(small_plan()))
        assert [(c.task, c.depends_on, c.required) for c in conflicts] == [
            ("5.2", "4.2", date(2026, 1, 15))
        ]  # 元旦 is off


class TestDelayImpact:
    def test_a_late_task_puts_every_downstream_task_and_their_targets_at_risk(self) -> None:
        impact = delay_impact(build_graph(small_plan()), "4.7")
        assert impact.tasks == ["4.2", "5.2"]
        assert [(t.key, t.via) for t in impact.targets] == [("city-cod", ["4.2"]), ("county-cod-a", ["4.2"])]
        assert "甲县人民政府" in impact.targets[1].owners  # the county government answers for its allocation
        assert impact.departments == ["市发展改革委", "市生态环境局", "市统计局", "甲县人民政府"]

    def test_targets_written_inside_a_late_task_are_at_risk(self) -> None:
        impact = delay_impact(build_graph(small_plan()), "4.1")
        assert impact.tasks == ["3.1"]
        assert {t.key for t in impact.targets} == {"city-ei", "3.1-factories"}

    def test_at_risk_impact_lists_red_before_yellow_and_skips_green(self) -> None:
        g = build_graph(small_plan())
        impacts = at_risk_impact(g, {"4.7": "yellow", "4.1": "red", "5.2": "green", "gone": "red"})
        assert [(i.task, i.light) for i in impacts] == [("4.1", "red"), ("4.7", "yellow")]
        assert targets_at_risk(impacts)["city-cod"] == ["4.7"]

    def test_a_task_nobody_depends_on_has_no_downstream(self) -> None:
        assert downstream_tasks(build_graph(small_plan()), "5.2") == []


class TestDepartments:
    def test_workload_counts_a_lead_more_than_a_support(self) -> None:
        loads = {w.department: w for w in department_workload(build_graph(small_plan()))}
        assert loads["市发展改革委"].roles == {"responsible": 2, "lead": 2}
        assert loads["市发展改革委"].score == 2 * 3.0 + 2 * 2.0
        assert loads["市统计局"].score == 2.0 + 1.0
        assert loads["市妇联"].score == 0.0

    def test_workload_weights_can_be_changed_in_one_mapping(self) -> None:
        weights = {"lead": 1.0, "responsible": 1.0, "support": 1.0, "implementing": 0.0}
        loads = {w.department: w.score for w in department_workload(build_graph(small_plan()), weights)}
        assert loads["市发展改革委"] == 4.0 and loads["甲县人民政府"] == 0.0

    def test_co_ownership_links_departments_by_shared_tasks_without_implementing_roles(self) -> None:
        net = co_ownership_network(build_graph(small_plan()))
        assert net.edges["市发展改革委", "市统计局"]["weight"] == 2  # 4.1 and 4.7
        assert net.edges["市发展改革委", "市统计局"]["tasks"] == ["4.1", "4.7"]
        assert not net.has_edge("市发展改革委", "甲县人民政府")
        assert net.has_node("市妇联") and net.degree("市妇联") == 0
        with_counties = co_ownership_network(build_graph(small_plan()), {"responsible", "implementing"})
        assert with_counties.has_edge("市发展改革委", "甲县人民政府")

    def test_the_department_tying_the_others_together_is_the_top_hub(self) -> None:
        net = co_ownership_network(build_graph(small_plan()))
        hubs = coordination_hubs(net, top=3)
        assert hubs[0].department == "市发展改革委"
        assert hubs[0].degree == 2

    def test_top_pairs_are_the_departments_sharing_most_tasks(self) -> None:
        pairs = top_shared_pairs(co_ownership_network(build_graph(small_plan())), top=1)
        assert pairs == [("市发展改革委", "市统计局", 2, ["4.1", "4.7"])]

    def test_hubs_of_a_large_network_are_estimated_from_a_seeded_sample(self) -> None:
        net = nx.barabasi_albert_graph(400, 3, seed=1)
        assert [h.department for h in coordination_hubs(net, top=3)] == [
            h.department for h in coordination_hubs(net, top=3)
        ]


class TestChecks:
    def test_checks_find_ownerless_tasks_unfed_targets_and_idle_departments(self) -> None:
        rows = small_plan()
        rows.assignments = [a for a in rows.assignments if a.task != "4.2"]
        rows.contributions = [c for c in rows.contributions if c.target != "city-ei"]
        checks = graph_checks(build_graph(rows))
        assert checks.tasks_without_owner == ["4.2"]
        assert checks.targets_without_contribution == ["city-ei"]
        assert checks.departments_without_task == ["市妇联"]
        assert not checks.ok

    def test_a_support_role_alone_does_not_make_a_task_owned(self) -> None:
        rows = small_plan()
        rows.assignments = [AssignmentRow("4.1", "市统计局", "support")]
        assert "4.1" in graph_checks(build_graph(rows)).tasks_without_owner


class TestSelectionAndDrawing:
    def test_filters_combine_section_department_and_neighbourhood(self) -> None:
        g = build_graph(small_plan())
        assert select_tasks(g, section=4) == ["4.1", "4.2", "4.7"]
        assert select_tasks(g, department="市生态环境局") == ["4.2", "5.2"]
        assert select_tasks(g, around="4.2") == ["4.2", "4.7", "5.2"]
        assert select_tasks(g, section=4, around="4.2") == ["4.2", "4.7"]

    def test_a_2000_task_plan_asks_for_a_filter_and_draws_one_neighbourhood(self) -> None:
        tasks = [TaskRow(f"{s}.{i}", f"任务{s}.{i}", END, section=s) for s in range(3, 7) for i in range(1, 501)]
        deps = [DependencyRow(f"{s}.{i}", f"{s}.{i - 1}") for s in range(3, 7) for i in range(2, 501) if i % 50]
        g = build_graph(PlanRows(tasks=tasks, dependencies=deps))
        everything = render.task_scene(g, select_tasks(g), {}, {"city"})
        assert everything.too_many == 2000 and everything.nodes == []
        around = render.task_scene(g, select_tasks(g, around="3.120"), {"3.120": "red"}, {"city"})
        assert around.too_many == 0
        assert len(around.nodes) == 50  # 3.100 … 3.149: the chain is cut every 50 tasks
        assert {n["light"] for n in around.nodes if n["code"] == "3.120"} == {"red"}

    def test_the_drawing_puts_prerequisites_left_of_their_dependents_and_targets_last(self) -> None:
        scene = render.task_scene(build_graph(small_plan()), ["4.7", "4.2", "5.2"], {}, {"city"})
        x = {n.get("code") or n["key"]: n["x"] for n in scene.nodes}
        assert x["4.7"] < x["4.2"] < x["5.2"] < x["city-cod"]
        assert "county-cod-a" not in x
        assert len([e for e in scene.edges if e["kind"] == "depends"]) == 2


def test_export_copy_keeps_only_plain_attribute_values() -> None:
    out = export_copy(build_graph(small_plan()))
    values = [v for _, data in out.nodes(data=True) for v in data.values()]
    values += [v for _, _, data in out.edges(data=True) for v in data.values()]
    assert values and all(isinstance(v, (str, int, float, bool)) for v in values)
    assert out.nodes["task:4.2"]["due"] == "2025-12-31"
