"""Backups of the embedded SQLite database, taken online with SQLite's own backup API.

PostgreSQL deployments back up with ``pg_dump`` (docs/deploy.md); this module refuses them
rather than pretend.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy.engine import make_url

from .clock import CITY_TZ
from .errors import TrackerError


class BackupError(TrackerError):
    """A backup cannot be taken."""


def sqlite_path(database_uri: str) -> Path:
    url = make_url(database_uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(_("此命令只备份 SQLite 数据库文件；PostgreSQL 请用 pg_dump（见 docs/deploy.md）。"))
    return Path(url.database)


def default_backup_path(source: Path, now: datetime) -> Path:
    stamp = now.astimezone(CITY_TZ).strftime("%Y%m%d-%H%M%S")
    return source.parent / "backups" / f"{source.stem}-{stamp}.sqlite3"


def backup_sqlite(database_uri: str, target: Path | None, *, now: datetime) -> Path:
    """Copy the live database to ``target`` (default ``instance/backups/<name>-<time>.sqlite3``)."""
    source = sqlite_path(database_uri)
    if not source.exists():
        raise BackupError(_("数据库文件不存在：%(path)s", path=source))
    target = target or default_backup_path(source, now)
    if target.exists():
        raise BackupError(_("目标文件已存在，不会覆盖：%(path)s", path=target))
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target
