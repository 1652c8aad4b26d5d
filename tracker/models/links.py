"""Edges between the plan's parts: task dependencies and task → target contributions, with provenance.

Every link says where it comes from (``origin``): ``stated`` (the plan's text says it), ``inferred``
(read off the plan's wording when the plan file was made; not printed in the plan) or ``added`` (a
named person added it in the app on a date: ``added_by_id``, ``added_at``). A plan file reload
updates and removes only stated and inferred links; added links are the app's and are kept.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..i18n import N_
from .base import UTCDateTime

LINK_ORIGINS = {"stated": N_("计划明文"), "inferred": N_("推断"), "added": N_("人工添加")}
# Origins a plan file may give; ``added`` is the app's own.
FILE_LINK_ORIGINS = ("stated", "inferred")


class LinkProvenance:
    """Where a link comes from (see the module docstring)."""

    origin: Mapped[str] = mapped_column(String(8), default="inferred", server_default="inferred")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    added_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def origin_label(self) -> str:
        return LINK_ORIGINS.get(self.origin, self.origin)


class Dependency(LinkProvenance, db.Model):
    """``task`` depends on ``depends_on`` (which must progress first), with an optional lag."""

    __table_args__ = (UniqueConstraint("task_id", "depends_on_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    depends_on_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    lag_days: Mapped[int] = mapped_column(default=0)
    rationale: Mapped[str] = mapped_column(Text, default="")


class Contribution(LinkProvenance, db.Model):
    """A task's work counts towards a target."""

    __table_args__ = (UniqueConstraint("task_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"), index=True)
    rationale: Mapped[str] = mapped_column(Text, default="")
