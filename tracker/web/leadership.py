"""Leadership pages: dashboard, matrix and its exports, targets, counties, departments, assessment.

Read-only GETs: each parses its query string, calls the services in ``tracker.leadership`` and renders.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..cache import cached_view
from ..extensions import db
from ..i18n import Labels, day
from ..leadership import export, portfolio, svg
from ..leadership.assessment import assess
from ..leadership.dashboard import LIGHT_COLOURS, STATUS_COLOURS, build_dashboard
from ..leadership.departments import department_view
from ..leadership.matrix import Filters, build_matrix
from ..leadership.scoring import COMPONENT_LABELS, ScoringRule
from ..leadership.targets import by_county, grouped, load_targets, page_of_groups
from ..models import County
from ..models.plan import TASK_STATUSES, Plan
from ..tasks import state as task_state
from ..tasks.lifecycle import plan_stage
from ..tasks.lights import LIGHT_LABELS
from .common import attachment, request_plan
from .lifecycle import final_context

bp = Blueprint("leadership", __name__)


def _plan_state() -> tuple[Plan, task_state.PlanState]:
    today = clock.today()
    plan = request_plan()
    rule = task_state.light_rule(current_app.config["LIGHT_RULE"])
    return plan, task_state.current(plan, today=today, rule=rule)


def _county_names() -> dict[int, str]:
    return {c.id: c.name for c in db.session.scalars(db.select(County).order_by(County.position, County.id))}


def _matrix():  # type: ignore[no-untyped-def]
    plan, snap = _plan_state()
    return plan, snap, build_matrix(snap, Filters.from_args(request.args), _county_names())


@bp.get("/dashboard")
@cached_view
def dashboard() -> str:
    _plan, snap = _plan_state()
    d = build_dashboard(snap)
    status_chart = svg.bars(
        [(_(TASK_STATUSES[k]), v, STATUS_COLOURS[k]) for k, v in d.status_counts.items() if k in STATUS_COLOURS],
        title=_("按状态"),
    )
    light_chart = svg.donut(
        [(_(LIGHT_LABELS[k]), v, LIGHT_COLOURS[k]) for k, v in d.light_counts.items()], title=_("按预警")
    )
    # After the plan's end the page leads with the final assessment (frozen once the plan is closed).
    final = final_context(snap.plan) if plan_stage(snap.plan, snap.today) in {"final", "closed"} else {}
    # 分管: a leader's own departments first (a small block atop the page; None without a portfolio)
    mine = (
        portfolio.portfolio_of(snap, portfolio.department_ids(current_user.id))
        if current_user.role == "leader"
        else None
    )
    return render_template(
        "leadership/dashboard.html",
        d=d,
        status_chart=status_chart,
        light_chart=light_chart,
        portfolio=mine,
        **final,
    )


@bp.get("/matrix")
@cached_view
def matrix() -> str:
    plan, snap, m = _matrix()
    highlight_row = request.args.get("row", "")
    highlight_col = request.args.get("col", "") or (str(m.filters.department) if m.filters.department else "")
    return render_template(
        "leadership/matrix.html",
        plan=plan,
        snap=snap,
        m=m,
        highlight_row=highlight_row,
        highlight_col=highlight_col,
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _as_of() -> str:
    return _("截至 %(date)s", date=day(clock.today()))


@bp.get("/matrix.xlsx")
def matrix_xlsx() -> Response:
    """The whole (filtered) matrix, written row by row to a temporary file that is streamed and removed."""
    plan, _snap, m = _matrix()
    today = clock.today()
    title = _("%(plan)s · 责任矩阵（%(date)s）", plan=plan.title, date=today.isoformat())
    handle, name = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    try:
        export.matrix_xlsx_file(m, title, _as_of(), path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    download = export.download_name(_("责任矩阵"), plan.title, today, "xlsx")
    response = attachment(export.file_chunks(path), download, XLSX, f"matrix_{today.isoformat()}.xlsx")  # type: ignore[arg-type]
    response.headers["Content-Length"] = str(path.stat().st_size)
    return response


@bp.get("/matrix.csv")
def matrix_csv() -> Response:
    """The whole (filtered) matrix as CSV, streamed in chunks of rows as they are built."""
    plan, _snap, m = _matrix()
    today = clock.today()
    name = export.download_name(_("责任矩阵"), plan.title, today, "csv")
    chunks = stream_with_context(export.matrix_csv_chunks(m))
    return attachment(chunks, name, "text/csv; charset=utf-8", f"matrix_{today.isoformat()}.csv")  # type: ignore[arg-type]


TARGETS_PER_PAGE = 200  # target rows on a page of /targets (a province plan has thousands)


@bp.get("/targets")
@cached_view
def targets() -> str:
    plan = request_plan()
    rows = load_targets(plan)
    groups = grouped(rows, ["city", "sector", "task"])
    counts = {key: len(group) for key, _label, group in groups}
    number = request.args.get("page", "")
    shown, page, pages = page_of_groups(groups, int(number) if number.isdigit() else 1, TARGETS_PER_PAGE)
    return render_template(
        "leadership/targets.html",
        plan=plan,
        groups=shown,
        counts=counts,
        page=page,
        pages=pages,
        sparkline=svg.sparkline,
    )


@bp.get("/counties")
@cached_view
def counties() -> str:
    plan = request_plan()
    rows = load_targets(plan)
    county_list = list(db.session.scalars(db.select(County).order_by(County.position, County.id)))
    county_rows, sums, metrics = by_county(rows, county_list)
    return render_template("leadership/counties.html", plan=plan, counties=county_rows, sums=sums, metrics=metrics)


@bp.get("/departments/<int:department_id>")
@cached_view
def department(department_id: int) -> str:
    plan, snap = _plan_state()
    return render_template("leadership/department.html", plan=plan, v=department_view(snap, department_id))


def _rankings():  # type: ignore[no-untyped-def]
    plan, snap = _plan_state()
    rule = ScoringRule()
    # the rankings read the whole plan (every report of every unit): once per kept state
    return plan, snap, rule, snap.derive(f"assessment {rule!r}", lambda: assess(snap, load_targets(plan), rule))


@bp.get("/assessment")
@cached_view
def assessment() -> str:
    plan, snap, rule, rankings = _rankings()
    chosen = request.args.get("window")
    current = next((r for r in rankings if r.window.key == chosen), None) or _default_window(rankings)
    return render_template(
        "leadership/assessment.html",
        plan=plan,
        rankings=rankings,
        current=current,
        rule=rule,
        due_days=snap.due_rule.due_days,
        weights=rule.weights(),
        labels=Labels(COMPONENT_LABELS),
    )


def _default_window(rankings):  # type: ignore[no-untyped-def]
    """After the plan: the five-year assessment; during it: this year's; before it: the first year's."""
    final = rankings[-1]
    if final.state == "closed":
        return final
    open_years = [r for r in rankings if r.state == "open" and r.window.key.isdigit()]
    return open_years[0] if open_years else rankings[0]


@bp.get("/assessment.xlsx")
def assessment_xlsx() -> Response:
    plan, snap, rule, rankings = _rankings()
    today = clock.today()
    title = _("%(plan)s · 考核（%(date)s）", plan=plan.title, date=today.isoformat())
    data = export.assessment_xlsx(rankings, rule, title, due_days=snap.due_rule.due_days, as_of=_as_of())
    name = export.download_name(_("考核"), plan.title, today, "xlsx")
    return attachment(data, name, XLSX, f"assessment_{today.isoformat()}.xlsx")
