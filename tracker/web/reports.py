"""Departments report progress; coordinators review. Views parse the form, call one service, render.

Every mutating route checks the permission rule on the server (``tracker/accounts/permissions.py``);
a stale save answers 409 with what changed meanwhile and the user's input kept.
"""

from __future__ import annotations

import functools
import io
import json
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
from ..cache import cached_view
from ..errors import NotFound
from ..extensions import db
from ..i18n import Labels
from ..models import Attachment, CheckIn, Department, ExtensionRequest, Task
from ..models.org import ROLES
from ..models.plan import TASK_STATUSES
from ..models.progress import CHECKIN_STATES
from ..numbers import ID_MAX, NumberError, bounded_int, int_or_none
from ..reminders.links import grant_for
from ..reports import queries
from ..reports.attachments import download_name, load_evidence
from ..reports.bulk import MAX_BULK, approve_reports
from ..reports.consolidated import county_due
from ..reports.consolidated import review_queue as consolidated_queue
from ..reports.figures_review import figure_evidence_visible, pending_count
from ..reports.review_queue import QUEUE_SORTS, QUEUE_STATES, QueueFilter, chosen_reports, queue_page
from ..reports.separation import OWN_DEPARTMENT, is_own_department
from ..reports.service import (
    CHECKIN_FIELDS,
    ReportError,
    StaleEdit,
    SubTaskData,
    acknowledge,
    create_subtask,
    decide_extension,
    is_closing_request,
    latest_checkin,
    reportable_targets,
    request_extension,
    review_checkin,
    snapshot,
)
from ..reports.submission import (
    EvidenceStoreError,
    InvalidReport,
    RawValue,
    Reporter,
    Submission,
    Upload,
    report_period,
    reporter_for_link,
    reporter_for_user,
    submit_report,
)
from ..tasks.queries import city_workdays
from .common import (
    DateInput,
    ReviewForm,
    choices,
    conflict_rows,
    request_plan,
    require,
    review_decision,
    task_by_code,
)
from .redirects import redirect_target, safe_redirect

bp = Blueprint("reports", __name__)


def _whole_number(text: str) -> int | str:
    """A typed whole number (ASCII digits, tracker.numbers' reading), else the text for the service to refuse."""
    try:
        return bounded_int(text, low=-ID_MAX, high=ID_MAX)
    except NumberError:
        return text


# --- the report form -----------------------------------------------------------------------------


class CheckInForm(FlaskForm):
    # The rules (required, ranges, lengths) are the submission service's, worded once for the web and
    # the API; the form only carries the fields (and the CSRF token).
    status = SelectField(_l("状态"), choices=choices(TASK_STATUSES), validate_choice=False)
    percent = StringField(_l("完成百分比（%）"))
    narrative = TextAreaField(_l("进展情况"))
    problems = TextAreaField(_l("存在问题"))
    next_steps = TextAreaField(_l("下步计划"))
    evidence = MultipleFileField(_l("佐证材料"))
    checkin_id = HiddenField()
    version_id = HiddenField()
    original = HiddenField()


def _reporter(task: Task) -> Reporter:
    """Who reports: a staff member of a department with a role, or the holder of a signed link."""
    if current_user.is_authenticated:
        return reporter_for_user(current_user, task)
    return reporter_for_link(grant_for(session, task.plan.key, task.code, now=clock.now()), task)


def _prefill(form: CheckInForm, checkin: CheckIn) -> None:
    form.status.data = checkin.status
    form.percent.data = str(checkin.percent)
    form.narrative.data = checkin.narrative
    form.problems.data = checkin.problems
    form.next_steps.data = checkin.next_steps


def _parse(form: CheckInForm, targets: list[Any], submit: bool) -> tuple[Submission, dict[int, tuple[str, str]]]:
    """The posted form as a submission (a blank value row is no value), and the raw value texts."""
    values: list[RawValue] = []
    raw: dict[int, tuple[str, str]] = {}
    for t in targets:
        text = request.form.get(f"value-{t.id}", "").strip()
        source = request.form.get(f"source-{t.id}", "").strip()
        raw[t.id] = (text, source)
        if text or source:
            values.append(RawValue(f"value-{t.id}", t.key, text, source))
    uploads = [
        Upload(f.filename, f.read()) for f in form.evidence.data or [] if isinstance(f, FileStorage) and f.filename
    ]
    percent_text = (form.percent.data or "").strip()
    submission = Submission(
        status=form.status.data or "",
        percent=_whole_number(percent_text),
        narrative=form.narrative.data or "",
        problems=form.problems.data or "",
        next_steps=form.next_steps.data or "",
        values=values,
        uploads=uploads,
        submit=submit,
        editing_id=int_or_none(form.checkin_id.data),
        version_id=int_or_none(form.version_id.data),
    )
    return submission, raw


