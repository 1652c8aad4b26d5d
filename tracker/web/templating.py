"""Template helpers registered for the whole app: labels, filters and the globals pages call.

One place, registered in :func:`register_template_helpers` by the web layer: a blueprint registers
none of its own, so every page (and every imported macro: globals, not a context processor,
since imported macros see globals only) finds the same helpers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..accounts import permissions
from ..extensions import db
from ..graph import service as graph_service
from ..i18n import Labels, day, moment, period
from ..instructions import service as instructions
from ..leadership.scoring import COMPONENT_LABELS
from ..models import County, Department, Plan, Target, TargetValue, Task
from ..models.links import LINK_ORIGINS
from ..models.org import ROLE_ORDER, ROLES
from ..models.plan import TARGET_GROUPS, TASK_STATUSES
from ..models.progress import CHECKIN_STATES
from ..plans.carryover import CarryLink, links_of_task
from ..reports import history, queries, signoff
from ..reports.figures_review import FIGURE_STATES
from ..reports.service import closure_label
from ..tasks.duties import CONSOLIDATED_ROLE
from ..tasks.figures import value_unit
from ..tasks.lifecycle import plan_stage
from ..tasks.lights import LIGHT_LABELS
from ..tasks.periods import parse_period

__all__ = ["register_template_helpers"]


def history_value(value: str | None, field: str) -> str:
    """A history value as a reader knows it (the one formatter: :mod:`tracker.reports.history`)."""
    return history.history_value(value, field)


def city_time(instant: datetime | None) -> str:
    """A stored instant (UTC) as the city's date and time, written as the reader's language writes them."""
    return moment(instant.astimezone(clock.CITY_TZ)) if instant else ""


def city_day(instant: datetime | date | None) -> str:
    """A stored instant (UTC) as the city's date; a date already in the city's calendar as it is."""
    if instant is None:
        return "—"
    return day(clock.city_date(instant) if isinstance(instant, datetime) else instant)


def report_panel(task: Task) -> dict[str, Any]:
    """What the task page's report section shows, and which buttons the viewer gets."""
    user = current_user
    department_id = user.department_id if user.is_authenticated else None
    reports = queries.task_reports(task, department_id)
    mine = next((a for a in task.assignments if a.department_id == department_id), None)
    closure = closure_label(task)
    return {
        "reports": reports,
        "history": history.history_rows(reports.history, users=reports.users, extensions=reports.extensions),
        "closure": _(closure) if closure else None,
        "can_report": user.is_authenticated and permissions.can_report(user, task.assignments),
        "can_extend": user.is_authenticated and permissions.can_request_extension(user, task.assignments),
        "can_break_down": user.is_authenticated and permissions.can_break_down(user, task.assignments),
        "can_edit": user.is_authenticated and permissions.can_edit_plan(user),
        "unacknowledged": mine if mine is not None and mine.acknowledged_at is None and user.role == "staff" else None,
        "primary": permissions.primary_department_ids(task.assignments),
        # a county implementing (落实) the task reports it in its consolidated report, not on its own
        "consolidated": mine is not None and mine.role == CONSOLIDATED_ROLE,
    }


def instruction_panel(task: Task) -> dict[str, Any]:
    """What the task page's 批示 section shows, and who may write or answer."""
    user = current_user
    items = instructions.for_task(task.id, clock.today())
    return {
        "items": items,
        "states": Labels(instructions.INSTRUCTION_STATES),
        "can_write": user.is_authenticated and instructions.can_write(user),
        "can_answer": {
            i.instruction.id for i in items if user.is_authenticated and instructions.can_answer(user, i.instruction)
        },
    }


def period_words(key: str) -> str:
    """A period's key (``2025Q1``) as its reader says it: 2025年第一季度 / Q1 2025."""
    try:
        return period(parse_period(key).label)
    except (ValueError, KeyError):
        return key


def group_by_role(assignments: Any, open_parties: Any = ()) -> list[tuple[str, list[Any], list[Any]]]:
    """A task's assignments and the plan's open parties (各有关部门) grouped by role in the order
    牵头, 负责, 配合, 落实, in one pass: ``(role, assignments, open parties)``."""
    groups: dict[str, list[Any]] = {}
    opens: dict[str, list[Any]] = {}
    for a in assignments:
        groups.setdefault(a.role, []).append(a)
    for p in open_parties:
        opens.setdefault(p.get("role", "responsible") if isinstance(p, dict) else p.role, []).append(p)
    return [(role, groups.get(role, []), opens.get(role, [])) for role in ROLE_ORDER if role in groups or role in opens]


def graph_neighbourhood(plan: Plan, task: Task) -> graph_service.Neighbourhood:
    """For ``templates/graph/_neighbourhood.html``, included in the task page."""
    return graph_service.task_neighbourhood(plan, task.code, clock.today())


def value_unit_label(value: TargetValue) -> str:
    """The unit a value measures, as a reader sees it: 全市, a county's name, or a department's own."""
    if value.unit_kind == "county":
        return value.county.name if value.county else _("县（市、区）")
    if value.unit_kind == "department":
        name = value.department.name if value.department else ""
        return _("%(name)s（本部门）", name=name)
    return _("全市")


def report_unit_label(task: Task, department: Department, target: Target) -> str:
    """The unit a value typed on ``department``'s report form will measure (tracker.tasks.figures)."""
    kind, county_id = value_unit(target, department, [(a.department_id, a.role) for a in task.assignments])
    if kind == "county":
        county = db.session.get(County, county_id)
        return _("计为%(unit)s的数值（不作为全市数值）", unit=county.name if county else "")
    if kind == "department":
        return _("计为本部门的数值（不作为全市数值）")
    return _("计为全市数值")


def carry_links(task: Task) -> tuple[list[CarryLink], list[CarryLink]]:
    """For ``templates/lifecycle/_task_links.html``: where the task went, where it came from."""
    return links_of_task(task)


def carry_allowed(task: Task) -> bool:
    """May the current user carry this task into another plan (an unfinished task of a finished plan)?"""
    if not (current_user.is_authenticated and permissions.can_edit_plan(current_user)):
        return False
    unfinished = task.closed_on is None and task.status != "done"
    return unfinished and plan_stage(task.plan, clock.today()) in {"final", "closed"}


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(
        ROLES=Labels(ROLES),
        LINK_ORIGINS=Labels(LINK_ORIGINS),
        TASK_STATUSES=Labels(TASK_STATUSES),
        CHECKIN_STATES=Labels(CHECKIN_STATES),
        LIGHT_LABELS=Labels(LIGHT_LABELS),
        report_panel=report_panel,
        group_by_role=group_by_role,
        graph_neighbourhood=graph_neighbourhood,
        value_unit_label=value_unit_label,
        figure_states=Labels(FIGURE_STATES),
        report_unit_label=report_unit_label,
        carry_links=carry_links,
        carry_allowed=carry_allowed,
        TARGET_GROUP_LABELS=Labels(TARGET_GROUPS),
        COMPONENT_LABELS=Labels(COMPONENT_LABELS),
        head_comment=signoff.head_comment,  # the head's send-back, atop the report form
        instruction_panel=instruction_panel,
        instructions_to_answer=lambda department_id: instructions.for_department(department_id, clock.today()),
    )
    app.jinja_env.filters.update(
        period_words=period_words,
        history_value=history_value,
        history_field=history.field_label,
        history_actor=history.actor_label,
        city_time=city_time,
        city_day=city_day,
    )

    @app.context_processor
    def inject() -> dict[str, object]:
        return {"today": clock.today()}
