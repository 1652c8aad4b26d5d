"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

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


# 0010_units gives every stored value its unit: a county's own target or a county government's report →
# that county; a report of the department answering for the task → the city; of another department →
# that department; a value without a report (import, demo) on a city target → the city.


def _dummy(column: sa.Column) -> Any:
    t = column.type
    if isinstance(t, sa.Boolean):
        return False
    if isinstance(t, sa.DateTime):
        return datetime(2024, 1, 1, tzinfo=UTC)
    if isinstance(t, sa.Date):
        return date(2024, 1, 1)
    if isinstance(t, sa.Float):
        return 0.0
    if isinstance(t, sa.Integer):
        return 0
    if isinstance(t, sa.JSON):
        return []
    return "x"


def _insert(conn: sa.Connection, meta: sa.MetaData, table: str, **values: Any) -> int:
    t = meta.tables[table]
    for c in t.columns:
        if c.name not in values and not c.nullable and c.server_default is None and not c.primary_key:
            values[c.name] = _dummy(c)
    return conn.execute(t.insert().values(**values)).inserted_primary_key[0]


def test_the_backfill_gives_each_stored_value_its_unit(fresh_database: str, tmp_path: Path) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database, "TESTING": True, "UPLOAD_FOLDER": str(tmp_path)})
    with app.app_context():
        upgrade(revision="0009_login_failures")
        meta = sa.MetaData()
        meta.reflect(db.engine)
        with db.engine.begin() as conn:
            ins = lambda table, **v: _insert(conn, meta, table, **v)  # noqa: E731
            linzhou = ins("county", name="林州市", kind="city")
            gov = ins("department", name="林州市人民政府", kind="county", county_id=linzhou)
            lead = ins("department", name="市工业和信息化局", kind="bureau")
            helper = ins("department", name="市统计局", kind="bureau")
            plan = ins("plan", key="p", title="p")
            section = ins("section", plan_id=plan, number=3, label="三", title="s")
            task = ins("task", plan_id=plan, section_id=section, code="3.1", label="三（一）", title="t")
            ins("assignment", task_id=task, department_id=lead, role="lead")
            ins("assignment", task_id=task, department_id=helper, role="support")
            ins("assignment", task_id=task, department_id=gov, role="implementing")
            city_t = ins("target", plan_id=plan, task_id=task, key="green", group="task", name="绿色工厂", unit="家")
            county_t = ins(
                "target", plan_id=plan, key="cod-lz", group="county_pollutant", name="COD", county_id=linzhou
            )
            plain_t = ins("target", plan_id=plan, key="cod", group="city", name="COD", unit="吨")
            made = {}
            for name, dept in (("gov", gov), ("lead", lead), ("helper", helper)):
                checkin = ins("check_in", task_id=task, department_id=dept, period=name, state="approved")
                made[name] = ins("target_value", target_id=city_t, checkin_id=checkin, department_id=dept, value=1.0)
            made["county_target"] = ins("target_value", target_id=county_t, value=2.0)
            made["import"] = ins("target_value", target_id=plain_t, value=3.0)
        upgrade()
        with db.engine.connect() as conn:
            rows = dict(
                (i, (kind, county))
                for i, kind, county in conn.execute(sa.text("SELECT id, unit_kind, county_id FROM target_value"))
            )
        db.engine.dispose()
    assert rows[made["gov"]] == ("county", linzhou)
    assert rows[made["lead"]] == ("city", None)
    assert rows[made["helper"]] == ("department", None)
    assert rows[made["county_target"]] == ("county", linzhou)
    assert rows[made["import"]] == ("city", None)
