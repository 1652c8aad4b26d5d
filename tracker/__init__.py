"""The tracker: a city government's five-year-plan implementation tracker.

``create_app`` wires configuration → extensions → blueprints → CLI. Nothing here starts the
scheduler: that runs in its own process.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from .extensions import csrf, db, limiter, login_manager

PROJECT_ROOT = config_module.PROJECT_ROOT


def _without_hooks(app: Flask, extension: object) -> None:
    """Unhook ``extension``'s per-request functions from ``app``.

    Flask-Limiter is only the API's counting store (tracker/api/tokens.py counts per token once it
    knows the token): it declares no limit, so its hooks would check none, add no header and release
    nothing, at a cost on every request the app serves.
    """

    def its(function: object) -> bool:
        bound = getattr(function, "__self__", None) is extension
        return bound or (isinstance(function, partial) and extension in function.args)

    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        hooks[None] = [f for f in hooks.get(None, []) if not its(f)]


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    if not (PROJECT_ROOT / "templates").is_dir():
        # templates/, migrations/ and seeds/ live in the checkout, not in the installed package.
        raise RuntimeError(
            f"tracker: no templates/ under {PROJECT_ROOT}. Run it from its checkout directory "
            "(flask --app wsgi …, gunicorn wsgi:app there), not from an installed copy: see docs/deploy.md."
        )
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    app.config.from_mapping(config_module.from_environment(app.instance_path))
    if test_config is not None:
        app.config.from_mapping(test_config)
        uri = app.config["SQLALCHEMY_DATABASE_URI"]
        app.config["SQLALCHEMY_DATABASE_URI"] = config_module.normalise_database_url(uri)
    app.config["MAX_CONTENT_LENGTH"] = (app.config["MAX_UPLOAD_MB"] + 1) * 1024 * 1024
    config_module.refuse_unsafe_production(app.config)
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from . import models  # noqa: F401  (register the tables with the metadata)

    db.init_app(app)
    if not config_module.running_under_gunicorn():
        # `flask db …` (Flask-Migrate, alembic): the command line's, never the web server's, whose every
        # worker would hold alembic for nothing (11 MB each)
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    _without_hooks(app, limiter)

    from . import cache

    cache.init_app(app)

    from . import i18n

    i18n.init_app(app)

    from .web import register_web

    register_web(app)

    from .cli import register_cli

    register_cli(app)
    return app
