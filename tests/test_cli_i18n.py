"""The command line speaks the site language (``TRACKER_LANGUAGE``): Chinese by default, or English.

Messages are translated when printed, help texts when click shows them (they are written at import
time, before any app exists).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from tracker import create_app
from tracker.extensions import db
from tracker.tasks.periods import parse_period

from .conftest import DATA, ROOT, _test_config

CJK = re.compile(r"[\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture
def en_app(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app whose site language is English, on the test database (``app`` empties it afterwards)."""
    english = create_app({**_test_config(database_url, tmp_path / "uploads"), "LANGUAGE": "en"})
    with english.app_context():
        yield english
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def en_runner(en_app: Flask) -> FlaskCliRunner:
    return en_app.test_cli_runner()


def _sqlite_app(path: Path, **config: object) -> Flask:
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "TESTING": True, **config})


def test_plan_load_of_a_bad_file_is_reported_in_english(en_runner: FlaskCliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((DATA / "mini-plan.yaml").read_text(encoding="utf-8").replace("end: 2030-12-31", "end: soon"))
    result = en_runner.invoke(args=["plan", "load", str(bad)])
    assert result.exit_code == 1
    assert "plan.end" in result.output and "未做任何修改" not in result.output


def test_plan_load_if_missing_says_so_in_english(en_app: Flask, en_runner: FlaskCliRunner) -> None:
    assert en_runner.invoke(args=["plan", "load", str(DATA / "mini-plan.yaml")]).exit_code == 0
    result = en_runner.invoke(args=["plan", "load", "--if-missing", str(DATA / "mini-plan.yaml")])
    assert result.exit_code == 0
    assert result.output == "Plan mini is already loaded; not loaded again.\n"


def test_users_demo_lists_the_accounts_in_english(seeded: Flask, en_runner: FlaskCliRunner) -> None:
    result = en_runner.invoke(args=["users", "demo"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Demo accounts (password for all: demo-2025):"
    coordinator = next(line for line in lines if "coordinator@demo.local" in line)
    assert "Coordinator" in coordinator and "市发展改革委" in coordinator  # the department is data
    assert "Leader" in result.output


def test_usage_errors_and_refusals_are_in_english(en_runner: FlaskCliRunner, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.xlsx"
    sheet.write_bytes(b"")
    result = en_runner.invoke(args=["plan", "import-xlsx", str(sheet)])
    assert result.exit_code == 2 and "Give either --plan KEY or --new-plan KEY" in result.output

    result = en_runner.invoke(args=["demo", "generate"])
    assert result.exit_code == 1 and "Refusing to generate demo data" in result.output
    assert not CJK.search(result.output)

    result = en_runner.invoke(args=["reminders", "sweep", "--at", "yesterday"])
    assert result.exit_code == 2 and "Not a valid date or time: 'yesterday'" in result.output


def test_a_bad_reporting_period_is_reported_in_the_site_language(en_app: Flask) -> None:
    with pytest.raises(ValueError, match=r"^Invalid reporting period: 'x' \(expected 2024Q2"):
        parse_period("x")


def test_backup_refuses_to_overwrite_in_english(tmp_path: Path) -> None:
    app = _sqlite_app(tmp_path / "live.sqlite3", LANGUAGE="en")
    with app.app_context():
        db.create_all()
        runner = app.test_cli_runner()
        out = tmp_path / "copy.sqlite3"
        first = runner.invoke(args=["backup", "--output", str(out)])
        assert first.exit_code == 0 and first.output == f"Backed up to {out}\n"
        again = runner.invoke(args=["backup", "--output", str(out)])
        assert again.exit_code == 1
        assert f"The target file already exists and will not be overwritten: {out}" in again.output
        db.engine.dispose()


def test_an_unmigrated_database_says_to_migrate_in_english(tmp_path: Path) -> None:
    app = _sqlite_app(tmp_path / "empty.sqlite3", LANGUAGE="en")
    result = app.test_cli_runner().invoke(args=["plan", "load", str(DATA / "mini-plan.yaml")])
    assert result.exit_code == 1
    assert "The database is not initialised yet: run flask --app wsgi db upgrade" in result.output


def test_help_texts_are_in_english_when_the_site_language_is_english(en_runner: FlaskCliRunner) -> None:
    english = en_runner.invoke(args=["plan", "load", "--help"])
    assert "Check and load a plan file" in english.output
    assert "Do nothing if the plan is already loaded" in english.output
    assert not CJK.search(english.output)
    listing = en_runner.invoke(args=["--help"])
    assert "Load and export plans." in listing.output and "Reminders, chasers and the outbox." in listing.output


def test_the_flask_command_shows_english_help_when_tracker_language_is_en() -> None:
    env = {**os.environ, "TRACKER_LANGUAGE": "en"}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "reminders", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Reminders, chasers and the outbox." in result.stdout
    assert "Write the reminders, report notices and escalations due now" in result.stdout
    assert not CJK.search(result.stdout)


def test_the_command_line_stays_chinese_by_default(seeded: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(args=["plan", "load", "--help"])
    assert "校验并导入计划文件" in result.output and "计划已导入时不做任何事" in result.output

    result = runner.invoke(args=["users", "demo"])
    assert result.exit_code == 0
    assert result.output.startswith("演示账号（密码均为 demo-2025）：\n")
    assert "统筹协调" in result.output

    result = runner.invoke(args=["reminders", "sweep", "--at", "yesterday"])
    assert "不是有效的日期或时间：'yesterday'" in result.output
    with pytest.raises(ValueError, match=r"^无效的报送期："):
        parse_period("x")

    sheet = tmp_path / "sheet.xlsx"
    sheet.write_bytes(b"")
    result = runner.invoke(args=["plan", "import-xlsx", str(sheet)])
    assert "请给出 --plan KEY 或 --new-plan KEY" in result.output
