"""County governments' consolidated 落实 report (one form, a row per measure), its review by the
coordinators, and bulk 签收 from 我的任务. Views parse the form, call one service, render.

Only staff of a county government that implements measures of the plan open the form; coordinators
review (leaders and administrators read); a stale save answers 409 with the user's input kept.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField

from .. import clock
from ..accounts import permissions
from ..errors import NotFound
from ..extensions import db
from ..i18n import Labels
from ..models import ConsolidatedReport, Department, Plan
from ..models.plan import TASK_STATUSES
from ..models.progress import CHECKIN_STATES
from ..numbers import int_or_none
from ..reports import consolidated as service
from ..reports.bulk import acknowledge_all
from ..reports.separation import is_own_department
from ..reports.service import ReportError, StaleEdit
from ..tasks.due import DueRule, period_due
from ..tasks.periods import Period, parse_period
from ..tasks.queries import city_workdays
from .common import ReviewForm, request_plan, require, review_decision

bp = Blueprint("consolidated", __name__)


class ReportForm(FlaskForm):
    """The report's own fields; its rows are read as ``status-<task id>``, ``narrative-…``, ``percent-…``."""

    report_id = HiddenField()
    version_id = HiddenField()


@dataclass
class Row:
    """One measure's row as the form shows it (posted values kept on an error)."""

    measure: service.Measure
    status: str
    narrative: str
    percent: str


def _county(plan: Plan) -> Department:
    require(
        current_user.role == "staff" and service.implements_measures(plan, current_user.department_id),
        _("落实报告由承担落实任务的县（市、区）政府的填报员填报。"),
    )
    department = db.session.get(Department, current_user.department_id)
    assert department is not None
    return department


def _rows(measures: list[service.Measure], posted: bool) -> list[Row]:
    rows: list[Row] = []
    for m in measures:
        if posted:
            tid = m.task.id
            rows.append(
                Row(
                    m,
                    request.form.get(f"status-{tid}", ""),
                    request.form.get(f"narrative-{tid}", ""),
                    request.form.get(f"percent-{tid}", ""),
                )
            )
        elif m.line is not None:
            rows.append(Row(m, m.line.status, m.line.narrative, str(m.line.percent)))
        else:
            rows.append(Row(m, "in_progress", "", ""))
    return rows


def _lines(rows: list[Row]) -> tuple[list[service.LineInput], list[str]]:
    lines: list[service.LineInput] = []
    errors: list[str] = []
    for row in rows:
        percent = int_or_none(row.percent.strip())
        if row.percent.strip() and percent is None:
            errors.append(_("%(label)s：完成百分比应为 0 到 100 之间的整数。", label=row.measure.task.label))
        lines.append(service.LineInput(row.measure.task.id, row.status, row.narrative.strip()[:20000], percent))
    return lines, errors


