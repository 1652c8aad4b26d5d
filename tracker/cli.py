"""Command-line interface, grouped by noun: ``flask --app wsgi plan load|export``, ``graph …``.

Each command parses its arguments, calls one service and prints the result; domain errors end
in a clear message and a non-zero exit.

The CLI speaks the site language (``TRACKER_LANGUAGE``): messages go through gettext when they are
printed, inside the app context. Help texts are written at import time, before any app exists, so
they are msgids marked ``N_`` and translated when click shows them (``TranslatedCommand`` …).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from flask_babel import gettext as _

from . import clock
from .accounts.service import DEMO_PASSWORD, create_user, ensure_demo_accounts
from .backup import backup_sqlite
from .config import PROJECT_ROOT
from .errors import TrackerError
from .graphs import service as graph_service
from .i18n import N_, label
from .models.org import USER_ROLES
from .numbers import LAG_MAX
from .plans.export import export_plan
from .plans.loader import load_plan
from .plans.queries import current_plan, get_plan, plan_exists
from .plans.schema import read_plan_file

DEFAULT_PLAN_FILE = PROJECT_ROOT / "seeds" / "anyang-14fyp.yaml"
F = TypeVar("F", bound=Callable[..., Any])


class _TranslatedHelp:
    """``help`` is a msgid, translated each time click reads it (to show ``--help``, a command list).

    By then the app is loaded and its context pushed (``FlaskGroup.get_command`` does it, and so
    does a test holding one), so gettext speaks the site language; without a context, Chinese.
    """

    _help: str | None

    @property
    def help(self) -> str | None:
        return _(self._help) if self._help else self._help

    @help.setter
    def help(self, value: str | None) -> None:
        self._help = value


class TranslatedCommand(_TranslatedHelp, click.Command):
    """A command whose help (``help=N_(...)``, not a docstring: pybabel extracts no docstrings) is translated."""


class TranslatedGroup(_TranslatedHelp, AppGroup):
    """An ``AppGroup`` whose help and whose commands' help are translated."""

    command_class = TranslatedCommand


class TranslatedOption(_TranslatedHelp, click.Option):
    """An option whose help (``help=N_(...)``) is translated."""


def option(*param_decls: str, **attrs: Any) -> Callable[[F], F]:
    """``click.option`` with a translated help text (``help=N_(...)``)."""
    attrs.setdefault("cls", TranslatedOption)
    return click.option(*param_decls, **attrs)


def _require_schema() -> None:
    """A clear message instead of a traceback when the database was never migrated."""
    from sqlalchemy import inspect

    from .extensions import db

    if not inspect(db.engine).has_table("plan"):
        raise click.ClickException(_("数据库尚未初始化：请先运行 flask --app wsgi db upgrade（或 make run）。"))


plan_cli = TranslatedGroup("plan", help=N_("导入、导出计划。"))


@plan_cli.command(
    "load",
    help=N_(
        "校验并导入计划文件（默认：seeds/anyang-14fyp.yaml）。全部成功或全部不变。\n\n"
        "文件是权威来源：再次导入会把任务、分工、目标和关联改回文件中的样子（历史中有记录）。"
    ),
)
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@option(
    "--if-missing",
    is_flag=True,
    help=N_("计划已导入时不做任何事（make run 用它：应用内的修改不被文件覆盖）。"),
)
def plan_load(file: Path | None, if_missing: bool) -> None:
    path = file or DEFAULT_PLAN_FILE
    _require_schema()
    try:
        data = read_plan_file(path)
        if if_missing and plan_exists(data.plan["key"]):
            click.echo(_("计划 %(key)s 已导入，未重新导入。", key=data.plan["key"]))
            return
        report = load_plan(data, now=clock.now())
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.summary())


@plan_cli.command("export", help=N_("把计划按交换格式输出为 JSON（标准输出）。"))
@option("--plan", "plan_key", help=N_("计划编号（默认：当前计划）"))
def plan_export(plan_key: str | None) -> None:
    try:
        plan = get_plan(plan_key) if plan_key else current_plan(clock.today())
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(export_plan(plan), ensure_ascii=False, indent=2))


@plan_cli.command("export-xlsx", help=N_("把计划导出为任务分解表（Excel）。"))
@option("--plan", "plan_key", help=N_("计划编号（默认：当前计划）"))
@option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help=N_("输出文件 .xlsx"))
def plan_export_xlsx(plan_key: str | None, output: Path) -> None:
    from .plans.excel import task_workbook

    try:
        plan = get_plan(plan_key) if plan_key else current_plan(clock.today())
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    output.write_bytes(task_workbook(plan))
    click.echo(_("已导出 %(plan)s 到 %(path)s", plan=plan.key, path=output))


@plan_cli.command("import-xlsx", help=N_("从任务分解表（Excel）更新或新建计划。全部成功或全部不变。"))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@option("--plan", "plan_key", help=N_("更新已有计划（编号）"))
@option("--new-plan", "new_key", help=N_("新建计划的编号"))
@option("--title", help=N_("新计划名称"))
@option("--start", type=click.DateTime(["%Y-%m-%d"]), help=N_("新计划开始日期"))
@option("--end", type=click.DateTime(["%Y-%m-%d"]), help=N_("新计划结束日期"))
@option("--dry-run", is_flag=True, help=N_("只预览变化，不写入"))
def plan_import_xlsx(file: Path, plan_key: str | None, new_key: str | None, title, start, end, dry_run: bool) -> None:  # type: ignore[no-untyped-def]
    from .plans.excel import import_task_workbook

    _require_schema()
    if bool(plan_key) == bool(new_key):
        raise click.UsageError(_("请给出 --plan KEY 或 --new-plan KEY --title T --start D --end D（二者选一）"))
    new_plan = None
    if new_key:
        if not (title and start and end):
            raise click.UsageError(_("新建计划需要 --title、--start 和 --end"))
        new_plan = {"key": new_key, "title": title, "start": start.date(), "end": end.date()}
    try:
        report, changes = import_task_workbook(
            file.read_bytes(), plan_key=plan_key, new_plan=new_plan, now=clock.now(), dry_run=dry_run
        )
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    for c in changes:
        click.echo(f"  {c.action} {c.entity} {c.name} {c.field} {c.old or ''} → {c.new or ''}".rstrip())
    summary = report.summary()
    click.echo(_("（预览，未写入）%(summary)s", summary=summary) if dry_run else summary)


