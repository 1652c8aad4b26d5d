"""Departments report progress; coordinators review. Views parse the form, call one service, render.

Every mutating route checks the permission rule on the server (``tracker/accounts/permissions.py``);
a stale save answers 409 with what changed meanwhile and the user's input kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response
from wtforms import HiddenField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from .. import clock
from ..accounts import permissions
from ..errors import NotFound
from ..extensions import db
from ..i18n import Labels, day, moment
from ..models import Attachment, CheckIn, Department, ExtensionRequest, Task
from ..models.org import ROLES
from ..models.plan import REPORTING_CYCLES, TASK_STATUSES
from ..models.progress import CHECKIN_STATES
from ..numbers import NumberError, finite_number, int_or_none
from ..reports import queries
from ..reports.attachments import AttachmentError, check_upload, download_name, store_attachment, stored_path
from ..reports.service import (
    CHECKIN_FIELDS,
    CheckInData,
    ReportError,
    StaleEdit,
    SubTaskData,
    ValueInput,
    acknowledge,
    closure_label,
    create_subtask,
    decide_extension,
    is_closing_request,
    latest_checkin,
    reportable_targets,
    reporting_period,
    request_extension,
    review_checkin,
    save_checkin,
    snapshot,
)
from .common import DateInput, choices, conflict_rows, require, task_by_code
from .grants import grant_for

bp = Blueprint("reports", __name__)

HISTORY_FIELDS = {
    "status": _l("状态"),
    "progress": _l("进度"),
    "closed_on": _l("销号日期"),
    "due": _l("完成时限"),
    "title": _l("任务名称"),
    "reporting_cycle": _l("报送周期"),
    "acknowledged_at": _l("签收时间"),
    "acknowledged_by_id": _l("签收人"),
    "contact_emails": _l("联系邮箱"),
    "role": _l("角色"),
    "role_text": _l("原文表述"),
    "note": _l("备注"),
}
HISTORY_ACTIONS = {
    "create": _l("创建"),
    "breakdown": _l("分解出子任务"),
    "extension_request": _l("申请延期"),
    "extension_rejected": _l("延期被驳回"),
}


@bp.record_once
def _globals(state: Any) -> None:
    state.app.jinja_env.globals.update(
        CHECKIN_STATES=Labels(CHECKIN_STATES), HISTORY_FIELDS=HISTORY_FIELDS, HISTORY_ACTIONS=HISTORY_ACTIONS
    )


@bp.app_template_filter("history_value")
def history_value(value: str | None, field: str) -> str:
    """A history value as a reader knows it: labels for codes, city time for instants."""
    if value is None:
        return ""
    if field == "status":
        return _(TASK_STATUSES[value]) if value in TASK_STATUSES else value
    if field == "reporting_cycle":
        return _(REPORTING_CYCLES[value]) if value in REPORTING_CYCLES else value
    if field == "role":
        return _(ROLES[value]) if value in ROLES else value
    if field == "acknowledged_at":
        try:
            return city_time(datetime.fromisoformat(value))
        except ValueError:
            return value
    # An assignment is recorded in words, its role last: 3.1 · 林州市人民政府 · 落实
    head, sep, last = value.rpartition(" · ")
    if sep and last in ROLES.values():
        return head + sep + _(last)
    return value


@bp.app_template_filter("city_time")
def city_time(instant: datetime | None) -> str:
    """A stored instant (UTC) as the city's date and time, written as the reader's language writes them."""
    return moment(instant.astimezone(clock.CITY_TZ)) if instant else ""


@bp.app_template_filter("city_day")
def city_day(instant: datetime | None) -> str:
    """A stored instant (UTC) as the city's date."""
    return day(instant.astimezone(clock.CITY_TZ).date()) if instant else "—"


@bp.app_template_global("report_panel")
def report_panel(task: Task) -> dict[str, Any]:
    """What the task page's report section shows, and which buttons the viewer gets."""
    user = current_user
    department_id = user.department_id if user.is_authenticated else None
    reports = queries.task_reports(task, department_id)
    mine = next((a for a in task.assignments if a.department_id == department_id), None)
    closure = closure_label(task)
    return {
        "reports": reports,
        "closure": _(closure) if closure else None,
        "can_report": user.is_authenticated and permissions.can_report(user, task.assignments),
        "can_extend": user.is_authenticated and permissions.can_request_extension(user, task.assignments),
        "can_break_down": user.is_authenticated and permissions.can_break_down(user, task.assignments),
        "can_edit": user.is_authenticated and permissions.can_edit_plan(user),
        "unacknowledged": mine if mine is not None and mine.acknowledged_at is None and user.role == "staff" else None,
        "primary": permissions.primary_department_ids(task.assignments),
    }


