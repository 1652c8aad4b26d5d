"""The JSON API: personal tokens, filters, visibility of check-ins, errors, rate limit."""

from __future__ import annotations

from datetime import date, datetime

from flask.testing import FlaskClient

from tracker import clock
from tracker.api.tokens import create_token
from tracker.extensions import db
from tracker.models import ApiToken, CheckIn, Department, Target, TargetValue, Task

from .conftest import count_queries


def _error_of(response) -> dict:  # type: ignore[no-untyped-def]
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def test_token_created_on_profile_page_lists_ones_tasks(mini_plan, login, client: FlaskClient) -> None:
    login("staff", "市交通运输局")
    page = client.post("/profile/tokens", data={"name": "对接"}).get_data(as_text=True)
    secret = page.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("trk_")
    stored = db.session.scalar(db.select(ApiToken))
    assert stored.token_hash != secret and secret not in client.get("/profile/tokens").get_data(as_text=True)

    api = FlaskClient(client.application)  # no session cookie
    headers = {"Authorization": f"Bearer {secret}"}
    me = api.get("/api/v1/me", headers=headers).get_json()
    assert me["department"] == "市交通运输局" and me["role"] == "staff"
    tasks = api.get("/api/v1/plans/mini/tasks?department=mine", headers=headers).get_json()
    assert [t["code"] for t in tasks] == ["3.1", "3.1.1"]
    assert (
        tasks[0]["light"] == "green"
        and {"name": "市交通运输局", "role": "lead", "role_text": "牵头"} in tasks[0]["departments"]
    )

    client.post(f"/profile/tokens/{stored.id}/revoke")
    assert api.get("/api/v1/me", headers=headers).status_code == 401


def test_no_token_is_401_json_never_a_redirect(mini_plan, client: FlaskClient) -> None:
    response = client.get("/api/v1/plans")
    assert response.status_code == 401 and response.is_json
    assert _error_of(response)["code"] == "unauthorized"
    assert client.get("/api/v1/plans", headers={"Authorization": "Bearer trk_nope"}).status_code == 401


def test_task_filters(mini_plan, bearer, client: FlaskClient) -> None:
    h = bearer()

    def codes(query: str) -> list[str]:
        response = client.get(f"/api/v1/plans/mini/tasks?{query}", headers=h)
        assert response.status_code == 200, response.get_json()
        return [t["code"] for t in response.get_json()]

    assert codes("") == ["3.1", "3.1.1", "3.2", "4.1"]
    assert codes("section=四") == ["4.1"]
    assert codes("department=市发展改革委") == ["3.1", "4.1"]
    assert codes("department=市生态环境局&role=support") == ["3.1"]
    assert codes("department=市生态环境局&role=lead") == []
    assert codes("role=responsible") == ["3.2"]
    assert codes("due_to=2027-12-31") == ["3.1.1"]
    assert codes("due_from=2028-01-01&status=not_started") == ["3.1", "3.2", "4.1"]
    assert codes("light=green") == ["3.1", "3.1.1", "3.2", "4.1"]
    assert codes("light=red") == []


def test_red_light_filter_after_the_deadline(mini_plan, bearer, client: FlaskClient) -> None:
    client.application.config["TRACKER_NOW"] = "2027-07-15"
    h = bearer()
    red = [t["code"] for t in client.get("/api/v1/plans/mini/tasks?light=red", headers=h).get_json()]
    green = [t["code"] for t in client.get("/api/v1/plans/mini/tasks?light=green", headers=h).get_json()]
    assert "3.1.1" in red and not set(red) & set(green)


def test_bad_parameters_are_400_with_every_field_named(mini_plan, bearer, client: FlaskClient) -> None:
    response = client.get("/api/v1/plans/mini/tasks?status=done-ish&due_from=soon&light=blue", headers=bearer())
    assert response.status_code == 400
    error = _error_of(response)
    assert error["code"] == "invalid_parameter" and set(error["fields"]) == {"status", "due_from", "light"}
    response = client.get("/api/v1/plans/mini/tasks?department=市某局", headers=bearer())
    assert response.status_code == 400 and "department" in _error_of(response)["fields"]


def test_unknown_things_are_404_and_writes_405(mini_plan, bearer, client: FlaskClient) -> None:
    h = bearer()
    assert _error_of(client.get("/api/v1/plans/nope", headers=h))["code"] == "not_found"
    assert client.get("/api/v1/plans/mini/tasks/9.9", headers=h).status_code == 404
    assert client.get("/api/v1/nothing/here", headers=h).status_code == 404
    response = client.post("/api/v1/plans", headers=h)
    assert response.status_code == 405 and _error_of(response)["code"] == "method_not_allowed"


def test_task_detail_targets_and_values(mini_plan, bearer, client: FlaskClient) -> None:
    h = bearer()
    task = client.get("/api/v1/plans/mini/tasks/3.1", headers=h).get_json()
    assert [t["key"] for t in task["targets"]] == ["3.1-bus", "3.1-hubs"]
    target = db.session.scalar(db.select(Target).filter_by(key="county-energy-jia"))
    db.session.add(
        TargetValue(
            target_id=target.id, period="2026", period_end=date(2026, 12, 31), value=3.5, created_at=clock.now()
        )
    )
    db.session.commit()
    rows = client.get("/api/v1/plans/mini/targets?group=county_energy&county=甲县", headers=h).get_json()
    assert [(r["key"], [v["value"] for v in r["values"]]) for r in rows] == [("county-energy-jia", [3.5])]


