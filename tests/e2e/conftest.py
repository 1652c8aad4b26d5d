"""End-to-end fixtures: the app started the way `make run` starts it, on a throw-away SQLite
database, and Debian's Chromium driven by Playwright. A test fails on any browser console error or
failed request."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("SCREENSHOT_DIR") or ROOT / "instance" / "screenshots")
DEMO_PASSWORD = "demo-2025"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    env: dict[str, str]

    def flask(self, *args: str) -> str:
        """Run a `flask --app wsgi` command against the server's database; return its output."""
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


def mailed_body(server: Server, message_id: int) -> str:
    """The text of an outbox message as its recipients get it: the outbox page masks its signed links,
    so a test that follows one reads it from the database, as the mail server would."""
    path = server.env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT body_text FROM outbox_message WHERE id = ?", (message_id,)).fetchone()
    assert row is not None, message_id
    return str(row[0])


def start_server(work: Path, now: str, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """The app as `make run` starts it, on a throw-away SQLite database in `work`, its clock at `now`
    (``extra_env``: more settings, e.g. a local SMTP server)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: `apt-get install chromium` (.ci/run does it)")
    port = _free_port()
    env = dict(os.environ)
    env.update(
        BASE_URL=f"http://127.0.0.1:{port}",  # the signed links in reminder mails point here
        DATABASE_URL="sqlite:///" + str(work / "e2e.sqlite3"),
        UPLOAD_FOLDER=str(work / "uploads"),
        SECRET_KEY="e2e",
        TRACKER_NOW=now,
    )
    env.update(extra_env or {})
    env.pop("TEST_DATABASE_URL", None)
    server = Server("", env)
    # The same steps as `make run`.
    server.flask("db", "upgrade")
    server.flask("plan", "load", "--if-missing")
    server.flask("users", "demo")
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(server.url + "/login", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("the app did not start")
            time.sleep(0.2)
    yield server
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start_server(tmp_path_factory.mktemp("e2e"), "2024-06-20T10:00:00+08:00")


# The demo server: the demo progress (`flask demo generate`) and a reminder sweep, so the status
# pills, report states, warning lights, the review queue and the outbox all have something to show.
DEMO_NOW = "2024-06-20T10:00:00+08:00"
# The demo progress has no task in some statuses and no report in some states: these tasks get them,
# and task 3.1's reports one of each state, so that every pill colour is shown on a real page.
STATUSES = {"3.2": "not_started", "3.3": "done", "3.4": "blocked", "3.5": "lagging"}
VARIETY = f"""
from wsgi import app
from tracker.extensions import db
from tracker.models import CheckIn, Task
with app.app_context():
    for code, status in {STATUSES!r}.items():
        db.session.scalar(db.select(Task).filter_by(code=code)).status = status
    task = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    reports = db.session.scalars(db.select(CheckIn).filter_by(task_id=task.id).order_by(CheckIn.id.desc())).all()
    for report, state in zip(reports[1:], ["returned", "draft", "approved"]):
        report.state = state
    db.session.commit()
"""
# A staff account of 市发展改革委 that chose English before the sweep: its copy of the digest is English.
ENGLISH_STAFF = "en-staff@demo.local"
ENGLISH_READER = f"""
from wsgi import app
from tracker.extensions import db
from tracker.models import User
with app.app_context():
    user = db.session.scalar(db.select(User).filter_by(email={ENGLISH_STAFF!r}))
    user.locale = "en"
    user.must_change_password = False  # made with the CLI; the tour logs in with the password it was given
    db.session.commit()
"""


def _python(env: dict[str, str], script: str) -> None:
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own on a database with the demo progress (`flask demo generate` only writes to
    a file named demo.sqlite3: it is built first, then copied to where `start_server` expects it)."""
    work = tmp_path_factory.mktemp("e2e-demo")
    env = dict(os.environ, DATABASE_URL="sqlite:///" + str(work / "demo.sqlite3"), TRACKER_NOW=DEMO_NOW)
    env.update(UPLOAD_FOLDER=str(work / "uploads"), SECRET_KEY="e2e", BASE_URL="http://127.0.0.1")
    env.pop("TEST_DATABASE_URL", None)
    prepare = Server("", env)
    prepare.flask("db", "upgrade")
    prepare.flask("plan", "load", "--if-missing")
    prepare.flask("users", "demo")
    prepare.flask(
        "users",
        "create",
        ENGLISH_STAFF,
        "--role",
        "staff",
        "--department",
        "市发展改革委",
        "--password",
        DEMO_PASSWORD,
        "--name",
        "Li Ming",
    )
    _python(env, ENGLISH_READER)
    prepare.flask("demo", "generate")
    prepare.flask("reminders", "sweep", "--at", "2024-06-20T09:00:00+08:00")
    _python(env, VARIETY)
    shutil.copyfile(work / "demo.sqlite3", work / "e2e.sqlite3")
    yield from start_server(work, DEMO_NOW)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@dataclass
class Problems:
    """What went wrong in one browser context. A request the browser aborts on purpose is no problem:
    the favicon fetch dropped when the page navigates on, and a link that turns into a download."""

    found: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    downloads: set[str] = field(default_factory=set)
    allowed_statuses: set[int] = field(default_factory=set)

    def console(self, message) -> None:  # type: ignore[no-untyped-def]
        if message.type != "error":
            return
        # Chromium logs every 4xx page as a console error; a test may expect one (409: conflict).
        if any(f"status of {s} " in message.text for s in self.allowed_statuses):
            return
        self.found.append(f"console: {message.text}")

    @property
    def items(self) -> list[str]:
        aborted = [u for u in self.aborted if u not in self.downloads and not u.split("?")[0].endswith("/favicon.svg")]
        return self.found + [f"request failed: {u} net::ERR_ABORTED" for u in aborted]


_PROBLEMS: dict[int, Problems] = {}


def allow_status(page, status: int) -> None:  # type: ignore[no-untyped-def]
    """Declare that this page is expected to receive `status` (e.g. a 409 conflict page)."""
    _PROBLEMS[id(page)].allowed_statuses.add(status)


def _failed(problems: Problems, request) -> None:  # type: ignore[no-untyped-def]
    if request.failure == "net::ERR_ABORTED":
        problems.aborted.append(request.url)
    else:
        problems.found.append(f"request failed: {request.url} {request.failure}")


def watched_page(browser, locale: str = "zh-CN") -> tuple[object, Problems]:  # type: ignore[no-untyped-def]
    """A page in a fresh browser context (its own cookies, the browser's language ``locale``), and the
    list its problems go to: console errors, failed requests and 5xx answers."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems = Problems()
    _PROBLEMS[id(page)] = problems
    page.on("download", lambda d: problems.downloads.add(d.url))
    page.on("console", problems.console)
    page.on("requestfailed", lambda r: _failed(problems, r))
    page.on("response", lambda r: problems.found.append(f"HTTP {r.status}: {r.url}") if r.status >= 500 else None)
    return page, problems


@contextmanager
def watching(browser, locale: str = "zh-CN") -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A watched page for a ``with`` block or a fixture: closed at the end, failing on any problem it met."""
    page, problems = watched_page(browser, locale)
    try:
        yield page
    finally:
        page.context.close()
        _PROBLEMS.pop(id(page), None)
    assert problems.items == [], problems.items


@pytest.fixture
def page(browser, server: Server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    with watching(browser) as page:
        yield page


@pytest.fixture
def other_page(browser, server: Server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A second, independent browser session (another user, or the same one on another machine)."""
    with watching(browser) as page:
        yield page


def log_in(page, server: Server, email: str, *, english: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Log in through the login form, its labels read in Chinese or (``english``) in English."""
    labels = ("Email", "Password", "Log in") if english else ("电子邮箱", "密码", "登录")
    page.goto(server.url + "/login")
    page.get_by_label(labels[0]).fill(email)
    page.get_by_label(labels[1]).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=labels[2], exact=english).click()
    page.wait_for_load_state()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