@bp.route("/consolidated", defaults={"period": None}, methods=["GET"])
@bp.route("/consolidated/<period>", methods=["GET", "POST"])
def form(period: str | None) -> str | Response | tuple[str, int]:
    today = clock.today()
    plan = request_plan()
    department = _county(plan)
    if period is None:
        default = service.default_period(plan, department.id, today, city_workdays())
        return redirect(url_for("consolidated.form", period=default.key))
    try:
        chosen: Period = parse_period(period)
        service.check_period(plan, chosen)
    except (ValueError, ReportError) as exc:
        return render_template("error.html", title=_("报送期有误"), message=str(exc)), 400
    current = service.latest_report(plan.id, department.id, chosen.key)
    form = ReportForm()
    errors: list[str] = []
    status = 200
    posted = False
    if request.method == "GET":
        form.report_id.data = str(current.id) if current else ""
        form.version_id.data = str(current.version_id) if current else ""
    elif form.validate_on_submit():
        posted = True
        submit = request.form.get("action") == "submit"
        rows = _rows(service.form_rows(plan, department.id, current), posted=True)
        lines, errors = _lines(rows)
        if not errors:
            try:
                saved = service.save_report(
                    plan=plan,
                    department_id=department.id,
                    period=chosen,
                    lines=lines,
                    submit=submit,
                    now=clock.now(),
                    user_id=current_user.id,
                    editing_id=int_or_none(form.report_id.data),
                    version_id=int_or_none(form.version_id.data),
                )
            except StaleEdit as exc:
                db.session.rollback()
                errors, status = [str(exc)], 409
                current = service.latest_report(plan.id, department.id, chosen.key)
                # Saving again from this page means "over what is there now", knowingly.
                form.report_id.data = str(current.id) if current else ""
                form.version_id.data = str(current.version_id) if current else ""
            except ReportError as exc:
                db.session.rollback()
                errors = [str(exc)]
            else:
                waiting = (
                    _("落实报告已提交，等待单位负责人审核。")
                    if saved.state == "awaiting_head"
                    else _("落实报告已提交，等待审核。")
                )
                flash(waiting if submit else _("草稿已保存。"))
                if submit:
                    return redirect(url_for("reports.my"))
                return redirect(url_for("consolidated.form", period=chosen.key))
        if status == 200:
            status = 400
    else:
        errors, status = [_("表单已过期，请刷新页面后重新提交。")], 400
    measures = service.form_rows(plan, department.id, current)
    editable = current is None or current.state in {"draft", "returned"}
    return render_template(
        "consolidated/form.html",
        plan=plan,
        department=department,
        period=chosen,
        due=period_due(chosen, DueRule.of(plan), city_workdays()),
        current=current,
        history=service.report_history(current) if current else [],
        rows=_rows(measures, posted=posted and status != 409),
        form=form,
        errors=errors,
        editable=editable or status == 409,
        statuses=TASK_STATUSES,
        states=Labels(CHECKIN_STATES),
    ), status


# --- review --------------------------------------------------------------------------------------


@bp.route("/consolidated/reviews/<int:report_id>", methods=["GET", "POST"])
def review(report_id: int) -> str | Response | tuple[str, int]:
    report = db.session.get(ConsolidatedReport, report_id)
    if report is None or report.state == "draft":
        raise NotFound(_("没有这份落实报告。"))
    require(
        current_user.role in {"coordinator", "leader", "admin"} or current_user.department_id == report.department_id,
        _("落实报告供本单位和统筹协调人员查看。"),
    )
    if request.method == "POST":
        require(permissions.can_review(current_user), _("只有统筹协调人员可以审核报告。"))
    form = ReviewForm()
    status = 200
    if request.method == "GET":
        form.version_id.data = str(report.version_id)
    else:
        outcome = review_decision(form, functools.partial(service.review_report, report_id=report.id))
        if isinstance(outcome, Response):
            return outcome
        status = outcome
    report = db.session.get(ConsolidatedReport, report_id)
    assert report is not None
    return render_template(
        "consolidated/review.html",
        report=report,
        lines=service.report_lines(report),
        history=service.report_history(report),
        form=form,
        can_review=permissions.can_review(current_user) and report.state == "submitted",
        own_department=is_own_department(report.plan, report.department_id, current_user),
        states=Labels(CHECKIN_STATES),
    ), status


# --- bulk 签收 -----------------------------------------------------------------------------------


@bp.post("/my/acknowledge-all")
def acknowledge_everything() -> Response | tuple[str, int]:
    require(
        current_user.role == "staff" and current_user.department_id is not None,
        _("只有承担任务的单位的填报员可以签收。"),
    )
    if request.form.get("confirm") != "1":
        return render_template("error.html", title=_("请确认"), message=_("请勾选确认后再全部签收。")), 400
    count = acknowledge_all(department_id=current_user.department_id, now=clock.now(), user_id=current_user.id)
    flash(_("已签收 %(n)s 项任务。", n=count))
    return redirect(url_for("reports.my"))