# --- the report form -----------------------------------------------------------------------------


class CheckInForm(FlaskForm):
    status = SelectField(
        _l("状态"), choices=choices(TASK_STATUSES), validators=[DataRequired(_l("请选择状态"))], validate_choice=False
    )
    percent = StringField(_l("完成百分比（%）"), validators=[InputRequired(_l("请填写完成百分比（0—100）"))])
    narrative = TextAreaField(_l("进展情况"), validators=[Length(max=20000)])
    problems = TextAreaField(_l("存在问题"), validators=[Length(max=20000)])
    next_steps = TextAreaField(_l("下步计划"), validators=[Length(max=20000)])
    evidence = MultipleFileField(_l("佐证材料"))
    checkin_id = HiddenField()
    version_id = HiddenField()
    original = HiddenField()


@dataclass
class Reporter:
    department: Department
    user_id: int | None
    grant_period: str | None


def _reporter(task: Task) -> Reporter:
    """Who reports: a staff member of a department with a role, or the holder of a signed link."""
    if current_user.is_authenticated:
        require(
            permissions.can_report(current_user, task.assignments),
            _("只有承担本任务的单位的填报员才能报送进展。"),
        )
        department = db.session.get(Department, current_user.department_id)
        assert department is not None
        return Reporter(department, current_user.id, None)
    grant = grant_for(session, task.code, now=clock.now())
    require(grant is not None)
    assert grant is not None
    department = db.session.get(Department, grant["department_id"])
    require(department is not None and any(a.department_id == department.id for a in task.assignments))
    assert department is not None
    return Reporter(department, None, grant.get("period"))


def _prefill(form: CheckInForm, checkin: CheckIn) -> None:
    form.status.data = checkin.status
    form.percent.data = str(checkin.percent)
    form.narrative.data = checkin.narrative
    form.problems.data = checkin.problems
    form.next_steps.data = checkin.next_steps


def _parse_values(targets: list[Any]) -> tuple[list[ValueInput], dict[int, str], dict[int, tuple[str, str]]]:
    values: list[ValueInput] = []
    errors: dict[int, str] = {}
    raw: dict[int, tuple[str, str]] = {}
    for t in targets:
        text = request.form.get(f"value-{t.id}", "").strip()
        source = request.form.get(f"source-{t.id}", "").strip()
        raw[t.id] = (text, source)
        if not text:
            if source:
                errors[t.id] = _("填写了来源，请同时填写实际值。")
            continue
        try:
            number = finite_number(text)
        except NumberError as exc:
            errors[t.id] = str(exc)
            continue
        if not source:
            errors[t.id] = _("请注明数据来源。")
            continue
        values.append(ValueInput(t.id, number, source))
    return values, errors, raw


def _read_post(
    form: CheckInForm, targets: list[Any], submit: bool
) -> tuple[CheckInData | None, list[tuple[str, bytes]], dict[int, str], dict[int, tuple[str, str]]]:
    """The posted report, or None with the errors set on the form; files checked by content."""
    values, target_errors, raw_values = _parse_values(targets)
    ok = form.validate_on_submit() and not target_errors
    percent = int_or_none(form.percent.data, high=100)
    if percent is None:
        form.percent.errors = [*form.percent.errors, _("完成百分比应为 0 到 100 之间的整数。")]
        ok = False
    if submit and not (form.narrative.data or "").strip():
        form.narrative.errors = [*form.narrative.errors, _("提交前请填写进展情况。")]
        ok = False
    uploads: list[tuple[str, bytes]] = []
    for f in form.evidence.data or []:
        if not isinstance(f, FileStorage) or not f.filename:
            continue
        data = f.read()
        try:
            check_upload(f.filename, data, current_app.config["MAX_UPLOAD_MB"])
        except AttachmentError as exc:
            form.evidence.errors = [*form.evidence.errors, str(exc)]
            ok = False
        else:
            uploads.append((f.filename, data))
    if not ok:
        return None, uploads, target_errors, raw_values
    data_in = CheckInData(
        status=form.status.data or "",
        percent=percent or 0,
        narrative=(form.narrative.data or "").strip(),
        problems=(form.problems.data or "").strip(),
        next_steps=(form.next_steps.data or "").strip(),
        values=values,
    )
    return data_in, uploads, target_errors, raw_values


