"""Plans side by side: ``/plans/compare?a=KEY&b=KEY``. Read-only, for every account (as the targets page)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from .. import clock
from ..leadership.svg import sparkline
from ..models import Plan
from ..plans.compare import PHASES, compare_plans, plan_phase
from ..tasks.queries import get_plan
from .common import default_plan, loaded_plans

bp = Blueprint("plans", __name__)


def _chosen(name: str) -> Plan | None:
    """The plan named by query parameter ``name``; ``NotFound`` (404, naming it) for an unknown key."""
    key = request.args.get(name, "").strip()
    return get_plan(key) if key else None


@bp.get("/plans/compare")
def compare() -> str | tuple[str, int]:
    plans = loaded_plans()
    if len(plans) < 2:  # a page still (the address may be bookmarked), saying why it is empty
        return render_template("plans/compare.html", c=None, plans=plans)
    # By default: the plan before today's beside today's (before the second plan starts: the next one).
    today = default_plan()
    index = next(i for i, p in enumerate(plans) if p.id == today.id)
    earlier, later = (plans[index - 1], today) if index > 0 else (today, plans[index + 1])
    a = _chosen("a") or earlier
    b = _chosen("b") or later
    if a.id == b.id:
        message = _("请选择两个不同的计划进行对比。")
        return render_template("error.html", title=_("计划对比"), message=message), 400
    return render_template(
        "plans/compare.html",
        c=compare_plans(a, b),
        plans=plans,
        phase_a=PHASES[plan_phase(a, clock.today())],
        phase_b=PHASES[plan_phase(b, clock.today())],
        sparkline=sparkline,
    )
