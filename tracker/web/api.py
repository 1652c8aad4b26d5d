"""``/api/v1``: the JSON API. Token auth (``Authorization: Bearer``), no session or CSRF, a per-token
rate limit, and errors as ``{"error": {"code", "message", "fields"}}``. Reads, plus two writes: a
department's check-in and a coordinator's review (``tracker.api.writes``, the web form's rules).

An error's ``message`` and ``fields`` are in the token owner's saved language, else the request's
Accept-Language, else the site's (the owner is ``current_user`` for the request, which
``tracker.i18n.select_locale`` reads); ``Content-Language`` says which. Codes stay as they are."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, g, render_template, request
from flask_babel import get_locale, refresh
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.wrappers import Response

from .. import clock
from ..api import listing, reads, writes
from ..api.openapi import parse_query, spec
from ..api.tokens import authenticate, rate_limit_hit
from ..cache import cached_view
from ..errors import ConflictError, NotFound, PermissionDenied, PlanClosed
from ..extensions import csrf, db
from ..i18n import HTML_LANG
from ..models import Department, User
from ..reports.service import ReportError
from ..tasks.lights import LightRule
from ..tasks.queries import get_plan, get_task
from .common import request_plan

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

OPEN = {"api.openapi_json", "api.docs"}


def jsonify(data: Any) -> Response:
    """JSON with Chinese left readable (UTF-8), not escaped to \\uXXXX."""
    return current_app.response_class(json.dumps(data, ensure_ascii=False), mimetype="application/json")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def _error(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[Response, int]:
    response, status = _error(exc.status, exc.code, exc.message, exc.fields)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="tracker"'
    return response, status


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> tuple[Response, int]:
    return _error(404, "not_found", str(exc))


@bp.errorhandler(PermissionDenied)
def _forbidden(exc: PermissionDenied) -> tuple[Response, int]:
    return _error(403, "forbidden", str(exc))


@bp.errorhandler(writes.InvalidBody)
def _invalid(exc: writes.InvalidBody) -> tuple[Response, int]:
    db.session.rollback()
    return _error(422, "invalid_body", str(exc), exc.fields)


@bp.errorhandler(ReportError)
def _refused(exc: ReportError) -> tuple[Response, int]:
    # The API checks bodies field by field first; a rule only the service knows still answers 422.
    db.session.rollback()
    return _error(422, "invalid_body", str(exc))


@bp.errorhandler(PlanClosed)
def _plan_closed(exc: PlanClosed) -> tuple[Response, int]:
    db.session.rollback()
    return _error(409, "plan_closed", str(exc))


@bp.errorhandler(ConflictError)
def _conflict(exc: ConflictError) -> tuple[Response, int]:
    db.session.rollback()
    return _error(409, "conflict", str(exc))


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> tuple[Response, int]:
    return _error(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")


@bp.before_request
def _authenticate() -> None:
    if request.endpoint in OPEN:
        return
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    token = authenticate(secret.strip(), now=clock.now()) if scheme.lower() == "bearer" else None
    if token is None:
        raise ApiError(401, "unauthorized", _("缺少或无效的 API 令牌（Authorization: Bearer <令牌>）"))
    _act_as(token.user)
    allowed, reset = rate_limit_hit(
        token.id,
        limit=current_app.config.get("API_RATE_LIMIT", 300),
        window=current_app.config.get("API_RATE_WINDOW", 60),
    )
    if not allowed:
        g.retry_after = reset
        raise ApiError(429, "rate_limited", _("调用过于频繁，请 %(seconds)s 秒后再试", seconds=reset))
    g.api_user = token.user


def _act_as(user: User) -> None:
    """The token's owner is the request's user: ``current_user`` for this request only (the
    session is not touched), so the language is the owner's saved choice, else Accept-Language."""
    g._login_user = user  # what Flask-Login's current_user reads; login_user() would write the session
    refresh()  # choose the language again, now for this user


@bp.after_request
def _headers(response: Response) -> Response:
    if retry := g.get("retry_after"):
        response.headers["Retry-After"] = str(retry)
    response.headers["Cache-Control"] = "no-store"
    # The language this request chose (the owner's, once authenticated: _act_as), not chosen again.
    response.headers["Content-Language"] = HTML_LANG.get(str(get_locale()), "zh-CN")
    return response


def _user() -> User:
    return g.api_user


