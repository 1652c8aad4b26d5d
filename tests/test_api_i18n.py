"""The JSON API speaks the caller's language: error messages (and the texts in ``fields``) follow the
token owner's saved language, else Accept-Language, else the site's; codes stay as they are. The
description (/api/v1/openapi.json, /api/v1/docs) follows the request's language too."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from tracker.api.openapi import spec

from .test_i18n import _compiled, _data_strings, _interface_chinese  # noqa: F401  (_compiled: the .mo is fresh)

CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
BAD_REPORT = {"status": "going", "percent": 130, "narrative": "", "values": [{"target_key": "nope"}]}


def _error(response, status: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


def _texts(error: dict[str, Any]) -> list[str]:
    return [error["message"], *error["fields"].values()]


def test_an_english_token_owner_gets_english_error_messages(mini_plan, bearer, client: FlaskClient) -> None:
    staff = bearer("staff", "市交通运输局", locale="en")

    response = client.post("/api/v1/tasks/3.1/checkins", json=BAD_REPORT, headers=staff)
    error = _error(response, 422)
    assert error["code"] == "invalid_body" and response.headers["Content-Language"] == "en"
    assert error["message"] == "The request body is invalid"
    assert error["fields"]["status"].startswith("Must be one of not_started / in_progress")
    assert error["fields"]["percent"] == "Must be an integer from 0 to 100"
    assert error["fields"]["values[0].target_key"].startswith("Not a target your department reports on this task")
    assert error["fields"]["values[0].value"] == "Must be a number"
    assert error["fields"]["values[0].source"] == "Give the data source"
    assert not [t for t in _texts(error) if CHINESE.search(t)], error

    error = _error(client.get("/api/v1/nothing/here", headers=staff), 404)
    assert (error["code"], error["message"]) == ("not_found", "No such endpoint")
    error = _error(client.post("/api/v1/plans", headers=staff), 405)
    assert (error["code"], error["message"]) == (
        "method_not_allowed",
        "This endpoint only supports GET (POST is not allowed)",
    )
    error = _error(client.get("/api/v1/plans/mini/tasks?due_from=soon", headers=staff), 400)
    assert error["code"] == "invalid_parameter" and error["message"] == "Invalid query parameters"
    assert error["fields"] == {"due_from": "Must be a date, YYYY-MM-DD"}
    error = _error(client.get("/api/v1/plans/mini/tasks?department=市某局", headers=staff), 400)
    assert error["fields"] == {"department": "No department named 市某局"}  # the name is the caller's data
    error = _error(client.get("/api/v1/plans/mini/checkins?limit=0", headers=staff), 400)
    assert error["fields"] == {"limit": "Must be between 1 and 500"}

    leader = bearer("leader", locale="en")
    error = _error(client.post("/api/v1/tasks/3.1/checkins", json=BAD_REPORT, headers=leader), 403)
    assert error["code"] == "forbidden" and not CHINESE.search(error["message"])
    error = _error(client.get("/api/v1/plans/mini/tasks?department=mine", headers=leader), 400)
    assert error["fields"] == {"department": "Your account does not belong to a department"}


def test_api_errors_stay_chinese_by_default(mini_plan, bearer, client: FlaskClient) -> None:
    staff = bearer("staff", "市交通运输局")
    response = client.post("/api/v1/tasks/3.1/checkins", json=BAD_REPORT, headers=staff)
    error = _error(response, 422)
    assert response.headers["Content-Language"] == "zh-CN"
    assert error["message"] == "请求内容有误" and error["fields"]["percent"] == "应为 0 到 100 之间的整数"
    assert error["fields"]["status"].startswith("应为 not_started / in_progress")
    assert error["fields"]["values[0].target_key"].startswith("不是本单位在本任务上报送的目标（可用：")
    assert _error(client.get("/api/v1/nothing", headers=staff), 404)["message"] == "没有这个接口"
    error = _error(client.post("/api/v1/plans", headers=staff), 405)
    assert error["message"] == "此接口只支持 GET（POST 不可用）"
    error = _error(client.get("/api/v1/plans"), 401)
    assert error["message"] == "缺少或无效的 API 令牌（Authorization: Bearer <令牌>）"


def test_the_owners_saved_language_wins_over_accept_language(mini_plan, bearer, client: FlaskClient) -> None:
    chinese_owner = bearer("staff", "市交通运输局", locale="zh_CN")
    english_owner = bearer("staff", "市交通运输局", locale="en")
    never_chose = bearer("staff", "市交通运输局")
    url = "/api/v1/tasks/3.1/checkins"

    answer = client.post(url, json=BAD_REPORT, headers={**chinese_owner, "Accept-Language": "en"})
    assert _error(answer, 422)["message"] == "请求内容有误" and answer.headers["Content-Language"] == "zh-CN"
    answer = client.post(url, json=BAD_REPORT, headers={**english_owner, "Accept-Language": "zh-CN"})
    assert _error(answer, 422)["message"] == "The request body is invalid"
    answer = client.post(url, json=BAD_REPORT, headers={**never_chose, "Accept-Language": "en-GB,en;q=0.9"})
    assert (
        _error(answer, 422)["message"] == "The request body is invalid" and answer.headers["Content-Language"] == "en"
    )
    # Without a valid token there is no owner: the browser's language.
    answer = client.get("/api/v1/plans", headers={"Accept-Language": "en", "Authorization": "Bearer trk_nope"})
    assert _error(answer, 401)["message"] == "Missing or invalid API token (Authorization: Bearer <token>)"


def test_the_token_owner_not_the_browser_session_sets_the_language(
    mini_plan, bearer, login, client: FlaskClient
) -> None:
    login("leader")
    client.post("/language", data={"locale": "en"})  # a browser logged in and switched to English …
    chinese_owner = bearer("staff", "市交通运输局", locale="zh_CN")  # … calls with a Chinese owner's token
    answer = client.post("/api/v1/tasks/3.1/checkins", json=BAD_REPORT, headers=chinese_owner)
    assert _error(answer, 422)["message"] == "请求内容有误"
    assert client.get("/api/v1/me", headers=chinese_owner).get_json()["role"] == "staff"


def test_rate_limit_message_follows_the_owner(mini_plan, bearer, client: FlaskClient) -> None:
    client.application.config["API_RATE_LIMIT"] = 1
    h = bearer(locale="en")
    assert client.get("/api/v1/plans", headers=h).status_code == 200
    message = _error(client.get("/api/v1/plans", headers=h), 429)["message"]
    assert re.fullmatch(r"Too many requests; try again in \d+ seconds", message), message


def _described(node: Any) -> list[str]:
    """Every text for people in a description: the values of title, summary and description."""
    if isinstance(node, dict):
        own = [v for k, v in node.items() if k in {"title", "summary", "description"} and isinstance(v, str)]
        return own + [t for v in node.values() for t in _described(v)]
    if isinstance(node, list):
        return [t for v in node for t in _described(v)]
    return []


def test_the_openapi_description_follows_the_request_language(mini_plan, client: FlaskClient) -> None:
    english = client.get("/api/v1/openapi.json", headers={"Accept-Language": "en"})
    assert english.headers["Content-Language"] == "en"
    texts = _described(english.get_json())
    data = _data_strings()
    left = [t for t in texts if CHINESE.search(_strip(t, data))]
    assert not left, left
    message = english.get_json()["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["message"]
    assert "request's language" in message["description"]
    assert english.get_json()["info"]["title"] == "Plan task tracker API"

    chinese = client.get("/api/v1/openapi.json").get_json()
    assert chinese["info"]["title"] == "规划任务督办系统 API"
    assert chinese["paths"]["/plans/{key}/tasks"]["get"]["summary"].startswith("计划的任务")
    # Outside a request the site's language (Chinese); translated on a copy, the constant stays Chinese.
    assert chinese == spec("/api/v1")


def _strip(text: str, data: list[str]) -> str:
    for value in data:
        text = text.replace(value, " ")
    return text


def test_english_api_docs_show_no_chinese_but_the_plans_own_words(mini_plan, login, client: FlaskClient) -> None:
    login("leader")
    client.post("/language", data={"locale": "en"})
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert not _interface_chinese(page, _data_strings())
    for text in ["Plan task tracker API", "filtered by part, department", "Missing or invalid token", "Schemas"]:
        assert text in page, text

    client.post("/language", data={"locale": "zh_CN"})
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "规划任务督办系统 API" in page and "计划的任务，可按部分" in page and "缺少或无效的令牌" in page
