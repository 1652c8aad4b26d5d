"""Graph pages: the task dependency graph, the department network, exports, and the coordinators'
page for dependencies and contributions. Views parse the request, call one service, render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from .. import clock
from ..accounts.permissions import can_edit_plan
from ..cache import cached_view
from ..errors import DependencyCycleError, TrackerError
from ..graph import service
from ..numbers import LAG_MAX, NumberError, bounded_int
from .common import request_plan

bp = Blueprint("graph", __name__)


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    return int(value) if value.isdigit() else None


@bp.get("/graph")
@cached_view
def index() -> str:
    filters = service.GraphFilters(
        section=_int_arg("section"),
        department=request.args.get("department") or None,
        around=request.args.get("task") or None,
        targets=request.args.get("targets", "city"),
    )
    plan = request_plan()
    view = service.dependency_overview(plan, filters, clock.today())
    return render_template("graph/index.html", plan=plan, filters=filters, target_views=service.TARGET_VIEWS, **view)


@bp.get("/graph/departments")
@cached_view
def departments() -> str:
    include_implementing = request.args.get("implementing") == "1"
    min_weight = _int_arg("min") or 1
    plan = request_plan()
    view = service.department_overview(plan, include_implementing=include_implementing, min_weight=min_weight)
    return render_template(
        "graph/departments.html", plan=plan, include_implementing=include_implementing, min_weight=min_weight, **view
    )


@bp.get("/graph.<fmt>")
def export(fmt: str) -> Response:
    if fmt not in service.EXPORT_FORMATS:
        abort(404)
    plan = request_plan()
    body = stream_with_context(chunk.encode("utf-8") for chunk in service.export_chunks(plan, fmt))
    response = Response(body, mimetype=service.EXPORT_FORMATS[fmt])
    response.headers["Content-Disposition"] = f"attachment; filename={plan.key}-graph.{fmt}"
    return response


@bp.get("/graph/links")
@cached_view
def links() -> str:
    plan = request_plan()
    return render_template("graph/links.html", plan=plan, **service.link_lists(plan))


def _require_coordinator() -> None:
    if not can_edit_plan(current_user):
        abort(403)


def _refused(plan_error: TrackerError) -> tuple[str, int]:
    plan = request_plan()
    status = 409 if isinstance(plan_error, DependencyCycleError) else 400
    return render_template("graph/links.html", plan=plan, error=str(plan_error), **service.link_lists(plan)), status


def _who() -> dict[str, Any]:
    return {"now": clock.now(), "user_id": current_user.id, "actor": current_user.email}


@bp.post("/graph/dependencies")
def add_dependency() -> BaseResponse | tuple[str, int]:
    _require_coordinator()
    form = request.form
    try:
        lag = bounded_int(form.get("lag_days") or 0, high=LAG_MAX)
        plan = request_plan()
        service.add_dependency(
            plan,
            form.get("task", ""),
            form.get("depends_on", ""),
            rationale=form.get("rationale", ""),
            lag_days=lag,
            **_who(),
        )
    except NumberError as exc:
        return _refused(service.LinkError(_("滞后天数：%(problem)s", problem=str(exc))))
    except (DependencyCycleError, service.LinkError) as exc:
        return _refused(exc)
    flash(_("已添加依赖关系。"), "success")
    return redirect(url_for("graph.links"))


@bp.post("/graph/dependencies/<int:dependency_id>/delete")
def remove_dependency(dependency_id: int) -> BaseResponse:
    _require_coordinator()
    service.remove_dependency(request_plan(), dependency_id, **_who())
    flash(_("已删除依赖关系（历史记录已保留）。"), "success")
    return redirect(url_for("graph.links"))


@bp.post("/graph/contributions")
def add_contribution() -> BaseResponse | tuple[str, int]:
    _require_coordinator()
    form = request.form
    try:
        service.add_contribution(
            request_plan(),
            form.get("task", ""),
            form.get("target", ""),
            rationale=form.get("rationale", ""),
            **_who(),
        )
    except service.LinkError as exc:
        return _refused(exc)
    flash(_("已添加贡献关系。"), "success")
    return redirect(url_for("graph.links"))


@bp.post("/graph/contributions/<int:contribution_id>/delete")
def remove_contribution(contribution_id: int) -> BaseResponse:
    _require_coordinator()
    service.remove_contribution(request_plan(), contribution_id, **_who())
    flash(_("已删除贡献关系（历史记录已保留）。"), "success")
    return redirect(url_for("graph.links"))
