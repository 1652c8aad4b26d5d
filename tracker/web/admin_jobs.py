"""Coordinators' and administrators' view of the scheduled jobs and the email outbox."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import clock
from ..accounts.permissions import is_admin, is_coordinator
from ..clock import CITY_TZ
from ..extensions import db
from ..models import Department, JobRun, OutboxMessage, User, WorkdayOverride
from ..numbers import int_or_none
from ..reminders import mailer
from ..reminders.links import mask_links
from ..reminders.service import (
    RecipientError,
    recipients_for,
    set_recipients,
)
from ..scheduler import jobs
from ..tasks.queries import remove_workday_override, set_workday_override
from ..tasks.workdays import statutory_years
from .headers import EMAIL_PREVIEW_CSP, talisman

bp = Blueprint("admin_jobs", __name__, url_prefix="/admin")

OUTBOX_STATUSES = {
    "pending": _l("待发送"),
    "sending": _l("发送中"),
    "sent": _l("已发送"),
    "failed": _l("发送失败"),
    "held": _l("暂存"),
}


@bp.before_request
def coordinators_only() -> None:
    if not (current_user.is_authenticated and (is_coordinator(current_user) or is_admin(current_user))):
        abort(403)


@bp.get("/jobs")
def jobs_page() -> str:
    settings = jobs.ensure_job_settings()
    runs = db.session.scalars(db.select(JobRun).order_by(JobRun.id.desc()).limit(20)).all()
    return render_template("admin/jobs.html", settings=settings, runs=runs, tz=CITY_TZ)


@bp.post("/jobs/<path:job_id>")
def job_action(job_id: str) -> Response:
    action = request.form.get("action", "")
    try:
        if action == "pause":
            jobs.set_paused(job_id, True)
            flash(_("已暂停；定时任务进程将在一分钟内生效。"))
        elif action == "resume":
            jobs.set_paused(job_id, False)
            flash(_("已恢复；定时任务进程将在一分钟内生效。"))
        elif action == "run":
            jobs.request_run_now(job_id)
            flash(_("已请求立即运行；定时任务进程将在一分钟内执行。"))
        elif action == "cron":
            jobs.set_cron(job_id, request.form.get("cron", ""))
            flash(_("执行周期已保存；定时任务进程将在一分钟内按新周期重新安排。"))
        else:
            abort(400)
    except jobs.JobError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin_jobs.jobs_page"))


@bp.get("/outbox")
def outbox() -> str:
    query = db.select(OutboxMessage).order_by(OutboxMessage.id.desc())
    department_id = int_or_none(request.args.get("department"))
    status = request.args.get("status") or None
    if department_id:
        query = query.filter_by(department_id=department_id)
    if status:
        query = query.filter_by(status=status)
    messages = db.session.scalars(query.limit(500)).all()
    departments = db.session.scalars(db.select(Department).order_by(Department.position)).all()
    return render_template(
        "admin/outbox.html",
        messages=messages,
        departments=departments,
        names={d.id: d.name for d in departments},
        department_id=department_id,
        status=status,
        statuses=OUTBOX_STATUSES,
    )


@bp.get("/outbox/<int:message_id>")
@talisman(content_security_policy=EMAIL_PREVIEW_CSP)
def outbox_message(message_id: int) -> str:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    department = db.session.get(Department, message.department_id) if message.department_id else None
    # The body as sent, but with every signed link cut short: whoever reads the outbox must not be
    # able to act as the department the link was for.
    bodies = {"text": mask_links(message.body_text), "html": mask_links(message.body_html)}
    return render_template(
        "admin/message.html", m=message, bodies=bodies, department=department, statuses=OUTBOX_STATUSES
    )


@bp.post("/outbox/<int:message_id>/retry")
def outbox_retry(message_id: int) -> Response:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    department = db.session.get(Department, message.department_id) if message.department_id else None
    mailer.requeue(message, recipients_for(department) if department else None)
    flash(_("已重新排入发送队列。") if message.status == "pending" else message.last_error)
    return redirect(url_for("admin_jobs.outbox_message", message_id=message_id))


@bp.get("/recipients")
def recipients() -> str:
    departments = db.session.scalars(db.select(Department).order_by(Department.position)).all()
    staff = dict(
        db.session.execute(
            db.select(User.department_id, db.func.count())
            .filter_by(role="staff", active=True)
            .group_by(User.department_id)
        ).all()
    )
    return render_template("admin/recipients.html", departments=departments, staff=staff)


@bp.post("/recipients/<int:department_id>")
def recipients_save(department_id: int) -> Response:
    try:
        department = set_recipients(
            department_id,
            contact_emails=request.form.get("contact_emails", ""),
            remind_contacts=bool(request.form.get("remind_contacts")),
            remind_staff=bool(request.form.get("remind_staff")),
            version=int_or_none(request.form.get("version")) or 0,
            now=clock.now(),
            user_id=current_user.id,
        )
        flash(_("已保存 %(department_name)s 的提醒收件设置。", department_name=department.name))
    except RecipientError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin_jobs.recipients"))


@bp.get("/workdays")
def workdays_page() -> str:
    overrides = db.session.scalars(db.select(WorkdayOverride).order_by(WorkdayOverride.day.desc())).all()
    return render_template("admin/workdays.html", overrides=overrides, years=statutory_years())


@bp.post("/workdays")
def workdays_save() -> Response:
    try:
        day = date.fromisoformat(request.form.get("day", ""))
    except ValueError:
        flash(_("请填写有效日期，如 2027-10-08。"), "error")
        return redirect(url_for("admin_jobs.workdays_page"))
    if request.form.get("action") == "remove":
        remove_workday_override(day)
        flash(_("已删除 %(day)s 的本地调整。", day=day.isoformat()))
    else:
        is_workday = request.form.get("is_workday") == "1"
        set_workday_override(day, is_workday, request.form.get("note", ""))
        flash(
            _("%(day)s 已设为工作日。", day=day.isoformat())
            if is_workday
            else _("%(day)s 已设为休息日。", day=day.isoformat())
        )
    return redirect(url_for("admin_jobs.workdays_page"))
