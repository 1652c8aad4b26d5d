"""The reminder sweep: read tasks, targets and check-ins, ask the policy what is due, write the outbox.

One email per department per run: every item due for a department goes into one digest. Each item
has a unique key (kind, department, task or target, stage, deadline or period) claimed in
``reminder_sent`` with an insert that ignores conflicts, in the same transaction as the digest it
goes into — so a re-run, a restart or a second scheduler never queues an item twice.

Who is reminded (decisions written down here):

- tasks: every department holding a role on the task — 牵头, 负责, 配合 and the county governments that
  落实 it (they implement and report their own share);
- a target of a task: the departments of its task; a plan-level county target: that county's
  government; any other plan-level target: the coordinating offices;
- escalation: the coordinating offices (``Department.coordinating``); leadership gets the weekly digest;
- a returned check-in: the department that wrote it.

Recipients of a department's mail: its contact addresses (``remind_contacts``) and its active staff
accounts (``remind_staff``). A digest with no recipient is kept in the outbox as ``held``.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from .. import audit
from ..clock import city_date
from ..contacts import parse_email_list
from ..errors import ConflictError, NotFound, TrackerError
from ..extensions import db
from ..i18n import HTML_LANG, LOCALES, N_, site_locale
from ..i18n import day as day_label
from ..i18n import period as period_label
from ..models import (
    Assignment,
    CheckIn,
    Department,
    OutboxMessage,
    Plan,
    ReminderSent,
    Review,
    Target,
    TargetValue,
    Task,
    User,
)
from ..models.org import ROLES
from ..tasks.periods import parse_period, period_for
from ..tasks.queries import city_workdays
from ..tasks.workdays import Workdays
from . import policy
from .links import make_token
from .mailer import NO_RECIPIENTS
from .policy import Stages

__all__ = [
    "ALL_KINDS",
    "Item",
    "RecipientError",
    "SweepReport",
    "by_language",
    "claim_keys",
    "insert_ignore",
    "language_suffix",
    "set_recipients",
    "sweep",
    "write_message",
]

ALL_KINDS = frozenset({"deadline", "checkin", "escalation", "returned", "final", "leader"})
KIND_ORDER = ["escalation", "chase", "deadline", "checkin_chase", "checkin", "returned", "final"]


@dataclass(frozen=True)
class TaskRef:
    """What a digest needs of a task, read once: the sweep commits per department and must not reload."""

    code: str
    plan_key: str
    cycle: str
    position: int

    @classmethod
    def of(cls, task: Task, plan: Plan) -> TaskRef:
        return cls(task.code, plan.key, task.reporting_cycle, task.position)


# A message id (marked with N_) and its values: rendered in the reader's language when the email is
# written, so one item can go into a Chinese and an English digest alike.
Text = tuple[str, dict[str, Any]]


def render(text: Text | None) -> str:
    """A ``Text`` in the current language; a ``period`` key (2024Q1) is shown as that language writes
    periods (2024年第一季度, Q1 2024)."""
    if text is None:
        return ""
    message, values = text
    return gettext(message, **{k: _period_words(v) if k == "period" else v for k, v in values.items()})


def _period_words(key: str) -> str:
    try:
        return period_label(parse_period(key).label)
    except ValueError:
        return key


@dataclass
class Item:
    """One line of a digest."""

    key: str
    kind: str
    department_id: int
    stage: str
    subject: Text
    due: date | None = None
    duty: str = ""  # the department's part in it: a role label (N_), in Chinese
    link_task: TaskRef | None = None
    period: str = ""
    remark: Text | None = None
    link: str = ""

    @property
    def title(self) -> str:
        return render(self.subject)

    @property
    def role(self) -> str:
        return gettext(self.duty) if self.duty else ""

    @property
    def note(self) -> str:
        return render(self.remark)

    @property
    def stage_text(self) -> str:
        return policy.stage_label(self.kind, self.stage)


@dataclass
class SweepReport:
    day: date
    queued: list[OutboxMessage] = field(default_factory=list)
    items: int = 0
    fallback_years: set[int] = field(default_factory=set)

    def summary(self) -> str:
        lines = [
            gettext(
                "%(day)s：新排入发件箱 %(messages)s 封邮件，共 %(items)s 项提醒。",
                day=self.day.isoformat(),
                messages=len(self.queued),
                items=self.items,
            )
        ]
        for m in self.queued:
            lines.append(f"  [{m.status}] {m.subject} → {m.recipients or gettext('（无收件人）')}")
        if self.fallback_years:
            years = "、".join(str(y) for y in sorted(self.fallback_years))
            lines.append(gettext("注意：%(years)s 年不在法定节假日数据范围内，按周一至周五计算工作日。", years=years))
        return "\n".join(lines)


def insert_ignore(model: type[Any], values: dict[str, Any], key_column: str) -> int | None:
    """Insert a row unless its unique ``key_column`` exists; the new id, or None on conflict."""
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=[key_column]).returning(model.id)
    return db.session.execute(stmt).scalar()


def claim_keys(keys: list[str], now: datetime) -> dict[str, int]:
    """Claim reminder items in one statement; the ones this call inserted (key → id), others skipped."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(ReminderSent)
        .values([{"key": key, "created_at": now} for key in keys])
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(ReminderSent.key, ReminderSent.id)
    )
    return {key: row_id for key, row_id in db.session.execute(stmt)}


