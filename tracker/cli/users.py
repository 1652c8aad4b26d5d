"""``flask users …`` and ``flask backup``: accounts and the SQLite backup."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from .. import clock
from ..accounts.service import DEMO_PASSWORD, create_user, ensure_demo_accounts
from ..backup import backup_sqlite
from ..errors import TrackerError
from ..i18n import N_, label
from ..models.org import USER_ROLES
from .base import TranslatedCommand, TranslatedGroup, option

users_cli = TranslatedGroup("users", help=N_("管理账号。"))


@users_cli.command("create", help=N_("创建账号。"))
@click.argument("email")
@option("--role", required=True, type=click.Choice(sorted(USER_ROLES)), help=N_("角色"))
@option("--department", "department", help=N_("所属单位全称，如 市发展改革委"))
@option("--password", required=True, help=N_("初始密码（至少 8 位）"))
@option("--name", default="", help=N_("姓名"))
def users_create(email: str, role: str, department: str | None, password: str, name: str) -> None:
    try:
        user = create_user(
            email=email, password=password, role=role, department_name=department, name=name, now=clock.now()
        )
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("已创建账号 %(email)s（%(role)s）", email=user.email, role=label(user.role_label)))


@users_cli.command("demo", help=N_("创建演示账号（已存在的不变）并打印。"))
def users_demo() -> None:
    try:
        accounts = ensure_demo_accounts(clock.now())
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("演示账号（密码均为 %(password)s）：", password=DEMO_PASSWORD))
    for email, role, department in accounts:
        click.echo(f"  {email:<24} {label(USER_ROLES[role]):<8} {department}")


@click.command("backup", cls=TranslatedCommand, help=N_("在线备份 SQLite 数据库（PostgreSQL 请用 pg_dump）。"))
@with_appcontext
@option("--output", "output", type=click.Path(dir_okay=False, path_type=Path), help=N_("备份文件路径"))
def backup_command(output: Path | None) -> None:
    from flask import current_app

    try:
        path = backup_sqlite(current_app.config["SQLALCHEMY_DATABASE_URI"], output, now=clock.now())
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("已备份到 %(path)s", path=path))
