"""Flask extensions, created unbound here and wired in ``create_app`` with ``init_app``."""

from __future__ import annotations

from flask_babel import gettext
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .i18n import N_

# Stable constraint names, so that Alembic migrations name what they create and drop the same way
# on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = N_("请先登录。")
login_manager.localize_callback = gettext  # flashed in the visitor's language
# Storage only: the API counts calls per token itself (tracker/api/tokens.py), once it knows the token.
# RATELIMIT_STORAGE_URI (tracker/config.py) chooses memory or Redis.
limiter = Limiter(key_func=lambda: "", default_limits=[], headers_enabled=False)