def sweep(now: datetime, *, kinds: set[str] | frozenset[str] = ALL_KINDS, department_ids: set[int] | None = None):
    """Queue every reminder due at ``now``: one digest per department (and one for leadership)."""
    config = current_app.config
    stages = Stages.from_config(config["REMINDERS"])
    cal = city_workdays()
    today = city_date(now)
    report = SweepReport(today)
    items: list[Item] = []
    for plan in db.session.scalars(db.select(Plan).order_by(Plan.start)):
        items += _plan_items(plan, today, stages, cal, kinds)
    if "returned" in kinds:
        items += _returned_items()
    if department_ids is not None:
        items = [i for i in items if i.department_id in department_ids]

    by_department: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        by_department[item.department_id].append(item)
    departments = {d.id: d for d in db.session.scalars(db.select(Department))}
    for dept_id in sorted(by_department, key=lambda d: departments[d].position):
        messages, count = _queue_digest(departments[dept_id], by_department[dept_id], now, today, config)
        report.queued += messages
        report.items += count
    if "leader" in kinds and department_ids is None and cal.is_workday(today):
        report.queued += _queue_leader_digest(now, today, stages)
    report.fallback_years = cal.fallback_years
    return report


def _plan_items(plan: Plan, today: date, stages: Stages, cal: Workdays, kinds: set[str] | frozenset[str]) -> list[Item]:
    tasks = db.session.scalars(
        db.select(Task)
        .filter_by(plan_id=plan.id)
        .options(selectinload(Task.assignments).selectinload(Assignment.department))
        .order_by(Task.position, Task.id)
    ).all()
    coordinating = db.session.scalars(db.select(Department).filter_by(coordinating=True)).all()
    out: list[Item] = []
    open_tasks = [t for t in tasks if policy.is_open(t.status, t.closed_on)]

    if "deadline" in kinds:
        for task in open_tasks:
            stage = policy.deadline_stage(task.due, today, stages, cal)
            if stage is None:
                continue
            kind = "chase" if stage.startswith("after-") else "deadline"
            for a in task.assignments:
                out.append(
                    Item(
                        key=f"{kind}:{a.department_id}:task:{task.id}:{stage}:{task.due}",
                        kind=kind,
                        department_id=a.department_id,
                        stage=stage,
                        subject=_task_subject(task),
                        due=task.due,
                        duty=ROLES.get(a.role, a.role),
                        link_task=TaskRef.of(task, plan),
                    )
                )
        out += _target_items(plan, {t.id: t for t in open_tasks}, coordinating, today, stages, cal)

    if "escalation" in kinds and cal.is_workday(today):
        for task in open_tasks:
            if policy.is_escalated(task.due, today, stages):
                leads = "、".join(a.department.name for a in task.assignments if a.role in {"lead", "responsible"})
                for coord in coordinating:
                    out.append(
                        Item(
                            key=f"escalation:{coord.id}:task:{task.id}:{task.due}",
                            kind="escalation",
                            department_id=coord.id,
                            stage="escalation",
                            subject=_task_subject(task),
                            due=task.due,
                            duty=N_("督办"),
                            link_task=TaskRef.of(task, plan),
                            remark=(
                                N_("逾期 %(days)s 天；责任单位：%(leads)s"),
                                {"days": (today - task.due).days, "leads": leads or "—"},
                            ),
                        )
                    )

    if "checkin" in kinds and today <= plan.end:
        reported: dict[tuple[int, int], set[str]] = defaultdict(set)
        rows = db.session.execute(
            db.select(CheckIn.task_id, CheckIn.department_id, CheckIn.period)
            .join(Task, Task.id == CheckIn.task_id)
            .where(Task.plan_id == plan.id, CheckIn.state.in_(["submitted", "approved"]))
        )
        for task_id, dept_id, period in rows:
            reported[(task_id, dept_id)].add(period)
        for task in open_tasks:
            until = max(task.due, plan.end)
            for a in task.assignments:
                for what, period in policy.checkin_due(
                    today, task.reporting_cycle, task.start, until, reported[(task.id, a.department_id)], stages, cal
                ):
                    kind = "checkin_chase" if what == "chase" else "checkin"
                    out.append(
                        Item(
                            key=f"{kind}:{a.department_id}:task:{task.id}:{period}",
                            kind=kind,
                            department_id=a.department_id,
                            stage=what,
                            subject=_task_subject(task),
                            due=task.due,
                            duty=ROLES.get(a.role, a.role),
                            link_task=TaskRef.of(task, plan),
                            period=period,
                            remark=(N_("报送期：%(period)s"), {"period": period}),
                        )
                    )

    if "final" in kinds and today > plan.end and cal.is_workday(today):
        dept_ids = sorted({a.department_id for t in tasks for a in t.assignments})
        for dept_id in dept_ids:
            out.append(
                Item(
                    key=f"final:{dept_id}:plan:{plan.key}",
                    kind="final",
                    department_id=dept_id,
                    stage="final",
                    subject=(N_("%(plan)s：请报送终期考核（五年总结评估）材料"), {"plan": plan.title}),
                    due=None,
                )
            )
    return out