def _query(op_id: str) -> dict[str, Any]:
    values, problems = parse_query(op_id, request.args)
    if problems:
        raise ApiError(400, "invalid_parameter", _("查询参数有误"), problems)
    return values


def _department(name: str | None, param: str = "department") -> Department | None:
    if not name:
        return None
    if name == "mine":
        if _user().department is None:
            raise ApiError(400, "invalid_parameter", _("查询参数有误"), {param: _("您的账号不属于任何单位")})
        return _user().department
    dept = db.session.scalar(db.select(Department).filter_by(name=name))
    if dept is None:
        raise ApiError(400, "invalid_parameter", _("查询参数有误"), {param: _("没有名为 %(name)s 的单位", name=name)})
    return dept


def _rule() -> LightRule:
    return LightRule(**current_app.config["LIGHT_RULE"])


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(spec(request.script_root + "/api/v1"))


@bp.get("/docs")
def docs() -> str:
    return render_template("api/docs.html", spec=spec(request.script_root + "/api/v1"))


@bp.get("/me")
def me() -> Response:
    return jsonify(reads.user_json(_user()))


@bp.get("/plans")
def plans() -> Response:
    return jsonify(reads.plans())


@bp.get("/plans/<key>")
def plan(key: str) -> Response:
    return jsonify(reads.plan_detail(get_plan(key)))


@bp.get("/plans/<key>/tasks")
@cached_view
def tasks(key: str) -> Response:
    q = _query("tasks")
    the_plan = get_plan(key)
    f = reads.TaskFilter(
        section=q["section"],
        department=_department(q["department"]),
        role=q["role"],
        status=q["status"],
        light=q["light"],
        due_from=q["due_from"],
        due_to=q["due_to"],
    )
    return jsonify(reads.tasks(the_plan, f, today=clock.today(), rule=_rule()))


@bp.get("/plans/<key>/tasks/<code>")
def task(key: str, code: str) -> Response:
    return jsonify(reads.task_detail(get_task(get_plan(key), code), today=clock.today(), rule=_rule()))


@bp.get("/plans/<key>/targets")
def targets(key: str) -> Response:
    q = _query("targets")
    return jsonify(reads.targets(get_plan(key), _user(), group=q["group"], county=q["county"]))


@bp.get("/plans/<key>/checkins")
def checkins(key: str) -> Response:
    q = _query("checkins")
    the_plan = get_plan(key)
    rows = reads.checkins(
        the_plan,
        _user(),
        task=q["task"],
        department=_department(q["department"]),
        state=q["state"],
        period=q["period"],
        limit=q["limit"],
        offset=q["offset"],
    )
    return jsonify(rows)


@bp.get("/plans/<key>/matrix")
def matrix(key: str) -> Response:
    return jsonify(reads.matrix(get_plan(key)))


@bp.get("/departments")
def departments() -> Response:
    return jsonify(reads.departments())


def _body() -> Any:
    """The JSON body, or None when there is none or it does not parse (answered as 422)."""
    try:
        return request.get_json(silent=True, force=True)
    except RecursionError:  # absurdly deep nesting is not a body we take either
        return None


@bp.post("/tasks/<code>/checkins")
def checkin_create(code: str) -> tuple[Response, int]:
    # ?plan=KEY names the task's plan (an unknown key: 404); without it, the plan running today.
    checkin = writes.submit_checkin(_user(), request_plan, code, _body(), today=clock.today(), now=clock.now())
    return jsonify(reads.checkin_json(checkin)), 201


@bp.post("/checkins/<int:checkin_id>/review")
def checkin_review(checkin_id: int) -> Response:
    return jsonify(reads.checkin_json(writes.review(_user(), checkin_id, _body(), now=clock.now())))


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str) -> Response:
    adapter = current_app.url_map.bind("")
    allowed = []
    for method in ("GET", "POST"):
        try:
            endpoint, _args = adapter.match(request.path, method=method)
        except (HTTPNotFound, MethodNotAllowed):
            continue
        if endpoint != "api.unknown":
            allowed.append(method)
    if not allowed:
        raise ApiError(404, "not_found", _("没有这个接口"))
    raise ApiError(
        405,
        "method_not_allowed",
        _("此接口只支持 %(methods)s（%(method)s 不可用）", methods=listing(allowed), method=request.method),
    )
