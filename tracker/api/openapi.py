"""The OpenAPI 3 description of ``/api/v1``, written as data. The views read their query parameters
through it (``parse_query``), so the running API and its description cannot drift apart."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _

from ..i18n import N_
from ..models.org import ROLES, USER_ROLES
from ..models.plan import TARGET_GROUPS, TASK_STATUSES
from ..models.progress import CHECKIN_STATES as CHECKIN_STATE_NAMES
from ..numbers import ID_MAX, NumberError, bounded_int
from ..tasks.lights import LIGHT_LABELS

_S = {"type": "string"}
_NS = {"type": ["string", "null"]}
_DATE = {"type": "string", "format": "date"}
_NUM = {"type": ["number", "null"]}


def _obj(props: dict[str, Any], *, required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required or list(props), "additionalProperties": False}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        {
            "error": _obj(
                {
                    "code": {"type": "string", "description": N_("稳定的错误代码，供程序判断")},
                    "message": {
                        "type": "string",
                        "description": N_(
                            "给人看的说明，语言随请求：令牌所属账号设置的语言，否则按 Accept-Language，"
                            "否则为站点语言；响应头 Content-Language 标明所用语言"
                        ),
                    },
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": N_("每个有误的参数或字段（如 values[0].source）及其说明"),
                    },
                }
            )
        }
    ),
    "User": _obj(
        {
            "id": {"type": "integer"},
            "email": _S,
            "name": _S,
            "role": {"type": "string", "enum": list(USER_ROLES)},
            "department": _NS,
        }
    ),
    "Plan": _obj(
        {
            "key": _S,
            "title": _S,
            "start": _DATE,
            "end": _DATE,
            "closed_at": {**_NS, "description": N_("关闭时间：关闭后只读，写入返回 409 plan_closed")},
        }
    ),
    "PlanDetail": _obj(
        {
            "key": _S,
            "title": _S,
            "start": _DATE,
            "end": _DATE,
            "closed_at": {**_NS, "description": N_("关闭时间：关闭后只读，写入返回 409 plan_closed")},
            "sections": {
                "type": "array",
                "items": _obj({"number": {"type": "integer"}, "label": _S, "title": _S}),
            },
        }
    ),
    "Department": _obj(
        {
            "id": {"type": "integer"},
            "name": _S,
            "kind": {"type": "string", "enum": ["bureau", "county", "outside", "party"]},
            "county": _NS,
            "coordinating": {"type": "boolean"},
        }
    ),
    "Assignment": _obj({"name": _S, "role": {"type": "string", "enum": list(ROLES)}, "role_text": _S}),
    "Task": _obj(
        {
            "code": _S,
            "label": _S,
            "title": _S,
            "section": _S,
            "parent": _NS,
            "start": _DATE,
            "due": _DATE,
            "original_due": _DATE,
            "status": {"type": "string", "enum": list(TASK_STATUSES)},
            "progress": {"type": "integer"},
            "reporting_cycle": {"type": "string", "enum": ["month", "quarter", "year"]},
            "light": {"type": "string", "enum": list(LIGHT_LABELS)},
            "departments": _list("Assignment"),
        }
    ),
    "TargetBase": {
        "type": "object",
        "properties": {
            "key": _S,
            "group": {"type": "string", "enum": list(TARGET_GROUPS)},
            "name": _S,
            "metric": _NS,
            "value": _NUM,
            "value_min": _NUM,
            "value_max": _NUM,
            "unit": _S,
            "comparison": {"type": ["string", "null"]},
            "due": _DATE,
            "baseline": _NUM,
            "baseline_year": {"type": ["integer", "null"]},
            "change": _NUM,
            "county": _NS,
            "source": _S,
            # alternative criteria (…或…): the target is met when its own or any of these holds
            "alternatives": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "basis": {"type": "string", "enum": ["level", "change"]},
                        "comparison": _S,
                        "value": {"type": "number"},
                        "unit": _S,
                        "baseline": _NUM,
                        "baseline_year": {"type": ["integer", "null"]},
                        "text": _S,
                    },
                },
            },
        },
        "required": ["key", "group", "name", "value", "unit", "comparison", "due", "county"],
    },
    "TargetValue": _obj(
        {
            "period": _S,
            "period_end": _DATE,
            "value": {"type": "number"},
            "source": _S,
            "reported_at": _S,
            # the unit the value measures: the city, one county or one department (never the city's
            # figure unless "city")
            "unit": {"type": "string", "enum": ["city", "county", "department"]},
            "county": _NS,
            "department": _NS,
        }
    ),
    "Figure": _obj(
        {
            # the target's figure for its own unit (tracker.tasks.figures): "own" entered for the unit,
            # "rollup" summed from the counties (reported of expected), "none" (value null)
            "kind": {"type": "string", "enum": ["own", "rollup", "none"]},
            "value": _NUM,
            "period": _S,
            "counties_reported": {"type": "integer"},
            "counties_expected": {"type": "integer"},
        }
    ),
    "Target": {
        "allOf": [
            _ref("TargetBase"),
            {
                "type": "object",
                "properties": {"task": _NS, "values": _list("TargetValue"), "figure": _ref("Figure")},
                "required": ["task", "values", "figure"],
            },
        ]
    },
    "CheckIn": _obj(
        {
            "id": {"type": "integer"},
            "task": _S,
            "department": _S,
            "period": _S,
            "period_start": _DATE,
            "period_end": _DATE,
            "state": {"type": "string", "enum": list(CHECKIN_STATE_NAMES)},
            "status": _S,
            "percent": {"type": "integer"},
            "narrative": _S,
            "problems": _S,
            "next_steps": _S,
            "submitted_at": _NS,
            "supersedes": {"type": ["integer", "null"], "description": N_("被本报告取代的已退回报告")},
            "version_id": {"type": "integer", "description": N_("再次保存或审核时带回，用于发现并发修改")},
        }
    ),
    "Matrix": _obj(
        {
            "departments": {"type": "array", "items": _S},
            "tasks": {
                "type": "array",
                "items": _obj(
                    {
                        "code": _S,
                        "label": _S,
                        "title": _S,
                        "roles": {"type": "object", "additionalProperties": {"type": "string", "enum": list(ROLES)}},
                    }
                ),
            },
        }
    ),
}


_TEXT = {"type": "string", "maxLength": 20000}
_VERSION = {"type": "integer", "minimum": 1}
SCHEMAS["CheckInRequest"] = _obj(
    {
        "period": {
            "type": "string",
            "description": N_("报送期，如 2024Q2；缺省为本单位尚欠的最早一期（与网页表单相同）；须在任务的报送期限内"),
        },
        "status": {"type": "string", "enum": list(TASK_STATUSES)},
        "percent": {"type": "integer", "minimum": 0, "maximum": 100},
        "narrative": {**_TEXT, "description": N_("进展情况；提交时必填")},
        "problems": _TEXT,
        "next_steps": _TEXT,
        "values": {
            "type": "array",
            "items": _obj(
                {
                    "target_key": {"type": "string", "description": N_("本任务（及本单位所在县）的目标编号")},
                    "value": {"type": "number"},
                    "source": {"type": "string", "minLength": 1, "maxLength": 255, "description": N_("数据来源")},
                }
            ),
        },
        "submit": {"type": "boolean", "default": True, "description": N_("false：只保存草稿")},
        "version_id": {
            **_VERSION,
            "description": N_("修改草稿或修改已退回的报告时，带回该期最新一份报告的 version_id；新报告不带"),
        },
    },
    required=["status", "percent"],
)
SCHEMAS["ReviewRequest"] = _obj(
    {
        "decision": {"type": "string", "enum": ["approve", "return"]},
        "comment": {"type": "string", "maxLength": 5000, "description": N_("退回时必填")},
        "version_id": {**_VERSION, "description": N_("审核所依据的报告版本")},
    },
    required=["decision"],
)

SCHEMAS["TaskDetail"] = _obj(
    {
        **SCHEMAS["Task"]["properties"],
        "text": _S,
        "responsibility": _S,
        # the plan's open parties (各有关部门), as written: never expanded into department names
        "open_parties": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"text": _S, "role": {"type": "string", "enum": list(ROLES)}, "role_text": _S},
                "required": ["text", "role", "role_text"],
                "additionalProperties": False,
            },
        },
        "targets": _list("TargetBase"),
    }
)


def _param(name: str, schema: dict[str, Any], description: str, where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": schema, "description": description}


PLAN_KEY = _param("key", {"type": "string"}, N_("计划编号，如 anyang-14fyp-esr"), "path")

_ERRORS = {
    "400": N_("查询参数有误（fields 列出每个参数）"),
    "401": N_("缺少或无效的令牌"),
    "403": N_("无权查看"),
    "404": N_("不存在"),
    "429": N_("调用过于频繁"),
}


_WRITE_ERRORS = {
    "401": N_("缺少或无效的令牌"),
    "403": N_("无权操作（只有承担任务的单位的填报员可以报送，统筹协调人员可以审核；领导只读）"),
    "404": N_("不存在"),
    "409": N_("冲突：该期报告已提交或已审核通过，或 version_id 已过时（有人先保存了）"),
    "422": N_("请求内容有误（fields 列出每个有误的字段）"),
    "429": N_("调用过于频繁"),
}


def _responses(ok: str, schema: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    responses: dict[str, Any] = {ok: {"description": N_("成功"), "content": {"application/json": {"schema": schema}}}}
    for status, text in errors.items():
        responses[status] = {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}
    return responses


def _op(op_id: str, summary: str, schema: dict[str, Any], params: list[dict[str, Any]]) -> dict[str, Any]:
    responses = _responses("200", schema, _ERRORS)
    return {"get": {"operationId": op_id, "summary": summary, "parameters": params, "responses": responses}}


def _post(op_id: str, summary: str, ok: str, body: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "post": {
            "operationId": op_id,
            "summary": summary,
            "parameters": params,
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(body)}}},
            "responses": _responses(ok, _ref("CheckIn"), _WRITE_ERRORS),
        }
    }


PATHS: dict[str, Any] = {
    "/me": _op("me", N_("当前令牌所属的账号"), _ref("User"), []),
    "/plans": _op("plans", N_("全部计划"), _list("Plan"), []),
    "/plans/{key}": _op("plan", N_("一个计划及其部分"), _ref("PlanDetail"), [PLAN_KEY]),
    "/plans/{key}/tasks": _op(
        "tasks",
        N_("计划的任务，可按部分、单位、角色、状态、预警灯、截止日期筛选"),
        _list("Task"),
        [
            PLAN_KEY,
            _param("section", {"type": "string"}, N_("部分，如 三")),
            _param("department", {"type": "string"}, N_("单位全称；mine 表示本人所属单位")),
            _param(
                "role",
                {"type": "string", "enum": list(ROLES)},
                N_("单位在任务中的角色（与 department 同用时指该单位的角色）"),
            ),
            _param("status", {"type": "string", "enum": list(TASK_STATUSES)}, N_("任务状态")),
            _param(
                "light",
                {"type": "string", "enum": list(LIGHT_LABELS)},
                N_("预警灯（与领导视图同一规则，含“本期未报送”）"),
            ),
            _param("due_from", {"type": "string", "format": "date"}, N_("截止日期不早于")),
            _param("due_to", {"type": "string", "format": "date"}, N_("截止日期不晚于")),
        ],
    ),
    "/plans/{key}/tasks/{code}": _op(
        "task",
        N_("一项任务及其目标"),
        _ref("TaskDetail"),
        [PLAN_KEY, _param("code", {"type": "string"}, N_("任务编码，如 3.1"), "path")],
    ),
    "/plans/{key}/targets": _op(
        "targets",
        N_("计划的目标及报送的实际值"),
        _list("Target"),
        [
            PLAN_KEY,
            _param("group", {"type": "string", "enum": list(TARGET_GROUPS)}, N_("目标类别")),
            _param("county", {"type": "string"}, N_("县（市、区）名称")),
        ],
    ),
    "/plans/{key}/checkins": _op(
        "checkins",
        N_("进展报送（草稿仅本单位可见）"),
        _list("CheckIn"),
        [
            PLAN_KEY,
            _param("task", {"type": "string"}, N_("任务编码")),
            _param("department", {"type": "string"}, N_("单位全称；mine 表示本人所属单位")),
            _param("state", {"type": "string", "enum": list(CHECKIN_STATE_NAMES)}, N_("报告的状态")),
            _param("period", {"type": "string"}, N_("报送期，如 2024Q2")),
            _param("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}, N_("最多条数")),
            _param("offset", {"type": "integer", "minimum": 0, "default": 0}, N_("跳过条数")),
        ],
    ),
    "/plans/{key}/matrix": _op("matrix", N_("责任矩阵：任务 × 单位的角色"), _ref("Matrix"), [PLAN_KEY]),
    "/departments": _op("departments", N_("单位目录"), _list("Department"), []),
    "/tasks/{code}/checkins": _post(
        "checkin_create",
        N_("本单位报送（或保存草稿）一项任务的进展（plan 指定计划，缺省为当前计划）；与网页表单同一规则"),
        "201",
        "CheckInRequest",
        [
            _param("code", {"type": "string"}, N_("任务编码，如 3.1"), "path"),
            _param(
                "plan",
                {"type": "string"},
                N_("计划编号，如 anyang-14fyp-esr；缺省为今天所在的计划。几个计划的任务可能同一编码"),
            ),
        ],
    ),
    "/checkins/{id}/review": _post(
        "checkin_review",
        N_(
            "统筹协调人员（或管理员）审核一份已提交的报告：通过，或填写意见后退回；"
            "计划实行审核回避时，不能审核本单位的报告（403）"
        ),
        "200",
        "ReviewRequest",
        [_param("id", {"type": "integer"}, N_("报告编号"), "path")],
    ),
}


TITLE = N_("规划任务督办系统 API")
DESCRIPTION = N_(
    "读取计划、任务、目标与报送；报送进展与审核。"
    "调用时在请求头中带上个人令牌：Authorization: Bearer <令牌>"
    "（在“API 令牌”页面创建）。"
    '错误统一为 {"error": {"code", "message", "fields"}}；'
    "message 和 fields 的说明使用令牌所属账号设置的语言（未设置时按 Accept-Language），"
    "响应头 Content-Language 标明所用语言。"
)


def spec(server_url: str = "/api/v1") -> dict[str, Any]:
    """The description in the current language (the request's; outside a request, the site's).

    The texts are written above in Chinese and marked ``N_``; they are translated here, on a copy."""
    return _translated(
        {
            "openapi": "3.1.0",
            "info": {"title": TITLE, "version": "1.0.0", "description": DESCRIPTION},
            "servers": [{"url": server_url}],
            "security": [{"bearer": []}],
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                "schemas": SCHEMAS,
            },
            "paths": PATHS,
        }
    )


_TEXTS = {"title", "summary", "description"}


def _translated(node: Any, key: str | None = None) -> Any:
    """A copy of ``node`` with every text for people passed through gettext. Only string values of
    ``title``/``summary``/``description`` are texts; a property of that name is a schema (a dict)."""
    if isinstance(node, dict):
        return {k: _translated(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_translated(v) for v in node]
    if key in _TEXTS and isinstance(node, str):
        return _(node)
    return node


def parse_query(op_id: str, args: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The operation's query parameters, converted and checked against their schemas.

    Returns (values, problems by parameter name). Unknown parameters are ignored.
    """
    operation = next(op for item in PATHS.values() for op in item.values() if op["operationId"] == op_id)
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for param in operation["parameters"]:
        if param["in"] != "query":
            continue
        name, schema = param["name"], param["schema"]
        raw = args.get(name)
        if raw is None or raw == "":
            values[name] = schema.get("default")
            continue
        if "enum" in schema and raw not in schema["enum"]:
            problems[name] = _("应为 %(choices)s 之一", choices=" / ".join(schema["enum"]))
        elif schema.get("format") == "date":
            try:
                values[name] = date.fromisoformat(raw)
            except ValueError:
                problems[name] = _("应为日期 YYYY-MM-DD")
            continue
        elif schema["type"] == "integer":
            try:
                number = bounded_int(raw, low=-ID_MAX)  # ASCII digits, and no wider than the database's INTEGER
            except NumberError:
                problems[name] = _("应为整数")
                continue
            if number < schema.get("minimum", number) or number > schema.get("maximum", number):
                problems[name] = _(
                    "应在 %(min)s–%(max)s 之间", min=schema.get("minimum", ""), max=schema.get("maximum", "")
                )
            values[name] = number
            continue
        values[name] = raw
    return values, problems
