"""Lookups and edits the task core shares: the city's working days (statutory calendar plus its local overrides).

No request, no ``current_app``: the database session only. Web, CLI, scheduler, feeds and graph all ask
:func:`city_workdays` for working days, so a day the city declares off is off everywhere.
"""

from __future__ import annotations

from datetime import date

from ..extensions import db
from ..models import WorkdayOverride
from .workdays import Workdays

__all__ = ["city_workdays", "remove_workday_override", "set_workday_override"]


def city_workdays() -> Workdays:
    """The working-day calendar with the city's local overrides from the database."""
    return Workdays({o.day: o.is_workday for o in db.session.scalars(db.select(WorkdayOverride))})


def set_workday_override(day: date, is_workday: bool, note: str) -> None:
    """Declare a local working day or day off (replacing an earlier declaration for that day)."""
    override = db.session.get(WorkdayOverride, day)
    if override is None:
        db.session.add(WorkdayOverride(day=day, is_workday=is_workday, note=note.strip()[:200]))
    else:
        override.is_workday, override.note = is_workday, note.strip()[:200]
    db.session.commit()


def remove_workday_override(day: date) -> None:
    """Forget the city's declaration for ``day``: the statutory calendar decides again."""
    override = db.session.get(WorkdayOverride, day)
    if override is not None:
        db.session.delete(override)
        db.session.commit()
