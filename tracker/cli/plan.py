"""``flask plan …``: load, export, import a plan (YAML/JSON exchange format and the 任务分解表 workbook)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
from flask_babel import gettext as _

from .. import clock
from ..config import PROJECT_ROOT
from ..errors import TrackerError
from ..i18n import N_
from ..plans.export import export_plan, plan_file_dict
from ..plans.loader import load_plan
from ..plans.schema import read_plan_file
from ..tasks.queries import current_plan, get_plan, plan_exists
from .base import TranslatedGroup, option, require_schema

DEFAULT_PLAN_FILE = PROJECT_ROOT / "seeds" / "anyang-14fyp.yaml"


plan_cli = TranslatedGroup("plan", help=N_("导入、导出计划。"))


@plan_cli.command(
    "load",
    help=N_(
        "校验并导入计划文件（默认：seeds/anyang-14fyp.yaml）。全部成功或全部不变。\n\n"
        "再次导入按文件更新任务、目标以及来自文件的分工和关联（历史中有记录）；"
        "在系统中做出的决定（点名、添加或修改的分工，添加或删除的关联）不会被撤销。"
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
    require_schema()
    try:
        data = read_plan_file(path)
        if if_missing and plan_exists(data.plan["key"]):
            click.echo(_("计划 %(key)s 已导入，未重新导入。", key=data.plan["key"]))
            return
        report = load_plan(data, now=clock.now(), filename=path.name)
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.summary())


@plan_cli.command("export", help=N_("把计划按交换格式输出为 JSON（标准输出）。"))
@option("--plan", "plan_key", help=N_("计划编号（默认：当前计划）"))
@option("--as-plan-file", is_flag=True, help=N_("输出可由 plan load 导入的计划文件格式（JSON）。"))
def plan_export(plan_key: str | None, as_plan_file: bool) -> None:
    try:
        plan = get_plan(plan_key) if plan_key else current_plan(clock.today())
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    data = plan_file_dict(plan) if as_plan_file else export_plan(plan)
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_iso))


def _iso(value: object) -> str:
    """Dates of the plan-file form as ISO text (YYYY-MM-DD)."""
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


@plan_cli.command(
    "draft",
    help=N_("从方案原文（.txt 或 .docx）起草新计划，按交换格式输出到标准输出；可保存、修改后用 plan load 导入。"),
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@option("--key", help=N_("新计划的编号"))
@option("--title", help=N_("新计划的名称（默认：原文标题）"))
def plan_draft(file: Path, key: str | None, title: str | None) -> None:
    from ..plans.draft_service import draft_from_file, warning_text

    require_schema()
    try:
        draft = draft_from_file(file.name, file.read_bytes(), key=key, title=title)
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(draft, ensure_ascii=False, indent=2))
    notes = draft["draft"]
    for entry in notes["unknown_departments"]:
        hint = "、".join(entry["suggestions"])
        click.echo(_("目录中没有的单位：%(name)s", name=entry["name"]) + (f"（{hint}？）" if hint else ""), err=True)
    for warning in notes["warnings"]:
        click.echo(warning_text(warning), err=True)


@plan_cli.command("export-xlsx", help=N_("把计划导出为任务分解表（Excel）。"))
@option("--plan", "plan_key", help=N_("计划编号（默认：当前计划）"))
@option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help=N_("输出文件 .xlsx"))
def plan_export_xlsx(plan_key: str | None, output: Path) -> None:
    from ..plans.xlsx_write import task_workbook

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
    from ..plans.xlsx_read import import_task_workbook

    require_schema()
    if bool(plan_key) == bool(new_key):
        raise click.UsageError(_("请给出 --plan KEY 或 --new-plan KEY --title T --start D --end D（二者选一）"))
    new_plan = None
    if new_key:
        if not (title and start and end):
            raise click.UsageError(_("新建计划需要 --title、--start 和 --end"))
        new_plan = {"key": new_key, "title": title, "start": start.date(), "end": end.date()}
    try:
        report, changes = import_task_workbook(
            file.read_bytes(),
            plan_key=plan_key,
            new_plan=new_plan,
            now=clock.now(),
            dry_run=dry_run,
            filename=file.name,
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
    from ..plans.county_values import import_target_values

    require_schema()
    try:
        plan = get_plan(plan_key) if plan_key else current_plan(clock.today())
        rows = import_target_values(
            file.read_bytes(), plan=plan, period=period, now=clock.now(), reporter_id=None, source_name=file.name
        )
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("已导入 %(n)s 个实际值（%(plan)s，%(period)s）", n=len(rows), plan=plan.key, period=period))
