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

EXAMPLES = 12  # per route; each example is one request as one role
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


def _check(response: Any, what: str, before: tuple[int, ...]) -> None:
    COUNTERS["requests"] += 1
    body = response.get_data(as_text=True)
    if response.status_code >= 500:
        COUNTERS["500s"] += 1
    assert response.status_code < 500, f"{what}: {response.status_code}\n{body[:2000]}"
    assert "Traceback (most recent call last)" not in body, what
    db.session.rollback()
    if 400 <= response.status_code < 500:
        assert _counts() == before, f"{what}: refused with {response.status_code} but wrote rows"


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
JSON = st.recursive(
    JSON_VALUES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
BODY_FIELDS = ["status", "percent", "narrative", "problems", "next_steps", "submit", "period", "version_id",
               "values", "decision", "comment"]  # fmt: skip
QUERY_FIELDS = ["limit", "offset", "department", "section", "county", "state", "period", "task", "role",
                "light", "due_before", "due_after", "group", "q"]  # fmt: skip


def test_every_api_route_answers_hostile_input_without_500_or_stray_writes(walked, make_user) -> None:
    app, fixture, users, _fields = walked
    tokens: dict[str, dict[str, str]] = {"anonymous": {}}
    for role in ROLES[1:]:
        user = db.session.get(User, int(users[role]))
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


def test_report_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints how many inputs the tests above tried (run with -s to read it)."""
    with capsys.disabled():
        print(f"\nfuzz: {COUNTERS['requests']} requests, {COUNTERS['500s']} answered 500")
    assert COUNTERS["500s"] == 0
