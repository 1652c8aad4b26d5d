"""三员分立: the auditor's read-only audit log, and the security administrator's page (the policy in
force, and ending an account's sessions)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import aliased
from werkzeug.wrappers import Response

from .. import clock
from ..accounts.passwords import MIN_PASSWORD, common_passwords
from ..accounts.permissions import can_read_audit_log, is_security_admin
from ..accounts.sessions import end_sessions, revoke_api_tokens
from ..clock import CITY_TZ
from ..extensions import db
from ..models import AuditLog, User

bp = Blueprint("security", __name__)

PAGE = 100
# The log's filters: logins and failures, administrative operations, or everything.
LOGIN_ACTIONS = ("login", "login_failed", "end_sessions", "reset_requested_unknown")


@bp.get("/audit")
def audit_log() -> str:
    if not (current_user.is_authenticated and can_read_audit_log(current_user)):
        abort(403)
    kind = request.args.get("kind", "")
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    day_from = _day(request.args.get("from"))
    day_to = _day(request.args.get("to"))
    actor = aliased(User)
    query = db.select(AuditLog, actor.email).outerjoin(actor, actor.id == AuditLog.user_id)
    if kind == "logins":
        query = query.where(AuditLog.action.in_(LOGIN_ACTIONS))
    elif kind == "admin":
        query = query.where(AuditLog.entity.in_(["user", "department", "county", "api_token"]))
        query = query.where(AuditLog.action.not_in(LOGIN_ACTIONS))
    if day_from:
        query = query.where(AuditLog.at >= datetime.combine(day_from, time(0), CITY_TZ))
    if day_to:
        query = query.where(AuditLog.at < datetime.combine(day_to + timedelta(days=1), time(0), CITY_TZ))
    who = request.args.get("who", "").strip()
    if who:
        query = query.where(
            db.or_(actor.email.contains(who, autoescape=True), AuditLog.actor.contains(who, autoescape=True))
        )
    rows = db.session.execute(query.order_by(AuditLog.id.desc()).offset((page - 1) * PAGE).limit(PAGE + 1)).all()
    return render_template(
        "security/audit.html",
        rows=rows[:PAGE],
        more=len(rows) > PAGE,
        page=page,
        kind=kind,
        who=who,
        day_from=day_from,
        day_to=day_to,
        filters={k: v for k, v in request.args.items() if k in {"kind", "who", "from", "to"} and v},
    )


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _security_only() -> None:
    if not (current_user.is_authenticated and is_security_admin(current_user)):
        abort(403)


@bp.get("/security")
def overview() -> str:
    _security_only()
    users = db.session.scalars(db.select(User).order_by(User.email)).all()
    return render_template(
        "security/overview.html",
        users=users,
        idle_minutes=current_app.config["SESSION_IDLE_MINUTES"],
        min_password=MIN_PASSWORD,
        common_count=len(common_passwords()),
        link_hours=current_app.config["PASSWORD_LINK_HOURS"],
    )


@bp.post("/security/users/<int:user_id>/end-sessions")
def end_user_sessions(user_id: int) -> Response:
    _security_only()
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    now = clock.now()
    end_sessions(user, now=now, by_id=current_user.id, reason="security_admin")
    revoked = revoke_api_tokens(user, now=now, by_id=current_user.id)
    db.session.commit()
    flash(_("已结束 %(email)s 的全部会话，撤销 API 令牌 %(n)s 个。", email=user.email, n=revoked))
    return redirect(url_for("security.overview"))
