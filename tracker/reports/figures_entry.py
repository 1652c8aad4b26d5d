"""Entry of a unit's own plan-level figures: the city's (二、主要目标 and 附件 2) and a county's (附件 1 / 3).

Who enters what (the plan names no department for its plan-level targets; the reminders already send
them to the coordinating offices as 统筹, and each county's to its government):

- a coordinator, or the staff of a coordinating department (市发展改革委, 市生态环境局), enters the
  city's figures of the 6 main targets and the 13 indicators of 附件 2 — the city's unit;
- the staff of a county government enter their county's figures of its 附件 1 / 附件 3 targets —
  that county's unit, never the city's (the city figure of an additive target is the counties'
  roll-up, :mod:`tracker.tasks.figures`).

A task's target is not entered here: its figure comes with the task's progress report (check-in), where
the lead's figure is the city's and a county's is its county's.

Values are appended (never overwritten), each with its period, source, reporter and optional evidence
files, and the entry is kept in the history (audit log). One transaction: a bad cell or file names its
field and nothing is stored. A unit's staff's figure waits for a coordinator's review
(:mod:`tracker.reports.figures_review`) and counts only once approved; a coordinator's own entry is
approved as it is entered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _

from .. import audit
from ..errors import PermissionDenied
from ..extensions import db
from ..i18n import N_
from ..models import Department, Plan, Target, TargetValue, User
from ..numbers import NumberError, parse_number
from ..numbers import finite_number as _finite
from ..tasks.lifecycle import ensure_open
from ..tasks.periods import parse_period
from . import attachments
from .submission import (
    SOURCE_LIMIT,
    SOURCE_MAX,
    SOURCE_REQUIRED,
    VALUE_FINITE,
    VALUE_NUMBER,
    EvidenceStoreError,
    InvalidReport,
    Upload,
)

__all__ = ["FigureScope", "enter_figures", "figure_scope"]

FIGURES_FORBIDDEN = N_("只有协调单位（及统筹部门）可录入全市数值，县（市、区）政府的填报员可录入本县数值。")
PERIOD_OUTSIDE = N_("报送期 %(key)s 不在计划期 %(start)s 至 %(end)s 之内。")
NOTHING_ENTERED = N_("请至少填写一项数值。")
FIGURE_EVIDENCE_NOT_STORED = N_("佐证材料未能保存，数值没有保存，请稍后重试。")
CITY_GROUPS = ("city", "sector")
COUNTY_GROUPS = ("county_energy", "county_pollutant")


@dataclass
class FigureScope:
    """What one account may enter: the unit, its targets and each one's latest stored figure."""

    unit_kind: str  # "city" or "county"
    county_id: int | None
    unit_name: str
    targets: list[Target]
    latest: dict[int, TargetValue] = field(default_factory=dict)


def figure_scope(user: User, plan: Plan) -> FigureScope:
    """The unit ``user`` enters figures for on ``plan``; ``PermissionDenied`` if none."""
    department = db.session.get(Department, user.department_id) if user.department_id else None
    if user.role == "coordinator" or (user.role == "staff" and department is not None and department.coordinating):
        targets = _targets(plan, CITY_GROUPS, None)
        scope = FigureScope("city", None, _("全市"), targets)
    elif user.role == "staff" and department is not None and department.kind == "county" and department.county_id:
        targets = _targets(plan, COUNTY_GROUPS, department.county_id)
        county_name = department.county.name if department.county else department.name
        scope = FigureScope("county", department.county_id, county_name, targets)
    else:
        raise PermissionDenied(_(FIGURES_FORBIDDEN))
    ids = [t.id for t in targets]
    for v in db.session.scalars(
        db.select(TargetValue)
        .where(
            TargetValue.target_id.in_(ids or [-1]),
            TargetValue.unit_kind == scope.unit_kind,
            TargetValue.checkin_id.is_(None),
        )
        .order_by(TargetValue.period_end, TargetValue.id)
    ):
        if scope.unit_kind == "city" or v.county_id == scope.county_id:
            scope.latest[v.target_id] = v
    return scope


