"""The real plan from seeds/ loads into the database and comes back out whole."""

from __future__ import annotations

import json
from collections import Counter

import yaml
from flask.testing import FlaskClient, FlaskCliRunner

from tracker import clock
from tracker.plans.loader import load_plan
from tracker.plans.schema import read_plan_file

from .conftest import SEED_FILE


def test_the_export_of_the_loaded_plan_holds_every_measure_role_and_target(seeded, runner: FlaskCliRunner) -> None:
    seed = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    result = runner.invoke(args=["plan", "export"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)

    assert [t["code"] for t in data["tasks"]] == [t["code"] for t in seed["tasks"]]
    assert Counter(t["section"] for t in data["tasks"]) == {"三": 10, "四": 8, "五": 3}
    for exported, seeded_task in zip(data["tasks"], seed["tasks"], strict=True):
        assert [(d["name"], d["role"]) for d in exported["departments"]] == [
            (d["name"], d["role"]) for d in seeded_task["departments"]
        ]
        assert [t["key"] for t in exported["targets"]] == [t["key"] for t in seeded_task.get("targets", [])]
    assert Counter(t["group"] for t in data["targets"]) == Counter(t["group"] for t in seed["targets"])
    by_key = {t["key"]: t for t in data["targets"]}
    for t in seed["targets"]:
        assert by_key[t["key"]]["value"] == t.get("value")
        assert by_key[t["key"]]["county"] == t.get("county")
    counties = {d["name"]: d["county"] for d in data["departments"] if d["kind"] == "county"}
    assert len(counties) == 9 and counties["林州市人民政府"] == "林州市"


def test_reloading_the_seed_changes_nothing(seeded) -> None:
    report = load_plan(read_plan_file(SEED_FILE), now=clock.now())
    assert not report.changed


def test_task_list_shows_all_21_measures_of_the_plan(seeded, client: FlaskClient, login) -> None:
    login("leader")
    page = client.get("/tasks").get_data(as_text=True)
    assert "安阳市“十四五”节能减排综合实施方案" in page
    assert "共 21 项措施" in page
    assert page.count('href="/tasks/') == 21
    for label in ("三（十）", "四（八）", "五（三）"):
        assert label in page


def test_a_task_page_shows_several_leads_and_the_county_governments(seeded, client: FlaskClient, login) -> None:
    login("leader")
    page = client.get("/tasks/3.4").get_data(as_text=True)
    assert "交通物流节能减排工程" in page
    assert "市交通运输局" in page and "市发展改革委" in page
    assert "林州市人民政府" in page and "龙安区人民政府" in page
    assert "2022-12-31" in page  # 到 2022 年 … 快速充电桩覆盖率达 100%