def _target_items(
    plan: Plan, open_tasks: dict[int, Task], coordinating: list[Department], today: date, stages: Stages, cal: Workdays
) -> list[Item]:
    targets = db.session.scalars(db.select(Target).filter_by(plan_id=plan.id).order_by(Target.position)).all()
    met = {
        tid
        for (tid,) in db.session.execute(
            db.select(TargetValue.target_id).join(Target).where(TargetValue.period_end >= Target.due).distinct()
        )
    }
    county_governments: dict[int, list[Department]] = defaultdict(list)
    for d in db.session.scalars(db.select(Department).filter_by(kind="county")):
        if d.county_id is not None:
            county_governments[d.county_id].append(d)
    out: list[Item] = []
    for target in targets:
        if target.id in met:
            continue
        stage = policy.deadline_stage(target.due, today, stages, cal)
        if stage is None:
            continue
        kind = "chase" if stage.startswith("after-") else "deadline"
        holders: list[tuple[int, str]]
        task = None
        if target.task_id is not None:
            task = open_tasks.get(target.task_id)
            if task is None:  # the task is closed: its targets are judged with it
                continue
            holders = [(a.department_id, ROLES.get(a.role, a.role)) for a in task.assignments]
        elif target.county_id is not None:
            holders = [(d.id, N_("负责")) for d in county_governments[target.county_id]]
        else:
            holders = [(d.id, N_("统筹")) for d in coordinating]
        for dept_id, role in holders:
            out.append(
                Item(
                    key=f"{kind}:{dept_id}:target:{target.id}:{stage}:{target.due}",
                    kind=kind,
                    department_id=dept_id,
                    stage=stage,
                    subject=(N_("指标：%(name)s（%(task)s）"), {"name": target.name, "task": task.label})
                    if task
                    else (N_("指标：%(name)s"), {"name": target.name}),
                    due=target.due,
                    duty=role,
                    link_task=TaskRef.of(task, plan) if task else None,
                )
            )
    return out


def _task_subject(task: Task) -> Text:
    return ("%(label)s %(title)s", {"label": task.label, "title": task.title})


def _returned_items() -> list[Item]:
    superseded = db.select(CheckIn.supersedes_id).where(CheckIn.supersedes_id.is_not(None))
    rows = db.session.scalars(
        db.select(CheckIn)
        .where(CheckIn.state == "returned", CheckIn.id.not_in(superseded))
        .options(selectinload(CheckIn.task))
    ).all()
    out = []
    for checkin in rows:
        review = db.session.scalar(
            db.select(Review).filter_by(checkin_id=checkin.id, decision="return").order_by(Review.id.desc())
        )
        task = checkin.task
        out.append(
            Item(
                key=f"returned:{checkin.department_id}:checkin:{checkin.id}",
                kind="returned",
                department_id=checkin.department_id,
                stage="returned",
                subject=_task_subject(task),
                due=task.due,
                link_task=TaskRef.of(task, task.plan),
                period=checkin.period,
                remark=(
                    N_("%(period)s 的报送被退回：%(comment)s"),
                    {"period": checkin.period, "comment": review.comment},
                )
                if review and review.comment
                else (N_("%(period)s 的报送被退回"), {"period": checkin.period}),
            )
        )
    return out


