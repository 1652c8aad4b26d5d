"""One system across two machines: two app servers (real gunicorn processes) on one PostgreSQL
database and one Redis, as docs/deploy.md describes production.

Shown here: evidence uploaded through one server is downloaded through the other (``EVIDENCE_STORE=
database``; each server has its own empty ``UPLOAD_FOLDER``); the API rate limit is one count for both;
a write through one is seen at once on the other's cached pages (the data version lives in Redis).
Runs in the PostgreSQL pass only (marked ``postgres``; the SQLite pass deselects it).
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from tracker import clock
from tracker.api.tokens import create_token

from .conftest import PASSWORD

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PORTS = (int(os.environ.get("TEST_PORT_A", "5105")), int(os.environ.get("TEST_PORT_B", "5115")))
PDF = b"%PDF-1.4\n% evidence through two servers\n%%EOF\n"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Browser:
    """A person's session with one server: cookies kept, redirects not followed."""

    def __init__(self, base: str) -> None:
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
                return None

        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )

    def request(self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(req, timeout=30) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, dict(exc.headers), exc.read())

    def csrf(self, path: str) -> str:
        found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"',
                          self.request(path).text)  # fmt: skip
        assert found, path
        return found.group(1) or found.group(2)

    def login(self, email: str) -> None:
        token = self.csrf("/login")
        body = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token}).encode()
        answer = self.request("/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
        assert answer.status == 302, answer.text

    def post_multipart(self, path: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> Answer:
        boundary = uuid.uuid4().hex
        parts: list[bytes] = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (filename, data) in files.items():
            head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    "Content-Type: application/pdf\r\n\r\n")  # fmt: skip
            parts.append(head.encode() + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(path, b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def _start(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the child keeps its own handle
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server on {port} stopped: {log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)  # waiting for a process to listen, not timing the app
    server.kill()
    pytest.fail(f"the server on {port} did not answer within 30 s")


@pytest.fixture
def two_servers(seeded: Flask, database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail(f"Redis is not answering at {REDIS_URL}: start redis-server (make redis)")
    prefix = f"two-servers-{uuid.uuid4().hex}"
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="two-servers-" + "k" * 32,  # one key for both: a session from one is good on the other
        TRACKER_NOW=seeded.config["TRACKER_NOW"],
        CACHE_URL=REDIS_URL,
        CACHE_KEY_PREFIX=prefix,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=prefix,
        API_RATE_LIMIT="3",
        API_RATE_WINDOW="3600",
        EVIDENCE_STORE="database",
        PYTHONPATH=str(ROOT),
    )
    servers = []
    try:
        for port, folder in zip(PORTS, ("a", "b"), strict=True):  # both start at once
            servers.append(_start(port, {**env, "UPLOAD_FOLDER": str(tmp_path / folder)}, tmp_path / f"{folder}.log"))
        for server, port, folder in zip(servers, PORTS, ("a", "b"), strict=True):
            _wait(server, port, tmp_path / f"{folder}.log")
        yield tuple(f"http://127.0.0.1:{port}" for port in PORTS)  # type: ignore[misc]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        redis.Redis.from_url(REDIS_URL).delete(*(redis.Redis.from_url(REDIS_URL).keys(f"*{prefix}*") or ["-"]))


def test_two_servers_share_evidence_the_rate_limit_and_the_cached_pages(
    two_servers: tuple[str, str], make_user, tmp_path: Path
) -> None:
    a, b = two_servers
    staff, leader = make_user("staff", "市发展改革委"), make_user("leader")
    staff_on_a, leader_on_b = Browser(a), Browser(b)
    staff_on_a.login(staff.email)
    leader_on_b.login(leader.email)

    # The leader reads the task page on B twice: the second time B answers from its cache, and a
    # browser that already holds the page is told it has not changed.
    first = leader_on_b.request("/tasks/3.1")
    assert first.status == 200 and leader.email in first.text
    etag = first.headers["ETag"]
    assert leader_on_b.request("/tasks/3.1", headers={"If-None-Match": etag}).status == 304

    # A report with evidence, written through A.
    narrative = f"两台服务器的进展 {uuid.uuid4().hex[:8]}"
    fields = {"status": "in_progress", "percent": "40", "narrative": narrative, "action": "submit"}
    fields["csrf_token"] = staff_on_a.csrf("/tasks/3.1/report")
    answer = staff_on_a.post_multipart("/tasks/3.1/report", fields, {"evidence": ("台账.pdf", PDF)})
    assert answer.status == 302, answer.text

    # B's cached page shows it at once; the old ETag no longer matches.
    after = leader_on_b.request("/tasks/3.1", headers={"If-None-Match": etag})
    assert after.status == 200 and narrative in after.text
    assert after.headers["ETag"] != etag
    # The evidence, uploaded through A, is downloaded through B (neither keeps it on its disk).
    link = re.search(r'href="(/attachments/\d+)"', after.text)
    assert link, "no evidence link on the task page"
    download = leader_on_b.request(link.group(1))
    assert download.status == 200 and download.body == PDF
    assert not any((tmp_path / folder).exists() and any((tmp_path / folder).iterdir()) for folder in ("a", "b"))

    # The API's limit (3 calls) is one count for both servers.
    _token, secret = create_token(leader, "两台服务器", now=clock.now())
    bearer = {"Authorization": f"Bearer {secret}"}
    statuses = [Browser(base).request("/api/v1/plans", headers=bearer).status for base in (a, b, a, b)]
    assert statuses == [200, 200, 200, 429]

    # The cached page carries the leader's own CSRF token: logging out with it works.
    cached = leader_on_b.request("/tasks/3.1").text
    token = re.search(r'action="/logout"><input type="hidden" name="csrf_token" value="([^"]+)"', cached)
    assert token, "no logout form"
    body = urllib.parse.urlencode({"csrf_token": token.group(1)}).encode()
    assert leader_on_b.request("/logout", body, {"Content-Type": "application/x-www-form-urlencoded"}).status == 302
    assert leader_on_b.request("/tasks/3.1").status == 302  # logged out: sent to the login page
