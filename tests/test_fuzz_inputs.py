"""Generated bad input to every form route and every API route, as each role (issue 14).

Every mutating route the permission walk knows (its ``EXPECTED`` list: the same URLs and example
forms) and every ``/api/v1`` route gets example forms with fields replaced by hostile values — not
numbers, infinite numbers, huge integers, foreign digits, control characters, markup, periods
outside the plan, very long text — as each role. Whatever the answer, it is never a 500 and never a
traceback; and a refused request (4xx) writes nothing: the main tables keep their row counts.

Bounded for CI: a fixed number of examples per route, derandomized, no example database.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, g
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker import clock
from tracker.api.tokens import create_token
from tracker.extensions import db
from tracker.models import (
    Assignment,
    Attachment,
    AuditLog,
    CheckIn,
    Contribution,
    Department,
    Dependency,
    ExtensionRequest,
    OutboxMessage,
    Review,
    Target,
    TargetValue,
    Task,
    User,
)

from .test_permissions_walk import EXPECTED, ROLES, _fixture

EXAMPLES = 8  # random examples per route (each one request as one role), beside the sweep
MAIN_TABLES = [
    Task,
    CheckIn,
    TargetValue,
    Attachment,
    Assignment,
    Dependency,
    Contribution,
    ExtensionRequest,
    Review,
    AuditLog,
    OutboxMessage,
    Department,
]
HOSTILE = [
    "",
    " ",
    "inf",
    "-Infinity",
    "NaN",
    "1e309",
    "-1",
    "0",
    "9" * 30,
    "2147483648",
    "١٢",
    "²",
    "1_000",
    "0x1f",
    "12.5",
    "\r\n",
    "a\rb",
    "\x00",
    "\x1b[31m",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "2099Q1",
    "1900Q1",
    "2024Q9",
    "2030-13-45",
    "9999-12-31",
    "../../etc/passwd",
    "a@x.cn\r\nBcc: all@x.cn",
    "x" * 5000,
    "全角，逗号",
]
VALUES = st.sampled_from(HOSTILE) | st.text(max_size=30)
# Fields some route reads beyond its example form.
EXTRA_FIELDS = [
    "version_id",
    "version",
    "lag_days",
    "department",
    "department_id",
    "period",
    "checkin_id",
    "percent",
    "status",
    "new_due",
    "due",
    "day",
    "is_workday",
    "decision",
    "action",
    "role",
    "scope",
    "code",
    "next",
]
QUERY = st.sampled_from(["period", "next", "department", "plan"]).flatmap(lambda k: VALUES.map(lambda v: {k: v}))
COUNTERS = {"requests": 0, "500s": 0}


def _counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(db.select(db.func.count()).select_from(m)) for m in MAIN_TABLES)


def _check(response: Any, what: str, before: tuple[int, ...]) -> bool:
    """Asserts the answer is no 500 and a refusal wrote nothing; True when the request was accepted."""
    COUNTERS["requests"] += 1
    body = response.get_data().decode("utf-8", "replace")  # workbooks are bytes
    if response.status_code >= 500:
        COUNTERS["500s"] += 1
    assert response.status_code < 500, f"{what}: {response.status_code}\n{body[:2000]}"
    assert "Traceback (most recent call last)" not in body, what
    db.session.rollback()
    if 400 <= response.status_code < 500:
        assert _counts() == before, f"{what}: refused with {response.status_code} but wrote rows"
    return response.status_code < 400


# Pages that show what the writes stored: a value stored by an accepted request must not break them.
READ_PAGES = ["/tasks", "/tasks/3.1", "/tasks/3.1.1", "/reviews", "/counties", "/graph/links", "/calendar",
              "/admin/outbox", "/admin/recipients", "/departments/{department}/contacts", "/reviews/{checkin}",
              "/tasks/3.1/assignments", "/dashboard", "/matrix", "/targets", "/departments/{department}",
              "/matrix.csv", "/plans/mini/tasks.xlsx"]  # fmt: skip
API_PAGES = ["/api/v1/plans/mini/tasks", "/api/v1/plans/mini/targets", "/api/v1/plans/mini/checkins",
             "/api/v1/plans/mini/matrix", "/api/v1/departments"]  # fmt: skip


def _pages_still_answer(app: Flask, fixture: dict[str, int], users: dict[str, str]) -> None:
    for role in ("coordinator",):  # sees every page that shows stored input, the outbox included
        client = _as(app, role, users)
        for page in READ_PAGES:
            url = page.format(**fixture)
            response = client.get(url)
            _check(response, f"GET {url} as {role} after the writes", _counts())
    user = db.session.get(User, int(users["coordinator"].split(":")[0]))  # the session id is "id:version"
    _token, secret = create_token(user, "pages", now=clock.now())
    client = app.test_client()
    for url in API_PAGES:
        response = client.get(url, headers={"Authorization": f"Bearer {secret}"})
        _check(response, f"GET {url} after the writes", _counts())
        assert response.status_code != 200 or "Infinity" not in response.get_data().decode("utf-8", "replace")


def _field_names(fixture: dict[str, int]) -> list[str]:
    targets = db.session.scalars(db.select(Target.id).join(Task).filter(Task.code == "3.1")).all()
    departments = db.session.scalars(db.select(Department.id)).all()
    return [
        *EXTRA_FIELDS,
        *(f"value-{t}" for t in targets),
        *(f"source-{t}" for t in targets),
        *(f"role-{d}" for d in departments),
    ]


@pytest.fixture
def walked(mini_plan: Flask) -> tuple[Flask, dict[str, int], dict[str, str], list[str]]:
    app = mini_plan
    app.config["TRACKER_NOW"] = "2026-03-02T10:00:00+08:00"
    app.config["API_RATE_LIMIT"] = 1_000_000
    fixture, users = _fixture()
    return app, fixture, users, _field_names(fixture)


def _as(app: Flask, role: str, users: dict[str, str]):  # type: ignore[no-untyped-def]
    client = app.test_client()
    g.pop("_login_user", None)  # the requests share the test's app context
    if role != "anonymous":
        with client.session_transaction() as s:
            s["_user_id"] = users[role]
            s["_fresh"] = True
    return client


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_form_routes_answer_hostile_input_without_500_or_stray_writes(walked, endpoint: str) -> None:
    app, fixture, users, fields = walked
    url_of, example, _answers = EXPECTED[endpoint]
    url = url_of(fixture)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        role=st.sampled_from(ROLES),
        replaced=st.dictionaries(st.sampled_from(sorted({*example, *fields})), VALUES, min_size=1, max_size=4),
        query=st.none() | QUERY,
    )
    def attempt(role: str, replaced: dict[str, str], query: dict[str, str] | None) -> None:
        client = _as(app, role, users)
        before = _counts()
        response = client.post(url, data={**example, **replaced}, query_string=query or {})
        _check(response, f"POST {url} as {role} with {replaced!r} ?{query!r}", before)

    attempt()


# The sweep: each field of a route's form meets each of these, as a role the route lets in.
# One value per class of defect the issue names (non-finite, too large, foreign digits, CR/LF, NUL, a period
# outside the plan, markup); the random part above draws from all of HOSTILE.
CORE = ["inf", "1e309", "9" * 30, "١٢", "a\r\nb", "\x00", "2099Q1", "<b>x</b>"]
# Fields a route reads beyond its example form (found by reading the views).
ROUTE_FIELDS = {
    "graph.add_dependency": ["lag_days"],
    "calendar.regenerate_feed": ["department"],
    "reports.form": ["checkin_id", "version_id", "problems", "next_steps", "narrative"],
    "reports.review": ["version_id", "comment"],
    "manage.assignments": ["department_id"],
}


def _allowed_role(answers: dict[str, str]) -> str:
    return next((r for r in ROLES if answers[r] == "allowed" and r != "anonymous"), "coordinator")


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_each_field_of_each_form_route_meets_each_hostile_value(walked, endpoint: str) -> None:
    app, fixture, users, fields = walked
    url_of, example, answers = EXPECTED[endpoint]
    url = url_of(fixture)
    role = _allowed_role(answers)
    if endpoint == "reports.form":  # submitted, not a draft: a submitted value shows on every page
        sources = {f: "统计" for f in fields if f.startswith("source-")}  # so that a value alone is on trial
        example = {**example, "action": "submit", "narrative": "进展", **sources}
    names = [*example, *ROUTE_FIELDS.get(endpoint, [])]
    if endpoint == "reports.form":
        names += [f for f in fields if f.startswith(("value-", "source-"))]
    accepted = False
    for name in names:
        for value in CORE:
            client = _as(app, role, users)
            before = _counts()
            response = client.post(url, data={**example, name: value})
            accepted |= _check(response, f"POST {url} as {role} with {name}={value[:40]!r}", before)
    # The URL's own numbers: too large for the database, or not ASCII digits.
    for digits in re.findall(r"\d+", url):
        for value in ("9" * 30, "2147483648", "١٢"):
            client = _as(app, role, users)
            before = _counts()
            bad = url.replace(digits, value, 1)
            accepted |= _check(client.post(bad, data=example), f"POST {bad} as {role}", before)
    if accepted:  # a refused request wrote nothing (checked above): only an accepted one can break a page
        _pages_still_answer(app, fixture, users)


def _api_urls(app: Flask, fixture: dict[str, int]) -> list[tuple[str, str]]:
    """(method, url) of every /api/v1 route, its URL parts filled with the mini plan's names."""
    parts = {"key": "mini", "code": "3.1", "checkin_id": str(fixture["checkin"]), "rest": "nope"}
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        url = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: parts[m[1]], rule.rule)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            out.append((method, url))
    return sorted(out)


