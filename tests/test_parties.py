"""Issue 13, duties and links as the plan states them: open parties kept as written (各有关部门),
a coordinator's naming recorded and kept by a reload, alternative criteria as one target, and the
provenance of links (stated / inferred / added) in the export, the graph page and across reloads."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tracker import clock
from tracker.errors import PlanFileError
from tracker.extensions import db
from tracker.graph import service as graph_service
from tracker.leadership.assessment import assess
from tracker.leadership.rules import criteria_met
from tracker.leadership.scoring import ScoringRule
from tracker.leadership.targets import load_targets, target_spec
from tracker.models import AuditLog, Contribution, Dependency, Target
from tracker.plans.export import export_plan
from tracker.plans.loader import load_plan
from tracker.plans.parties import name_departments
from tracker.plans.schema import read_plan_file
from tracker.tasks import state as task_state
from tracker.tasks.queries import get_plan

from .conftest import SEED_FILE, dept_by_name, task_by_code

PLAN = "anyang-14fyp-esr"
LEADS = ["市发展改革委", "市生态环境局"]


def _reload() -> None:
    load_plan(read_plan_file(SEED_FILE), now=clock.now())


def _names(code: str, role: str | None = None) -> list[str]:
    return [a.department.name for a in task_by_code(code).assignments if role is None or a.role == role]


class TestOpenParties:
    def test_the_seed_keeps_gexiang_youguan_bumen_on_5_1_and_invents_no_names_and_pages_show_it(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        task = task_by_code("5.1")
        assert [(p["text"], p["role"], p["role_text"]) for p in task.open_parties] == [
            ("各有关部门", "responsible", "按职责分工负责")
        ]
        assert not any(p.get("expanded") for p in task.open_parties)
        assert _names("5.1", "lead") == LEADS
        assert _names("5.1", "responsible") == []  # no bureau is given 各有关部门's duty
        # the scope clause 以下均需各县（市、区）政府落实 still names the nine county governments
        assert len(_names("5.1", "implementing")) == 9 and _names("5.1", "implementing")[0] == "林州市人民政府"
        assert {a.origin for a in task.assignments} == {"plan"}
        # the task page and the export show the leads and the open party
        login("leader")
        page = client.get("/tasks/5.1").get_data(as_text=True)
        assert "市发展改革委" in page and "市生态环境局" in page and "各有关部门（未具名）" in page
        assert "市公安局" not in page and "点名单位" not in page  # a leader sees no naming form
        task = next(t for t in export_plan(get_plan(PLAN))["tasks"] if t["code"] == "5.1")
        assert task["open_parties"][0]["text"] == "各有关部门" and task["open_parties"][0]["named"] == []
        assert [d["name"] for d in task["departments"] if d["role"] != "implementing"] == LEADS
        assert client.post("/tasks/5.1/open-parties", data={"party": "各有关部门"}).status_code == 403

    def test_the_network_and_the_assessment_count_only_named_duties(self, seeded: Flask, app: Flask, make_user) -> None:
        app.config["TRACKER_NOW"] = "2026-11-25"
        police = dept_by_name("市公安局")  # 配合 on 三（四）; the old expansion made it 负责 on 五（一）

        def seen() -> tuple[dict[str, int], bool, bool]:
            plan = get_plan(PLAN)
            overview = graph_service.department_overview(plan)
            workload = next(w for w in overview["workloads"] if w.department == "市公安局")
            net = graph_service.gx.co_ownership_network(
                graph_service.plan_graph(plan), graph_service.gx.CO_OWNERSHIP_ROLES
            )
            snap = task_state.load(plan, today=clock.today(), rule=task_state.light_rule(app.config["LIGHT_RULE"]))
            final = assess(snap, load_targets(plan), ScoringRule())[-1]
            unit = next(u for u in final.departments if u.department.id == police.id)
            return workload.roles, net.has_edge("市公安局", "市统计局"), unit.rank is not None

        roles, tied_to_statistics, ranked = seen()
        assert roles.get("responsible", 0) == 0 and roles.get("support") == 1
        assert not tied_to_statistics  # the two shared nothing but the invented 五（一） duty
        assert not ranked  # nothing the plan names it for is assessed
        coordinator = make_user("coordinator", "市发展改革委")
        for name in ("市公安局", "市统计局"):
            name_departments(
                task=task_by_code("5.1"),
                party="各有关部门",
                department_ids=[dept_by_name(name).id],
                now=clock.now(),
                user_id=coordinator.id,
            )
        roles, tied_to_statistics, _ranked = seen()
        assert roles.get("responsible") == 1 and tied_to_statistics  # once named, the duty counts

    def test_a_coordinator_names_departments_recorded_with_author_and_date_and_a_reload_keeps_them(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        user = login("coordinator", "市发展改革委")
        page = client.get("/tasks/5.1").get_data(as_text=True)
        assert "为“各有关部门”点名单位" in page
        ids = [dept_by_name(n).id for n in ("市工业和信息化局", "市财政局")]
        response = client.post("/tasks/5.1/open-parties", data={"party": "各有关部门", "department_id": ids})
        assert response.status_code == 302
        rows = [a for a in task_by_code("5.1").assignments if a.open_party == "各有关部门"]
        assert [(a.department.name, a.role, a.role_text, a.origin) for a in rows] == [
            ("市工业和信息化局", "responsible", "按职责分工负责", "app"),
            ("市财政局", "responsible", "按职责分工负责", "app"),
        ]
        assert {(a.added_by_id, a.added_at) for a in rows} == {(user.id, clock.now())}
        history = db.session.scalars(db.select(AuditLog).filter_by(action="name", entity="assignment")).all()
        assert len(history) == 2 and {h.user_id for h in history} == {user.id} and history[0].old == "各有关部门"
        page = client.get("/tasks/5.1").get_data(as_text=True)
        assert "协调单位已点名：" in page and "市工业和信息化局" in page and clock.today().isoformat() in page

        # a plan duty edited in the app becomes the app's too
        row = next(a for a in task_by_code("5.2").assignments if a.department.name == "市委组织部")
        data = {"role": "responsible", "role_text": "负责", "note": "", "version_id": row.version_id}
        assert client.post(f"/assignments/{row.id}", data=data).status_code == 302

        _reload()  # the seed file has no such duty: the app's decisions stand
        assert _names("5.1", "responsible") == ["市工业和信息化局", "市财政局"]
        row = next(a for a in task_by_code("5.2").assignments if a.department.name == "市委组织部")
        assert (row.role, row.origin) == ("responsible", "app")
        assert task_by_code("5.1").open_parties[0]["text"] == "各有关部门"

    def test_naming_refuses_bad_input_whole_with_a_message(self, seeded: Flask, client: FlaskClient, login) -> None:
        login("coordinator", "市发展改革委")
        lead = dept_by_name("市发展改革委").id
        for data, message in (
            ({"party": "各有关部门"}, "请至少选择一个单位"),
            ({"party": "各有关单位", "department_id": [lead]}, "没有开放责任方"),
            ({"party": "各有关部门", "department_id": ["x"]}, "请选择有效的单位"),
            ({"party": "各有关部门", "department_id": [dept_by_name("市财政局").id, lead]}, "已在本任务的责任单位中"),
        ):
            response = client.post("/tasks/5.1/open-parties", data=data)
            assert response.status_code == 400 and message in response.get_data(as_text=True)
        assert _names("5.1", "responsible") == []  # nothing half-written

    def test_a_plan_file_may_not_expand_an_open_party(self, tmp_path: Path) -> None:
        text = SEED_FILE.read_text(encoding="utf-8").replace(
            "{text: 各有关部门, role: responsible,", "{text: 各有关部门, role: responsible, expanded: true,"
        )
        (tmp_path / "plan.yaml").write_text(text, encoding="utf-8")
        with pytest.raises(PlanFileError, match=r"open_parties\[0\]\.expanded"):
            read_plan_file(tmp_path / "plan.yaml")


class TestAlternativeCriteria:
    def test_3_10_collection_rate_is_one_target_met_by_either_criterion(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        keys = [t.key for t in task_by_code("3.10").targets if "collection" in t.key]
        assert keys == ["3.10-sewage-collection-rate"]
        target = db.session.scalar(db.select(Target).filter_by(key="3.10-sewage-collection-rate"))
        [alt] = target.alternatives
        assert (alt["basis"], alt["comparison"], alt["value"], alt["baseline_year"]) == ("change", ">=", 5, 2020)
        spec = target_spec(target)
        assert criteria_met(spec, 71) and not criteria_met(spec, 67)  # 2020 baseline not given: 70 % decides
        target.alternatives = [{**alt, "baseline": 62.0}]  # a coordinator records the 2020 figure
        db.session.commit()
        spec = target_spec(target)
        assert criteria_met(spec, 67) and criteria_met(spec, 71) and not criteria_met(spec, 66)
        login("leader")
        page = client.get("/targets").get_data(as_text=True)
        assert page.count("市城区、县城生活污水集中收集率</td>") == 0  # one row, with the criteria note
        assert page.count("市城区、县城生活污水集中收集率<br>") == 1 and "或 比 2020 年增加 ≥ 5 %" in page


class TestProvenance:
    def test_the_seeds_links_are_inferred_and_shown_so_in_the_exports_and_on_the_graph_pages(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        data = export_plan(get_plan(PLAN))
        assert len(data["dependencies"]) == 15 and len(data["contributions"]) == 84
        assert {x["origin"] for x in data["dependencies"] + data["contributions"]} == {"inferred"}
        login("leader")
        page = client.get("/graph?targets=city").get_data(as_text=True)
        assert 'class="edge-depends origin-inferred"' in page and "虚线：推断" in page
        assert "推断 · 依赖：" in page  # the edge's label says so
        links = client.get("/graph/links").get_data(as_text=True)
        assert (
            links.count('<span class="origin-tag origin-inferred">推断</span>') == 1 + 15 + 84
        )  # the legend, then every link

    def test_a_link_added_in_the_app_is_added_by_a_named_person_and_survives_a_reload(
        self, seeded: Flask, client: FlaskClient, login
    ) -> None:
        user = login("coordinator", "市发展改革委")
        response = client.post(
            "/graph/dependencies", data={"task": "3.3", "depends_on": "4.7", "rationale": "「能源消费统计」"}
        )
        assert response.status_code == 302
        added = db.session.scalar(db.select(Dependency).filter_by(origin="added"))
        assert (added.added_by_id, added.added_at) == (user.id, clock.now())
        page = client.get("/graph/links").get_data(as_text=True)
        assert "人工添加（" in page and clock.today().isoformat() in page
        inferred = db.session.scalar(db.select(Contribution).filter_by(origin="inferred"))
        client.post(f"/graph/contributions/{inferred.id}/delete")  # the app removes a file link
        _reload()
        assert db.session.get(Dependency, added.id) is not None  # kept
        assert db.session.get(Contribution, inferred.id) is None  # and the removal is not undone
        assert db.session.scalar(db.select(db.func.count()).select_from(Contribution)) == 83

    def test_export_then_load_reproduces_open_parties_criteria_and_provenance(
        self, seeded: Flask, runner: FlaskCliRunner, tmp_path: Path, make_user
    ) -> None:
        coordinator = make_user("coordinator", "市发展改革委")
        name_departments(
            task=task_by_code("5.1"),
            party="各有关部门",
            department_ids=[dept_by_name("市统计局").id],
            now=clock.now(),
            user_id=coordinator.id,
        )
        graph_service.add_contribution(
            get_plan(PLAN), "3.3", "city-cod-reduction", rationale="「污水」", now=clock.now(), user_id=coordinator.id
        )
        result = runner.invoke(args=["plan", "export", "--plan", PLAN, "--as-plan-file"])
        assert result.exit_code == 0, result.output
        file = json.loads(result.output)
        file["plan"]["key"] = "copy"  # a second plan loaded from the export
        (tmp_path / "copy.json").write_text(json.dumps(file, ensure_ascii=False), encoding="utf-8")
        assert runner.invoke(args=["plan", "load", str(tmp_path / "copy.json")]).exit_code == 0
        copy = export_plan(get_plan("copy"))
        original = export_plan(get_plan(PLAN))
        task = next(t for t in copy["tasks"] if t["code"] == "5.1")
        assert task["open_parties"] == next(t for t in original["tasks"] if t["code"] == "5.1")["open_parties"]
        assert task["open_parties"][0]["named"] == ["市统计局"]
        target = next(x for t in copy["tasks"] for x in t["targets"] if x["key"] == "3.10-sewage-collection-rate")
        assert target["alternatives"][0]["text"] == "在 2020 年基础上增加 5%以上"
        assert [(c["origin"], c["added_by"]) for c in copy["contributions"] if c["origin"] != "inferred"] == [
            ("added", coordinator.name or coordinator.email)
        ]
        assert [c["added_at"][:10] for c in copy["contributions"] if c["origin"] == "added"] == [
            date.fromisoformat(clock.today().isoformat()).isoformat()
        ]
        assert len([c for c in copy["contributions"] if c["origin"] == "inferred"]) == 84


def test_the_task_workbook_carries_open_parties_and_alternative_criteria_and_reads_them_back(
    seeded: Flask, make_user
) -> None:
    import io

    from openpyxl import load_workbook

    from tracker.plans.xlsx_read import plan_data_from_workbook
    from tracker.plans.xlsx_write import task_workbook

    plan = get_plan(PLAN)
    content = task_workbook(plan, english=False)
    ws = load_workbook(io.BytesIO(content))["任务分解表"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    head = rows[0]
    five_one = next(r for r in rows if r[head.index("编码")] == "5.1")
    assert five_one[head.index("开放责任方")] == "各有关部门（负责：按职责分工负责）"
    assert five_one[head.index("责任单位")] is None  # no invented names
    rate = next(r for r in rows if r[head.index("目标编号")] == "3.10-sewage-collection-rate")
    assert rate[head.index("备选标准")] == "比2020年增加 ≥5 %"
    data, _rows = plan_data_from_workbook(content, plan=plan)
    task = next(t for t in data.tasks if t["code"] == "5.1")
    assert [(p["text"], p["role"], p["role_text"]) for p in task["open_parties"]] == [
        ("各有关部门", "responsible", "按职责分工负责")
    ]
    target = next(x for t in data.tasks for x in t["targets"] if x["key"] == "3.10-sewage-collection-rate")
    assert target["alternatives"] == db.session.scalar(
        db.select(Target.alternatives).filter_by(key="3.10-sewage-collection-rate")
    )
