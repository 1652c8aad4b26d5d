"""Task pages: the list of all measures by section, and one measure's page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import clock
from ..models import Plan
from ..tasks.queries import assignments_by_role, current_plan, get_plan, get_task, tasks_page

TASKS_PER_PAGE = 100  # the task list's page: a province plan (20,000 tasks) comes a hundred at a time

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
def index() -> str:
    plan = _plan()
    number = request.args.get("page", "")
    listing = tasks_page(plan, int(number) if number.isdigit() else 1, TASKS_PER_PAGE)
    return render_template("tasks/index.html", plan=plan, sections=listing.sections, listing=listing)


@bp.get("/tasks/<code>")
def detail(code: str) -> str:
    plan = _plan()
    task = get_task(plan, code)
    return render_template("tasks/detail.html", plan=plan, task=task, by_role=assignments_by_role(task))