def recipients_for(department: Department) -> list[str]:
    addresses: list[str] = []
    if department.remind_contacts:
        addresses += department.emails
    if department.remind_staff:
        addresses += db.session.scalars(
            db.select(User.email).filter_by(department_id=department.id, role="staff", active=True).order_by(User.id)
        ).all()
    return list(dict.fromkeys(a.lower() for a in addresses))


def _link(item: Item, now: datetime, config: dict[str, Any]) -> str:
    task = item.link_task
    if task is None:
        return ""
    period = item.period or period_for(city_date(now), task.cycle).key
    token = make_token(
        config["SECRET_KEY"],
        department_id=item.department_id,
        task_code=task.code,
        period=period,
        plan_key=task.plan_key,
        now=now,
    )
    return config["BASE_URL"].rstrip("/") + "/r/" + token


def _queue_digest(
    department: Department, items: list[Item], now: datetime, today: date, config: Any
) -> tuple[list[OutboxMessage], int]:
    claimed = claim_keys([item.key for item in items], now)
    fresh = [(claimed[item.key], item) for item in items if item.key in claimed]
    if not fresh:
        db.session.commit()
        return [], 0
    chosen = [item for _, item in fresh]
    for item in chosen:
        item.link = _link(item, now, config)
    chosen.sort(key=lambda i: (i.due or date.max, i.link_task.position if i.link_task else 0, str(i.subject)))
    digest = hashlib.sha1("\n".join(sorted(i.key for i in chosen)).encode()).hexdigest()[:16]

    def compose() -> tuple[str, dict[str, Any]]:
        sections = [(gettext(policy.STAGE_LABELS[k]), [i for i in chosen if i.kind == k]) for k in KIND_ORDER]
        subject = ngettext(
            "【督办提醒】%(department)s：%(num)s 项事项待办理（%(day)s）",
            "【督办提醒】%(department)s：%(num)s 项事项待办理（%(day)s）",
            len(chosen),
            department=department.name,
            day=day_label(today),
        )
        return subject, {
            "department": department,
            "items": chosen,
            "sections": [(label, rows) for label, rows in sections if rows],
            "today": today,
            "link_days": config["REMINDERS"]["link_days"],
        }

    messages = _write_in_languages(
        recipients_for(department),
        dedupe_key=f"digest:{department.id}:{today}:{digest}",
        kind="digest",
        department_id=department.id,
        template="email/digest",
        compose=compose,
        now=now,
    )
    if messages:
        # An item is in every language's copy; the history links it to the first.
        ids = [sent_id for sent_id, _ in fresh]
        db.session.execute(db.update(ReminderSent).where(ReminderSent.id.in_(ids)).values(message_id=messages[0].id))
    db.session.commit()
    return messages, len(chosen)


def by_language(addresses: list[str]) -> dict[str, list[str]]:
    """The addresses grouped by the language their email is written in, the site's language first.

    An address that belongs to an account gets the language its owner chose; any other address (a
    department's contact mailbox) gets the site's language. Each address is in exactly one group,
    so everyone receives one copy of a digest.
    """
    site = site_locale()
    chosen = dict(
        db.session.execute(
            db.select(db.func.lower(User.email), User.locale).where(db.func.lower(User.email).in_(addresses))
        ).all()
    )
    groups: dict[str, list[str]] = {site: []}
    for address in addresses:
        language = chosen.get(address.lower())
        groups.setdefault(language if language in LOCALES else site, []).append(address)
    return {language: group for language, group in groups.items() if group or language == site}


def language_suffix(language: str) -> str:
    """The site language's copy keeps the plain dedupe key; other languages' copies add theirs."""
    return "" if language == site_locale() else f":{language}"