def _targets(plan: Plan, groups: tuple[str, ...], county_id: int | None) -> list[Target]:
    query = db.select(Target).where(Target.plan_id == plan.id, Target.group.in_(groups), Target.task_id.is_(None))
    query = query.where(Target.county_id.is_(None) if county_id is None else Target.county_id == county_id)
    return list(db.session.scalars(query.order_by(Target.position, Target.id)))


def enter_figures(
    user: User,
    plan: Plan,
    *,
    period: str,
    cells: Mapping[str, tuple[str, str]],
    now: datetime,
    evidence: Mapping[str, Sequence[Upload]] | None = None,
    folder: str = "",
    max_mb: float = 20,
    store: str = "disk",
) -> list[TargetValue]:
    """Store the filled cells (target key → (value text, source)) as the unit's figures, with each row's
    evidence files (target key → uploads), or nothing.

    Raises ``PermissionDenied``, ``PlanClosed`` and ``InvalidReport`` (by field: ``period``,
    ``value-KEY``, ``source-KEY``, ``evidence-KEY``), ``EvidenceStoreError`` (a file could not be written).
    """
    scope = figure_scope(user, plan)
    ensure_open(plan)
    evidence = evidence or {}
    problems: dict[str, str] = {}
    try:
        p = parse_period((period or "").strip())
    except ValueError as exc:
        problems["period"] = str(exc)
        p = None
    if p is not None and (p.end < plan.start or p.start > plan.end):
        problems["period"] = _(PERIOD_OUTSIDE, key=p.key, start=plan.start.isoformat(), end=plan.end.isoformat())
    rows: list[tuple[Target, float, str]] = []
    for t in scope.targets:
        text, source = cells.get(t.key, ("", ""))
        text, source = (text or "").strip(), (source or "").strip()
        if not text and not source:
            continue
        try:
            number = _finite(parse_number(text)) if text else None
        except NumberError:
            problems[f"value-{t.key}"] = _(VALUE_NUMBER if _not_a_number(text) else VALUE_FINITE, text=text[:50])
            continue
        if number is None:
            problems[f"value-{t.key}"] = _("请填写实际值。")
            continue
        if not source:
            problems[f"source-{t.key}"] = _(SOURCE_REQUIRED)
        elif len(source) > SOURCE_MAX or "\x00" in source:
            problems[f"source-{t.key}"] = _(SOURCE_LIMIT, limit=SOURCE_MAX)
        else:
            rows.append((t, number, source))
        errors = []
        for upload in evidence.get(t.key, []):
            try:
                attachments.check_upload(upload.filename, upload.data, max_mb)
            except attachments.AttachmentError as exc:
                errors.append(str(exc))
        if errors:
            problems[f"evidence-{t.key}"] = _("；").join(errors)
    if not rows and not problems:
        problems["values"] = _(NOTHING_ENTERED)
    if problems or p is None:
        raise InvalidReport(problems)
    created = []
    written = []
    reviewer = user.role == "coordinator"  # the coordinators are the reviewers: their own entry counts at once
    try:
        for t, number, source in rows:
            tv = TargetValue(
                target_id=t.id,
                period=p.key,
                period_end=p.end,
                value=number,
                source=source,
                department_id=user.department_id,
                reporter_id=user.id,
                created_at=now,
                unit_kind=scope.unit_kind,
                county_id=scope.county_id,
                state="approved" if reviewer else "submitted",
                reviewed_by_id=user.id if reviewer else None,
                reviewed_at=now if reviewer else None,
            )
            db.session.add(tv)
            db.session.flush()
            stored = attachments.store_evidence(
                evidence.get(t.key, []),
                written=written,
                folder=folder,
                max_mb=max_mb,
                user_id=user.id,
                now=now,
                store=store,
                target_value_id=tv.id,
            )
            if not stored:
                raise EvidenceStoreError({f"evidence-{t.key}": _(FIGURE_EVIDENCE_NOT_STORED)})
            audit.record(
                now=now,
                action="enter_figure",
                entity="target_value",
                entity_id=tv.id,
                field=t.key,
                new=f"{p.key}: {number:g} {t.unit or ''} ({scope.unit_name})",
                user_id=user.id,
            )
            created.append(tv)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for path in written:  # the rows are gone with the rollback: their files go too
            path.unlink(missing_ok=True)
        raise
    return created


def _not_a_number(text: str) -> bool:
    try:
        parse_number(text)
    except NumberError:
        return True
    return False