JSON_VALUES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | VALUES
)


def _nested(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)


JSON = st.recursive(JSON_VALUES, _nested, max_leaves=8)
BODY_FIELDS = ["status", "percent", "narrative", "problems", "next_steps", "submit", "period", "version_id",
               "values", "decision", "comment"]  # fmt: skip
QUERY_FIELDS = ["limit", "offset", "department", "section", "county", "state", "period", "task", "role",
                "light", "due_before", "due_after", "group", "q"]  # fmt: skip


def test_every_api_route_answers_hostile_input_without_500_or_stray_writes(walked, make_user) -> None:
    app, fixture, users, _fields = walked
    tokens: dict[str, dict[str, str]] = {"anonymous": {}}
    for role in ROLES[1:]:
        user = db.session.get(User, int(users[role].split(":")[0]))  # the session id is "id:version"
        _token, secret = create_token(user, "fuzz", now=clock.now())
        tokens[role] = {"Authorization": f"Bearer {secret}"}
    routes = _api_urls(app, fixture)
    assert ("POST", "/api/v1/tasks/3.1/checkins") in routes and ("GET", "/api/v1/plans/mini/tasks") in routes

    @settings(
        max_examples=EXAMPLES * len(routes),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        route=st.sampled_from(routes),
        role=st.sampled_from(ROLES),
        body=st.dictionaries(st.sampled_from(BODY_FIELDS), JSON, max_size=5) | JSON,
        query=st.dictionaries(st.sampled_from(QUERY_FIELDS), VALUES, max_size=3),
    )
    def attempt(route: tuple[str, str], role: str, body: Any, query: dict[str, str]) -> None:
        method, url = route
        client = app.test_client()
        g.pop("_login_user", None)
        before = _counts()
        if method == "GET":
            response = client.get(url, query_string=query, headers=tokens[role])
        else:
            response = client.post(url, json=body, headers=tokens[role])
        _check(response, f"{method} {url} as {role} with {body!r} ?{query!r}", before)

    attempt()
    # The sweep: each field of each write meets each hostile JSON value, as the role that may write.
    inf = float("inf")
    hostile_json = [inf, -inf, float("nan"), 10**30, -1, "١٢", "\x00", [], {}, None, "2099Q1", "x" * 5000,
                    [{"target_key": "3.1-bus", "value": inf, "source": "s"}],
                    [{"target_key": "3.1-bus", "value": 1e300, "source": "\x00"}]]  # fmt: skip
    writes = [
        ("/api/v1/tasks/3.1/checkins", "staff_right", {"status": "in_progress", "percent": 10, "narrative": "x"},
         ["status", "percent", "period", "version_id", "values", "narrative", "submit"]),
        (f"/api/v1/checkins/{fixture['checkin']}/review", "coordinator", {"decision": "return", "comment": "x"},
         ["decision", "comment", "version_id"]),
    ]  # fmt: skip
    for url, role, base, names in writes:
        for name in names:
            for value in hostile_json:
                client = app.test_client()
                g.pop("_login_user", None)
                before = _counts()
                response = client.post(url, json={**base, name: value}, headers=tokens[role])
                _check(response, f"POST {url} as {role} with {name}={value!r:.60}", before)
    _pages_still_answer(app, fixture, users)


def test_report_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints how many inputs the tests above tried (run with -s to read it)."""
    with capsys.disabled():
        print(f"\nfuzz: {COUNTERS['requests']} requests, {COUNTERS['500s']} answered 500")
    assert COUNTERS["500s"] == 0
