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
from .config import PROJECT_ROOT
from .errors import TrackerError
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


def register_cli(app: Flask) -> None:
    app.cli.add_command(plan_cli)
