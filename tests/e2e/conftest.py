"""End-to-end fixtures: the app started the way `make run` starts it, on a throw-away SQLite
database, and Debian's Chromium driven by Playwright. A test fails on any browser console error or
failed request."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
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


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: `apt-get install chromium` (.ci/run does it)")
    work = tmp_path_factory.mktemp("e2e")
    env = dict(os.environ)
    env.update(
        DATABASE_URL="sqlite:///" + str(work / "e2e.sqlite3"),
        UPLOAD_FOLDER=str(work / "uploads"),
        SECRET_KEY="e2e",
        TRACKER_NOW="2024-06-20T10:00:00+08:00",
    )
    env.pop("TEST_DATABASE_URL", None)
    server = Server("", env)
    # The same steps as `make run`.
    server.flask("db", "upgrade")
    server.flask("plan", "load", "--if-missing")
    server.flask("users", "demo")
    port = _free_port()
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
    items: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser, server: Server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    problems = Problems()
    page.on("console", lambda m: problems.items.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.items.append(f"request failed: {r.url}"))
    page.on("response", lambda r: problems.items.append(f"HTTP {r.status}: {r.url}") if r.status >= 500 else None)
    yield page
    context.close()
    assert problems.items == [], problems.items


def log_in(page, server: Server, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/login")
    page.get_by_label("电子邮箱").fill(email)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
