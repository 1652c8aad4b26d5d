"""A plan's end: the final-assessment page, closing (with confirmation), reopening, carry-over forms.

Thin views: each parses, calls one service (``tracker.leadership.closing``, ``tracker.plans.carryover``)
and renders or redirects. Closing: coordinators and administrators; reopening: administrators only;
carrying over: coordinators (who edit plans).
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import clock
from ..accounts.permissions import can_edit_plan, is_admin, is_coordinator
from ..extensions import db
from ..leadership.closing import ClosingError, close_plan, plan_results, reopen_plan
from ..models import Plan, Target, User
from ..plans.carryover import CarryError, carry_target, carry_task, links_of_targets, receivers
from ..tasks import state as task_state
from ..tasks.lifecycle import plan_stage
from ..tasks.queries import get_plan, get_task
from .common import require

bp = Blueprint("lifecycle", __name__)


def can_close(user: User) -> bool:
    return is_coordinator(user) or is_admin(user)


def _rule() -> task_state.LightRule:
    return task_state.light_rule(current_app.config["LIGHT_RULE"])


def final_context(plan: Plan) -> dict[str, object]:
    """What ``leadership/_final.html`` needs: the results (frozen once closed), the stage, who closed."""
    today = clock.today()
    closer = db.session.get(User, plan.closed_by_id) if plan.closed_by_id else None
    return {
        "final": plan_results(plan, today=today, rule=_rule()),
        "stage": plan_stage(plan, today),
        "closer": closer,
        "final_plan": plan,
    }


@bp.get("/plans/<key>/final")
def final(key: str) -> str:
    plan = get_plan(key)
    went, came = links_of_targets(plan)
    return render_template(
        "lifecycle/final.html",
        plan=plan,
        went=went,
        came=came,
        can_carry=can_edit_plan(current_user),
        **final_context(plan),
    )


@bp.route("/plans/<key>/close", methods=["GET", "POST"])
def close(key: str) -> str | Response | tuple[str, int]:
    require(can_close(current_user), _("只有统筹协调人员或系统管理员可以关闭计划。"))
    plan = get_plan(key)
    error = ""
    if request.method == "POST":
        try:
            close_plan(plan, now=clock.now(), user_id=current_user.id, rule=_rule())
        except ClosingError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            flash(_("计划已关闭：只能查阅和导出，五年考核结果已按审核通过的数据固定。"))
            return redirect(url_for("lifecycle.final", key=plan.key))
    status = 409 if error else 200
    return render_template("lifecycle/close.html", plan=plan, error=error, **final_context(plan)), status


@bp.post("/plans/<key>/reopen")
def reopen(key: str) -> str | Response | tuple[str, int]:
    require(is_admin(current_user), _("只有系统管理员可以重新开启已关闭的计划。"))
    plan = get_plan(key)
    try:
        reopen_plan(plan, now=clock.now(), user_id=current_user.id)
    except ClosingError as exc:
        db.session.rollback()
        return render_template("error.html", title=_("无法重新开启"), message=str(exc)), 409
    flash(_("计划已重新开启，关闭时固定的结果保存在变更记录中。"))
    return redirect(url_for("lifecycle.final", key=plan.key))


def _receiver() -> Plan | None:
    key = request.form.get("to_plan", "").strip()
    return db.session.scalar(db.select(Plan).filter_by(key=key)) if key else None


@bp.route("/plans/<key>/tasks/<code>/carry", methods=["GET", "POST"])
def carry(key: str, code: str) -> str | Response | tuple[str, int]:
    require(can_edit_plan(current_user), _("只有统筹协调人员可以把措施转入其他计划。"))
    plan = get_plan(key)
    task = get_task(plan, code)
    error = ""
    if request.method == "POST":
        to_plan = _receiver()
        try:
            carry_task(task, to_plan, code=request.form.get("code", ""), now=clock.now(), user_id=current_user.id)
        except CarryError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            assert to_plan is not None
            flash(_("已转入%(plan)s。", plan=to_plan.title))
            return redirect(url_for("tasks.detail", code=task.code, plan=plan.key))
    return render_template(
        "lifecycle/carry.html", plan=plan, item=task, kind="task", plans=receivers(plan), error=error
    ), (400 if error else 200)


@bp.route("/plans/<key>/targets/<int:target_id>/carry", methods=["GET", "POST"])
def carry_goal(key: str, target_id: int) -> str | Response | tuple[str, int]:
    require(can_edit_plan(current_user), _("只有统筹协调人员可以把目标转入其他计划。"))
    plan = get_plan(key)
    target = db.session.scalar(db.select(Target).filter_by(id=target_id, plan_id=plan.id))
    if target is None:
        return render_template("error.html", title=_("未找到"), message=_("没有这个目标。")), 404
    error = ""
    if request.method == "POST":
        to_plan = _receiver()
        try:
            carry_target(target, to_plan, key=request.form.get("code", ""), now=clock.now(), user_id=current_user.id)
        except CarryError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            assert to_plan is not None
            flash(_("已转入%(plan)s。", plan=to_plan.title))
            return redirect(url_for("lifecycle.final", key=plan.key))
    return render_template(
        "lifecycle/carry.html", plan=plan, item=target, kind="target", plans=receivers(plan), error=error
    ), (400 if error else 200)
