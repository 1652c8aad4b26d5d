"""Command-line interface, grouped by noun: ``flask --app wsgi plan load|export``, ``graph …``, ``reminders …``.

One module per noun. Each command parses its arguments, calls one service and prints the result;
domain errors end in a clear message and a non-zero exit. :mod:`.base` holds what the groups share.
"""

from __future__ import annotations

from flask import Flask

from .demo import demo_cli
from .graph import graph_cli
from .plan import plan_cli
from .reminders import reminders_cli, scheduler_cli
from .reports import reports_cli
from .users import backup_command, users_cli

__all__ = ["register_cli"]


def register_cli(app: Flask) -> None:
    for command in (
        plan_cli,
        users_cli,
        backup_command,
        graph_cli,
        demo_cli,
        reports_cli,
        reminders_cli,
        scheduler_cli,
    ):
        app.cli.add_command(command)
