"""Coordinators edit the plan as it runs: a task's title, deadline and reporting cycle, its
departments' roles, departments' contacts. Every change is recorded; stale saves answer 409."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from .. import clock
from ..accounts import permissions
from ..errors import NotFound
from ..extensions import db
from ..models import Assignment, Department, Task
from ..models.plan import REPORTING_CYCLES
from ..numbers import int_or_none
from ..reports.assignments import removal_refusal, remove_assignment, replace_assignment, update_assignment
from ..reports.service import (
    ASSIGNMENT_FIELDS,
    TASK_EDIT_FIELDS,
    ReportError,
    StaleEdit,
    add_assignment,
    snapshot,
    update_contacts,
    update_task,
)
from .common import DateInput, choices, conflict_rows, require, task_by_code

bp = Blueprint("manage", __name__)


def _stale(form: Any, field: Any, exc: StaleEdit, current_version: int) -> tuple[list[Any], int]:
    """Someone saved first: show what changed, keep the user's input, and let a second save overwrite
    knowingly (the form now carries the current version)."""
    db.session.rollback()
    conflict = conflict_rows(form.original.data, exc.current)
    field.errors = [str(exc)]
    form.version_id.data = str(current_version)
    form.original.data = json.dumps(exc.current, ensure_ascii=False)
    return conflict, 409


class TaskEditForm(FlaskForm):
    title = StringField(_l("任务名称"), validators=[DataRequired(_l("任务名称不能为空")), Length(max=200)])
    due = DateInput(_l("完成时限"), validators=[InputRequired(_l("请填写完成时限（如 2025-06-30）"))])
    reporting_cycle = SelectField(
        _l("报送周期"), choices=choices(REPORTING_CYCLES), validate_choice=False
    )  # the service says why
    version_id = HiddenField()
    original = HiddenField()


@bp.route("/tasks/<code>/edit", methods=["GET", "POST"])
def edit_task(code: str) -> str | Response | tuple[str, int]:
    require(
        current_user.is_authenticated and permissions.can_edit_plan(current_user), _("只有统筹协调人员可以编辑任务。")
    )
    task = task_by_code(code)
    form = TaskEditForm(obj=task if request.method == "GET" else None)
    conflict = None
    status = 200
    if request.method == "GET":
        form.version_id.data = str(task.version_id)
        form.original.data = json.dumps(snapshot(task, TASK_EDIT_FIELDS), ensure_ascii=False)
    else:
        status = 400
        if form.validate_on_submit():
            values = {
                "title": (form.title.data or "").strip(),
                "due": form.due.data,
                "reporting_cycle": form.reporting_cycle.data,
            }
            try:
                update_task(
                    task=task,
                    values=values,
                    version_id=int_or_none(form.version_id.data),
                    now=clock.now(),
                    user_id=current_user.id,
                )
            except StaleEdit as exc:
                conflict, status = _stale(form, form.title, exc, task.version_id)
            except ReportError as exc:
                db.session.rollback()
                form.title.errors = [str(exc)]
            else:
                flash(_("任务已更新。"))
                return redirect(url_for("tasks.detail", code=code))
    return render_template("manage/edit_task.html", task=task, form=form, conflict=conflict), status


class ContactsForm(FlaskForm):
    contact_emails = TextAreaField(_l("联系邮箱（逗号分隔）"), validators=[Length(max=2000)])
    version_id = HiddenField()
    original = HiddenField()


@bp.route("/departments/<int:department_id>/contacts", methods=["GET", "POST"])
def contacts(department_id: int) -> str | Response | tuple[str, int]:
    require(
        current_user.is_authenticated and permissions.can_edit_plan(current_user), _("只有统筹协调人员可以修改联系人。")
    )
    department = db.session.get(Department, department_id)
    if department is None:
        raise NotFound(_("没有这个单位。"))
    form = ContactsForm()
    conflict = None
    status = 200
    if request.method == "GET":
        form.contact_emails.data = department.contact_emails
        form.version_id.data = str(department.version_id)
        form.original.data = json.dumps(snapshot(department, ("contact_emails",)), ensure_ascii=False)
    elif form.validate_on_submit():
        try:
            update_contacts(
                department=department,
                contact_emails=form.contact_emails.data or "",
                version_id=int_or_none(form.version_id.data),
                now=clock.now(),
                user_id=current_user.id,
            )
        except StaleEdit as exc:
            conflict, status = _stale(form, form.contact_emails, exc, department.version_id)
        except ReportError as exc:
            db.session.rollback()
            form.contact_emails.errors = [str(exc)]
            status = 400
        else:
            flash(_("联系人已更新。"))
            return redirect(url_for("manage.contacts", department_id=department_id))
    else:
        status = 400
    return render_template("manage/contacts.html", department=department, form=form, conflict=conflict), status


@bp.route("/tasks/<code>/assignments", methods=["GET", "POST"])
def assignments(code: str) -> str | Response | tuple[str, int]:
    """Coordinators: the task's departments; edit a role (POST to edit_assignment) or add one (POST here)."""
    require(
        current_user.is_authenticated and permissions.can_edit_plan(current_user),
        _("只有统筹协调人员可以调整责任分工。"),
    )
    task = task_by_code(code)
    error = None
    status = 200
    if request.method == "POST":
        try:
            add_assignment(
                task=task,
                department_id=int_or_none(request.form.get("department_id")) or 0,
                role=request.form.get("role", ""),
                now=clock.now(),
                user_id=current_user.id,
            )
        except ReportError as exc:
            db.session.rollback()
            error, status = str(exc), 400
        else:
            flash(_("已添加责任单位。"))
            return redirect(url_for("manage.assignments", code=code))
    return _assignments_page(task, error=error, status=status)