def test_matrix_and_departments(mini_plan, bearer, client: FlaskClient) -> None:
    h = bearer()
    matrix = client.get("/api/v1/plans/mini/matrix", headers=h).get_json()
    row = next(t for t in matrix["tasks"] if t["code"] == "3.1")
    assert row["roles"] == {
        "市发展改革委": "lead",
        "市生态环境局": "support",
        "市交通运输局": "lead",
        "甲县人民政府": "implementing",
    }
    assert matrix["departments"][0] == "市发展改革委"
    names = [d["name"] for d in client.get("/api/v1/departments", headers=h).get_json()]
    assert "人行测试市中心支行" in names


def _checkin(task: str, department: str, state: str, quarter: int = 1) -> CheckIn:
    t = db.session.scalar(db.select(Task).filter_by(code=task))
    d = db.session.scalar(db.select(Department).filter_by(name=department))
    c = CheckIn(
        task_id=t.id,
        department_id=d.id,
        period=f"2026Q{quarter}",
        period_start=date(2026, 3 * quarter - 2, 1),
        period_end=date(2026, 3 * quarter, 31 if quarter in {1, 4} else 30),
        state=state,
        percent=10,
        created_at=clock.now(),
        submitted_at=None if state == "draft" else datetime(2026, 4, 2, tzinfo=clock.now().tzinfo),
    )
    db.session.add(c)
    db.session.commit()
    return c


def test_checkins_hide_other_departments_drafts(mini_plan, bearer, client: FlaskClient) -> None:
    _checkin("3.1", "市交通运输局", "approved")
    _checkin("3.1", "市生态环境局", "submitted")
    _checkin("3.1", "市交通运输局", "draft", quarter=2)  # one live report a period: the draft is the next one
    _checkin("4.1", "市发展改革委", "draft")

    def seen(headers: dict[str, str], query: str = "") -> list[tuple[str, str]]:
        response = client.get(f"/api/v1/plans/mini/checkins{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [(c["department"], c["state"]) for c in response.get_json()]

    staff = bearer("staff", "市交通运输局")
    assert seen(staff) == [("市交通运输局", "approved"), ("市生态环境局", "submitted"), ("市交通运输局", "draft")]
    assert seen(bearer("coordinator", "市发展改革委")) == [("市交通运输局", "approved"), ("市生态环境局", "submitted")]
    assert seen(staff, "?state=draft&department=mine") == [("市交通运输局", "draft")]
    response = client.get("/api/v1/plans/mini/checkins?state=draft&department=市发展改革委", headers=staff)
    assert response.status_code == 403 and _error_of(response)["code"] == "forbidden"
    assert seen(staff, "?limit=1&offset=1") == [("市生态环境局", "submitted")]


def test_rate_limit_answers_429_with_retry_after(mini_plan, bearer, client: FlaskClient) -> None:
    client.application.config["API_RATE_LIMIT"] = 3
    client.application.config["API_RATE_WINDOW"] = 10**9  # one window for the whole test
    h = bearer()
    assert [client.get("/api/v1/plans", headers=h).status_code for _ in range(4)] == [200, 200, 200, 429]
    response = client.get("/api/v1/plans", headers=h)
    assert _error_of(response)["code"] == "rate_limited" and int(response.headers["Retry-After"]) > 0
    assert client.get("/api/v1/plans", headers=bearer()).status_code == 200  # per token


def test_docs_page_and_openapi_are_served_without_cdn(mini_plan, client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/plans/{key}/tasks" in spec["paths"]
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/plans/{key}/tasks" in page and "http" not in page.split("<body")[1].replace("http://localhost", "")


def test_listing_tasks_runs_a_fixed_number_of_queries(seeded, bearer, client: FlaskClient) -> None:
    h = bearer()
    with count_queries() as statements:
        tasks = client.get("/api/v1/plans/anyang-14fyp-esr/tasks", headers=h).get_json()
        matrix = client.get("/api/v1/plans/anyang-14fyp-esr/matrix", headers=h).get_json()
        targets = client.get("/api/v1/plans/anyang-14fyp-esr/targets", headers=h).get_json()
    # 100 targets: 三（十）"70%以上或…增加 5%以上" is one target with an alternative criterion
    assert len(tasks) == 21 and len(matrix["tasks"]) == 21 and len(targets) == 100
    # 3 calls: token, plan, the city's workdays, a few eager loads each; the targets' figures (the one rule:
    # targets, approved values, counties) and the names of the values' units: a fixed number
    assert len(statements) <= 37, len(statements)


def test_a_deactivated_users_token_stops_working(mini_plan, make_user, client: FlaskClient) -> None:
    user = make_user("leader")
    _token, secret = create_token(user, "x", now=clock.now())
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