@bp.route("/tasks/<code>/report", methods=["GET", "POST"])
def form(code: str) -> str | Response | tuple[str, int]:
    task = task_by_code(code)
    reporter = _reporter(task)
    try:
        period = reporting_period(task, clock.today(), request.args.get("period") or reporter.grant_period)
    except ValueError as exc:
        return render_template("error.html", title=_("报送期有误"), message=str(exc)), 400
    targets = reportable_targets(task, reporter.department)
    current = latest_checkin(task.id, reporter.department.id, period.key)
    form = CheckInForm()
    target_errors: dict[int, str] = {}
    raw_values: dict[int, tuple[str, str]] = {}
    conflict: list[tuple[str, Any, Any]] | None = None
    conflict_message = ""
    status = 200
    if current is not None:
        for v in queries.task_reports_values(current.id):
            raw_values[v.target_id] = (f"{v.value:g}", v.source)
    if request.method == "GET" and current is not None:
        _prefill(form, current)
    elif request.method == "GET":
        form.status.data = "in_progress"
    if request.method == "GET":
        form.checkin_id.data = str(current.id) if current else ""
        form.version_id.data = str(current.version_id) if current else ""
        form.original.data = json.dumps(snapshot(current, CHECKIN_FIELDS) if current else {}, ensure_ascii=False)
    if request.method == "POST":
        submit = request.form.get("action") == "submit"
        data_in, uploads, target_errors, raw_values = _read_post(form, targets, submit)
        if data_in is not None:
            try:
                saved = save_checkin(
                    task=task,
                    department_id=reporter.department.id,
                    period=period,
                    data=data_in,
                    submit=submit,
                    now=clock.now(),
                    user_id=reporter.user_id,
                    editing_id=int_or_none(form.checkin_id.data),
                    version_id=int_or_none(form.version_id.data),
                )
            except StaleEdit as exc:
                db.session.rollback()
                current = latest_checkin(task.id, reporter.department.id, period.key)
                conflict = conflict_rows(form.original.data, snapshot(current, CHECKIN_FIELDS) if current else {})
                conflict_message = str(exc)
                status = 409
                # Saving again from this page means "over what is there now", knowingly.
                form.checkin_id.data = str(current.id) if current else ""
                form.version_id.data = str(current.version_id) if current else ""
                form.original.data = json.dumps(
                    snapshot(current, CHECKIN_FIELDS) if current else {}, ensure_ascii=False
                )
            except ReportError as exc:
                db.session.rollback()
                form.status.errors = [*form.status.errors, str(exc)]
            else:
                for filename, data in uploads:
                    store_attachment(
                        checkin_id=saved.id,
                        filename=filename,
                        data=data,
                        folder=current_app.config["UPLOAD_FOLDER"],
                        max_mb=current_app.config["MAX_UPLOAD_MB"],
                        user_id=reporter.user_id,
                        now=clock.now(),
                    )
                db.session.commit()
                flash(_("已提交，等待审核。") if submit else _("草稿已保存。"))
                if submit and current_user.is_authenticated:
                    return redirect(url_for("tasks.detail", code=task.code))
                return redirect(url_for("reports.form", code=task.code, period=period.key))
        if status != 409:
            status = 400
    chain = queries.checkin_chain(current) if current else []
    editable = current is None or current.state in {"draft", "returned"}
    return render_template(
        "reports/form.html",
        task=task,
        form=form,
        period=period,
        department=reporter.department,
        targets=targets,
        raw_values=raw_values,
        target_errors=target_errors,
        current=current,
        chain=chain,
        editable=editable,
        conflict=conflict,
        conflict_message=conflict_message,
        states=Labels(CHECKIN_STATES),
    ), status


@bp.get("/attachments/<int:attachment_id>")
def download(attachment_id: int) -> Response:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound(_("没有这个附件。"))
    checkin = db.session.get(CheckIn, attachment.checkin_id)
    assert checkin is not None
    require(checkin.state != "draft" or checkin.department_id == current_user.department_id)
    path = stored_path(current_app.config["UPLOAD_FOLDER"], attachment)
    if not path.is_file():
        raise NotFound(_("附件文件已丢失，请联系管理员。"))
    name = download_name(attachment)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True, download_name=name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- review --------------------------------------------------------------------------------------


