"""Against the running app: security headers on every page, the session cookie's flags, and a CSP the
pages live with in a real Chromium (a blocked style or script is a console error, which fails the test)."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.client import HTTPMessage

import pytest

from ..test_security_headers import assert_security_headers
from .conftest import DEMO_PASSWORD, Server, log_in, start_server, watching

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def secure_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app as `make run` starts it, told (as production is) that it is served over HTTPS."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SESSION_COOKIE_SECURE", "1")
        yield from start_server(tmp_path_factory.mktemp("e2e-secure"), "2024-06-20T10:00:00+08:00")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None  # show the 302 and its Set-Cookie instead of following it


def _request(url: str, *, cookie: str = "", data: dict[str, str] | None = None) -> tuple[int, HTTPMessage, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:  # 302, 404: still a response with headers
        with exc:
            return exc.code, exc.headers, exc.read().decode("utf-8", "replace")


def _session(headers: HTTPMessage) -> tuple[str, str]:
    """(the cookie to send back, the Set-Cookie line as the server wrote it)."""
    line = next(v for v in headers.get_all("Set-Cookie") or [] if v.startswith("session="))
    return line.split(";")[0], line


def test_the_running_app_sends_the_headers_and_a_locked_down_session_cookie(secure_server: Server) -> None:
    status, headers, page = _request(secure_server.url + "/login")
    assert status == 200
    assert_security_headers(headers)
    cookie, _line = _session(headers)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token is not None
    form = {"email": "coordinator@demo.local", "password": DEMO_PASSWORD, "csrf_token": token.group(1)}
    status, headers, _page = _request(secure_server.url + "/login", cookie=cookie, data=form)
    assert status == 302
    assert_security_headers(headers)
    cookie, line = _session(headers)
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in line.split(";")[1:]}
    assert "httponly" in flags and "secure" in flags and flags["samesite"] == "SameSite=Lax"
    for path in ["/tasks", "/tasks/3.1", "/matrix", "/graph", "/reviews", "/static/css/app.css", "/no-such-page"]:
        status, headers, _page = _request(secure_server.url + path, cookie=cookie)
        assert status in {200, 404}, path
        assert_security_headers(headers)


def test_the_pages_whose_styles_moved_to_css_render_under_the_policy(page, server: Server) -> None:  # type: ignore[no-untyped-def]
    log_in(page, server, "coordinator@demo.local")
    for path in ["/graph", "/graph/departments"]:
        response = page.goto(server.url + path)
        assert response is not None and response.ok
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.goto(server.url + "/graph")
    fill = page.locator(".graph-canvas svg .node-task rect").first.evaluate("e => getComputedStyle(e).fill")
    assert fill != "rgb(0, 0, 0)"  # graph.css coloured it (an SVG rect is black without it)


def test_the_email_preview_shows_the_mails_own_styles_in_its_sandbox(browser, demo_server: Server) -> None:  # type: ignore[no-untyped-def]
    with watching(browser) as page:
        log_in(page, demo_server, "admin@demo.local")
        page.goto(demo_server.url + "/admin/outbox")
        page.locator("a[href*='/admin/outbox/']").first.click()
        page.wait_for_load_state()
        body = page.frame_locator("iframe.mail-preview").locator("body")
        assert body.evaluate("e => getComputedStyle(e).fontFamily") == "sans-serif"  # the mail's inline style
