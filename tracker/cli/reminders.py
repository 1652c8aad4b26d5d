"""``flask reminders …`` and ``flask scheduler run``: thin commands over the reminder services."""

from __future__ import annotations

import click
from flask import current_app

from .. import clock
from ..i18n import N_
from ..reminders import mailer, service
from .base import TranslatedGroup, option

# Help texts are msgids, translated when shown (see tracker/cli.py).
reminders_cli = TranslatedGroup("reminders", help=N_("提醒、催办与发件箱。"))
scheduler_cli = TranslatedGroup("scheduler", help=N_("定时任务进程。"))


@reminders_cli.command("sweep", help=N_("把此刻到期的提醒、报送通知、督办写入发件箱，然后发送发件箱。"))
@option("--at", "at", help=N_("按此时刻运行（ISO 日期或时间，北京时间），如 2025-12-24 或 2025-12-24T09:00"))
def sweep_command(at: str | None) -> None:
    if at:
        try:
            current_app.config["TRACKER_NOW"] = clock.parse_instant(at)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--at") from exc
    now = clock.now()
    report = service.sweep(now)
    click.echo(report.summary())
    click.echo(mailer.deliver(now, current_app.config).summary())


@reminders_cli.command("deliver", help=N_("只发送发件箱中到期的邮件。"))
def deliver_command() -> None:
    click.echo(mailer.deliver(clock.now(), current_app.config).summary())


@scheduler_cli.command("run", help=N_("运行定时任务（单独进程；PostgreSQL 下经数据库锁选出唯一主控进程）。"))
@option("--retry-seconds", default=10.0, show_default=True, help=N_("备用进程争取主控的间隔（秒）"))
def scheduler_run(retry_seconds: float) -> None:
    from ..scheduler.process import run_forever

    run_forever(current_app._get_current_object(), retry_seconds=retry_seconds)  # type: ignore[attr-defined]
