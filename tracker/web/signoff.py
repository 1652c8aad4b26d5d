"""The department head's pages (单位负责人审核): the queue of the department's reports waiting for
sign-off, and one report with the decision (approve → on to the coordinators' review; send back with
a required comment → returned to the staff). Only a head of that department sees or decides."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import clock
from ..errors import NotFound
from ..extensions import db
from ..models import CheckIn, ConsolidatedReport, Department
from ..models.progress import CHECKIN_STATES
from ..numbers import int_or_none
from ..reports import queries, signoff
from ..reports.consolidated import report_lines
from ..reports.service import ReportError, StaleEdit
from .common import require
from .templating import Labels

bp = Blueprint("signoff", __name__, url_prefix="/signoff")

KINDS = {"checkin": CheckIn, "consolidated": ConsolidatedReport}


def _head_only() -> Department:
    require(
        current_user.role == "head" and current_user.department_id is not None,
        _(signoff.HEAD_ONLY),
    )
    department = db.session.get(Department, current_user.department_id)
    assert department is not None
    return department


@bp.get("")
def queue() -> str:
    department = _head_only()
    return render_template("signoff/queue.html", department=department, waiting=signoff.queue(department.id))


@bp.route("/<kind>/<int:report_id>", methods=["GET", "POST"])
def decide(kind: str, report_id: int) -> str | Response | tuple[str, int]:
    _head_only()
    model = KINDS.get(kind)
    report = db.session.get(model, report_id) if model is not None else None
    if report is None or report.state == "draft":
        raise NotFound(_("没有这份报告。"))
    require(signoff.is_head_of(current_user, report.department_id), _(signoff.HEAD_ONLY))
    error, status = "", 200
    if request.method == "POST":
        try:
            signoff.decide(
                kind=kind,
                report_id=report_id,
                decision=request.form.get("decision", ""),
                comment=request.form.get("comment", ""),
                now=clock.now(),
                user=current_user,
                version_id=int_or_none(request.form.get("version_id")),
            )
        except StaleEdit as exc:
            error, status = str(exc), 409
        except ReportError as exc:
            error, status = str(exc), 400
        else:
            approved = request.form.get("decision") == "approve"
            flash(_("已同意，报告已送统筹协调人员审核。") if approved else _("已退回，并通知填报人修改。"))
            return redirect(url_for("signoff.queue"))
    db.session.refresh(report)
    checkin = report if isinstance(report, CheckIn) else None
    return render_template(
        "signoff/decide.html",
        kind=kind,
        report=report,
        chain=queries.checkin_chain(checkin) if checkin is not None else [],
        lines=report_lines(report) if isinstance(report, ConsolidatedReport) else [],
        can_decide=report.state == "awaiting_head",
        error=error,
        comment=request.form.get("comment", ""),
        decision=request.form.get("decision", ""),
        states=Labels(CHECKIN_STATES),
    ), status
