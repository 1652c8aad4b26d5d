"""Login, logout and password change."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from .. import clock
from ..accounts.service import MIN_PASSWORD, AccountError, authenticate, change_password
from ..extensions import db, login_manager
from ..models import User

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


class LoginForm(FlaskForm):
    email = EmailField("电子邮箱", validators=[DataRequired("请输入电子邮箱")])
    password = PasswordField("密码", validators=[DataRequired("请输入密码")])


class PasswordForm(FlaskForm):
    old = PasswordField("原密码", validators=[DataRequired("请输入原密码")])
    new = PasswordField(
        "新密码", validators=[DataRequired("请输入新密码"), Length(min=MIN_PASSWORD, message=f"至少 {MIN_PASSWORD} 位")]
    )
    confirm = PasswordField("确认新密码", validators=[EqualTo("new", message="两次输入的新密码不一致")])


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: never an open redirect to another host.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data or "", form.password.data or "", now=clock.now())
        except AccountError as exc:
            form.password.errors = [str(exc)]
        else:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("tasks.home"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    flash("已退出登录。")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> str | Response:
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, form.old.data or "", form.new.data or "", now=clock.now())
        except AccountError as exc:
            form.old.errors = [str(exc)]
        else:
            flash("密码已修改。")
            return redirect(url_for("tasks.home"))
    return render_template("auth/password.html", form=form)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """For load balancers and monitoring: 200 when the database answers, 503 when not; no login."""
    try:
        db.session.execute(db.text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}, 200
