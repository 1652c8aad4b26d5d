"""The web layer: one blueprint per audience, error pages, template helpers."""

from __future__ import annotations

from flask import Flask, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.routing import IntegerConverter

from .. import clock
from ..errors import ConflictError, NotFound, PermissionDenied, PlanClosed, TrackerError
from ..extensions import db
from ..numbers import ID_MAX
from ..reminders.links import grant_for
from .common import init_plan_routing, request_plan
from .redirects import local_target
from .templating import register_template_helpers


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: ASCII digits up to the database's INTEGER, so a huge id is a 404.

    Werkzeug's own converter takes any length, and the query then fails in the database driver (500).
    """

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits: int = 0, min: int = 0, max: int = ID_MAX, signed: bool = False) -> None:  # type: ignore[no-untyped-def]
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register_web(app: Flask) -> None:
    from . import headers, static
    from .admin import bp as admin_bp
    from .admin_jobs import bp as admin_jobs_bp
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .bulletins import bp as bulletins_bp
    from .consolidated import bp as consolidated_bp
    from .drafts import bp as drafts_bp
    from .exchange import bp as exchange_bp
    from .feeds import bp as feeds_bp
    from .figures import bp as figures_bp
    from .graph import bp as graph_bp
    from .instructions import bp as instructions_bp
    from .leadership import bp as leadership_bp
    from .lifecycle import bp as lifecycle_bp
    from .manage import bp as manage_bp
    from .passwords import bp as passwords_bp
    from .plans import bp as plans_bp
    from .profile import bp as profile_bp
    from .reminders import bp as reminders_bp
    from .reports import bp as reports_bp
    from .security import bp as security_bp
    from .session_rules import init_session_rules
    from .signoff import bp as signoff_bp
    from .tasks import bp as tasks_bp

    headers.init_app(app)
    static.init_app(app)
    app.url_map.converters["int"] = IdConverter  # before any rule is added: rules bind it then
    app.register_blueprint(auth_bp)
    app.register_blueprint(tasks_bp)
    app.register_blueprint(graph_bp)
    app.register_blueprint(leadership_bp)
    app.register_blueprint(lifecycle_bp)
    app.register_blueprint(exchange_bp)
    app.register_blueprint(drafts_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(figures_bp)
    app.register_blueprint(profile_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(manage_bp)
    app.register_blueprint(reminders_bp)
    app.register_blueprint(admin_jobs_bp)
    app.register_blueprint(bulletins_bp)
    app.register_blueprint(consolidated_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(passwords_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(security_bp)
    app.register_blueprint(signoff_bp)
    app.register_blueprint(instructions_bp)
    init_session_rules(app)  # before require_login: a timed-out session is sent to log in again

    # An intranet system: every page but the login form, static files and the signed reminder link
    # needs an account. A grant from a signed link opens the one report form it names, nothing else.
    public_endpoints = {
        "auth.login",
        "auth.language",
        "auth.healthz",
        "passwords.forgot",
        "passwords.set_from_link",
        "static",
        "reminders.follow_link",
        "feeds.feed",
    }
    grant_endpoints = {"reports.form"}

    @app.before_request
    def refuse_nul():  # type: ignore[no-untyped-def]
        # No field of any form or query may carry a NUL: PostgreSQL refuses it in text (a 500 deep in
        # a save or a filter), and no person types one. Refused here once, as a 400, for every route.
        # JSON bodies are the API's to check, field by field (422 as documented).
        if not request.query_string and not request.content_length and "Transfer-Encoding" not in request.headers:
            return None  # no query and no body: nothing to check (most GETs)
        fields = [*request.args.lists(), *request.form.lists()]
        texts = [key for key, _values in fields] + [v for _key, values in fields for v in values]
        texts += [f.filename or "" for f in request.files.values()]
        if any("\x00" in t for t in texts):
            abort(400, _("输入中不能含有 NUL 字符。"))
        return None

    @app.before_request
    def require_login():  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):  # the API authenticates by token and answers in JSON
            return None  # (asked first: a session's account is none of a call's business)
        if request.endpoint in public_endpoints or current_user.is_authenticated:
            return None
        if request.endpoint in grant_endpoints and _granted():
            return None
        if request.endpoint is None:  # unknown URL: let the 404 handler answer
            return None
        # Come back here after login, when "here" is a plain path on this site (it always is, unless crafted).
        back = local_target(request.full_path.rstrip("?"), request.host)
        return redirect(url_for("auth.login", next=back) if back else url_for("auth.login"))

    def _granted() -> bool:
        """A signed link's grant in the session opens this report form (its task of its plan)."""
        code = str((request.view_args or {}).get("code"))
        try:
            plan_key = request_plan().key
        except TrackerError:  # no such plan (or none loaded): nothing is granted
            return False
        return grant_for(session, plan_key, code, now=clock.now()) is not None

    init_plan_routing(app)  # after require_login: a visitor without an account learns nothing of plans
    register_template_helpers(app)

    @app.errorhandler(NotFound)
    @app.errorhandler(404)
    def not_found(exc: Exception) -> tuple[str, int]:
        if static.is_static_request():  # a stylesheet or an image asked for, not a page: no page
            return _("页面不存在。"), 404
        message = str(exc) if isinstance(exc, NotFound) else _l("页面不存在。")
        return render_template("error.html", title=_("未找到"), message=message), 404

    @app.errorhandler(PermissionDenied)
    @app.errorhandler(403)
    def forbidden(exc: Exception) -> tuple[str, int]:
        message = str(exc) if isinstance(exc, PermissionDenied) else _l("您没有权限执行此操作。")
        return render_template("error.html", title=_("无权操作"), message=message), 403

    @app.errorhandler(PlanClosed)
    def plan_closed(exc: PlanClosed) -> tuple[str, int]:
        db.session.rollback()
        return render_template("error.html", title=_("计划已关闭"), message=str(exc)), 403

    @app.errorhandler(ConflictError)
    def conflict(exc: ConflictError) -> tuple[str, int]:
        return render_template("error.html", title=_("数据已被他人修改"), message=str(exc)), 409

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[str, int]:
        return render_template(
            "error.html", title=_("页面已过期"), message=_("表单已过期，请刷新页面后重新提交。")
        ), 400

    @app.errorhandler(413)
    def too_large(exc: Exception) -> tuple[str, int]:
        limit = app.config["MAX_UPLOAD_MB"]
        return render_template(
            "error.html", title=_("文件过大"), message=_("上传内容超过 %(limit)s MB 上限。", limit=limit)
        ), 413

    @app.errorhandler(500)
    def server_error(exc: Exception) -> tuple[str, int]:
        return render_template("error.html", title=_("系统错误"), message=_("系统出现错误，已记录。请稍后重试。")), 500
