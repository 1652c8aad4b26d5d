"""Calendar feeds on the web: the public secret-URL feed and the small page that shows and regenerates them."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..accounts.permissions import is_admin, is_coordinator
from ..errors import NotFound, PermissionDenied
from ..extensions import db
from ..feeds import ensure_feeds, feed_for_token, regenerate
from ..models import Department
from ..numbers import int_or_none

bp = Blueprint("feeds", __name__)


def _manages_feeds() -> bool:
    return is_coordinator(current_user) or is_admin(current_user)


@bp.get("/calendar/<token>.ics")
def feed(token: str) -> Response:
    _name, text = feed_for_token(token, now=clock.now(), base_url=current_app.config["BASE_URL"])
    response = Response(text.encode("utf-8"), mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/calendar")
def index() -> str:
    if _manages_feeds():
        departments = list(db.session.scalars(db.select(Department).order_by(Department.position, Department.id)))
        feeds = ensure_feeds([None, *(d.id for d in departments)], now=clock.now(), user_id=current_user.id)
    elif current_user.department_id is not None:
        departments = [current_user.department]
        feeds = ensure_feeds([current_user.department_id], now=clock.now(), user_id=current_user.id)
    else:
        departments, feeds = [], {}
    return render_template("feeds/index.html", departments=departments, feeds=feeds, manage=_manages_feeds())


@bp.post("/calendar/regenerate")
def regenerate_feed() -> Response:
    if not _manages_feeds():
        raise PermissionDenied(_("只有统筹协调人员和管理员可以重新生成订阅地址。"))
    raw = request.form.get("department", "")
    department_id = None if raw == "all" else int_or_none(raw) or -1
    if department_id == -1 or (department_id is not None and db.session.get(Department, department_id) is None):
        raise NotFound(_("没有这个单位。"))
    regenerate(department_id, now=clock.now(), user_id=current_user.id)
    flash(_("已重新生成订阅地址，旧地址已失效。"))
    return redirect(url_for("feeds.index"))