_FIELDS_SHOWN = {"percent", "narrative", "problems", "next_steps", "evidence"}


def _show_problems(form: CheckInForm, problems: dict[str, str]) -> dict[int, str]:
    """Put each problem beside its field; return the problems of the target values by target id."""
    target_errors: dict[int, str] = {}
    for name, message in problems.items():
        if name.startswith("value-"):
            target_id = int_or_none(name.split(".")[0].removeprefix("value-"))
            if target_id is not None:
                target_errors.setdefault(target_id, message)
            continue
        form_field = getattr(
            form, name if name in {"percent", "narrative", "problems", "next_steps", "evidence"} else "status"
        )
        form_field.errors = [*form_field.errors, message]
    return target_errors


@bp.route("/tasks/<code>/report", methods=["GET", "POST"])
def form(code: str) -> str | Response | tuple[str, int]:
    task = task_by_code(code)
    reporter = _reporter(task)
    try:
        period = report_period(task, reporter, clock.today(), request.args.get("period"))
    except InvalidReport as exc:
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
        status = 400
        submit = request.form.get("action") == "submit"
        submission, raw_values = _parse(form, targets, submit)
        if form.validate_on_submit():
            try:
                saved = submit_report(
                    task=task,
                    reporter=reporter,
                    period=period,
                    submission=submission,
                    now=clock.now(),
                    folder=current_app.config["UPLOAD_FOLDER"],
                    max_mb=current_app.config["MAX_UPLOAD_MB"],
                    store=current_app.config.get("EVIDENCE_STORE", "disk"),
                )
            except StaleEdit as exc:
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
            except InvalidReport as exc:
                target_errors = _show_problems(form, exc.fields)
                if isinstance(exc, EvidenceStoreError):
                    status = 503
            except ReportError as exc:
                form.status.errors = [*form.status.errors, str(exc)]
            else:
                waiting = (
                    _("已提交，等待单位负责人审核。") if saved.state == "awaiting_head" else _("已提交，等待审核。")
                )
                flash(waiting if submit else _("草稿已保存。"))
                if submit and current_user.is_authenticated:
                    return redirect(url_for("tasks.detail", code=task.code))
                return redirect(url_for("reports.form", code=task.code, period=period.key))
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
    if attachment.checkin_id is not None:
        checkin = db.session.get(CheckIn, attachment.checkin_id)
        assert checkin is not None
        require(checkin.state != "draft" or checkin.department_id == current_user.department_id)
    else:  # a figure's evidence (the figure form): its unit's staff and the coordinators see it before approval
        require(figure_evidence_visible(attachment, current_user))
    data = load_evidence(attachment, folder=current_app.config["UPLOAD_FOLDER"])
    if data is None:
        raise NotFound(_("附件文件已丢失，请联系管理员。"))
    name = download_name(attachment)
    response = send_file(io.BytesIO(data), mimetype=attachment.content_type, as_attachment=True, download_name=name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- review --------------------------------------------------------------------------------------


def _queue_filter() -> QueueFilter:
    args = request.args
    return QueueFilter(
        section_id=int_or_none(args.get("section")),
        department_id=int_or_none(args.get("department")),
        period=args.get("period", "").strip()[:16],
        state=args.get("state", "submitted"),
        sort=args.get("sort", "submitted"),
        page=min(int_or_none(args.get("page")) or 1, 10_000),
    )


@bp.get("/reviews")
@cached_view
def queue() -> str:
    require(current_user.role in {"coordinator", "leader", "admin"}, _("待审核清单供统筹协调人员使用。"))
    f = _queue_filter()
    page = queue_page(f)
    extensions = queries.pending_extensions()
    tasks = queries.tasks_by_id({e.task_id for e in extensions})
    departments = {d.id: d for d in page.departments}
    return render_template(
        "reports/queue.html",
        f=f,
        page=page,
        checkins=page.checkins,
        own={c.id for c in page.checkins if is_own_department(c.task.plan, c.department_id, current_user)},
        own_label=_(OWN_DEPARTMENT),
        states=Labels(QUEUE_STATES),
        sorts=Labels(QUEUE_SORTS),
        extensions=extensions,
        tasks=tasks,
        departments=departments,
        is_closing=is_closing_request,
        can_review=permissions.can_review(current_user),
        unacknowledged=queries.count_unacknowledged(),
        consolidated=consolidated_queue(),  # the counties' consolidated 落实 reports, one item each
        figures_waiting=pending_count(request_plan()),  # figures entered on the figure form
    )


def _chosen_ids(values: list[str]) -> list[int]:
    ids = [i for i in (int_or_none(v) for v in values) if i is not None and 0 < i <= ID_MAX]
    return list(dict.fromkeys(ids))


@bp.route("/reviews/bulk", methods=["GET", "POST"])
def bulk_approve() -> str | Response | tuple[str, int]:
    """Approve several reports at once: the chosen reports shown in full, then one final confirm."""
    require(permissions.can_review(current_user), _("只有统筹协调人员可以审核报告。"))
    source = request.form if request.method == "POST" else request.args
    ids = _chosen_ids(source.getlist("ids"))
    back = redirect_target(source.get("next")) or url_for("reports.queue")
    if not ids:
        flash(_("请先在清单中勾选要通过的报告。"))
        return redirect(back)
    if len(ids) > MAX_BULK:
        flash(_("一次最多批量通过 %(n)s 份报告。", n=MAX_BULK))
        return redirect(back)
    error, status = None, 200
    if request.method == "POST":
        if request.form.get("confirm") != "yes":
            error, status = _("请确认已阅读以上报告。"), 400
        else:
            versions = {i: int_or_none(request.form.get(f"version-{i}")) for i in ids}
            try:
                done = approve_reports(
                    versions=versions, comment=request.form.get("comment", ""), now=clock.now(), user_id=current_user.id
                )
            except (ReportError, StaleEdit) as exc:
                db.session.rollback()
                error, status = str(exc), 409 if isinstance(exc, StaleEdit) else 400
            else:
                flash(_("已通过 %(n)s 份报告。", n=len(done)))
                return redirect(back)
    reports = chosen_reports(ids)
    if not reports:
        flash(_("请先在清单中勾选要通过的报告。"))
        return redirect(back)
    return render_template(
        "reports/bulk.html",
        reports=reports,
        own={
            r.checkin.id
            for r in reports
            if is_own_department(r.checkin.task.plan, r.checkin.department_id, current_user)
        },
        own_label=_(OWN_DEPARTMENT),
        error=error,
        comment=request.form.get("comment", ""),
        back=back,
        states=Labels(CHECKIN_STATES),
    ), status


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
    else:
        outcome = review_decision(form, functools.partial(review_checkin, checkin_id=checkin.id))
        if isinstance(outcome, Response):
            return outcome
        status = outcome
    checkin = db.session.get(CheckIn, checkin_id)
    assert checkin is not None
    return render_template(
        "reports/review.html",
        checkin=checkin,
        form=form,
        chain=queries.checkin_chain(checkin),
        context=queries.review_context(checkin),
        closing=is_closing_request(checkin, checkin.task.assignments),
        can_review=permissions.can_review(current_user) and checkin.state == "submitted",
        own_department=is_own_department(checkin.task.plan, checkin.department_id, current_user),
        states=Labels(CHECKIN_STATES),
    ), status


# --- the department's home -----------------------------------------------------------------------


@bp.get("/my")
@cached_view
def my() -> str | Response:
    if current_user.role != "staff" or current_user.department_id is None:
        return redirect(url_for("tasks.index"))
    department = db.session.get(Department, current_user.department_id)
    assert department is not None
    return render_template(
        "reports/my.html",
        home=queries.department_home(department, clock.today()),
        county=county_due(department.id, clock.today(), city_workdays()),  # the consolidated 落实 report
        states=Labels(CHECKIN_STATES),
    )


@bp.post("/tasks/<code>/acknowledge")
def acknowledge_task(code: str) -> Response:
    task = task_by_code(code)
    require(permissions.can_acknowledge(current_user, task.assignments), _("只有承担本任务的单位可以签收。"))
    assignment = next(a for a in task.assignments if a.department_id == current_user.department_id)
    acknowledge(assignment=assignment, now=clock.now(), user_id=current_user.id)
    flash(_("已签收。"))
    # Back to the page the button was on (我的任务 or the task page), never to another site.
    return safe_redirect(request.referrer, url_for("tasks.detail", code=code))


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
