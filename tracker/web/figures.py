"""The figure entry form: a unit's own plan-level figures (the city's, or one county's). Thin view:
parse the form, call :mod:`tracker.reports.figures_entry`, render or redirect."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import clock
from ..reports import figures_entry as service
from ..reports.submission import InvalidReport
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
        try:
            created = service.enter_figures(current_user, plan, period=period, cells=cells, now=clock.now())
        except InvalidReport as exc:
            problems = exc.fields
        else:
            flash(_("已保存 %(n)s 项%(unit)s数值。", n=len(created), unit=scope.unit_name), "success")
            return redirect(url_for("figures.form"))
    return render_template(
        "reports/figures.html", plan=plan, scope=scope, period=period, problems=problems, form=request.form
    ), (400 if problems else 200)