def _queue_leader_digest(now: datetime, today: date, stages: Stages) -> list[OutboxMessage]:
    year, week, _ = today.isocalendar()
    key = f"leader:{year}-W{week:02d}"
    if insert_ignore(ReminderSent, {"key": key, "created_at": now}, "key") is None:
        db.session.commit()
        return []
    tasks = db.session.scalars(
        db.select(Task).options(selectinload(Task.assignments).selectinload(Assignment.department)).order_by(Task.due)
    ).all()
    open_tasks = [t for t in tasks if policy.is_open(t.status, t.closed_on)]
    overdue = [t for t in open_tasks if t.due < today]
    soon = [t for t in open_tasks if today <= t.due <= today + timedelta(days=30)]
    returned = db.session.scalar(db.select(db.func.count()).select_from(CheckIn).filter_by(state="returned")) or 0
    pending = db.session.scalar(db.select(db.func.count()).select_from(CheckIn).filter_by(state="submitted")) or 0
    context = {
        "today": today,
        "overdue": overdue,
        "soon": soon,
        "escalated": [t for t in overdue if policy.is_escalated(t.due, today, stages)],
        "returned": returned,
        "pending": pending,
        "open_count": len(open_tasks),
        "base_url": current_app.config["BASE_URL"].rstrip("/"),
    }
    leaders = db.session.scalars(db.select(User.email).filter_by(role="leader", active=True).order_by(User.id)).all()

    def compose() -> tuple[str, dict[str, Any]]:
        subject = gettext(
            "【督办周报】%(year)s 年第 %(week)s 周：逾期 %(overdue)s 项，30 天内到期 %(soon)s 项",
            year=year,
            week=week,
            overdue=len(overdue),
            soon=len(soon),
        )
        return subject, dict(context)

    messages = _write_in_languages(
        list(leaders),
        dedupe_key=key,
        kind="leader_digest",
        department_id=None,
        template="email/leader_digest",
        compose=compose,
        now=now,
    )
    db.session.commit()
    return messages


def _write_in_languages(
    addresses: list[str],
    *,
    dedupe_key: str,
    kind: str,
    department_id: int | None,
    template: str,
    compose: Callable[[], tuple[str, dict[str, Any]]],
    now: datetime,
) -> list[OutboxMessage]:
    """One message per language among ``addresses`` (see ``by_language``): ``compose`` gives the
    subject and the template's context, called in that language; ``template`` names the .txt and .html."""
    messages = []
    for language, recipients in by_language(addresses).items():
        with force_locale(language):
            subject, context = compose()
            context["email_lang"] = HTML_LANG[language]
            text = render_template(f"{template}.txt", **context)
            html = render_template(f"{template}.html", **context)
        message = write_message(
            dedupe_key=dedupe_key + language_suffix(language),
            kind=kind,
            department_id=department_id,
            recipients=recipients,
            subject=subject,
            text=text,
            html=html,
            now=now,
        )
        if message is not None:
            messages.append(message)
    return messages


def write_message(
    *,
    dedupe_key: str,
    kind: str,
    department_id: int | None,
    recipients: list[str],
    subject: str,
    text: str,
    html: str,
    now: datetime,
) -> OutboxMessage | None:
    """Write one message to the outbox (held if nobody would receive it); None if the key exists."""
    values = {
        "dedupe_key": dedupe_key,
        "kind": kind,
        "department_id": department_id,
        "recipients": ", ".join(recipients),
        "subject": subject,
        "body_text": text,
        "body_html": html,
        "status": "pending" if recipients else "held",
        "attempts": 0,
        "last_error": "" if recipients else NO_RECIPIENTS,
        "created_at": now,
    }
    message_id = insert_ignore(OutboxMessage, values, "dedupe_key")
    return db.session.get(OutboxMessage, message_id) if message_id is not None else None


def set_recipients(
    department_id: int,
    *,
    contact_emails: str,
    remind_contacts: bool,
    remind_staff: bool,
    version: int,
    now: datetime,
    user_id: int | None,
) -> Department:
    """Change who receives a department's reminders; recorded in the history, refused if stale."""
    department = db.session.get(Department, department_id)
    if department is None:
        raise NotFound(gettext("没有这个单位"))
    if department.version_id != version:
        raise ConflictError(gettext("%(name)s 的设置已被他人修改，请刷新后重试。", name=department.name))
    emails, bad = parse_email_list(contact_emails)
    if bad:
        raise RecipientError(gettext("电子邮件地址无效：%(addresses)s", addresses="、".join(bad)))
    values = {"contact_emails": ",".join(emails), "remind_contacts": remind_contacts}
    values["remind_staff"] = remind_staff
    audit.update_fields(department, values, now=now, entity="department", user_id=user_id)
    db.session.commit()
    return department


class RecipientError(TrackerError):
    """A reminder recipient setting is invalid."""
