"""Writing the change history. Every service that changes a task, assignment, deadline or contact
records the old and new value here, in the same transaction as the change."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import has_request_context, request

from .extensions import db
from .models import AuditLog

# The ``actor`` of rows written by importing a plan file: this prefix and the file's name (the importing
# person is the row's user). The history formatter (tracker.reports.history) shows both.
IMPORT_ACTOR = "plan-file:"


def import_actor(filename: str) -> str:
    """The ``actor`` of history rows written by importing the file ``filename``."""
    return (IMPORT_ACTOR + filename)[:254]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def record(
    *,
    now: datetime,
    action: str,
    entity: str,
    entity_id: int | None,
    field: str = "",
    old: Any = None,
    new: Any = None,
    user_id: int | None = None,
    actor: str = "",
) -> AuditLog:
    """Add one history row to the session (the caller commits)."""
    row = AuditLog(
        at=now,
        user_id=user_id,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        field=field,
        old=_text(old),
        new=_text(new),
        # Where a web request came from (等保: the audit log names the source address).
        ip=(request.remote_addr or "")[:64] if has_request_context() else "",
    )
    db.session.add(row)
    return row


def update_fields(
    obj: Any, values: dict[str, Any], *, now: datetime, entity: str, user_id: int | None = None, actor: str = ""
) -> int:
    """Set each changed attribute of ``obj`` and record it; return how many fields changed.

    ``obj`` must already have an id (flush before calling on a new object).
    """
    changed = 0
    for name, new in values.items():
        old = getattr(obj, name)
        if old == new:
            continue
        setattr(obj, name, new)
        record(
            now=now,
            action="update",
            entity=entity,
            entity_id=obj.id,
            field=name,
            old=old,
            new=new,
            user_id=user_id,
            actor=actor,
        )
        changed += 1
    return changed
