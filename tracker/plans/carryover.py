"""Carry-over (结转): an unfinished measure or target of a finished plan carried into another plan.

A coordinator picks the plan it goes to. The measure (or target) is created there — or linked to one
that already exists there under the code (key) given — and a :class:`~tracker.models.CarryOver` row
links both sides, so each page shows where it went or came from. The history records who carried
what, when, on both sides, in the same transaction.

Rules written down here:

* the source plan must be finished: closed, or past its end date (in its final assessment);
* only what is unfinished is carried: a measure not closed (销号) nor done; a target any time
  (a target met need not be, but the coordinator decides: the figures are on the page);
* the receiving plan must be another plan, and open (``ensure_open``);
* one thing is carried once into a given plan;
* a new measure keeps the code, number, title, text and the departments with their roles; it runs
  from the later of the receiving plan's start and today to the receiving plan's end, starts again
  at 0 % (the work still to do is the new plan's), in the section with the same number, else the
  last section;
* a new target keeps its goal; its baseline becomes the source's final approved value (and the
  source plan's last year), due at the receiving plan's end; it hangs on the measure carried into
  that plan from its own measure, when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func

from .. import audit
from ..clock import city_date
from ..errors import TrackerError
from ..extensions import db
from ..models import Assignment, CarryOver, Plan, Section, Target, TargetValue, Task, User
from ..tasks.figures import value_counts
from ..tasks.lifecycle import ensure_open, is_closed

__all__ = ["CarryError", "CarryLink", "carry_target", "carry_task", "links_of_targets", "links_of_task", "receivers"]


class CarryError(TrackerError):
    """The carry-over is refused for a reason the coordinator can fix (shown on the form)."""


def _finished(plan: Plan, now: datetime) -> None:
    if not (is_closed(plan) or city_date(now) > plan.end):
        raise CarryError(_("只有已结束（五年考核中）或已关闭的计划中的事项可以转入其他计划。"))


def receivers(source: Plan) -> list[Plan]:
    """The plans a measure or target of ``source`` may go to: every other open plan."""
    return list(
        db.session.scalars(
            db.select(Plan).where(Plan.id != source.id, Plan.closed_at.is_(None)).order_by(Plan.start, Plan.id)
        )
    )


def _receiving(source: Plan, to_plan: Plan | None) -> Plan:
    if to_plan is None or to_plan.id == source.id:
        raise CarryError(_("请选择要转入的另一个计划。"))
    ensure_open(to_plan)
    return to_plan


def carry_task(task: Task, to_plan: Plan | None, *, code: str, now: datetime, user_id: int | None) -> CarryOver:
    """Carry ``task`` into ``to_plan`` as ``code`` (default: its own code); see the module docstring."""
    source = db.session.get(Plan, task.plan_id)
    assert source is not None
    _finished(source, now)
    to_plan = _receiving(source, to_plan)
    if task.closed_on is not None or task.status == "done":
        raise CarryError(_("措施 %(label)s 已完成，无需转入。", label=task.label))
    code = code.strip() or task.code
    already = db.session.scalar(
        db.select(Task.code)
        .join(CarryOver, CarryOver.to_task_id == Task.id)
        .where(CarryOver.from_task_id == task.id, Task.plan_id == to_plan.id)
    )
    if already is not None:
        raise CarryError(_("措施 %(label)s 已转入该计划（%(code)s）。", label=task.label, code=already))
    target = db.session.scalar(db.select(Task).filter_by(plan_id=to_plan.id, code=code))
    if target is None:
        target = _new_task(task, to_plan, code, now)
        audit.record(
            now=now, action="create", entity="task", entity_id=target.id, new=f"{code} {task.title}", user_id=user_id
        )
    row = CarryOver(from_task_id=task.id, to_task_id=target.id, by_user_id=user_id, at=now)
    return _recorded(row, "task", (task.id, f"{source.key}:{task.code}"), (target.id, f"{to_plan.key}:{code}"), now)


def _new_task(task: Task, to_plan: Plan, code: str, now: datetime) -> Task:
    sections = list(db.session.scalars(db.select(Section).filter_by(plan_id=to_plan.id).order_by(Section.number)))
    if not sections:
        raise CarryError(_("计划 %(plan)s 还没有任何部分，无法转入。", plan=to_plan.title))
    number = db.session.scalar(db.select(Section.number).filter_by(id=task.section_id))
    section = next((s for s in sections if s.number == number), sections[-1])
    position = db.session.scalar(db.select(func.max(Task.position)).filter_by(plan_id=to_plan.id))
    start = min(max(to_plan.start, city_date(now)), to_plan.end)
    new = Task(
        plan_id=to_plan.id,
        section_id=section.id,
        code=code,
        label=task.label,
        title=task.title,
        text=task.text,
        responsibility=task.responsibility,
        open_parties=list(task.open_parties or []),
        start=start,
        due=to_plan.end,
        original_due=to_plan.end,
        reporting_cycle=task.reporting_cycle,
        position=(position if position is not None else -1) + 1,
    )
    db.session.add(new)
    db.session.flush()
    for i, a in enumerate(task.assignments):
        db.session.add(
            Assignment(
                task_id=new.id,
                department_id=a.department_id,
                role=a.role,
                role_text=a.role_text,
                note=a.note,
                position=i,
            )
        )
    return new


def carry_target(target: Target, to_plan: Plan | None, *, key: str, now: datetime, user_id: int | None) -> CarryOver:
    """Carry ``target`` into ``to_plan`` as ``key`` (default: its own key); see the module docstring."""
    source = db.session.get(Plan, target.plan_id)
    assert source is not None
    _finished(source, now)
    to_plan = _receiving(source, to_plan)
    key = key.strip() or target.key
    already = db.session.scalar(
        db.select(Target.key)
        .join(CarryOver, CarryOver.to_target_id == Target.id)
        .where(CarryOver.from_target_id == target.id, Target.plan_id == to_plan.id)
    )
    if already is not None:
        raise CarryError(_("目标 %(name)s 已转入该计划（%(key)s）。", name=target.name, key=already))
    new = db.session.scalar(db.select(Target).filter_by(plan_id=to_plan.id, key=key))
    if new is None:
        new = _new_target(target, source, to_plan, key)
        audit.record(
            now=now, action="create", entity="target", entity_id=new.id, new=f"{key} {target.name}", user_id=user_id
        )
    row = CarryOver(from_target_id=target.id, to_target_id=new.id, by_user_id=user_id, at=now)
    return _recorded(row, "target", (target.id, f"{source.key}:{target.key}"), (new.id, f"{to_plan.key}:{key}"), now)


def _recorded(
    row: CarryOver, entity: str, origin: tuple[int, str], destination: tuple[int, str], now: datetime
) -> CarryOver:
    """Store the carry-over and its history on both sides (``carry_out`` names where it went, ``carry_in``
    where it came from), one transaction."""
    db.session.add(row)
    db.session.flush()
    (from_id, from_ref), (to_id, to_ref) = origin, destination
    audit.record(now=now, action="carry_out", entity=entity, entity_id=from_id, new=to_ref, user_id=row.by_user_id)
    audit.record(now=now, action="carry_in", entity=entity, entity_id=to_id, old=from_ref, user_id=row.by_user_id)
    db.session.commit()
    return row


def _final_value(target: Target) -> float | None:
    """The target's latest approved value (or one entered without a report), as the targets page reads it."""
    from ..models import CheckIn

    return db.session.scalar(
        db.select(TargetValue.value)
        .outerjoin(CheckIn, CheckIn.id == TargetValue.checkin_id)
        .where(TargetValue.target_id == target.id, value_counts())
        .order_by(TargetValue.period_end.desc(), TargetValue.id.desc())
        .limit(1)
    )


