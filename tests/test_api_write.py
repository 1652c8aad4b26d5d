"""The API's write side: check-ins and reviews with tokens, by the web form's rules; warning lights
that count a missing period report, as the leadership views do."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tracker import clock
from tracker.extensions import db
from tracker.models import CheckIn, Plan, Task
from tracker.tasks import state as snapshot
from tracker.tasks.lights import LightRule

REPORT = {"status": "in_progress", "percent": 30, "narrative": "完成 12 辆新能源公交车采购。"}


def _error(response) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


def _post(client: FlaskClient, url: str, headers: dict[str, str], body: Any, status: int) -> dict[str, Any]:
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_county_reports_is_returned_fixes_and_is_approved(mini_plan, bearer, client: FlaskClient) -> None:
    county = bearer("staff", "甲县人民政府")
    coordinator = bearer("coordinator", "市发展改革委")
    mine = client.get("/api/v1/plans/mini/tasks?department=mine", headers=county).get_json()
    assert [t["code"] for t in mine] == ["3.1"]

    value = {"target_key": "3.1-bus", "value": 40, "source": "县交通运输局统计"}
    first = _post(client, "/api/v1/tasks/3.1/checkins", county, {**REPORT, "values": [value]}, 201)
    assert (first["state"], first["period"], first["department"], first["supersedes"]) == (
        "submitted",
        "2026Q1",  # before the task starts its first period is asked for, as on the web form
        "甲县人民政府",
        None,
    )
    returned = _post(
        client,
        f"/api/v1/checkins/{first['id']}/review",
        coordinator,
        {"decision": "return", "comment": "请注明统计口径", "version_id": first["version_id"]},
        200,
    )
    assert returned["state"] == "returned"

    fix = {**REPORT, "percent": 35, "values": [{**value, "value": 42}], "version_id": returned["version_id"]}
    second = _post(client, "/api/v1/tasks/3.1/checkins", county, fix, 201)
    assert second["id"] != first["id"] and second["supersedes"] == first["id"] and second["state"] == "submitted"
    approved = _post(client, f"/api/v1/checkins/{second['id']}/review", coordinator, {"decision": "approve"}, 200)
    assert approved["state"] == "approved"

    rows = client.get("/api/v1/plans/mini/checkins?task=3.1", headers=coordinator).get_json()
    assert [(r["id"], r["state"]) for r in rows] == [(first["id"], "returned"), (second["id"], "approved")]
    assert rows[1] == approved  # POST answers in the shape GET lists
    targets = client.get("/api/v1/plans/mini/targets", headers=county).get_json()
    bus = next(t for t in targets if t["key"] == "3.1-bus")
    assert [(v["period"], v["value"], v["source"]) for v in bus["values"]] == [
        ("2026Q1", 40.0, "县交通运输局统计"),  # the returned report's value stays: appended, never overwritten
        ("2026Q1", 42.0, "县交通运输局统计"),
    ]
    # A county implements its share; only the lead's approved report sets the task's status.
    task = client.get("/api/v1/plans/mini/tasks/3.1", headers=county).get_json()
    assert (task["status"], task["progress"]) == ("not_started", 0)

    lead = bearer("staff", "市交通运输局")
    done = _post(client, "/api/v1/tasks/3.1/checkins", lead, {**REPORT, "percent": 55}, 201)
    _post(client, f"/api/v1/checkins/{done['id']}/review", coordinator, {"decision": "approve"}, 200)
    task = client.get("/api/v1/plans/mini/tasks/3.1", headers=county).get_json()
    assert (task["status"], task["progress"]) == ("in_progress", 55)


def test_a_draft_is_saved_edited_with_its_version_then_submitted(mini_plan, bearer, client: FlaskClient) -> None:
    staff = bearer("staff", "市交通运输局")
    url = "/api/v1/tasks/3.1/checkins"
    draft = _post(client, url, staff, {"status": "in_progress", "percent": 5, "submit": False}, 201)
    assert draft["state"] == "draft" and draft["narrative"] == ""
    # without the version, saving over the draft is a conflict, never a silent overwrite
    assert _error(client.post(url, json=REPORT, headers=staff))["code"] == "conflict"
    stale = {**REPORT, "version_id": draft["version_id"] + 5}
    assert client.post(url, json=stale, headers=staff).status_code == 409
    sent = _post(client, url, staff, {**REPORT, "version_id": draft["version_id"]}, 201)
    assert sent["id"] == draft["id"] and sent["state"] == "submitted" and sent["percent"] == 30
    # a submitted report is frozen: 409 with or without a version
    assert client.post(url, json=REPORT, headers=staff).status_code == 409
    assert client.post(url, json={**REPORT, "version_id": sent["version_id"]}, headers=staff).status_code == 409
    # another period is another report
    assert _post(client, url, staff, {**REPORT, "period": "2026Q2"}, 201)["period"] == "2026Q2"


def test_who_may_write(mini_plan, bearer, client: FlaskClient) -> None:
    url = "/api/v1/tasks/3.1/checkins"
    assert _error(client.post(url, json=REPORT))["code"] == "unauthorized"
    assert client.post(url, json=REPORT).status_code == 401
    for headers in (bearer("leader"), bearer("coordinator", "市发展改革委"), bearer("admin")):
        assert _error(client.post(url, json=REPORT, headers=headers))["code"] == "forbidden"
    # leaders are refused before anything is looked up
    assert client.post("/api/v1/tasks/9.9/checkins", json=REPORT, headers=bearer("leader")).status_code == 403
    assert (
        client.post("/api/v1/tasks/3.2/checkins", json=REPORT, headers=bearer("staff", "市发展改革委")).status_code
        == 403
    )
    staff = bearer("staff", "市交通运输局")
    assert _error(client.post("/api/v1/tasks/9.9/checkins", json=REPORT, headers=staff))["code"] == "not_found"

    sent = _post(client, url, staff, REPORT, 201)
    review = f"/api/v1/checkins/{sent['id']}/review"
    for headers in (staff, bearer("leader")):  # an administrator may review (separation of duties)
        assert client.post(review, json={"decision": "approve"}, headers=headers).status_code == 403
    assert client.post(review, json={"decision": "approve"}).status_code == 401
    assert db.session.get(CheckIn, sent["id"]).state == "submitted"


def test_invalid_bodies_name_every_bad_field(mini_plan, bearer, client: FlaskClient) -> None:
    staff = bearer("staff", "市交通运输局")
    url = "/api/v1/tasks/3.1/checkins"

    def fields(body: Any, **kwargs: Any) -> dict[str, str]:
        response = client.post(url, json=body, headers=staff, **kwargs) if body is not None else None
        if response is None:
            response = client.post(url, data=kwargs["data"], headers=staff, content_type="application/json")
        assert response.status_code == 422, response.get_json()
        error = _error(response)
        assert error["code"] == "invalid_body"
        return error["fields"]

    bad = {
        "status": "fine",
        "percent": 101,
        "narrative": 5,
        "values": [{"target_key": "city-energy", "value": "12", "source": ""}, {"target_key": "3.1-bus"}],
    }
    assert set(fields(bad)) == {
        "status",
        "percent",
        "narrative",
        "values[0].target_key",  # a plan-level target is not the task's
        "values[0].value",
        "values[0].source",
        "values[1].value",
        "values[1].source",
    }
    assert set(fields({**REPORT, "status": "done"})) == {"percent"}  # 已完成 means 100
    assert set(fields({**REPORT, "narrative": "  "})) == {"narrative"}  # submitting needs 进展情况
    assert set(fields({**REPORT, "period": "2026"})) == {"period"}  # a quarterly task
    assert set(fields({**REPORT, "period": "soon"})) == {"period"}
    assert set(fields({**REPORT, "percent": True})) == {"percent"}
    assert set(fields({**REPORT, "submit": "yes", "version_id": 0})) == {"submit", "version_id"}
    assert set(fields({**REPORT, "colour": "red"})) == {"colour"}
    two = [{"target_key": "3.1-bus", "value": 1, "source": "a"}] * 2
    assert set(fields({**REPORT, "values": two})) == {"values[1].target_key"}
    assert set(fields(None, data=b"{not json")) == {"body"}
    assert set(fields([REPORT])) == {"body"}
    assert set(fields(None, data=b"[" * 100_000 + b"]" * 100_000)) == {"body"}
    assert db.session.scalar(db.select(db.func.count()).select_from(CheckIn)) == 0  # nothing was saved


def test_review_rules(mini_plan, bearer, client: FlaskClient) -> None:
    staff = bearer("staff", "市交通运输局")
    coordinator = bearer("coordinator", "市生态环境局")
    sent = _post(client, "/api/v1/tasks/3.1/checkins", staff, REPORT, 201)
    url = f"/api/v1/checkins/{sent['id']}/review"
    assert _error(client.post(url, json={"decision": "return"}, headers=coordinator))["fields"] == {
        "comment": "退回时请填写意见，说明需要修改什么。"
    }
    response = client.post(url, json={"decision": "maybe", "extra": 1}, headers=coordinator)
    assert response.status_code == 422 and set(_error(response)["fields"]) == {"extra"}
    response = client.post(url, json={"decision": "maybe", "comment": 3}, headers=coordinator)
    assert response.status_code == 422 and set(_error(response)["fields"]) == {"decision", "comment"}
    stale = {"decision": "approve", "version_id": sent["version_id"] + 1}
    assert _error(client.post(url, json=stale, headers=coordinator))["code"] == "conflict"
    _post(client, url, coordinator, {"decision": "approve", "version_id": sent["version_id"]}, 200)
    again = client.post(url, json={"decision": "return", "comment": "再看看"}, headers=coordinator)
    assert again.status_code == 409  # no longer submitted

    assert (
        client.post("/api/v1/checkins/999999999/review", json={"decision": "approve"}, headers=coordinator).status_code
        == 404
    )
    draft = _post(
        client, "/api/v1/tasks/3.1.1/checkins", staff, {"status": "in_progress", "percent": 1, "submit": False}, 201
    )
    # drafts are not shown to coordinators, so they cannot be found to review either
    hidden = client.post(f"/api/v1/checkins/{draft['id']}/review", json={"decision": "approve"}, headers=coordinator)
    assert hidden.status_code == 404


def test_writes_are_post_only_and_reads_get_only(mini_plan, bearer, client: FlaskClient) -> None:
    h = bearer("staff", "市交通运输局")
    response = client.get("/api/v1/tasks/3.1/checkins", headers=h)
    assert response.status_code == 405 and "POST" in _error(response)["message"]
    response = client.delete("/api/v1/plans/mini", headers=h)
    assert response.status_code == 405 and "GET" in _error(response)["message"]


def test_lights_count_a_missing_period_report_as_the_leadership_views_do(
    mini_plan, bearer, client: FlaskClient
) -> None:
    client.application.config["TRACKER_NOW"] = "2026-04-10"  # 2026Q1 was due 2026-04-05 (tasks.due): it is missing
    leader = bearer("leader")

    def lights() -> dict[str, str]:
        return {t["code"]: t["light"] for t in client.get("/api/v1/plans/mini/tasks", headers=leader).get_json()}

    plan = db.session.scalar(db.select(Plan).filter_by(key="mini"))
    rule = LightRule(**client.application.config["LIGHT_RULE"])
    expected = {s.task.code: s.light for s in snapshot.load(plan, today=clock.today(), rule=rule).states}
    assert lights() == expected and expected["3.1"] == "yellow"  # neither lead has reported 2026Q1
    yellow = client.get("/api/v1/plans/mini/tasks?light=yellow", headers=leader).get_json()
    assert "3.1" in [t["code"] for t in yellow]
    assert client.get("/api/v1/plans/mini/tasks/3.1", headers=leader).get_json()["light"] == "yellow"

    for department in ("市交通运输局", "市发展改革委"):
        _post(client, "/api/v1/tasks/3.1/checkins", bearer("staff", department), {**REPORT, "percent": 10}, 201)
    assert lights()["3.1"] == "green"  # submitted counts as reported
    assert db.session.scalar(db.select(Task.status).filter_by(code="3.1")) == "not_started"  # until approved