class ReviewForm(FlaskForm):
    decision = SelectField(
        _l("审核结果"), choices=choices({"approve": _l("通过"), "return": _l("退回")}), validate_choice=False
    )
    comment = TextAreaField(_l("审核意见"), validators=[Length(max=5000)])
    version_id = HiddenField()


@bp.get("/reviews")
def queue() -> str:
    require(current_user.role in {"coordinator", "leader", "admin"}, _("待审核清单供统筹协调人员使用。"))
    checkins = queries.review_queue()
    extensions = queries.pending_extensions()
    tasks = queries.tasks_by_id({e.task_id for e in extensions})
    departments = {d.id: d for d in db.session.scalars(db.select(Department))}
    return render_template(
        "reports/queue.html",
        checkins=checkins,
        extensions=extensions,
        tasks=tasks,
        departments=departments,
        is_closing=is_closing_request,
        can_review=permissions.can_review(current_user),
        unacknowledged=queries.count_unacknowledged(),
    )


@bp.route("/reviews/<int:checkin_id>", methods=["GET", "POST"])
def review(checkin_id: int) -> str | Response | tuple[str, int]:
    checkin = db.session.get(CheckIn, checkin_id)
    if checkin is None or checkin.state == "draft":
        raise NotFound(_("没有这份报告。"))
    if request.method == "POST":
        require(permissions.can_review(current_user), _("只有统筹协调人员可以审核报告。"))
    form = ReviewForm()
    status = 200
    if request.method == "GET":
        form.version_id.data = str(checkin.version_id)
    elif form.validate_on_submit():
        try:
            review_checkin(
                checkin_id=checkin.id,
                decision=form.decision.data or "",
                comment=form.comment.data or "",
                now=clock.now(),
                user_id=current_user.id,
                version_id=int_or_none(form.version_id.data),
            )
        except StaleEdit as exc:
            db.session.rollback()
            form.comment.errors = [str(exc)]
            status = 409
        except ReportError as exc:
            db.session.rollback()
            form.comment.errors = [str(exc)]
            status = 400
        else:
            flash(_("已通过。") if form.decision.data == "approve" else _("已退回，并通知报送单位修改。"))
            return redirect(url_for("reports.queue"))
    else:
        status = 400
    checkin = db.session.get(CheckIn, checkin_id)
    assert checkin is not None
    return render_template(
        "reports/review.html",
        checkin=checkin,
        form=form,
        chain=queries.checkin_chain(checkin),
        closing=is_closing_request(checkin, checkin.task.assignments),
        can_review=permissions.can_review(current_user) and checkin.state == "submitted",
        states=Labels(CHECKIN_STATES),
    ), status


# --- the department's home -----------------------------------------------------------------------


@bp.get("/my")
def my() -> str | Response:
    if current_user.role != "staff" or current_user.department_id is None:
        return redirect(url_for("tasks.index"))
    department = db.session.get(Department, current_user.department_id)
    assert department is not None
    return render_template(
        "reports/my.html", home=queries.department_home(department, clock.today()), states=Labels(CHECKIN_STATES)
    )


@bp.post("/tasks/<code>/acknowledge")
def acknowledge_task(code: str) -> Response:
    task = task_by_code(code)
    require(permissions.can_acknowledge(current_user, task.assignments), _("只有承担本任务的单位可以签收。"))
    assignment = next(a for a in task.assignments if a.department_id == current_user.department_id)
    acknowledge(assignment=assignment, now=clock.now(), user_id=current_user.id)
    flash(_("已签收。"))
    return redirect(request.referrer if _same_site(request.referrer) else url_for("tasks.detail", code=code))


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)  # type: ignore[union-attr]


@bp.get("/assignments/pending")
def pending_assignments() -> str:
    require(current_user.role in {"coordinator", "leader", "admin"}, _("本页供统筹协调人员使用。"))
    return render_template("reports/pending_assignments.html", assignments=queries.unacknowledged_assignments())


# --- extensions ----------------------------------------------------------------------------------


class ExtensionForm(FlaskForm):
    new_due = DateInput(_l("申请延期至"), validators=[InputRequired(_l("请填写新的完成时限（如 2025-06-30）"))])
    reason = TextAreaField(_l("延期理由"), validators=[DataRequired(_l("请填写延期理由")), Length(max=5000)])


