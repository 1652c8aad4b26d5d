"""The graph in the app: service edits with history, cycle refusal, pages, exports and permissions."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import networkx as nx
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from tracker import clock
from tracker.errors import DependencyCycleError
from tracker.extensions import db
from tracker.graph import export_copy, service
from tracker.models import AuditLog, Contribution, Dependency, Task
from tracker.tasks.queries import get_plan

from .conftest import count_queries

PLAN = "anyang-14fyp-esr"


def set_status(code: str, status: str) -> None:
    task = db.session.scalar(select(Task).filter_by(code=code))
    task.status = status
    db.session.commit()


def dependency_id(task: str, depends_on: str) -> int:
    return next(
        d["id"]
        for d in service.link_lists(get_plan(PLAN))["dependencies"]
        if d["task"]["code"] == task and d["depends_on"]["code"] == depends_on
    )


class TestService:
    def test_the_seeded_plan_loads_its_dependencies_and_contributions(self, seeded: Flask) -> None:
        assert db.session.scalar(select(func.count()).select_from(Dependency)) == 15
        assert db.session.scalar(select(func.count()).select_from(Contribution)) == 84

    def test_adding_a_dependency_that_closes_a_cycle_is_refused_with_the_cycle_named(self, seeded: Flask) -> None:
        with pytest.raises(DependencyCycleError) as exc:
            service.add_dependency(get_plan(PLAN), "4.8", "5.2", rationale="试验", now=clock.now())
        assert "4.8 → 5.2 → 4.2 → 4.4 → 4.8" in str(exc.value)
        assert db.session.scalar(select(func.count()).select_from(Dependency)) == 15

    def test_adding_and_removing_a_dependency_is_recorded_in_the_history(self, seeded: Flask) -> None:
        plan = get_plan(PLAN)
        dep = service.add_dependency(plan, "3.9", "4.7", rationale="监测支撑", lag_days=5, now=clock.now(), actor="t")
        service.remove_dependency(plan, dep.id, now=clock.now(), actor="t")
        rows = db.session.scalars(select(AuditLog).filter_by(entity="dependency", entity_id=dep.id)).all()
        assert [r.action for r in rows] == ["create", "delete"]
        assert rows[0].new.startswith("3.9←4.7（滞后 5 个工作日）")
        assert rows[1].old.startswith("3.9←4.7")

    def test_a_dependency_without_rationale_or_a_duplicate_is_refused(self, seeded: Flask) -> None:
        plan = get_plan(PLAN)
        with pytest.raises(service.LinkError):
            service.add_dependency(plan, "3.9", "4.7", rationale=" ", now=clock.now())
        with pytest.raises(service.LinkError):
            service.add_dependency(plan, "4.2", "4.7", rationale="重复", now=clock.now())

    def test_the_graph_is_rebuilt_only_when_its_data_changed(self, seeded: Flask) -> None:
        plan = get_plan(PLAN)
        first = service.plan_graph(plan)
        assert service.plan_graph(plan) is first
        set_status("4.7", "lagging")
        second = service.plan_graph(plan)
        assert second is not first and second.nodes["task:4.7"]["status"] == "lagging"
        service.add_dependency(plan, "3.9", "4.7", rationale="监测支撑", now=clock.now())
        assert service.plan_graph(plan).has_edge("task:4.7", "task:3.9")

    def test_building_the_graph_takes_the_same_number_of_queries_for_any_plan_size(
        self, seeded: Flask, mini_plan: Flask
    ) -> None:
        counts = []
        for key in (PLAN, "mini"):
            plan = get_plan(key)
            with count_queries() as statements:
                service.load_rows(plan)
            counts.append(len(statements))
        assert counts[0] == counts[1] == 7

    def test_at_risk_impact_for_the_dashboard_names_the_targets_a_lagging_task_threatens(self, seeded: Flask) -> None:
        # Everything else done, so that the real light rule (behind schedule, report missing) leaves
        # only the lagging task at risk.
        for task in db.session.scalars(select(Task)):
            task.status = "done"
        db.session.commit()
        set_status("4.7", "lagging")
        impacts = service.at_risk_impact(get_plan(PLAN), clock.today())
        assert [i.task for i in impacts] == ["4.7"]
        keys = {t.key for t in impacts[0].targets}
        assert {"city-cod-reduction", "city-energy-intensity", "city-energy-consumption-total"} <= keys

    def test_the_graph_page_spells_out_the_widest_reaching_late_tasks_first_and_caps_the_list(
        self, seeded: Flask
    ) -> None:
        for task in db.session.scalars(select(Task)):
            task.status = "lagging"
        db.session.commit()
        view = service.dependency_overview(get_plan(PLAN), service.GraphFilters(), clock.today())
        assert view["at_risk_total"] == 21
        assert len(view["at_risk"]) == service.IMPACT_LIMIT == 20
        assert view["at_risk"][0].task == "4.7"  # seven tasks downstream, the most of any
        assert view["light_counts"] == {"red": 21, "yellow": 0, "green": 0}


class TestTaskPage:
    def test_a_lagging_task_page_shows_the_downstream_tasks_and_targets_at_risk(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        login("leader")
        set_status("4.7", "lagging")
        page = client.get("/tasks/4.7").get_data(as_text=True)
        assert "本任务滞后，以下任务和目标面临风险" in page
        for label in ("四（二） 健全污染物排放总量控制制度", "五（二） 强化监督考核", "三（八） 煤炭清洁高效利用工程"):
            assert label in page
        assert "化学需氧量（COD）重点工程减排量" in page and "单位生产总值能源消耗比2020年下降" in page
        assert "市生态环境局" in page

    def test_a_green_task_page_shows_its_upstream_and_what_a_delay_would_affect(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        login("staff", "市生态环境局")
        set_status("4.2", "done")  # green under the light rule whatever the date
        page = client.get("/tasks/4.2").get_data(as_text=True)
        assert "若本任务延误，将影响" in page and "面临风险" not in page
        upstream = page.split("上游：本任务依赖")[1].split("下游：依赖本任务")[0]
        assert "四（七） 加强统计监测能力建设" in upstream and "四（四） 健全法规标准" in upstream


class TestGraphPages:
    def test_the_graph_draws_every_task_coloured_by_its_warning_light(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        login("leader")
        for task in db.session.scalars(select(Task)):
            task.status = "done"  # green under the light rule whatever the date
        db.session.commit()
        set_status("3.8", "blocked")
        page = client.get("/graph").get_data(as_text=True)
        assert page.count('class="node-task light-') == 21
        assert page.count('class="node-task light-red"') == 1
        assert 'href="/tasks/3.8" class="node-task light-red"' in page
        assert page.count('class="node-target') == 6  # the city targets by default
        # the two city targets 三（八） feeds are outlined as threatened
        assert page.count('class="node-target at-risk"') == 2
        assert "关键链" in page and "推进顺序" in page

    def test_the_graph_filters_by_section_department_and_neighbourhood(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        login("leader")
        assert client.get("/graph?section=4").get_data(as_text=True).count('class="node-task') == 8
        page = client.get("/graph?task=4.4&targets=none").get_data(as_text=True)
        assert page.count('class="node-task') == 5  # 4.8 → 4.4 → 4.2, 3.9 and 5.2
        assert page.count('class="node-target') == 0
        page = client.get("/graph?department=市统计局").get_data(as_text=True)
        assert page.count('class="node-task') == 2  # 4.1 (配合), 4.7; not 5.1 (各有关部门 names no one)
        assert 'href="/tasks/4.7" class="node-task' in page and 'href="/tasks/3.1" class="node-task' not in page
        assert client.get("/graph?task=9.9").status_code == 404

    def test_the_department_network_shows_hubs_pairs_workload_and_checks(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        login("leader")
        page = client.get("/graph/departments").get_data(as_text=True)
        assert "协调枢纽" in page and "共同任务最多的单位组合" in page and "加权任务量" in page
        assert page.count('<circle class="dept-') == 36
        assert "没有任何任务支撑的目标：无" in page

    def test_counting_implementing_links_the_county_governments_into_the_network(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        login("leader")
        without = service.department_overview(get_plan(PLAN))
        with_counties = service.department_overview(get_plan(PLAN), include_implementing=True)
        assert all("人民政府" not in a + b for a, b, _, _ in without["pairs"])
        assert with_counties["pairs"][0][2] == 20  # two county governments share the 20 measures they implement
        page = client.get("/graph/departments?implementing=1&min=5").get_data(as_text=True)
        assert "林州市人民政府 — 安阳县人民政府：共同承担 20 项任务" in page

    def test_the_nav_links_to_the_graph(self, seeded: Flask, client: FlaskClient, login) -> None:
        login("leader")
        assert '<a href="/graph">关系图</a>' in client.get("/tasks").get_data(as_text=True)


class TestExports:
    def test_graphml_opens_in_networkx_with_every_attribute_intact(
        self, seeded: Flask, client: FlaskClient, login, tmp_path
    ) -> None:
        login("leader")
        response = client.get("/graph.graphml")
        assert response.status_code == 200
        path = tmp_path / "plan.graphml"
        path.write_bytes(response.data)
        loaded = nx.read_graphml(path)
        expected = export_copy(service.plan_graph(get_plan(PLAN)))
        assert loaded.is_directed()
        assert dict(loaded.nodes(data=True)) == dict(expected.nodes(data=True))
        assert {(u, v): d for u, v, d in loaded.edges(data=True)} == {
            (u, v): d for u, v, d in expected.edges(data=True)
        }
        assert loaded.nodes["task:4.2"]["due"] == "2025-12-31"
        assert loaded.edges["task:4.7", "task:4.2"]["lag_days"] == 0
        assert loaded.edges["dept:市生态环境局", "task:4.2"]["role"] == "responsible"

    def test_gexf_and_node_link_json_hold_the_same_nodes_and_edges(
        self, seeded: Flask, client: FlaskClient, login, tmp_path
    ) -> None:
        login("leader")
        gexf = tmp_path / "plan.gexf"
        gexf.write_bytes(client.get("/graph.gexf").data)
        from_gexf = nx.read_gexf(gexf)
        data = json.loads(client.get("/graph.json").data)
        from_json = nx.node_link_graph(data, edges="edges")
        graph = service.plan_graph(get_plan(PLAN))
        assert set(from_gexf.nodes) == set(from_json.nodes) == set(graph.nodes)
        assert from_gexf.number_of_edges() == from_json.number_of_edges() == graph.number_of_edges()
        assert from_json.nodes["target:city-cod-reduction"]["group"] == "city"
        ET.fromstring(client.get("/graph.gexf").data)  # well-formed XML

    def test_the_cli_exports_graphml_that_networkx_reads(self, seeded: Flask, runner: FlaskCliRunner, tmp_path) -> None:
        result = runner.invoke(args=["graph", "export", "--format", "graphml"])
        assert result.exit_code == 0, result.output
        path = tmp_path / "cli.graphml"
        path.write_text(result.output, encoding="utf-8")
        assert nx.read_graphml(path).number_of_nodes() == service.plan_graph(get_plan(PLAN)).number_of_nodes()


class TestEditingLinks:
    def test_a_coordinator_adds_and_removes_a_dependency_on_the_web(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        login("coordinator")
        response = client.post(
            "/graph/dependencies", data={"task": "3.9", "depends_on": "4.7", "lag_days": "3", "rationale": "监测"}
        )
        assert response.status_code == 302
        assert "监测" in client.get("/graph/links").get_data(as_text=True)
        assert client.post(f"/graph/dependencies/{dependency_id('3.9', '4.7')}/delete").status_code == 302
        actions = db.session.scalars(
            select(AuditLog.action).filter_by(entity="dependency", actor="coordinator1@test.local")
        )
        assert sorted(actions) == ["create", "delete"]

    def test_the_web_refuses_a_cycle_with_409_and_names_it(self, seeded: Flask, client: FlaskClient, login) -> None:
        login("coordinator")
        response = client.post("/graph/dependencies", data={"task": "4.7", "depends_on": "5.2", "rationale": "循环"})
        assert response.status_code == 409
        assert "4.7 → 5.2 → 4.7" in response.get_data(as_text=True)

    def test_a_coordinator_adds_and_removes_a_contribution(self, seeded: Flask, client: FlaskClient, login) -> None:
        login("coordinator")
        data = {"task": "4.8", "target": "city-energy-intensity", "rationale": "人才支撑"}
        assert client.post("/graph/contributions", data=data).status_code == 302
        con = db.session.scalar(select(Contribution).filter_by(rationale="人才支撑"))
        assert client.post(f"/graph/contributions/{con.id}/delete").status_code == 302
        assert db.session.scalar(select(Contribution).filter_by(rationale="人才支撑")) is None
        assert (
            db.session.scalar(
                select(func.count()).select_from(AuditLog).filter_by(entity="contribution", entity_id=con.id)
            )
            == 2
        )

    @pytest.mark.parametrize("role, department", [("staff", "市发展改革委"), ("leader", None), ("admin", None)])
    def test_only_coordinators_may_add_or_remove_links(
        self, seeded: Flask, client: FlaskClient, login, role: str, department: str | None
    ) -> None:
        login(role, department)
        dep = dependency_id("4.2", "4.7")
        con = db.session.scalar(select(Contribution.id))
        assert (
            client.post("/graph/dependencies", data={"task": "3.9", "depends_on": "4.7", "rationale": "x"}).status_code
            == 403
        )
        assert client.post(f"/graph/dependencies/{dep}/delete").status_code == 403
        assert (
            client.post(
                "/graph/contributions", data={"task": "4.8", "target": "city-voc-reduction", "rationale": "x"}
            ).status_code
            == 403
        )
        assert client.post(f"/graph/contributions/{con}/delete").status_code == 403
        assert db.session.scalar(select(func.count()).select_from(Dependency)) == 15
        assert db.session.scalar(select(func.count()).select_from(Contribution)) == 84
        assert "添加依赖" not in client.get("/graph/links").get_data(as_text=True)


class TestCli:
    def test_the_cli_adds_a_dependency(self, seeded: Flask, runner: FlaskCliRunner) -> None:
        result = runner.invoke(args=["graph", "add-dependency", "3.9", "4.7", "--lag", "2", "--rationale", "监测支撑"])
        assert result.exit_code == 0, result.output
        assert "已添加依赖：3.9 依赖 4.7" in result.output
        assert service.plan_graph(get_plan(PLAN)).edges["task:4.7", "task:3.9"]["lag_days"] == 2

    def test_the_cli_refuses_a_cycle_and_names_it(self, seeded: Flask, runner: FlaskCliRunner) -> None:
        result = runner.invoke(args=["graph", "add-dependency", "4.8", "5.2", "--rationale", "循环"])
        assert result.exit_code == 1
        assert "4.8 → 5.2 → 4.2 → 4.4 → 4.8" in result.output

    def test_a_lag_counts_city_working_days_and_flags_the_date_conflict(
        self, seeded: Flask, runner: FlaskCliRunner
    ) -> None:
        runner.invoke(args=["graph", "add-dependency", "3.9", "4.7", "--lag", "5", "--rationale", "监测支撑"])
        result = runner.invoke(args=["graph", "check"])
        # 元旦 2026 is 1–3 January and Sunday 4 January is worked: five working days end on the 8th
        assert "截止日期早于所依赖任务的任务（1）：3.9（2025-12-31）依赖 4.7（需 2026-01-08）" in result.output

    def test_graph_check_prints_each_check(self, seeded: Flask, runner: FlaskCliRunner) -> None:
        result = runner.invoke(args=["graph", "check"])
        assert result.exit_code == 0, result.output
        assert "没有牵头或负责单位的任务（0）：无" in result.output
        assert "没有任何任务支撑的目标（0）：无" in result.output
        assert "没有承担任何任务的单位（0）：无" in result.output
