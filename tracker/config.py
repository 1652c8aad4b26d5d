"""Configuration: the one place that reads the environment.

Everything else reads ``app.config``. Tests pass a mapping to ``create_app`` instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The key a checkout falls back on when nothing else is set: anyone can read it here, so with it a
# session (an administrator's too) can be forged. Fine for a test, refused by the production server.
DEVELOPMENT_SECRET_KEY = "dev-only-change-me"
# `make run` writes a random key here (in the instance folder) on first start, so the embedded
# setup never signs with the development key; production sets SECRET_KEY instead.
SECRET_KEY_FILE = "secret_key"


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(instance_path: str) -> dict[str, Any]:
    """Settings taken from the process environment, with embedded defaults."""
    env = os.environ
    default_db = "sqlite:///" + str(Path(instance_path) / "tracker.sqlite3")
    return {
        "SECRET_KEY": env.get("SECRET_KEY") or _instance_secret_key(instance_path) or DEVELOPMENT_SECRET_KEY,
        # The session cookie: never readable by scripts, not sent with cross-site requests (a link
        # from elsewhere still opens the page logged in); only over HTTPS when the site is served so.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE")),
        # How many reverse proxies (nginx) stand in front and set X-Forwarded-For / -Proto: the login
        # throttle counts by the client's address, which is otherwise the proxy's for everyone.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(env.get("DATABASE_URL") or default_db),
        # The app's clock: an ISO date or datetime makes the whole app run "as of" that moment.
        "TRACKER_NOW": env.get("TRACKER_NOW") or None,
        "TRACKER_TIMEZONE": "Asia/Shanghai",
        # The site's language: what the CLI, the scheduler's log and emails to addresses without an
        # account speak, and what a browser asking for neither zh nor en gets. zh_CN or en.
        "LANGUAGE": env.get("TRACKER_LANGUAGE") or "zh_CN",
        "UPLOAD_FOLDER": env.get("UPLOAD_FOLDER") or str(Path(instance_path) / "uploads"),
        "MAX_UPLOAD_MB": int(env.get("MAX_UPLOAD_MB", "20")),
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _bool(env.get("MAIL_USE_SSL")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "tracker@localhost"),
        # Signed reminder links start with this; without it they follow the port `make run` serves on.
        "BASE_URL": env.get("BASE_URL") or f"http://127.0.0.1:{env.get('PORT') or '5000'}",
        # Calls per API token per window (seconds): a fixed window, 429 beyond it.
        "API_RATE_LIMIT": int(env.get("API_RATE_LIMIT", "300")),
        "API_RATE_WINDOW": int(env.get("API_RATE_WINDOW", "60")),
        # Where those calls are counted: memory:// (one process) by default; with several workers set
        # redis://host:6379/0 so that they share one count (Flask-Limiter's setting).
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or "memory://",
        "RATELIMIT_STRATEGY": "fixed-window",
        # Prefixes the counts' keys: machines sharing one Redis for several sites keep them apart.
        "RATELIMIT_KEY_PREFIX": env.get("RATELIMIT_KEY_PREFIX") or "",
        # The page cache (tracker/cache.py): memory:// (one process, `make run`) or redis://host:6379/1,
        # shared by every worker and machine (a memory cache is off under gunicorn). CACHE_ENABLED=0 turns
        # it off; CACHE_TTL is how long a page is kept (seconds) if no write makes it stale sooner.
        "CACHE_URL": env.get("CACHE_URL") or "memory://",
        "CACHE_ENABLED": _bool(env.get("CACHE_ENABLED"), default=True),
        "CACHE_TTL": int(env.get("CACHE_TTL", "600")),
        "CACHE_KEY_PREFIX": env.get("CACHE_KEY_PREFIX") or "tracker",
        # Where evidence files live (tracker/reports/attachments.py): "disk" (UPLOAD_FOLDER, the default)
        # or "database" (a table of the database itself: every web machine reaches it; docs/deploy.md).
        "EVIDENCE_STORE": env.get("EVIDENCE_STORE") or "disk",
        # The warning-light thresholds (tracker/lights.py documents the rule).
        "LIGHT_RULE": {
            "due_soon_days": int(env.get("LIGHT_DUE_SOON_DAYS", "30")),
            "yellow_behind": float(env.get("LIGHT_YELLOW_BEHIND", "10")),
            "red_behind": float(env.get("LIGHT_RED_BEHIND", "25")),
        },
        # Reminders (tracker/reminders/policy.py documents each stage).
        "REMINDERS": {
            "before_days": [int(d) for d in env.get("REMIND_BEFORE_DAYS", "30,7,1,0").split(",") if d.strip()],
            "chase_every_days": int(env.get("REMIND_CHASE_EVERY_DAYS", "7")),
            "max_chasers": int(env.get("REMIND_MAX_CHASERS", "4")),
            "escalate_after_days": int(env.get("REMIND_ESCALATE_AFTER_DAYS", "14")),
            "link_days": int(env.get("REMIND_LINK_DAYS", "14")),
            "checkin_cron": env.get("REMIND_CHECKIN_CRON", "0 9 * * *"),
            "sweep_cron": env.get("REMIND_SWEEP_CRON", "0 9 * * *"),
            "bulletin_cron": env.get("BULLETIN_CRON", "30 9 * * *"),
        },
        # The supervision bulletin (tracker/bulletins/service.py): issued by the scheduler for each
        # month or quarter, ``after_days`` after the period ends; ``office`` defaults to the coordinating offices.
        "BULLETIN": {
            "cycle": env.get("BULLETIN_CYCLE", "quarter"),
            "after_days": int(env.get("BULLETIN_AFTER_DAYS", "10")),
            "reply_days": int(env.get("BULLETIN_REPLY_DAYS", "10")),
            "office": env.get("BULLETIN_OFFICE") or "",
        },
        # 等保 2.0: a session idle this long ends (minutes); password links expire (hours).
        "SESSION_IDLE_MINUTES": int(env.get("SESSION_IDLE_MINUTES", "30")),
        "PASSWORD_LINK_HOURS": {
            "set": int(env.get("PASSWORD_SET_LINK_HOURS", "72")),
            "reset": int(env.get("PASSWORD_RESET_LINK_HOURS", "2")),
        },
        "MAIL_MAX_ATTEMPTS": int(env.get("MAIL_MAX_ATTEMPTS", "6")),
        "MAIL_RETRY_BASE_SECONDS": int(env.get("MAIL_RETRY_BASE_SECONDS", "60")),
        "MAIL_TIMEOUT_SECONDS": int(env.get("MAIL_TIMEOUT_SECONDS", "20")),
    }


def running_under_gunicorn() -> bool:
    """True inside gunicorn (the production server), master or worker: its arbiter is loaded there.

    Neither ``flask run``, the CLI, the scheduler nor the tests load it.
    """
    return "gunicorn.arbiter" in sys.modules


def _instance_secret_key(instance_path: str) -> str | None:
    # The embedded setup's own key; never in production, where every machine must share SECRET_KEY.
    if running_under_gunicorn():
        return None
    try:
        return (Path(instance_path) / SECRET_KEY_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def refuse_unsafe_production(config: Mapping[str, Any]) -> None:
    """Under gunicorn, stop with a clear message unless SECRET_KEY is a real key.

    The development key (or env.example's placeholder, or anything shorter than 16 characters) would
    let anyone sign a session cookie, an administrator's too, or a reminder link.
    """
    if running_under_gunicorn() and not is_production_secret_key(config.get("SECRET_KEY")):
        raise RuntimeError(
            "tracker: SECRET_KEY is not set to a real key (the development key would let anyone forge a "
            "session). Set SECRET_KEY in the environment (/etc/tracker/env) before starting gunicorn, e.g. "
            "python3 -c 'import secrets; print(secrets.token_hex(32))': see docs/deploy.md."
        )


def is_production_secret_key(key: object) -> bool:
    """Whether ``key`` may sign production sessions.

    >>> [is_production_secret_key(k) for k in (None, DEVELOPMENT_SECRET_KEY, "replace-with-x" * 3, "short")]
    [False, False, False, False]
    >>> is_production_secret_key("4f1c0e9a7b3d2e8f6a5b4c3d2e1f0a9b")
    True
    """
    return (
        isinstance(key, str | bytes)
        and len(key) >= 16
        and key != DEVELOPMENT_SECRET_KEY
        and not str(key).startswith("replace-")
    )


def normalise_database_url(url: str) -> str:
    """Accept the common ``postgres://`` / ``postgresql://`` spellings and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
