"""Security headers on every response, the session cookie's flags, and the session key production needs.

The same headers and flags are checked against the running server in tests/e2e/test_security_headers.py.
"""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

import tracker
from tracker import config

from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def assert_security_headers(headers) -> None:  # type: ignore[no-untyped-def]
    """What every response carries (shared with the end-to-end check)."""
    csp = {part.split()[0]: part.split()[1:] for part in headers["Content-Security-Policy"].split(";") if part.strip()}
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["script-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["default-src"] == ["'self'"] and csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    "path", ["/login", "/healthz", "/static/css/app.css", "/no-such-page", "/api/v1/plans", "/tasks/3.1"]
)
def test_every_response_forbids_framing_sniffing_and_foreign_scripts(mini_plan, client: FlaskClient, path) -> None:
    with client.get(path) as response:  # a static file is streamed: close it
        assert_security_headers(response.headers)


def test_pages_behind_login_carry_the_headers_too(mini_plan, client: FlaskClient, login) -> None:
    login("coordinator", "市发展改革委")
    for path in ["/tasks", "/tasks/3.1", "/matrix", "/graph", "/reviews", "/matrix.xlsx"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response.headers)


def test_the_email_preview_allows_only_the_mails_inline_styles(mini_plan, client: FlaskClient, login) -> None:
    from tracker import clock
    from tracker.extensions import db
    from tracker.models import OutboxMessage

    message = OutboxMessage(
        dedupe_key="preview-test",
        kind="digest",
        recipients="a@example.gov.cn",
        subject="s",
        body_text="t",
        body_html='<p style="color: red">t</p>',
        created_at=clock.now(),
    )
    db.session.add(message)
    db.session.commit()
    login("admin")
    response = client.get(f"/admin/outbox/{message.id}")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in csp and "script-src 'self';" in csp + ";"
    assert "frame-ancestors 'none'" in csp


def test_no_template_has_inline_script_or_style(app: Flask) -> None:
    # The policy allows neither; e-mails are not pages (they are only shown in the sandboxed preview).
    found = []
    for path in (ROOT / "templates").rglob("*.html"):
        if "email" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)", r"<style", r"\sstyle=", r"\son[a-z]+=", r"javascript:"):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)!r}" for m in re.finditer(pattern, text)]
    assert not found


def test_the_session_cookie_is_http_only_and_same_site_lax(mini_plan, client: FlaskClient, make_user) -> None:
    user = make_user("leader")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the embedded setup serves plain HTTP unless told otherwise


def test_session_cookie_secure_comes_from_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    assert config.from_environment(str(tmp_path))["SESSION_COOKIE_SECURE"] is True
    monkeypatch.delenv("SESSION_COOKIE_SECURE")
    assert config.from_environment(str(tmp_path))["SESSION_COOKIE_SECURE"] is False


def test_a_secure_cookie_is_marked_secure(mini_plan, app: Flask, client: FlaskClient, make_user) -> None:
    app.config["SESSION_COOKIE_SECURE"] = True
    user = make_user("leader")
    cookie = client.post("/login", data={"email": user.email, "password": PASSWORD}).headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- the session key -----------------------------------------------------------------------------


def test_the_instance_key_is_used_when_secret_key_is_unset(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    assert config.from_environment(str(tmp_path))["SECRET_KEY"] == config.DEVELOPMENT_SECRET_KEY
    (tmp_path / "secret_key").write_text("a" * 64 + "\n")
    assert config.from_environment(str(tmp_path))["SECRET_KEY"] == "a" * 64
    monkeypatch.setenv("SECRET_KEY", "from-the-environment-0123456789")
    assert config.from_environment(str(tmp_path))["SECRET_KEY"] == "from-the-environment-0123456789"


def test_under_gunicorn_the_development_key_is_refused_and_the_instance_key_ignored(
    monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setitem(sys.modules, "gunicorn.arbiter", object())
    (tmp_path / "secret_key").write_text("b" * 64)
    assert config.from_environment(str(tmp_path))["SECRET_KEY"] == config.DEVELOPMENT_SECRET_KEY
    for key in (config.DEVELOPMENT_SECRET_KEY, "replace-with-the-output-of-python3", "short"):
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            tracker.create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": key})
    assert tracker.create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "c" * 64})


def test_make_creates_a_private_random_instance_key_once(tmp_path: Path) -> None:
    make = ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "instance/secret_key"]
    subprocess.run(make, cwd=tmp_path, check=True, capture_output=True)
    key_file = tmp_path / "instance" / "secret_key"
    key = key_file.read_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key) and config.is_production_secret_key(key)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    subprocess.run(make, cwd=tmp_path, check=True, capture_output=True)
    assert key_file.read_text().strip() == key  # the second start keeps it: sessions survive a restart


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gunicorn(tmp_path: Path, **env: str) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "TEST_DATABASE_URL"}}
    environment.update(DATABASE_URL="sqlite:///" + str(tmp_path / "g.sqlite3"), UPLOAD_FOLDER=str(tmp_path), **env)
    command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", "wsgi:app"]
    proc = subprocess.Popen(command, cwd=ROOT, env=environment, stderr=subprocess.PIPE, text=True)
    return proc, f"http://127.0.0.1:{port}"


def test_gunicorn_refuses_to_start_without_a_real_key(tmp_path: Path) -> None:
    proc, _url = _gunicorn(tmp_path)
    try:
        _out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert "SECRET_KEY is not set to a real key" in err


def test_gunicorn_starts_with_a_real_key(tmp_path: Path) -> None:
    proc, url = _gunicorn(tmp_path, SECRET_KEY="d" * 64)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/login", timeout=2) as response:
                    assert response.status == 200
                    assert_security_headers(response.headers)
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
