"""``flask graph …``: export the relationship graph, add a dependency, run the structural checks."""

from __future__ import annotations

import click
from flask_babel import gettext as _

from .. import clock
from ..errors import TrackerError
from ..graph import service as graph_service
from ..i18n import N_
from ..numbers import LAG_MAX
from ..tasks.queries import current_plan, get_plan
from .base import TranslatedGroup, option

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