def _assignments_page(
    task: Task, *, error: str | None = None, status: int = 200, conflict: Any = None, kept: dict[str, str] | None = None
) -> tuple[str, int]:
    departments = list(db.session.scalars(db.select(Department).order_by(Department.position, Department.id)))
    taken = {a.department_id for a in task.assignments}
    originals = {a.id: json.dumps(snapshot(a, ASSIGNMENT_FIELDS), ensure_ascii=False) for a in task.assignments}
    return render_template(
        "manage/assignments.html",
        task=task,
        departments=[d for d in departments if d.id not in taken and d.active],  # a deactivated one takes no new duty
        originals=originals,
        error=error,
        conflict=conflict,
        kept=kept or {},
    ), status


@bp.post("/assignments/<int:assignment_id>")
def edit_assignment(assignment_id: int) -> Response | tuple[str, int]:
    require(
        current_user.is_authenticated and permissions.can_edit_plan(current_user),
        _("只有统筹协调人员可以调整责任分工。"),
    )
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound(_("没有这条责任分工。"))
    task = assignment.task
    values = {name: request.form.get(name, "").strip() for name in ASSIGNMENT_FIELDS}
    try:
        update_assignment(
            assignment=assignment,
            values=values,
            version_id=int_or_none(request.form.get("version_id")),
            now=clock.now(),
            user_id=current_user.id,
        )
    except StaleEdit as exc:
        db.session.rollback()
        rows = conflict_rows(request.form.get("original"), exc.current)
        return _assignments_page(
            task, error=str(exc), status=409, conflict=rows, kept={"id": str(assignment_id), **values}
        )
    except ReportError as exc:
        db.session.rollback()
        return _assignments_page(task, error=str(exc), status=400, kept={"id": str(assignment_id), **values})
    flash(_("责任分工已更新。"))
    return redirect(url_for("manage.assignments", code=task.code))


@bp.route("/assignments/<int:assignment_id>/change", methods=["GET", "POST"])
def change_assignment(assignment_id: int) -> str | Response | tuple[str, int]:
    """Take a department off the task, or put another in its place (same role); refused with the reason
    where the department has reports on the task."""
    require(
        current_user.is_authenticated and permissions.can_edit_plan(current_user),
        _("只有统筹协调人员可以调整责任分工。"),
    )
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound(_("没有这条责任分工。"))
    task = assignment.task
    error, status = None, 200
    if request.method == "POST":
        action = request.form.get("action", "")
        version_id = int_or_none(request.form.get("version_id"))
        try:
            if action == "replace":
                row = replace_assignment(
                    assignment=assignment,
                    department_id=int_or_none(request.form.get("department_id")) or 0,
                    version_id=version_id,
                    now=clock.now(),
                    user_id=current_user.id,
                )
                flash(_("已由 %(new)s 接替。", new=row.department.name))
            elif action == "remove":
                name = assignment.department.name
                remove_assignment(
                    assignment=assignment, version_id=version_id, now=clock.now(), user_id=current_user.id
                )
                flash(_("已将 %(name)s 移出本任务的责任单位。", name=name))
            else:
                raise ReportError(_("请选择替换或移除。"))
        except (ReportError, StaleEdit) as exc:
            db.session.rollback()
            error, status = str(exc), 409 if isinstance(exc, StaleEdit) else 400
            assignment = db.session.get(Assignment, assignment_id)
            if assignment is None:
                raise NotFound(_("没有这条责任分工。")) from None
        else:
            return redirect(url_for("manage.assignments", code=task.code))
    taken = {a.department_id for a in task.assignments}
    departments = db.session.scalars(db.select(Department).order_by(Department.position, Department.id))
    return render_template(
        "manage/change_assignment.html",
        assignment=assignment,
        task=task,
        refusal=removal_refusal(assignment, replacing=True),
        remove_refusal=removal_refusal(assignment),
        departments=[d for d in departments if d.id not in taken and d.active],
        error=error,
        chosen=request.form.get("department_id", ""),
    ), status
