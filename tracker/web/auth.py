"""Login, logout and password change."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from .. import clock
from ..accounts.passwords import MIN_PASSWORD
from ..accounts.service import AccountError, authenticate, change_password
from ..accounts.sessions import end_sessions, load_session_user
from ..extensions import db, login_manager
from ..i18n import LOCALES
from ..models import User
from .redirects import redirect_target

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return load_session_user(user_id)  # a session ended since (logout, password change …) names nobody


class LoginForm(FlaskForm):
    email = EmailField(_l("电子邮箱"), validators=[DataRequired(_l("请输入电子邮箱"))])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码"))])


class PasswordForm(FlaskForm):
    old = PasswordField(_l("原密码"), validators=[DataRequired(_l("请输入原密码"))])
    new = PasswordField(
        _l("新密码"),
        validators=[
            DataRequired(_l("请输入新密码")),
            Length(min=MIN_PASSWORD, message=_l("至少 %(MIN_PASSWORD)s 位", MIN_PASSWORD=MIN_PASSWORD)),
        ],
    )
    confirm = PasswordField(_l("确认新密码"), validators=[EqualTo("new", message=_l("两次输入的新密码不一致"))])


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    target = redirect_target(request.args.get("next"))  # checked before anyone is logged in
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(
                form.email.data or "", form.password.data or "", now=clock.now(), client=request.remote_addr
            )
        except AccountError as exc:
            form.password.errors = [str(exc)]
        else:
            login_user(user)
            return redirect(target or url_for("tasks.home"))
    return render_template("auth/login.html", form=form)


@bp.post("/language")
def language() -> Response:
    """The header's 中文 / English switch: for this session, and saved on the account when logged in."""
    target = redirect_target(request.form.get("next"))
    locale = request.form.get("locale", "")
    if locale in LOCALES:
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
            db.session.commit()
        refresh()
    return redirect(target or url_for("tasks.home"))


@bp.post("/logout")
def logout() -> Response:
    if current_user.is_authenticated and current_user.locale in LOCALES:
        session["locale"] = current_user.locale  # the login page keeps the language the user chose
    if current_user.is_authenticated:
        # Logging out ends this account's sessions everywhere: a copied cookie stops working too.
        end_sessions(current_user, now=clock.now(), by_id=current_user.id, reason="logout")
        db.session.commit()
    logout_user()
    refresh()
    flash(_("已退出登录。"))
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
            login_user(current_user._get_current_object())  # this session goes on; every other one ended
            flash(_("密码已修改。"))
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
