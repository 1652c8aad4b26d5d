"""The running API matches its OpenAPI description: every documented path and parameter, with
generated valid and invalid inputs (hypothesis); no 500 for any input; every response validates
against the schema documented for its status code (jsonschema)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

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
def api_client(mini_plan, make_user):  # type: ignore[no-untyped-def]
    app = mini_plan
    app.config["API_RATE_LIMIT"] = 1_000_000
    t = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    d = db.session.scalar(db.select(Department).filter_by(name="市交通运输局"))
    for state in ("draft", "submitted", "approved"):
        db.session.add(
            CheckIn(
                task_id=t.id,
                department_id=d.id,
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
    db.session.commit()
    _token, secret = create_token(make_user("staff", "市交通运输局"), "契约测试", now=clock.now())
    return app.test_client(), {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("path", sorted(PATHS))
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


def test_the_description_is_a_valid_openapi_document_shape() -> None:
    assert SPEC["openapi"].startswith("3.")
    for path, item in PATHS.items():
        names = {p["name"] for p in item["get"]["parameters"] if p["in"] == "path"}
        assert names == {part[1:-1] for part in path.split("/") if part.startswith("{")}
    for schema in SPEC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
