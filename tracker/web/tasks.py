"""Task pages: the list of all measures by section, and one measure's page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import clock
from ..cache import cached_view
from ..models import Plan
from ..tasks.queries import assignments_by_role, current_plan, get_plan, get_task, tasks_by_section

bp = Blueprint("tasks", __name__)


@bp.get("/")
def home() -> Response:
    if current_user.role == "staff":
        return redirect(url_for("reports.my"))
    if current_user.role == "auditor":
        return redirect(url_for("security.audit_log"))
    if current_user.role == "security":
        return redirect(url_for("security.overview"))
    return redirect(url_for("leadership.dashboard"))


def _plan() -> Plan:
    """The plan named by ``?plan=KEY``, else the current one."""
    key = request.args.get("plan")
    return get_plan(key) if key else current_plan(clock.today())


@bp.get("/tasks")
@cached_view
def index() -> str:
    plan = _plan()
    return render_template("tasks/index.html", plan=plan, sections=tasks_by_section(plan))


@bp.get("/tasks/<code>")
@cached_view
def detail(code: str) -> str:
    plan = _plan()
    task = get_task(plan, code)
    return render_template("tasks/detail.html", plan=plan, task=task, by_role=assignments_by_role(task))
