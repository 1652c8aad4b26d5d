"""The running API matches its OpenAPI description: every documented path and parameter, with
generated valid and invalid inputs (hypothesis); no 500 for any input; every response validates
against the schema documented for its status code (jsonschema)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from tracker import clock
from tracker.api.openapi import PATHS, spec
from tracker.api.tokens import create_token
from tracker.extensions import db
from tracker.models import CheckIn, Department, Target, TargetValue, Task

SPEC = spec()
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
KNOWN = {
    "key": ["mini"],
    "code": ["3.1", "3.1.1", "4.1"],
    "section": ["三", "四"],
    "department": ["市发展改革委", "市交通运输局", "mine"],
    "county": ["甲县", "乙区"],
    "task": ["3.1", "4.1"],
    "period": ["2026Q1", "2026"],
}


def _valid(name: str, schema: dict[str, Any]) -> st.SearchStrategy[str]:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if schema.get("format") == "date":
        return st.dates(date(2020, 1, 1), date(2032, 12, 31)).map(date.isoformat)
    if schema["type"] == "integer":
        return st.integers(schema.get("minimum", -10), schema.get("maximum", 1000)).map(str)
    return st.sampled_from(KNOWN.get(name, ["x"]))


INVALID = TEXT | st.integers(-(10**6), 10**6).map(str)


def _value(param: dict[str, Any]) -> st.SearchStrategy[str | None]:
    valid = _valid(param["name"], param["schema"])
    return valid if param["required"] else st.none() | valid


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": SPEC["components"]}, format_checker=FormatChecker())


@pytest.fixture
def api_client(api_tokens):  # type: ignore[no-untyped-def]
    client, tokens = api_tokens
    return client, tokens["staff"]


@pytest.fixture
def api_tokens(mini_plan, make_user):  # type: ignore[no-untyped-def]
    """The test client and headers for a staff (市交通运输局), a coordinator and a leader token."""
    app = mini_plan
    app.config["API_RATE_LIMIT"] = 1_000_000
    t = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    # one live report per task, department and period: the three states from three departments
    for state, name in (("draft", "市交通运输局"), ("submitted", "市生态环境局"), ("approved", "甲县人民政府")):
        db.session.add(
            CheckIn(
                task_id=t.id,
                department_id=db.session.scalar(db.select(Department.id).filter_by(name=name)),
                period="2026Q1",
                period_start=date(2026, 1, 1),
                period_end=date(2026, 3, 31),
                state=state,
                created_at=clock.now(),
                submitted_at=clock.now(),
            )
        )
    target = db.session.scalar(db.select(Target).filter_by(key="county-energy-jia"))
    db.session.add(
        TargetValue(
            target_id=target.id, period="2026", period_end=date(2026, 12, 31), value=1.5, created_at=clock.now()
        )
    )
    for quarter in range(2, 5):  # reports waiting for review
        for name in ("市交通运输局", "市发展改革委"):
            db.session.add(
                CheckIn(
                    task_id=t.id,
                    department_id=db.session.scalar(db.select(Department.id).filter_by(name=name)),
                    period=f"2026Q{quarter}",
                    period_start=date(2026, 3 * quarter - 2, 1),
                    period_end=date(2026, 3 * quarter, 28),
                    state="submitted",
                    created_at=clock.now(),
                    submitted_at=clock.now(),
                )
            )
    db.session.commit()
    tokens = {}
    for role, department in (("staff", "市交通运输局"), ("coordinator", "市发展改革委"), ("leader", None)):
        _token, secret = create_token(make_user(role, department), "契约测试", now=clock.now())
        tokens[role] = {"Authorization": f"Bearer {secret}"}
    return app.test_client(), tokens


READS = sorted(path for path, item in PATHS.items() if "get" in item)
WRITES = sorted(path for path, item in PATHS.items() if "post" in item)


@pytest.mark.parametrize("path", READS)
def test_every_documented_path_answers_as_documented(api_client, path: str) -> None:  # type: ignore[no-untyped-def]
    client, headers = api_client
    operation = PATHS[path]["get"]
    params = operation["parameters"]
    seen: set[str] = set()

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        values=st.fixed_dictionaries({p["name"]: _value(p) for p in params}), authorised=st.booleans() | st.just(True)
    )
    def check(values: dict[str, str | None], authorised: bool) -> None:
        url = "/api/v1" + path
        query = {}
        for p in params:
            value = values.get(p["name"])
            if p["in"] == "path":
                url = url.replace("{" + p["name"] + "}", quote(value or "x", safe=""))
            elif value is not None:
                query[p["name"]] = value
        response = client.get(url, query_string=query, headers=headers if authorised else {})
        status = str(response.status_code)
        seen.add(status)
        assert response.status_code < 500, (url, query, response.get_data(as_text=True))
        assert status in operation["responses"], (url, query, status, response.get_json())
        if not authorised:
            assert status == "401"
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        errors = sorted(_validator(schema).iter_errors(response.get_json()), key=str)
        assert not errors, (url, query, status, [e.message for e in errors[:3]])

    check()
    assert "200" in seen and seen - {"200"}, seen  # both answers and errors were exercised


BODY_KNOWN = {
    "period": ["2026Q1", "2026Q2", "2026Q3", "2027Q1", "2026"],
    "target_key": ["3.1-bus", "3.1-hubs", "city-energy"],
    "comment": ["", "请补充数据来源", "同意"],
    "narrative": ["", "已完成公交车招标", "x" * 30],
}
JSON_SCALARS = st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=False) | TEXT
ANY_JSON = st.recursive(
    JSON_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8
)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    return SPEC["components"]["schemas"][schema["$ref"].split("/")[-1]] if "$ref" in schema else schema


def _valid_json(name: str, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values the schema accepts (and, for names the plan knows, values that mean something)."""
    schema = _resolve(schema)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema["type"]
    if kind == "object":
        required = {k: _valid_json(k, v) for k, v in schema["properties"].items() if k in schema["required"]}
        optional = {k: _valid_json(k, v) for k, v in schema["properties"].items() if k not in schema["required"]}
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "array":
        return st.lists(_valid_json(name, schema["items"]), max_size=3)
    if kind == "integer":
        return st.integers(schema.get("minimum", -10), schema.get("maximum", 10**6))
    if kind == "number":
        return st.floats(-1e9, 1e9, allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    text = TEXT.filter(lambda x: len(x.strip()) >= schema.get("minLength", 0))
    return st.sampled_from(BODY_KNOWN[name]) | text if name in BODY_KNOWN else text


def _invalid_json(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Bodies the schema refuses: anything at all, or a valid body with one field spoilt or one too many."""
    schema = _resolve(schema)
    valid = _valid_json("body", schema)
    spoilt = st.tuples(valid, st.sampled_from(sorted(schema["properties"])), ANY_JSON).map(
        lambda t: {**t[0], t[1]: t[2]}
    )
    extra = st.tuples(valid, TEXT.filter(lambda k: k not in schema["properties"])).map(lambda t: {**t[0], t[1]: 1})
    return ANY_JSON | spoilt | extra


@pytest.mark.parametrize("path", WRITES)
def test_every_write_answers_as_documented(api_tokens, path: str) -> None:  # type: ignore[no-untyped-def]
    client, tokens = api_tokens
    operation = PATHS[path]["post"]
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    seen: set[str] = set()
    ids = list(db.session.scalars(db.select(CheckIn.id).order_by(CheckIn.id)))  # sequences differ between databases
    submitted = db.session.scalar(db.select(CheckIn.id).filter_by(state="submitted", period="2026Q2").limit(1))
    path_values = {
        "code": st.sampled_from(KNOWN["code"]) | TEXT.filter(lambda x: x.strip() not in {"", ".", ".."}),
        "id": st.sampled_from(ids) | st.integers(-5, 10**6),
        # ?plan=KEY (a query parameter): none, the plan's key, or anything (an unknown key is a 404)
        "plan": st.sampled_from(["", "mini"]) | TEXT.filter(lambda x: "\x00" not in x),
    }
    in_path = {p["name"] for p in operation["parameters"] if p["in"] == "path"}

    def answer(who: str | None, params: dict[str, Any], body: Any) -> None:
        url = "/api/v1" + path
        for name, value in params.items():
            if name in in_path:
                url = url.replace("{" + name + "}", quote(str(value), safe=""))
        query = {name: value for name, value in params.items() if name not in in_path and value != ""}
        url += "?" + urlencode(query) if query else ""
        headers = tokens[who] if who else {}
        if isinstance(body, bytes):
            response = client.post(url, data=body, headers=headers, content_type="application/json")
        else:
            response = client.post(url, json=body, headers=headers)
        status = str(response.status_code)
        seen.add(status)
        assert response.status_code < 500, (url, body, response.get_data(as_text=True))
        assert status in operation["responses"], (url, body, status, response.get_json())
        if who is None:
            assert status == "401"
        routed = "/" not in str(params.get("code", "")) and params.get("id", 0) >= 0  # else no such URL: 404
        if who == "leader" and routed:
            assert status == "403"  # leaders write nothing
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        errors = sorted(_validator(schema).iter_errors(response.get_json()), key=str)
        assert not errors, (url, body, status, [e.message for e in errors[:3]])

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        who=st.sampled_from(["staff", "staff", "coordinator", "coordinator", "leader", None]),
        params=st.fixed_dictionaries({p["name"]: path_values[p["name"]] for p in operation["parameters"]}),
        body=_valid_json("body", body_schema) | _invalid_json(body_schema) | st.just(b"{not json"),
    )
    def check(who: str | None, params: dict[str, Any], body: Any) -> None:
        answer(who, params, body)

    # one request known to succeed, so a success is always among the answers checked
    if "code" in path:
        answer("staff", {"code": "3.1"}, {"status": "in_progress", "percent": 20, "narrative": "x", "period": "2027Q2"})
    else:
        answer("coordinator", {"id": submitted}, {"decision": "return", "comment": "请补充数据"})
    check()
    success = next(s for s in operation["responses"] if s.startswith("2"))
    assert {success, "403", "422"} <= seen, seen  # answers and refusals were both exercised


def test_the_description_is_a_valid_openapi_document_shape() -> None:
    assert SPEC["openapi"].startswith("3.")
    for path, item in PATHS.items():
        for operation in item.values():
            names = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert names == {part[1:-1] for part in path.split("/") if part.startswith("{")}
    for schema in SPEC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
