"""Task pages: the list of all measures by section, and one measure's page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import clock
from ..accounts import permissions
from ..cache import cached_view
from ..extensions import db
from ..models import Department, Plan, Task
from ..models.org import ROLE_ORDER
from ..plans.parties import OpenPartyError, name_departments, open_parties_of
from ..tasks.queries import assignments_by_role, get_task, tasks_page
from .common import request_plan, require

TASKS_PER_PAGE = 100  # the task list's page: a province plan (20,000 tasks) comes a hundred at a time

bp = Blueprint("tasks", __name__)


@bp.get("/")
def home() -> Response:
    if current_user.role == "staff":
        return redirect(url_for("reports.my"))
    if current_user.role == "head":
        return redirect(url_for("signoff.queue"))
    if current_user.role == "auditor":
        return redirect(url_for("security.audit_log"))
    if current_user.role == "security":
        return redirect(url_for("security.overview"))
    return redirect(url_for("leadership.dashboard"))


@bp.get("/tasks")
@cached_view
def index() -> str:
    plan = request_plan()
    number = request.args.get("page", "")
    listing = tasks_page(plan, int(number) if number.isdigit() else 1, TASKS_PER_PAGE)
    return render_template("tasks/index.html", plan=plan, sections=listing.sections, listing=listing)


@bp.get("/tasks/<code>")
@cached_view
def detail(code: str) -> str:
    plan = request_plan()
    page, _status = _detail_page(plan, get_task(plan, code))
    return page  # a plain page: the cache keeps it (cached_view passes a (page, status) pair through)


def _detail_page(plan: Plan, task: Task, *, error: str | None = None, status: int = 200) -> tuple[str, int]:
    parties = open_parties_of(task)
    candidates: list[Department] = []
    if parties and current_user.is_authenticated and permissions.can_edit_plan(current_user):
        taken = {a.department_id for a in task.assignments}
        candidates = [
            d
            for d in db.session.scalars(db.select(Department).order_by(Department.position, Department.id))
            if d.active and d.id not in taken
        ]
    by_role = dict(assignments_by_role(task))
    # each role's departments, then the plan's open parties of that role (各有关部门（未具名）)
    role_rows = [
        (role, by_role.get(role, []), [p for p in parties if p.role == role])
        for role in ROLE_ORDER
        if by_role.get(role) or any(p.role == role for p in parties)
    ]
    return render_template(
        "tasks/detail.html",
        plan=plan,
        task=task,
        role_rows=role_rows,
        parties=parties,
        candidates=candidates,
        error=error,
    ), status


@bp.post("/tasks/<code>/open-parties")
def name_open_party(code: str) -> Response | tuple[str, int]:
    """Coordinators name departments for one of the task's open parties (各有关部门); recorded."""
    require(
        current_user.is_authenticated and permissions.can_edit_plan(current_user),
        _("只有统筹协调人员可以调整责任分工。"),
    )
    plan = request_plan()
    task = get_task(plan, code)
    try:
        rows = name_departments(
            task=task,
            party=request.form.get("party", ""),
            department_ids=request.form.getlist("department_id"),
            now=clock.now(),
            user_id=current_user.id,
        )
    except OpenPartyError as exc:
        db.session.rollback()
        return _detail_page(plan, task, error=str(exc), status=400)
    flash(_("已点名 %(n)s 个单位。", n=len(rows)))
    return redirect(url_for("tasks.detail", code=code))
