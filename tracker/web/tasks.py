"""Task pages: the list of all measures by section, and one measure's page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..tasks.queries import assignments_by_role, get_task, tasks_by_section
from .common import request_plan

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


@bp.get("/tasks")
def index() -> str:
    plan = request_plan()
    return render_template("tasks/index.html", plan=plan, sections=tasks_by_section(plan))


@bp.get("/tasks/<code>")
def detail(code: str) -> str:
    plan = request_plan()
    task = get_task(plan, code)
    return render_template("tasks/detail.html", plan=plan, task=task, by_role=assignments_by_role(task))
