"""Loading a plan file: validated first, all-or-nothing, idempotent, edits applied in place."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from flask import Flask

from tracker import clock
from tracker.errors import PlanFileError
from tracker.extensions import db
from tracker.models import Assignment, AuditLog, CheckIn, Department, Dependency, Plan, Target, TargetValue, Task
from tracker.plans.loader import load_plan
from tracker.plans.schema import read_plan_file, validate

from .conftest import DATA


def _mini() -> dict:
    return yaml.safe_load((DATA / "mini-plan.yaml").read_text(encoding="utf-8"))


def _count(model: type) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def _write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_mini_plan_loads_tasks_roles_targets_and_links(mini_plan: Flask) -> None:
    task = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    roles = {(a.department.name, a.role) for a in task.assignments}
    assert ("市交通运输局", "lead") in roles and ("市发展改革委", "lead") in roles
    assert ("甲县人民政府", "implementing") in roles
    hubs = db.session.scalar(db.select(Target).filter_by(key="3.1-hubs"))
    assert (hubs.comparison, hubs.value_min, hubs.value_max) == ("range", 2, 3)
    assert hubs.due == date(2030, 12, 31)  # no year given: the plan's end
    sub = db.session.scalar(db.select(Task).filter_by(code="3.1.1"))
    assert sub.parent.code == "3.1"
    assert _count(Dependency) == 1


def test_loading_the_same_file_twice_changes_nothing(mini_plan: Flask) -> None:
    history = _count(AuditLog)
    report = load_plan(read_plan_file(DATA / "mini-plan.yaml"), now=clock.now())
    assert not report.changed
    assert "无变化" in report.summary()
    assert _count(AuditLog) == history


def test_edited_file_updates_in_place_and_keeps_reported_progress(mini_plan: Flask, tmp_path: Path) -> None:
    task = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    target = db.session.scalar(db.select(Target).filter_by(key="3.1-bus"))
    dept = db.session.scalar(db.select(Department).filter_by(name="市交通运输局"))
    task.status, task.progress = "in_progress", 40
    checkin = CheckIn(
        task_id=task.id,
        department_id=dept.id,
        period="2026Q1",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        state="approved",
        created_at=clock.now(),
    )
    db.session.add(checkin)
    db.session.flush()
    db.session.add(
        TargetValue(
            target_id=target.id, period="2026Q1", period_end=date(2026, 3, 31), value=40, created_at=clock.now()
        )
    )
    db.session.commit()
    task_id = task.id

    raw = _mini()
    raw["tasks"][0]["title"] = "交通物流减排工程"
    raw["tasks"][0]["departments"].pop()  # 甲县 no longer implements 3.1
    raw["tasks"][0]["targets"][0]["value"] = 90
    report = load_plan(read_plan_file(_write(tmp_path, raw)), now=clock.now())

    assert report.counts["task updated"] == 1
    db.session.expire_all()
    task = db.session.get(Task, task_id)
    assert task.title == "交通物流减排工程"
    assert (task.status, task.progress) == ("in_progress", 40)
    assert "甲县人民政府" not in {a.department.name for a in task.assignments}
    assert db.session.scalar(db.select(Target).filter_by(key="3.1-bus")).value == 90
    assert _count(TargetValue) == 1 and _count(CheckIn) == 1
    changes = db.session.scalars(db.select(AuditLog).filter_by(entity="task", field="title")).all()
    assert [(c.old, c.new) for c in changes] == [("交通减排工程", "交通物流减排工程")]


def test_a_bad_file_names_every_wrong_field_and_writes_nothing(mini_plan: Flask, tmp_path: Path) -> None:
    before = (_count(Task), _count(Assignment), _count(Target), _count(AuditLog))
    raw = _mini()
    raw["tasks"][0]["title"] = "改了但不应写入"
    raw["tasks"][1]["due"] = "2027-13-40"
    raw["tasks"][2]["departments"][0]["name"] = "市不存在局"
    raw["tasks"][3]["departments"][0]["role"] = "boss"
    with pytest.raises(PlanFileError) as err:
        load_plan(read_plan_file(_write(tmp_path, raw)), now=clock.now())
    where = [w for w, _ in err.value.problems]
    assert "tasks[1](3.1.1).due" in where
    assert "tasks[2](3.2).departments[0].name" in where
    assert "tasks[3](4.1).departments[0].role" in where
    assert "2027-13-40" in str(err.value) and "市不存在局" in str(err.value)
    assert (_count(Task), _count(Assignment), _count(Target), _count(AuditLog)) == before
    assert db.session.scalar(db.select(Task).filter_by(code="3.1")).title == "交通减排工程"


def test_a_dependency_cycle_in_the_file_is_refused_and_named(app: Flask, tmp_path: Path) -> None:
    raw = _mini()
    raw["dependencies"].append({"task": "4.1", "depends_on": "3.1", "rationale": "循环"})
    with pytest.raises(PlanFileError, match="循环"):
        load_plan(read_plan_file(_write(tmp_path, raw)), now=clock.now())
    assert _count(Plan) == 0


def test_a_failure_halfway_rolls_back_everything(app: Flask, tmp_path: Path) -> None:
    raw = _mini()
    raw["targets"].append(dict(raw["targets"][0], key="3.1-bus"))  # duplicate key
    with pytest.raises(PlanFileError, match="重复"):
        load_plan(read_plan_file(_write(tmp_path, raw)), now=clock.now())
    assert _count(Plan) == 0 and _count(Department) == 0


def test_removing_a_task_with_reports_is_refused(mini_plan: Flask, tmp_path: Path) -> None:
    task = db.session.scalar(db.select(Task).filter_by(code="3.2"))
    db.session.add(
        CheckIn(
            task_id=task.id,
            department_id=task.assignments[0].department_id,
            period="2026Q1",
            period_start=date(2026, 1, 1),
            period_end=date(2026, 3, 31),
            created_at=clock.now(),
        )
    )
    db.session.commit()
    raw = _mini()
    raw["tasks"] = [t for t in raw["tasks"] if t["code"] != "3.2"]
    with pytest.raises(PlanFileError, match="已有报送数据"):
        load_plan(read_plan_file(_write(tmp_path, raw)), now=clock.now())
    assert db.session.scalar(db.select(Task).filter_by(code="3.2")) is not None


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda r: r["plan"].pop("title"), "plan.title"),
        (lambda r: r["targets"][0].update(comparison=">="), None),
        (lambda r: r["targets"][0].update(value=None), "targets[0](city-energy).value"),
        (lambda r: r["targets"][1].pop("county"), "targets[1](county-energy-jia).county"),
        (lambda r: r["tasks"][0]["targets"][1].update(value_max=1), "tasks[0](3.1).targets[1](3.1-hubs).value_min"),
        (lambda r: r["tasks"][1].update(parent="9.9"), "tasks(3.1.1).parent"),
        (lambda r: r["contributions"][0].update(target="nope"), "contributions[0].target"),
    ],
)
def test_validation_points_at_the_wrong_field(change, where) -> None:  # type: ignore[no-untyped-def]
    raw = _mini()
    change(raw)
    if where is None:
        validate(raw)
        return
    with pytest.raises(PlanFileError) as err:
        validate(raw)
    assert where in [w for w, _ in err.value.problems]


def test_a_file_that_is_not_a_plan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(PlanFileError, match="顶层"):
        read_plan_file(path)
    path.write_text("plan: [unclosed", encoding="utf-8")
    with pytest.raises(PlanFileError, match="格式错误"):
        read_plan_file(path)
