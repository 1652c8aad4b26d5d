"""The figure entry form: a unit's own plan-level figures (the city's, or one county's), and the
coordinators' review of the figures a unit's staff enter. Thin views: parse the form, call
:mod:`tracker.reports.figures_entry` / :mod:`tracker.reports.figures_review`, render or redirect."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from .. import clock
from ..accounts.permissions import can_review
from ..reports import figures_entry as service
from ..reports import figures_review as review
from ..reports.service import ReportError
from ..reports.submission import InvalidReport, Upload
from .common import request_plan

bp = Blueprint("figures", __name__)


@bp.route("/figures", methods=["GET", "POST"])
def form() -> str | Response | tuple[str, int]:
    today = clock.today()
    plan = request_plan()
    scope = service.figure_scope(current_user, plan)  # PermissionDenied → 403
    problems: dict[str, str] = {}
    period = request.form.get("period", str(today.year - 1)) if request.method == "POST" else str(today.year - 1)
    if request.method == "POST":
        cells = {
            t.key: (request.form.get(f"value-{t.key}", ""), request.form.get(f"source-{t.key}", ""))
            for t in scope.targets
        }
        evidence = {
            t.key: [
                Upload(f.filename, f.read())
                for f in request.files.getlist(f"evidence-{t.key}")
                if isinstance(f, FileStorage) and f.filename
            ]
            for t in scope.targets
        }
        try:
            created = service.enter_figures(
                current_user,
                plan,
                period=period,
                cells=cells,
                now=clock.now(),
                evidence=evidence,
                folder=current_app.config["UPLOAD_FOLDER"],
                max_mb=current_app.config["MAX_UPLOAD_MB"],
                store=current_app.config.get("EVIDENCE_STORE", "disk"),
            )
        except InvalidReport as exc:
            problems = exc.fields
        else:
            waiting = sum(v.state == "submitted" for v in created)
            flash(
                _("已提交 %(n)s 项%(unit)s数值，待统筹协调人员审核后计入。", n=waiting, unit=scope.unit_name)
                if waiting
                else _("已保存 %(n)s 项%(unit)s数值。", n=len(created), unit=scope.unit_name),
                "success",
            )
            return redirect(url_for("figures.form"))
    returned = review.returned_figures([t.id for t in scope.targets], scope.unit_kind, scope.county_id)
    return render_template(
        "reports/figures.html",
        plan=plan,
        scope=scope,
        period=period,
        problems=problems,
        form=request.form,
        returned=returned,
    ), (400 if problems else 200)


@bp.get("/figures/reviews")
def reviews() -> str:
    if not can_review(current_user):
        abort(403)
    plan = request_plan()
    return render_template("reports/figure_reviews.html", plan=plan, pending=review.pending_figures(plan, current_user))


@bp.post("/figures/reviews/<int:value_id>")
def decide(value_id: int) -> Response:
    try:
        review.review_figure(
            value_id=value_id,
            decision=request.form.get("decision", ""),
            comment=request.form.get("comment", ""),
            now=clock.now(),
            user=current_user,
        )
    except ReportError as exc:  # no decision, a return without a comment, one's own department
        flash(str(exc), "error")
        return redirect(url_for("figures.reviews"))
    flash(_("已审核。"), "success")
    return redirect(url_for("figures.reviews"))
