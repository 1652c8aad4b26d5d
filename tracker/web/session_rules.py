"""Rules every logged-in request passes: the idle timeout (``SESSION_IDLE_MINUTES``, 等保 2.0) and
the password change an account created with a chosen password owes at its first login."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user, user_logged_in

from .. import clock
from ..accounts.sessions import idle_expired

SEEN_KEY = "seen"
# What an account that must change its password may still reach.
BEFORE_PASSWORD_CHANGE = {"auth.password", "auth.logout", "auth.language", "auth.healthz", "static"}


def init_session_rules(app: Flask) -> None:
    @user_logged_in.connect_via(app)
    def fresh_session(sender: Flask, user: object, **extra: object) -> None:
        session[SEEN_KEY] = clock.now().isoformat()  # idle time counts from the login, not an old visit

    @app.before_request
    def session_rules():  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/") or request.endpoint == "static" or not current_user.is_authenticated:
            return None
        now = clock.now()
        limit = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
        if idle_expired(session.get(SEEN_KEY), now, limit):
            logout_user()
            session.pop(SEEN_KEY, None)
            flash(_("长时间未操作，已自动退出，请重新登录。"))
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        # Write the cookie only when a minute has passed: not on every request.
        if session.get(SEEN_KEY) is None or idle_expired(session.get(SEEN_KEY), now, timedelta(minutes=1)):
            session[SEEN_KEY] = now.isoformat()
        if current_user.must_change_password and request.endpoint not in BEFORE_PASSWORD_CHANGE:
            flash(_("首次登录请先修改密码。"))
            return redirect(url_for("auth.password"))
        return None