@plan_cli.command(
    "import-values", help=N_("导入各县（市、区）目标实际值（附件 1 / 附件 3 格式）。追加，全部成功或全部不变。")
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@option("--period", required=True, help=N_("报送期：2024、2024Q2 或 2024-05"))
@option("--plan", "plan_key", help=N_("计划编号（默认：当前计划）"))
def plan_import_values(file: Path, period: str, plan_key: str | None) -> None:
    from .plans.excel import import_target_values

    _require_schema()
    try:
        plan = get_plan(plan_key) if plan_key else current_plan(clock.today())
        rows = import_target_values(
            file.read_bytes(), plan=plan, period=period, now=clock.now(), reporter_id=None, source_name=file.name
        )
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("已导入 %(n)s 个实际值（%(plan)s，%(period)s）", n=len(rows), plan=plan.key, period=period))


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


graph_cli = TranslatedGroup("graph", help=N_("任务依赖与部门关系图：导出、添加依赖、结构检查。"))


@graph_cli.command(
    "export",
    help=N_("把关系图输出到标准输出（GraphML / GEXF / node-link JSON），可用 Gephi、yEd 或 networkx 打开。"),
)
@click.option("--format", "fmt", type=click.Choice(["graphml", "gexf", "json"]), default="graphml", show_default=True)
@option("--plan", "plan_key", help=N_("计划编号（默认：当前计划）"))
def graph_export(fmt: str, plan_key: str | None) -> None:
    try:
        plan = get_plan(plan_key) if plan_key else current_plan(clock.today())
        click.echo(graph_service.export(plan, fmt), nl=False)
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc


@graph_cli.command("add-dependency", help=N_("记录“TASK 依赖 DEPENDS_ON”；形成循环时拒绝并指出循环。"))
@click.argument("task")
@click.argument("depends_on")
@option("--lag", default=0, type=click.IntRange(min=0, max=LAG_MAX), help=N_("滞后（工作日）"))
@option("--rationale", required=True, help=N_("依据（引用计划原文）"))
def graph_add_dependency(task: str, depends_on: str, lag: int, rationale: str) -> None:
    try:
        plan = current_plan(clock.today())
        graph_service.add_dependency(
            plan, task, depends_on, rationale=rationale, lag_days=lag, now=clock.now(), actor=N_("命令行")
        )
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("已添加依赖：%(task)s 依赖 %(other)s（滞后 %(lag)s 个工作日）", task=task, other=depends_on, lag=lag))


@graph_cli.command("check", help=N_("结构检查：无牵头/负责单位的任务、无任务支撑的目标、无任务的单位、截止日期冲突。"))
def graph_check() -> None:
    try:
        report = graph_service.check_report(current_plan(clock.today()))
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report)


demo_cli = TranslatedGroup("demo", help=N_("演示数据（只写入 instance/demo.sqlite3）。"))


@demo_cli.command("generate", help=N_("生成带【演示数据】标记的进展、审核和目标实际值；只在演示库上运行。"))
@option("--seed", default=20240620, show_default=True, help=N_("随机数种子（同一种子结果相同）"))
@option("--if-empty", is_flag=True, help=N_("演示库已有数据时不做任何事（make demo 用它）"))
def demo_generate(seed: int, if_empty: bool) -> None:
    from flask import current_app

    from .leadership.demo import DemoAlreadyGenerated, generate

    try:
        counts = generate(url=current_app.config["SQLALCHEMY_DATABASE_URI"], now=clock.now(), seed=seed)
    except DemoAlreadyGenerated as exc:
        if not if_empty:
            raise click.ClickException(str(exc)) from exc
        click.echo(_("演示库已有演示数据，未重复生成。"))
        return
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        _(
            "已生成演示数据：进展报告 %(checkins)s 份（其中待审核 %(pending)s 份，本期未报 %(missing)s 份），"
            "审核 %(reviews)s 条，目标实际值 %(target_values)s 个，滞后任务 %(lagging)s 项。",
            **counts,
        )
    )


reports_cli = TranslatedGroup("reports", help=N_("进展报送与审核。"))


@reports_cli.command("queue", help=N_("列出待审核的进展报告和待审批的延期申请。"))
def reports_queue() -> None:
    from .reports.queries import pending_extensions, review_queue, tasks_by_id

    checkins = review_queue()
    click.echo(_("待审核报告 %(n)s 份：", n=len(checkins)))
    for c in checkins:
        click.echo(f"  #{c.id} {c.task.label} {c.task.title} · {c.department.name} · {c.period}")
    extensions = pending_extensions()
    tasks = tasks_by_id({e.task_id for e in extensions})
    click.echo(_("待审批延期申请 %(n)s 份：", n=len(extensions)))
    for e in extensions:
        click.echo(f"  #{e.id} {tasks[e.task_id].label} {e.old_due.isoformat()} → {e.new_due.isoformat()}：{e.reason}")


def register_cli(app: Flask) -> None:
    from .reminders.commands import reminders_cli, scheduler_cli  # it builds on the classes above

    app.cli.add_command(plan_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(graph_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(scheduler_cli)
