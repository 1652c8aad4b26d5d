"""The system administrator's pages: accounts, departments and counties (issue 16, 三员分立).

Views parse the form, call one service in ``tracker/accounts/admin.py`` or ``tracker/directory``,
and redirect with the outcome; a refused change is flashed as an error with the reason.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import clock
from ..accounts import admin as accounts
from ..accounts.permissions import can_manage_accounts
from ..accounts.service import AccountError
from ..directory import service as directory
from ..directory.merge import merge_departments
from ..extensions import db
from ..leadership import portfolio
from ..models import County, Department, Plan, User
from ..models.org import COUNTY_KINDS, DEPARTMENT_KINDS, USER_ROLES
from ..numbers import int_or_none
from ..reports import separation, signoff
from .passwords import send_now

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def administrators_only() -> None:
    if not (current_user.is_authenticated and can_manage_accounts(current_user)):
        abort(403)


def _get(model: type[User] | type[Department] | type[County], object_id: int):  # type: ignore[no-untyped-def]
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _active_departments() -> list[Department]:
    return list(db.session.scalars(db.select(Department).filter_by(active=True).order_by(Department.position)))


@bp.get("/users")
def users() -> str:
    return render_template(
        "admin/users.html",
        users=accounts.list_users(),
        departments=_active_departments(),
        roles=USER_ROLES,
        managed=accounts.MANAGED_ROLES,
    )


@bp.post("/users")
def create_user() -> Response:
    form = request.form
    data = accounts.NewAccount(
        email=form.get("email", ""),
        name=form.get("name", ""),
        role=form.get("role", ""),
        department_id=int_or_none(form.get("department_id")),
    )
    try:
        user, message = accounts.invite_user(data, now=clock.now(), by=current_user)
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.users"))
    send_now(message.id)
    flash(_("已创建账号 %(email)s，设置密码的链接已发往该邮箱。", email=user.email))
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
def user_active(user_id: int) -> Response:
    user = _get(User, user_id)
    active = request.form.get("active") == "1"
    try:
        accounts.set_active(user, active, now=clock.now(), by=current_user)
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(
            _("已启用 %(email)s。", email=user.email)
            if active
            else _("已停用 %(email)s，其会话和 API 令牌已失效。", email=user.email)
        )
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/reset")
def user_reset(user_id: int) -> Response:
    user = _get(User, user_id)
    try:
        message = accounts.reset_password(user, now=clock.now(), by=current_user)
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        send_now(message.id)
        flash(_("已重置 %(email)s 的密码：原密码失效，重置链接已发往该邮箱。", email=user.email))
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>")
def user_edit(user_id: int) -> Response:
    user = _get(User, user_id)
    try:
        accounts.change_account(
            user,
            role=request.form.get("role", ""),
            department_id=int_or_none(request.form.get("department_id")),
            now=clock.now(),
            by=current_user,
        )
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("已保存 %(email)s 的角色和单位。", email=user.email))
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/portfolio", methods=["GET", "POST"])
def user_portfolio(user_id: int) -> str | Response | tuple[str, int]:
    """分管: the departments a leader oversees (their dashboard and weekly digest start with these)."""
    user = _get(User, user_id)
    if user.role != "leader":
        abort(404)
    if request.method == "POST":
        ids = [i for i in (int_or_none(v) for v in request.form.getlist("department_id")) if i is not None]
        try:
            added, removed = portfolio.set_portfolio(user, ids, now=clock.now(), by=current_user)
        except portfolio.PortfolioError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(
                _(
                    "已保存 %(email)s 的分管单位（新增 %(added)s 个，移除 %(removed)s 个）。",
                    email=user.email,
                    added=added,
                    removed=removed,
                )
            )
            return redirect(url_for("admin.user_portfolio", user_id=user.id))
    return render_template(
        "admin/portfolio.html",
        user=user,
        departments=_active_departments(),
        chosen=set(portfolio.department_ids(user.id)),
    )


@bp.get("/departments")
def departments() -> str:
    q = request.args.get("q", "")
    rows = directory.list_departments(q)
    return render_template(
        "admin/departments.html",
        departments=rows,
        former=directory.former_names([d.id for d in rows]),
        q=q,
        kinds=DEPARTMENT_KINDS,
        counties=db.session.scalars(db.select(County).filter_by(active=True).order_by(County.position)).all(),
    )


@bp.post("/departments")
def department_add() -> Response:
    try:
        department = directory.add_department(
            name=request.form.get("name", ""),
            kind=request.form.get("kind", ""),
            county_id=int_or_none(request.form.get("county_id")),
            now=clock.now(),
            user_id=current_user.id,
        )
    except directory.DirectoryError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.departments"))
    flash(_("已添加单位 %(name)s。", name=department.name))
    return redirect(url_for("admin.department", department_id=department.id))


@bp.get("/departments/<int:department_id>")
def department(department_id: int) -> str:
    dept = _get(Department, department_id)
    return render_template(
        "admin/department.html",
        department=dept,
        duties=directory.open_duties(dept),
        former=directory.former_names([dept.id]).get(dept.id, []),
        others=[d for d in _active_departments() if d.id != dept.id],
        merged_into=db.session.get(Department, dept.merged_into_id) if dept.merged_into_id else None,
    )


@bp.post("/departments/<int:department_id>/rename")
def department_rename(department_id: int) -> Response:
    dept = _get(Department, department_id)
    old = dept.name
    try:
        directory.rename(dept, request.form.get("name", ""), now=clock.now(), user_id=current_user.id)
    except directory.DirectoryError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("已将 %(old)s 更名为 %(new)s；原名保留在历史记录中。", old=old, new=dept.name))
    return redirect(url_for("admin.department", department_id=department_id))


@bp.post("/departments/<int:department_id>/signoff")
def department_signoff(department_id: int) -> Response:
    dept = _get(Department, department_id)
    required = request.form.get("required") == "1"
    signoff.set_required(dept, required, now=clock.now(), user_id=current_user.id)
    flash(
        _("%(name)s 的报告今后须经单位负责人审核后再送统筹协调人员。", name=dept.name)
        if required
        else _("%(name)s 的报告今后直接送统筹协调人员审核。", name=dept.name)
    )
    return redirect(url_for("admin.department", department_id=department_id))


@bp.post("/departments/<int:department_id>/active")
def department_active(department_id: int) -> Response:
    dept = _get(Department, department_id)
    try:
        if request.form.get("active") == "1":
            directory.reactivate_department(dept, now=clock.now(), user_id=current_user.id)
            flash(_("已重新启用 %(name)s。", name=dept.name))
        else:
            directory.deactivate_department(dept, now=clock.now(), user_id=current_user.id)
            flash(_("已停用 %(name)s。", name=dept.name))
    except directory.DirectoryError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("admin.department", department_id=department_id))


@bp.post("/departments/<int:department_id>/merge")
def department_merge(department_id: int) -> Response:
    source = _get(Department, department_id)
    target = db.session.get(Department, int_or_none(request.form.get("into")) or 0)
    if target is None:
        flash(_("请选择合并到的单位。"), "error")
        return redirect(url_for("admin.department", department_id=department_id))
    try:
        result = merge_departments(source, target, now=clock.now(), user_id=current_user.id)
    except directory.DirectoryError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.department", department_id=department_id))
    flash(
        _(
            "已将 %(source)s 合并到 %(target)s：转移职责 %(moved)s 项，合并同一任务上的职责 %(combined)s 项，转移进展报告 %(reports)s 份。",  # noqa: E501
            source=source.name,
            target=target.name,
            moved=len(result.moved_roles),
            combined=len(result.combined_roles),
            reports=result.reports,
        )
    )
    return redirect(url_for("admin.department", department_id=target.id))


@bp.get("/counties")
def counties() -> str:
    rows = db.session.scalars(db.select(County).order_by(County.position, County.id)).all()
    governments = {
        d.county_id: d for d in db.session.scalars(db.select(Department).where(Department.county_id.is_not(None)))
    }
    return render_template("admin/counties.html", counties=rows, governments=governments, kinds=COUNTY_KINDS)


@bp.post("/counties")
def county_add() -> Response:
    try:
        county = directory.add_county(
            name=request.form.get("name", ""),
            kind=request.form.get("kind", ""),
            now=clock.now(),
            user_id=current_user.id,
        )
    except directory.DirectoryError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("已添加县区 %(name)s。", name=county.name))
    return redirect(url_for("admin.counties"))


@bp.post("/counties/<int:county_id>")
def county_edit(county_id: int) -> Response:
    county = _get(County, county_id)
    try:
        if "active" in request.form:
            directory.set_county_active(
                county, request.form.get("active") == "1", now=clock.now(), user_id=current_user.id
            )
        else:
            directory.rename(county, request.form.get("name", ""), now=clock.now(), user_id=current_user.id)
    except directory.DirectoryError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("已保存县区 %(name)s。", name=county.name))
    return redirect(url_for("admin.counties"))


@bp.get("/plans")
def plans() -> str:
    """The loaded plans and their review rule (审核回避: a coordinator does not review their own department)."""
    rows = db.session.scalars(db.select(Plan).order_by(Plan.start.desc(), Plan.id)).all()
    return render_template("admin/plans.html", plans=rows)


@bp.post("/plans/<int:plan_id>/separation")
def plan_separation(plan_id: int) -> Response:
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        abort(404)
    on = request.form.get("on") == "1"
    separation.set_separate_review(plan, on, now=clock.now(), user_id=current_user.id)
    flash(
        _("%(title)s：协调员今后不审核本单位的报告。", title=plan.title)
        if on
        else _("%(title)s：协调员今后可以审核本单位的报告。", title=plan.title)
    )
    return redirect(url_for("admin.plans"))