def _new_target(target: Target, source: Plan, to_plan: Plan, key: str) -> Target:
    task_id = None
    if target.task_id is not None:
        task_id = db.session.scalar(
            db.select(Task.id)
            .join(CarryOver, CarryOver.to_task_id == Task.id)
            .where(CarryOver.from_task_id == target.task_id, Task.plan_id == to_plan.id)
        )
    final = _final_value(target)
    position = db.session.scalar(db.select(func.max(Target.position)).filter_by(plan_id=to_plan.id))
    new = Target(
        plan_id=to_plan.id,
        task_id=task_id,
        key=key,
        group=target.group,
        category=target.category,
        name=target.name,
        metric=target.metric,
        value=target.value,
        value_min=target.value_min,
        value_max=target.value_max,
        unit=target.unit,
        comparison=target.comparison,
        baseline=final if final is not None else target.baseline,
        baseline_year=source.end.year if final is not None else target.baseline_year,
        change=target.change,
        due=to_plan.end,
        county_id=target.county_id,
        source=target.source,
        note=_("承接自%(plan)s", plan=source.title),
        position=(position if position is not None else -1) + 1,
    )
    db.session.add(new)
    db.session.flush()
    return new


@dataclass
class CarryLink:
    """One end of a carry-over as a page shows it: the other plan, the code (key), name, who, when."""

    plan_key: str
    plan_title: str
    code: str
    name: str
    by: str
    at: datetime


