"""Calendar feeds: each department's deadlines, report due dates and the plans' assessments as iCalendar.

A feed is read by a calendar client through a secret URL (``/calendar/<token>.ics``); the token is
kept per department (and one for the whole-plan feed) and can be regenerated, which retires the old
URL.

What a department's feed holds:

* each task it holds a role on: the task's deadline;
* each reporting period of the tasks whose report it owes (:mod:`tracker.tasks.duties`; for a county
  government, the tasks it implements: its consolidated 落实 report): one "进展报送截止" event on the
  period's due date under the one due rule (:mod:`tracker.tasks.due`), naming how many tasks report;
* each plan it works on: the annual evaluation at every year end before the last, the mid-term
  review at the plan's midpoint, and the five-year assessment at the plan's end.

Several plans may run side by side: a period's report event names its plan, and a task's event
links to its plan's page (``/tasks/<code>?plan=<key>``).

A calendar client fetches the feed without a session, so the feed is written in the saved language
of its owner (the user who made the current token) if they chose one, else the site's language.
The plan's own text (task titles, department names) is written as it is.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import date, datetime

from flask_babel import force_locale, gettext, ngettext
from sqlalchemy.orm import selectinload

from . import ics
from .errors import NotFound
from .extensions import db
from .i18n import LOCALES, site_locale
from .i18n import period as period_label
from .models import Assignment, CalendarFeed, Department, Plan, Task, User
from .models.org import ROLES
from .tasks.due import DueRule, period_due, reporting_window, window_periods
from .tasks.duties import owes_consolidated_report, owes_task_report
from .tasks.queries import city_workdays

__all__ = ["assessment_dates", "ensure_feeds", "feed_for_token", "regenerate"]


def assessment_dates(plan: Plan) -> list[tuple[str, date, str]]:
    """(kind, day, label) of a plan's assessments: 年度评价, 中期评估, 五年考核 (labels in the current language).

    >>> p = Plan(start=date(2021, 1, 1), end=date(2025, 12, 31))
    >>> [(k, d.isoformat()) for k, d, _ in assessment_dates(p)]  # doctest: +NORMALIZE_WHITESPACE
    [('annual-2021', '2021-12-31'), ('annual-2022', '2022-12-31'), ('annual-2023', '2023-12-31'),
     ('annual-2024', '2024-12-31'), ('midterm', '2023-07-02'), ('final', '2025-12-31')]
    """
    out = [
        (f"annual-{year}", date(year, 12, 31), gettext("%(year)s年度节能减排目标责任评价", year=year))
        for year in range(plan.start.year, plan.end.year)
    ]
    middle = plan.start + (plan.end - plan.start) / 2
    out.append(("midterm", middle, gettext("规划实施中期评估")))
    out.append(("final", plan.end, gettext("五年目标责任考核")))
    return out


def _new_token() -> str:
    return secrets.token_urlsafe(24)


def ensure_feeds(department_ids: list[int | None], *, now: datetime, user_id: int | None = None) -> dict:
    """The feeds of these departments (``None``: the whole-plan feed), creating missing ones."""
    feeds = {
        f.department_id: f for f in db.session.scalars(db.select(CalendarFeed).where(_department_in(department_ids)))
    }
    for dept_id in department_ids:
        if dept_id not in feeds:
            feeds[dept_id] = CalendarFeed(
                department_id=dept_id, token=_new_token(), created_at=now, created_by_id=user_id
            )
            db.session.add(feeds[dept_id])
    db.session.commit()
    return feeds


def _department_in(ids: list[int | None]):  # type: ignore[no-untyped-def]
    real = [i for i in ids if i is not None]
    clause = CalendarFeed.department_id.in_(real)
    return clause | CalendarFeed.department_id.is_(None) if None in ids else clause


def regenerate(department_id: int | None, *, now: datetime, user_id: int | None) -> CalendarFeed:
    """Give the feed a new secret; the old URL stops working at once."""
    from . import audit

    feed = ensure_feeds([department_id], now=now, user_id=user_id)[department_id]
    feed.token = _new_token()
    feed.created_at = now
    feed.created_by_id = user_id
    audit.record(now=now, action="update", entity="calendar_feed", entity_id=feed.id, field="token", user_id=user_id)
    db.session.commit()
    return feed


def feed_for_token(token: str, *, now: datetime, base_url: str) -> tuple[str, str]:
    """(file name, ICS text) of the feed with this secret; ``NotFound`` for an unknown one."""
    feed = db.session.scalar(db.select(CalendarFeed).filter_by(token=token)) if token else None
    if feed is None:
        raise NotFound(gettext("日历订阅地址无效或已重新生成。"))
    department = db.session.get(Department, feed.department_id) if feed.department_id else None
    with force_locale(feed_locale(feed)):
        events = _events(department, base_url=base_url.rstrip("/"))
        if department is not None:
            name = gettext("%(department)s · 任务日历", department=department.name)
        else:
            name = gettext("规划任务日历（全部）")
        text = ics.calendar(name, events, stamp=now)
    return (department.name if department else "all"), text


def feed_locale(feed: CalendarFeed) -> str:
    """The language a feed is written in: its owner's saved choice, else the site's."""
    owner = db.session.get(User, feed.created_by_id) if feed.created_by_id else None
    locale = owner.locale if owner is not None else None
    return locale if locale in LOCALES else site_locale()


def _events(department: Department | None, *, base_url: str) -> list[ics.Event]:
    query = (
        db.select(Task)
        .options(selectinload(Task.plan), selectinload(Task.assignments))
        .order_by(Task.plan_id, Task.position)
    )
    if department is not None:
        query = query.where(Task.id.in_(db.select(Assignment.task_id).filter_by(department_id=department.id)))
    tasks = db.session.scalars(query).all()
    scope = f"d{department.id}" if department else "all"
    events: list[ics.Event] = []
    plans: dict[int, Plan] = {}
    reports: dict[tuple[int, str], list[Task]] = defaultdict(list)
    period_of = {}
    for task in tasks:
        plans[task.plan_id] = task.plan
        role = ""
        if department is not None:
            role = next((ROLES[a.role] for a in task.assignments if a.department_id == department.id), "")
        if role:
            summary = gettext(
                "任务截止：%(label)s %(title)s（%(role)s）", label=task.label, title=task.title, role=gettext(role)
            )
        else:
            summary = gettext("任务截止：%(label)s %(title)s", label=task.label, title=task.title)
        deadline = gettext("完成时限 %(due)s", due=task.due.isoformat())
        events.append(
            ics.Event(
                uid=f"task-{task.id}-due-{scope}@tracker",
                day=task.due,
                summary=summary,
                description=f"{task.plan.title}\n{task.label} {task.title}\n{deadline}",
                url=f"{base_url}/tasks/{task.code}?plan={task.plan.key}",
                categories=(gettext("任务截止"),),
            )
        )
        roles = {a.department_id: a.role for a in task.assignments}
        if department is not None:
            mine = roles.get(department.id, "")
            if not (owes_task_report(mine, roles.values()) or owes_consolidated_report(mine)):
                continue
        for period in window_periods(task.reporting_cycle, *reporting_window(task.start, task.due, task.plan.end)):
            reports[(task.plan_id, period.key)].append(task)
            period_of[(task.plan_id, period.key)] = period
    cal = city_workdays()
    for (plan_id, key), due_tasks in sorted(reports.items(), key=lambda kv: period_of[kv[0]].end):
        due_period = period_of[(plan_id, key)]
        summary = ngettext(
            "进展报送截止：%(period)s（%(num)s 项任务）",
            "进展报送截止：%(period)s（%(num)s 项任务）",
            len(due_tasks),
            period=period_label(due_period.label),
        )
        events.append(
            ics.Event(
                uid=f"report-{plan_id}-{key}-{scope}@tracker",
                day=period_due(due_period, DueRule.of(plans[plan_id]), cal).due,
                summary=summary,
                # the plan first: two plans may each have a 三（一） reporting in the same period
                description="\n".join([plans[plan_id].title, *(f"{t.label} {t.title}" for t in due_tasks)]),
                categories=(gettext("进展报送"),),
            )
        )
    for plan in plans.values():
        for kind, day, label in assessment_dates(plan):
            events.append(
                ics.Event(
                    uid=f"plan-{plan.id}-{kind}-{scope}@tracker",
                    day=day,
                    summary=gettext("考核：%(name)s", name=label),
                    description=plan.title,
                    categories=(gettext("考核"),),
                )
            )
    return events


def department_or_404(department_id: int) -> Department:
    dept = db.session.get(Department, department_id)
    if dept is None:
        raise NotFound(gettext("没有这个单位。"))
    return dept
