"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from tracker import create_app
from tracker.extensions import db


@pytest.fixture
def fresh_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    if database_url.startswith("sqlite"):
        yield "sqlite:///" + str(tmp_path / "migrations.sqlite3")
        return
    url = sa.make_url(database_url)
    name = f"tracker_mig_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgraded_database_matches_the_models(fresh_database: str, tmp_path: Path) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database, "TESTING": True, "UPLOAD_FOLDER": str(tmp_path)})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        db.engine.dispose()
    assert diff == []


def test_migrations_downgrade_to_empty_and_upgrade_again(fresh_database: str, tmp_path: Path) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database, "TESTING": True, "UPLOAD_FOLDER": str(tmp_path)})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        assert "task" in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()
