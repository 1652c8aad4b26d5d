"""Fixtures: an app on SQLite (default) or on PostgreSQL when ``TEST_DATABASE_URL`` is set.

The schema is created once per run; every test starts from empty tables. Time is frozen through
the app's clock (``TRACKER_NOW``), never by sleeping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tracker import create_app
from tracker.extensions import db
from tracker.models import Department, Plan, Task

from .reminder_helpers import Inbox

ROOT = Path(__file__).resolve().parent.parent
SEED_FILE = ROOT / "seeds" / "anyang-14fyp.yaml"
DATA = Path(__file__).resolve().parent / "data"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` belong to the PostgreSQL pass: the SQLite pass deselects them (never a skip)."""
    if (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgres"):
        return
    postgres_only = [item for item in items if item.get_closest_marker("postgres") is not None]
    if postgres_only:
        config.hook.pytest_deselected(items=postgres_only)
        items[:] = [item for item in items if item.get_closest_marker("postgres") is None]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(scope="session")
def _schema(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    app = create_app(_test_config(database_url, tmp_path_factory.mktemp("uploads")))
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def _test_config(database_url: str, uploads: Path) -> dict[str, object]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "TRACKER_NOW": "2024-06-03T10:00:00+08:00",
        "UPLOAD_FOLDER": str(uploads),
        "MAIL_SERVER": None,
        # Many tests move the app clock months ahead within one login; the idle timeout (30 minutes
        # in production) has its own tests, which set it back (test_sessions_and_audit.py).
        "SESSION_IDLE_MINUTES": 60 * 24 * 366 * 20,
    }


@pytest.fixture
def app(_schema: None, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(_test_config(database_url, tmp_path / "uploads"))
    with app.app_context():
        yield app
        db.session.rollback()
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def seeded(app: Flask) -> Flask:
    """The app with the real plan loaded from seeds/."""
    from tracker import clock
    from tracker.plans.loader import load_plan
    from tracker.plans.schema import read_plan_file

    load_plan(read_plan_file(SEED_FILE), now=clock.now())
    return app


@pytest.fixture
def mini_plan(app: Flask) -> Flask:
    """The app with a small invented plan (tests/data/mini-plan.yaml) loaded."""
    from tracker import clock
    from tracker.plans.loader import load_plan
    from tracker.plans.schema import read_plan_file

    load_plan(read_plan_file(DATA / "mini-plan.yaml"), now=clock.now())
    return app


def task_by_code(code: str, plan_key: str | None = None) -> Task:
    """The task with this code (of this plan, if given): the lookup every test file uses."""
    query = db.select(Task).filter_by(code=code)
    if plan_key is not None:
        query = query.join(Plan).where(Plan.key == plan_key)
    found = db.session.scalar(query)
    assert found is not None, code
    return found


def dept_by_name(name: str) -> Department:
    """The department with this name."""
    found = db.session.scalar(db.select(Department).filter_by(name=name))
    assert found is not None, name
    return found


PASSWORD = "password-123"


@pytest.fixture
def make_user(app: Flask):  # type: ignore[no-untyped-def]
    """Factory: ``make_user("staff", "市发展改革委")`` creates an account with ``PASSWORD``."""
    from tracker import clock
    from tracker.accounts.service import create_user

    counter = iter(range(1, 10_000))

    def make(role: str = "leader", department: str | None = None, email: str | None = None):  # type: ignore[no-untyped-def]
        email = email or f"{role}{next(counter)}@test.local"
        return create_user(email=email, password=PASSWORD, role=role, department_name=department, now=clock.now())

    return make


@pytest.fixture
def bearer(make_user):  # type: ignore[no-untyped-def]
    """Factory: ``bearer("staff", "市交通运输局", locale="en")`` → API headers with a fresh token of a new
    account, made as /profile/tokens makes it; ``locale`` is the account's saved language (None: never chosen)."""
    from tracker import clock
    from tracker.api.tokens import create_token

    def make(role: str = "leader", department: str | None = None, *, locale: str | None = None) -> dict[str, str]:
        user = make_user(role, department)
        if locale is not None:
            user.locale = locale
            db.session.commit()
        _token, secret = create_token(user, "对接系统", now=clock.now())
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def login(client: FlaskClient, make_user):  # type: ignore[no-untyped-def]
    """Log the test client in as a new account of the given role and department."""

    def do(role: str = "leader", department: str | None = None):  # type: ignore[no-untyped-def]
        user = make_user(role, department)
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return do


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Collect every SQL statement the app's engine runs inside the block."""
    from sqlalchemy import event

    statements: list[str] = []

    def listener(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


@pytest.fixture
def smtp(app: Flask) -> Iterator[Inbox]:
    """A real SMTP server on loopback; the app sends to it."""
    from .reminder_helpers import free_port, start_smtp

    port = free_port()
    controller, inbox = start_smtp(port)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield inbox
    controller.stop()
