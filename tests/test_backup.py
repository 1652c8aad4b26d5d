"""`flask backup` copies the SQLite database online and never overwrites; PostgreSQL is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tracker import create_app
from tracker.backup import BackupError, sqlite_path

from .conftest import DATA


def test_backup_copies_a_loaded_sqlite_database_and_refuses_to_overwrite(tmp_path: Path) -> None:
    from flask_migrate import upgrade

    db_file = tmp_path / "live.sqlite3"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}", "TESTING": True, "UPLOAD_FOLDER": str(tmp_path)}
    )
    with app.app_context():
        upgrade()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["plan", "load", str(DATA / "mini-plan.yaml")]).exit_code == 0
    out = tmp_path / "copy.sqlite3"
    result = runner.invoke(args=["backup", "--output", str(out)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(out) as conn:
        assert conn.execute("select count(*) from task").fetchone() == (4,)
    again = runner.invoke(args=["backup", "--output", str(out)])
    assert again.exit_code == 1 and "不会覆盖" in again.output


def test_backup_of_postgresql_points_to_pg_dump() -> None:
    with pytest.raises(BackupError, match="pg_dump"):
        sqlite_path("postgresql+psycopg://postgres@127.0.0.1/x")
