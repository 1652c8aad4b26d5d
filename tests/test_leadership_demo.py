"""Demo data: labelled, deterministic, and never written to a database that is not the demo file."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from tracker import create_app
from tracker.extensions import db
from tracker.leadership.demo import DEMO_MARK, NotADemoDatabase, check_demo_database
from tracker.models import CheckIn

from .conftest import SEED_FILE


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///instance/tracker.sqlite3",
        "postgresql+psycopg://u@h/demo.sqlite3",
        "sqlite://",
        "sqlite:///tmp/demo.sqlite3.bak",
    ],
)
def test_generator_refuses_any_database_but_the_demo_file(url: str) -> None:
    with pytest.raises(NotADemoDatabase):
        check_demo_database(url)


def test_generate_command_refuses_the_test_database(seeded, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo", "generate"])
    assert result.exit_code != 0
    assert "拒绝生成演示数据" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(CheckIn)) == 0


def _generate(path: Path) -> list[tuple[str, str, int, str]]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "TRACKER_NOW": "2024-06-20", "TESTING": True})
    with app.app_context():
        db.create_all()
        runner = app.test_cli_runner()
        assert runner.invoke(args=["plan", "load", str(SEED_FILE)]).exit_code == 0
        result = runner.invoke(args=["demo", "generate"])
        assert result.exit_code == 0, result.output
        again = runner.invoke(args=["demo", "generate"])
        assert again.exit_code != 0 and "已有进展报送" in again.output
        rows = db.session.execute(
            db.select(CheckIn.period, CheckIn.state, CheckIn.percent, CheckIn.narrative).order_by(CheckIn.id)
        ).all()
        db.session.remove()
        db.engine.dispose()
    return [tuple(r) for r in rows]


def test_demo_data_is_labelled_and_the_same_on_every_run(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = _generate(tmp_path / "a" / "demo.sqlite3")
    second = _generate(tmp_path / "b" / "demo.sqlite3")
    assert first and first == second
    assert all(narrative.startswith(DEMO_MARK) for *_, narrative in first)
    periods = {period for period, *_ in first}
    # on 2024-06-20 the last period asked for is 2024Q1: 2024Q2 is requested from 2024-06-24 (tasks.due)
    assert "2021Q1" in periods and "2024Q1" in periods and "2024Q2" not in periods
    assert {"approved", "submitted"} <= {state for _, state, *_ in first}


def test_demo_data_is_plausible_and_reporters_have_acknowledged(tmp_path: Path) -> None:
    from tracker.models import Assignment, Target, TargetValue

    path = tmp_path / "demo.sqlite3"
    _generate(path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "TRACKER_NOW": "2024-06-20", "TESTING": True})
    with app.app_context():
        values = db.session.execute(
            db.select(Target.name, Target.unit, Target.comparison, Target.value, TargetValue.value).join(
                TargetValue, TargetValue.target_id == Target.id
            )
        ).all()
        assert values
        for name, unit, comparison, goal, value in values:
            assert value >= 0, name
            if unit == "%":
                assert value <= 100, name
            if "电能利用效率" in name:  # PUE: total energy over IT energy, never below 1
                assert value >= 1.0, (name, value)
            if comparison in {"<", "<="} and goal is not None:
                assert value >= 0.9 * goal, (name, value)
        reported = {tuple(r) for r in db.session.execute(db.select(CheckIn.task_id, CheckIn.department_id).distinct())}
        unacknowledged = [
            (a.task_id, a.department_id)
            for a in db.session.scalars(db.select(Assignment))
            if (a.task_id, a.department_id) in reported and a.acknowledged_at is None
        ]
        assert reported and not unacknowledged
        db.session.remove()
        db.engine.dispose()
