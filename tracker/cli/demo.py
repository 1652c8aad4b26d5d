"""``flask demo generate``: labelled demo progress, only on the demo database."""

from __future__ import annotations

import click
from flask_babel import gettext as _

from .. import clock
from ..errors import TrackerError
from ..i18n import N_
from .base import TranslatedGroup, option

demo_cli = TranslatedGroup("demo", help=N_("演示数据（只写入 instance/demo.sqlite3）。"))


@demo_cli.command("generate", help=N_("生成带【演示数据】标记的进展、审核和目标实际值；只在演示库上运行。"))
@option("--seed", default=20240620, show_default=True, help=N_("随机数种子（同一种子结果相同）"))
@option("--if-empty", is_flag=True, help=N_("演示库已有数据时不做任何事（make demo 用它）"))
def demo_generate(seed: int, if_empty: bool) -> None:
    from flask import current_app

    from ..leadership.demo import DemoAlreadyGenerated, generate

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
