"""Setting a password from an emailed link (a new account's first password, or a reset), and asking
for a reset link. Both pages are public: the signed link is the credential."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from .. import clock
from ..accounts.links import LinkError, read_link_token, request_reset, set_password
from ..accounts.passwords import MIN_PASSWORD
from ..reminders import mailer

bp = Blueprint("passwords", __name__)


class ForgotForm(FlaskForm):
    email = EmailField(_l("电子邮箱"), validators=[DataRequired(_l("请输入电子邮箱")), Length(max=254)])


class SetPasswordForm(FlaskForm):
    new = PasswordField(_l("新密码"), validators=[DataRequired(_l("请输入新密码"))])
    confirm = PasswordField(_l("确认新密码"), validators=[EqualTo("new", message=_l("两次输入的新密码不一致"))])


def send_now(message_id: int) -> None:
    """Send one freshly queued account mail at once (it was written to the outbox first; if sending
    fails here the scheduler's delivery retries it like any other)."""
    mailer.deliver(clock.now(), current_app.config, only_ids=[message_id])


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot() -> str | Response:
    form = ForgotForm()
    if form.validate_on_submit():
        message = request_reset(form.email.data or "", now=clock.now())
        if message is not None:
            send_now(message.id)
        # The same answer whether or not the address has an account.
        flash(
            _(
                "如果该地址有账号，重置密码的链接已发送到该邮箱，请在 %(hours)s 小时内使用。",
                hours=current_app.config["PASSWORD_LINK_HOURS"]["reset"],
            )
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/set/<token>", methods=["GET", "POST"])
def set_from_link(token: str) -> str | Response | tuple[str, int]:
    now = clock.now()
    try:
        user, purpose = read_link_token(
            current_app.config["SECRET_KEY"], token, now=now, hours=current_app.config["PASSWORD_LINK_HOURS"]
        )
    except LinkError as exc:
        return render_template("auth/link_error.html", message=_(str(exc))), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            set_password(user, form.new.data or "", now=now)
        except LinkError as exc:
            form.new.errors = [str(exc)]
        else:
            flash(_("密码已设置，请用新密码登录。"))
            return redirect(url_for("auth.login"))
    return render_template("auth/set_password.html", form=form, user=user, purpose=purpose, min_password=MIN_PASSWORD)