def _links(rows: list[tuple[CarryOver, Plan, str, str, str | None]]) -> list[CarryLink]:
    return [CarryLink(p.key, p.title, code, name, by or "", row.at) for row, p, code, name, by in rows]


def links_of_task(task: Task) -> tuple[list[CarryLink], list[CarryLink]]:
    """Where ``task`` was carried to, and where it came from (two queries)."""
    out = db.session.execute(
        db.select(CarryOver, Plan, Task.code, Task.title, User.email)
        .join(Task, Task.id == CarryOver.to_task_id)
        .join(Plan, Plan.id == Task.plan_id)
        .outerjoin(User, User.id == CarryOver.by_user_id)
        .where(CarryOver.from_task_id == task.id)
        .order_by(CarryOver.id)
    ).all()
    came = db.session.execute(
        db.select(CarryOver, Plan, Task.code, Task.title, User.email)
        .join(Task, Task.id == CarryOver.from_task_id)
        .join(Plan, Plan.id == Task.plan_id)
        .outerjoin(User, User.id == CarryOver.by_user_id)
        .where(CarryOver.to_task_id == task.id)
        .order_by(CarryOver.id)
    ).all()
    return _links(list(out)), _links(list(came))  # type: ignore[arg-type]


def links_of_targets(plan: Plan) -> tuple[dict[int, list[CarryLink]], dict[int, list[CarryLink]]]:
    """For every target of ``plan``: where it went, and where it came from (two queries)."""
    went: dict[int, list[CarryLink]] = {}
    came: dict[int, list[CarryLink]] = {}
    for row, p, key, name, by in db.session.execute(
        db.select(CarryOver, Plan, Target.key, Target.name, User.email)
        .join(Target, Target.id == CarryOver.to_target_id)
        .join(Plan, Plan.id == Target.plan_id)
        .outerjoin(User, User.id == CarryOver.by_user_id)
        .where(CarryOver.from_target_id.in_(db.select(Target.id).filter_by(plan_id=plan.id)))
    ):
        went.setdefault(row.from_target_id, []).append(CarryLink(p.key, p.title, key, name, by or "", row.at))
    for row, p, key, name, by in db.session.execute(
        db.select(CarryOver, Plan, Target.key, Target.name, User.email)
        .join(Target, Target.id == CarryOver.from_target_id)
        .join(Plan, Plan.id == Target.plan_id)
        .outerjoin(User, User.id == CarryOver.by_user_id)
        .where(CarryOver.to_target_id.in_(db.select(Target.id).filter_by(plan_id=plan.id)))
    ):
        came.setdefault(row.to_target_id, []).append(CarryLink(p.key, p.title, key, name, by or "", row.at))
    return went, came
