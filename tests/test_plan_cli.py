"""`flask plan load` and `flask plan export` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from flask.testing import FlaskCliRunner

from .conftest import DATA


def test_plan_load_prints_what_it_did_then_nothing_on_a_second_run(app, runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["plan", "load", str(DATA / "mini-plan.yaml")])
    assert first.exit_code == 0, first.output
    assert "新增任务 4" in first.output
    second = runner.invoke(args=["plan", "load", str(DATA / "mini-plan.yaml")])
    assert second.exit_code == 0
    assert "无变化" in second.output


def test_plan_load_of_a_bad_file_exits_non_zero_with_the_field(app, runner: FlaskCliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((DATA / "mini-plan.yaml").read_text(encoding="utf-8").replace("end: 2030-12-31", "end: soon"))
    result = runner.invoke(args=["plan", "load", str(bad)])
    assert result.exit_code == 1
    assert "plan.end" in result.output and "未做任何修改" in result.output


def test_plan_export_prints_the_exchange_format(mini_plan, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["plan", "export", "--plan", "mini"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["plan"] == {
        "key": "mini",
        "title": "测试市“十五五”示范方案",
        "start": "2026-01-01",
        "end": "2030-12-31",
    }
    task = next(t for t in data["tasks"] if t["code"] == "3.1")
    lead = {"name": "市交通运输局", "role": "lead", "role_text": "牵头", "origin": "plan", "open_party": None}
    assert {**lead, "added_by": None, "added_at": None} in task["departments"]
    assert task["section"] == "三" and task["parent"] is None and task["status"] == "not_started"
    hubs = next(t for t in task["targets"] if t["key"] == "3.1-hubs")
    assert (hubs["comparison"], hubs["value_min"], hubs["value_max"], hubs["due"]) == ("range", 2, 3, "2030-12-31")
    groups = {t["key"]: (t["group"], t["county"]) for t in data["targets"]}
    assert groups == {"city-energy": ("city", None), "county-energy-jia": ("county_energy", "甲县")}
    assert {"name": "甲县人民政府", "kind": "county", "county": "甲县"} in data["departments"]


def test_plan_export_of_an_unknown_plan_fails_cleanly(mini_plan, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["plan", "export", "--plan", "nope"])
    assert result.exit_code == 1 and "nope" in result.output


def test_plan_load_on_an_unmigrated_database_says_to_migrate(tmp_path: Path) -> None:
    from tracker import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "empty.sqlite3"), "TESTING": True})
    result = app.test_cli_runner().invoke(args=["plan", "load", str(DATA / "mini-plan.yaml")])
    assert result.exit_code == 1
    assert "db upgrade" in result.output


def test_plan_load_if_missing_leaves_a_loaded_plan_alone(mini_plan, runner: FlaskCliRunner, tmp_path: Path) -> None:
    edited = tmp_path / "edited.yaml"
    edited.write_text((DATA / "mini-plan.yaml").read_text(encoding="utf-8").replace("交通减排工程", "改过的标题"))
    result = runner.invoke(args=["plan", "load", "--if-missing", str(edited)])
    assert result.exit_code == 0 and "已导入" in result.output
    from tracker.extensions import db
    from tracker.models import Task

    assert db.session.scalar(db.select(Task.title).filter_by(code="3.1")) == "交通减排工程"
