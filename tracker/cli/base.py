"""What every command group shares: help texts translated when shown, a clear message for an unmigrated database.

The CLI speaks the site language (``TRACKER_LANGUAGE``): messages go through gettext when they are
printed, inside the app context. Help texts are written at import time, before any app exists, so
they are msgids marked ``N_`` and translated when click shows them (``TranslatedCommand`` …).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

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


def require_schema() -> None:
    """A clear message instead of a traceback when the database was never migrated."""
    from sqlalchemy import inspect

    from ..extensions import db

    if not inspect(db.engine).has_table("plan"):
        raise click.ClickException(_("数据库尚未初始化：请先运行 flask --app wsgi db upgrade（或 make run）。"))