class DecisionForm(FlaskForm):
    decision = SelectField(_l("审批结果"), choices=choices({"approve": _l("同意"), "reject": _l("不同意")}))
    comment = TextAreaField(_l("意见"), validators=[Optional(), Length(max=5000)])
    version_id = HiddenField()


@bp.route("/tasks/<code>/extension", methods=["GET", "POST"])
def extension(code: str) -> str | Response | tuple[str, int]:
    task = task_by_code(code)
    require(
        current_user.is_authenticated and permissions.can_request_extension(current_user, task.assignments),
        _("只有牵头单位可以申请延期。"),
    )
    form = ExtensionForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                request_extension(
                    task=task,
                    department_id=current_user.department_id,
                    reason=form.reason.data or "",
                    new_due=form.new_due.data,
                    now=clock.now(),
                    user_id=current_user.id,
                )
            except ReportError as exc:
                db.session.rollback()
                form.new_due.errors = [str(exc)]
            else:
                flash(_("延期申请已提交，等待审批。"))
                return redirect(url_for("tasks.detail", code=code))
    return render_template("reports/extension.html", task=task, form=form), status


@bp.post("/extensions/<int:request_id>")
def decide(request_id: int) -> str | Response | tuple[str, int]:
    require(permissions.can_review(current_user), _("只有统筹协调人员可以审批延期申请。"))
    row = db.session.get(ExtensionRequest, request_id)
    if row is None:
        raise NotFound(_("没有这份延期申请。"))
    form = DecisionForm()
    if not form.validate_on_submit():
        return render_template("error.html", title=_("输入有误"), message=_("请选择同意或不同意。")), 400
    try:
        decide_extension(
            request_id=request_id,
            approve=form.decision.data == "approve",
            comment=form.comment.data or "",
            now=clock.now(),
            user_id=current_user.id,
            version_id=int_or_none(form.version_id.data),
        )
    except StaleEdit as exc:
        db.session.rollback()
        return render_template("error.html", title=_("数据已被他人修改"), message=str(exc)), 409
    flash(_("已同意延期。") if form.decision.data == "approve" else _("已驳回延期申请。"))
    return redirect(url_for("reports.queue"))


# --- breaking a task down ------------------------------------------------------------------------


class SubTaskForm(FlaskForm):
    code = StringField(_l("编号"), validators=[DataRequired(_l("请填写编号，如 3.1.1"))])
    label = StringField(_l("序号"), validators=[DataRequired(_l("请填写序号，如 三（一）1"))])
    title = StringField(_l("名称"), validators=[DataRequired(_l("请填写子任务名称")), Length(max=200)])
    due = DateInput(_l("完成时限"), validators=[InputRequired(_l("请填写完成时限（如 2025-06-30）"))])


@bp.route("/tasks/<code>/breakdown", methods=["GET", "POST"])
def breakdown(code: str) -> str | Response | tuple[str, int]:
    task = task_by_code(code)
    require(
        current_user.is_authenticated and permissions.can_break_down(current_user, task.assignments),
        _("只有牵头单位可以分解任务。"),
    )
    form = SubTaskForm()
    departments = list(db.session.scalars(db.select(Department).order_by(Department.position, Department.id)))
    chosen: dict[int, str] = {}
    status = 200
    if request.method == "GET":
        n = len(task.children) + 1
        form.code.data = f"{task.code}.{n}"
        form.label.data = f"{task.label}{n}"
        form.due.data = task.due
        chosen = {current_user.department_id: "lead"}
    else:
        status = 400
        for d in departments:
            role = request.form.get(f"role-{d.id}", "")
            if role in ROLES:
                chosen[d.id] = role
        if form.validate_on_submit():
            try:
                sub = create_subtask(
                    parent=task,
                    data=SubTaskData(
                        form.code.data or "",
                        form.label.data or "",
                        form.title.data or "",
                        form.due.data,
                        sorted(chosen.items(), key=lambda kv: list(ROLES).index(kv[1])),
                    ),
                    now=clock.now(),
                    user_id=current_user.id,
                )
            except ReportError as exc:
                db.session.rollback()
                form.code.errors = [str(exc)]
            else:
                flash(_("已分解出子任务 %(sub_label)s。", sub_label=sub.label))
                return redirect(url_for("tasks.detail", code=sub.code))
    return render_template(
        "reports/breakdown.html", task=task, form=form, departments=departments, chosen=chosen
    ), status
