"""Static files at addresses naming their content, kept a year (tracker/web/static.py), and the session
cookie verified once per cookie, never for static files (tracker/web/session_cookie.py)."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .conftest import PASSWORD


def _stylesheet(client: FlaskClient) -> str:
    found = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', client.get("/login").get_data(as_text=True))
    assert found
    return found.group(1)


def test_a_static_address_names_its_content_and_is_kept_a_year(app: Flask, client: FlaskClient) -> None:
    with client.get(_stylesheet(client)) as current:
        assert current.status_code == 200
        assert current.headers["Cache-Control"] == "public, max-age=31536000"
        assert current.headers["X-Content-Type-Options"] == "nosniff"  # the security headers still
    for address in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):  # no or an old version
        with client.get(address) as answer:
            assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-cache"
            etag = answer.headers["ETag"]
        with client.get("/static/css/app.css", headers={"If-None-Match": etag}) as again:
            assert again.status_code == 304
    for address in ("/static/../wsgi.py?v=1", "/static/nothing.css"):
        with client.get(address) as answer:
            assert answer.status_code == 404


def test_a_static_file_neither_reads_nor_writes_the_session(mini_plan: Flask, client: FlaskClient, make_user) -> None:
    user = make_user("leader")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    with client.get("/static/css/app.css") as answer:
        assert "Set-Cookie" not in answer.headers and "Cookie" not in answer.headers.get("Vary", "")
    with client.get("/static/nothing.css") as missing:  # an error answered under /static keeps the session too
        assert missing.status_code == 404 and "Set-Cookie" not in missing.headers
    assert client.get("/tasks").status_code == 200  # still logged in


def test_a_cookie_seen_before_is_refused_when_altered_or_too_old(
    mini_plan: Flask, client: FlaskClient, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user("leader")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert client.get("/tasks").status_code == 200
    assert client.get("/tasks").status_code == 200  # the cookie now verified and kept
    cookie = client.get_cookie("session")
    assert cookie is not None
    good = cookie.value

    forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")  # the signature altered
    thief = mini_plan.test_client()
    thief.set_cookie("session", forged)
    from flask import g

    g.pop("_login_user", None)  # one app context spans the test's requests: forget the last user
    assert thief.get("/tasks").status_code == 302

    # The same cookie, past PERMANENT_SESSION_LIFETIME since it was signed: Flask would refuse it.
    lifetime = mini_plan.permanent_session_lifetime.total_seconds()
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + lifetime + 60)
    g.pop("_login_user", None)
    assert client.get("/tasks").status_code == 302
