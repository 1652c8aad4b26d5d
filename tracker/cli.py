"""Command-line interface, grouped by noun: ``flask --app wsgi plan load|export``.

Each command parses its arguments, calls one service and prints the result; domain errors end
in a clear message and a non-zero exit.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from . import clock
from .accounts.service import DEMO_PASSWORD, create_user, ensure_demo_accounts
from .config import PROJECT_ROOT
from .errors import TrackerError
from .models.org import USER_ROLES
from .plans.export import export_plan
from .plans.loader import load_plan
from .plans.queries import current_plan, get_plan
from .plans.schema import read_plan_file

DEFAULT_PLAN_FILE = PROJECT_ROOT / "seeds" / "anyang-14fyp.yaml"

plan_cli = AppGroup("plan", help="导入、导出计划。")


@plan_cli.command("load")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def plan_load(file: Path | None) -> None:
    """校验并导入计划文件（默认：seeds/anyang-14fyp.yaml）。全部成功或全部不变。"""
    path = file or DEFAULT_PLAN_FILE
    try:
        report = load_plan(read_plan_file(path), now=clock.now())
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.summary())


@plan_cli.command("export")
@click.option("--plan", "plan_key", help="计划编号（默认：当前计划）")
def plan_export(plan_key: str | None) -> None:
    """把计划按交换格式输出为 JSON（标准输出）。"""
    try:
        plan = get_plan(plan_key) if plan_key else current_plan(clock.today())
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(export_plan(plan), ensure_ascii=False, indent=2))


users_cli = AppGroup("users", help="管理账号。")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(sorted(USER_ROLES)), help="角色")
@click.option("--department", "department", help="所属单位全称，如 市发展改革委")
@click.option("--password", required=True, help="初始密码（至少 8 位）")
@click.option("--name", default="", help="姓名")
def users_create(email: str, role: str, department: str | None, password: str, name: str) -> None:
    """创建账号。"""
    try:
        user = create_user(
            email=email, password=password, role=role, department_name=department, name=name, now=clock.now()
        )
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已创建账号 {user.email}（{user.role_label}）")


@users_cli.command("demo")
def users_demo() -> None:
    """创建演示账号（已存在的不变）并打印。"""
    try:
        accounts = ensure_demo_accounts(clock.now())
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    for email, role, department in accounts:
        click.echo(f"  {email:<24} {USER_ROLES[role]:<8} {department}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(plan_cli)
    app.cli.add_command(users_cli)

    from .reminders.commands import reminders_cli, scheduler_cli

    app.cli.add_command(reminders_cli)
    app.cli.add_command(scheduler_cli)
