"""Configuration: the one place that reads the environment.

Everything else reads ``app.config``. Tests pass a mapping to ``create_app`` instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(instance_path: str) -> dict[str, Any]:
    """Settings taken from the process environment, with embedded defaults."""
    env = os.environ
    default_db = "sqlite:///" + str(Path(instance_path) / "tracker.sqlite3")
    return {
        "SECRET_KEY": env.get("SECRET_KEY", "dev-only-change-me"),
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
        "BASE_URL": env.get("BASE_URL", "http://127.0.0.1:5000"),
        # Calls per API token per window (seconds): a fixed window, 429 beyond it.
        "API_RATE_LIMIT": int(env.get("API_RATE_LIMIT", "300")),
        "API_RATE_WINDOW": int(env.get("API_RATE_WINDOW", "60")),
        # Where those calls are counted: memory:// (one process) by default; with several workers set
        # redis://host:6379/0 so that they share one count (Flask-Limiter's setting).
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or "memory://",
        "RATELIMIT_STRATEGY": "fixed-window",
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
            "checkin_workdays_before": int(env.get("REMIND_CHECKIN_WORKDAYS_BEFORE", "5")),
            "link_days": int(env.get("REMIND_LINK_DAYS", "14")),
            "checkin_cron": env.get("REMIND_CHECKIN_CRON", "0 9 * * *"),
            "sweep_cron": env.get("REMIND_SWEEP_CRON", "0 9 * * *"),
        },
        "MAIL_MAX_ATTEMPTS": int(env.get("MAIL_MAX_ATTEMPTS", "6")),
        "MAIL_RETRY_BASE_SECONDS": int(env.get("MAIL_RETRY_BASE_SECONDS", "60")),
        "MAIL_TIMEOUT_SECONDS": int(env.get("MAIL_TIMEOUT_SECONDS", "20")),
    }


def normalise_database_url(url: str) -> str:
    """Accept the common ``postgres://`` / ``postgresql://`` spellings and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
