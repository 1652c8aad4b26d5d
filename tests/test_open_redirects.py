"""Redirects to a target the request names (login's next, the language switch, 签收) stay on this site."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tracker.web.redirects import local_target

from .conftest import PASSWORD

# Every spelling a browser would follow to another host.
OTHER_HOSTS = [
    "//evil.example/x",
    "/\\evil.example/x",
    "\\\\evil.example",
    "/\t/evil.example",
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    " //evil.example",
    "///evil.example",
    "http://localhost.evil.example/",
]


@pytest.mark.parametrize("target", OTHER_HOSTS)
def test_no_form_of_another_host_counts_as_local(target: str) -> None:
    assert local_target(target, "localhost") is None


def test_a_same_site_address_becomes_its_path() -> None:
    assert local_target("http://localhost/my?x=1", "localhost") == "/my?x=1"
    assert local_target("/tasks/3.1", "localhost") == "/tasks/3.1"


@pytest.mark.parametrize("target", OTHER_HOSTS)
def test_login_never_sends_the_browser_to_another_host(mini_plan, client: FlaskClient, make_user, target) -> None:
    user = make_user("leader")
    response = client.post("/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"  # tasks.home, which sends on by role


@pytest.mark.parametrize("target", ["/tasks\r\nSet-Cookie: x=1", "/\n/evil.example", "/tasks\r"])
def test_a_line_break_in_next_is_a_bad_request_and_logs_nobody_in(
    mini_plan, client: FlaskClient, make_user, target
) -> None:
    user = make_user("leader")
    response = client.post("/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/tasks/3.1").status_code == 302  # still anonymous: sent to the login page


@pytest.mark.parametrize("target", OTHER_HOSTS)
def test_the_language_switch_stays_on_this_site(mini_plan, client: FlaskClient, target) -> None:
    response = client.post("/language", data={"locale": "en", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_the_language_switch_refuses_a_line_break(mini_plan, client: FlaskClient) -> None:
    assert client.post("/language", data={"locale": "en", "next": "/my\r\nX: y"}).status_code == 400
    back = client.post("/language", data={"locale": "en", "next": "/tasks/3.1?period=2024Q2"})
    assert back.headers["Location"] == "/tasks/3.1?period=2024Q2"


def test_acknowledging_goes_back_to_the_page_only_when_it_is_on_this_site(
    mini_plan, client: FlaskClient, login
) -> None:
    login("staff", "市生态环境局")
    home = client.post("/tasks/3.1/acknowledge", headers={"Referer": "http://localhost/my"})
    assert home.headers["Location"] == "/my"
    evil = client.post("/tasks/3.1/acknowledge", headers={"Referer": "http://evil.example/my"})
    assert evil.headers["Location"] == "/tasks/3.1"


def test_the_login_page_remembers_a_crafted_path_only_when_it_is_local(mini_plan, client: FlaskClient) -> None:
    plain = client.get("/tasks/3.1")
    assert plain.headers["Location"] == "/login?next=/tasks/3.1"
    crafted = client.get("/tasks/%0d%0a")
    assert crafted.status_code == 302 and crafted.headers["Location"] == "/login"
