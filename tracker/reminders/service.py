"""The reminder sweep: ask what is due (``items``), claim each item once, write one digest per department.

One email per department per run: every item due for a department goes into one digest, as lines a
person reads (``digest``). Each item has a unique key (kind, department, task or target, stage,
deadline or period) claimed in ``reminder_sent`` with an insert that ignores conflicts, in the same
transaction as the digest it goes into — so a re-run, a restart or a second scheduler never queues an
item twice. A transaction holds a few departments' claims and digests (``COMMIT_ITEMS``): a crash
loses them together, and the next run claims and writes them again. Who is reminded of what is
written down in ``items``.

Recipients of a department's mail: its contact addresses (``remind_contacts``) and its active staff
accounts (``remind_staff``). A digest with no recipient is kept in the outbox as ``held``. Leadership
gets a weekly digest whose counts are the current state (the latest report of each task, department
and period).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import defer

from .. import audit
from ..clock import city_date
from ..collector import paused_gc
from ..contacts import parse_email_list
from ..errors import ConflictError, NotFound, TrackerError
from ..extensions import db
from ..i18n import HTML_LANG, LOCALES, site_locale
from ..leadership import portfolio
from ..models import CheckIn, Department, OutboxMessage, Plan, ReminderSent, Task, User
from ..tasks.periods import period_for
from ..tasks.queries import city_workdays
from . import digest as digests
from . import policy
from .digest import Item, LineInfo
from .items import Collector, TaskRow, latest_in, task_rows
from .links import LinkSigner
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
COMMIT_ITEMS = 10_000  # items claimed per transaction, at most one department's more


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
    """Claim reminder items in one statement; the ones this call inserted (key → id), others skipped.

    The keys go to the database as one parameter, an array (PostgreSQL) or a JSON array (SQLite), and
    the database makes the rows: one claim row per key in the unique index as before, so a second sweep,
    concurrent or after a crash, still finds each key claimed, but no Python object per row is made on
    the way in (a row of bound parameters each was half the claiming at scale)."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}
    connection = db.session.connection()
    postgres = connection.dialect.name == "postgresql"
    stmt = _claim_statement(postgres)
    rows = connection.execute(stmt, {"keys": keys if postgres else json.dumps(keys), "now": now})
    return {key: row_id for key, row_id in rows}


@cache
def _claim_statement(postgres: bool) -> Any:
    """INSERT … SELECT over the array of keys, ON CONFLICT (key) DO NOTHING RETURNING key, id (built
    once: the same statement for every department, so SQLAlchemy compiles it once)."""
    table = ReminderSent.__table__
    now = db.bindparam("now", type_=table.c.created_at.type)
    if postgres:
        # a set-returning function in the select list: one row per element, in order
        source = db.select(db.func.unnest(db.bindparam("keys", type_=postgresql.ARRAY(db.Text))), now)
        insert = postgresql.insert
    else:  # JSON1 (in SQLite since 3.38): the array's elements in order, as rows
        key = db.func.json_each(db.bindparam("keys", type_=db.Text)).table_valued("value")
        source = db.select(key.c.value, now).where(db.true())  # WHERE: SQLite's upsert after a SELECT needs it
        insert = sqlite.insert
    return (
        insert(table)
        .from_select(["key", "created_at"], source)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.key, table.c.id)
    )


@cache
def _file_claims_statement(postgres: bool) -> Any:
    """UPDATE the claims whose ids are in an array parameter to name their message (one statement for
    every department, as the claims: no IN list of a few hundred parameters rendered per department)."""
    table = ReminderSent.__table__
    if postgres:
        ids = db.func.any(db.bindparam("ids", type_=postgresql.ARRAY(db.Integer)))
        where = table.c.id == ids
    else:
        where = table.c.id.in_(db.select(db.func.json_each(db.bindparam("ids", type_=db.Text)).table_valued("value")))
    return db.update(table).where(where).values(message_id=db.bindparam("message"))


def sweep(now: datetime, *, kinds: set[str] | frozenset[str] = ALL_KINDS, department_ids: set[int] | None = None):
    """Queue every reminder due at ``now``: one digest per department (and one for leadership)."""
    with paused_gc():
        return _sweep(now, kinds, department_ids)


def _sweep(now: datetime, kinds: set[str] | frozenset[str], department_ids: set[int] | None) -> SweepReport:
    config = current_app.config
    stages = Stages.from_config(config["REMINDERS"])
    cal = city_workdays()
    today = city_date(now)
    report = SweepReport(today)
    collector = Collector(today, stages, cal, kinds)
    for plan in db.session.scalars(db.select(Plan).order_by(Plan.start)):
        collector.plan(plan)
    if kinds & {"deadline", "escalation"}:  # leaders' instructions: answer-by dates follow the deadline policy
        collector.instructions()
    if "returned" in kinds:  # the review flow's notices: returned reports, reports waiting for the head
        collector.returned()
        collector.awaiting_head()
    items = collector.items
    if department_ids is not None:
        items = [i for i in items if i.department_id in department_ids]

    by_department: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        by_department[item.department_id].append(item)
    del collector, items  # each department's items go when its digest is written (memory, at scale)
    departments = {d.id: d for d in mailboxes()}
    mail = _Mail(
        sent_chasers=digests.sent_chasers(),  # what is read for every digest is read once
        staff=staff_addresses(),
        languages=account_languages(),
        signer=LinkSigner(config["SECRET_KEY"], now),
    )
    message_ids: list[int] = []
    uncommitted = 0
    for dept_id in sorted(by_department, key=lambda d: departments[d].position):
        dept_items = by_department.pop(dept_id)
        ids, count = _queue_digest(departments[dept_id], dept_items, now, today, config, mail)
        message_ids += ids
        report.items += count
        # Claims and the digests they went into commit together, a few departments at a time: a
        # commit per department was a quarter of the sweep on SQLite at scale (a disk flush each).
        uncommitted += len(dept_items)
        if uncommitted >= COMMIT_ITEMS:
            db.session.commit()
            uncommitted = 0
    db.session.commit()
    if "leader" in kinds and department_ids is None and cal.is_workday(today):
        message_ids += _queue_leader_digest(now, today, stages)
    report.queued = _messages(message_ids)
    report.fallback_years = cal.fallback_years
    return report


@dataclass(frozen=True, slots=True)
class Mailbox:
    """A department as the sweep reads it: a row, not an ORM object. ORM objects in the session are
    expired at every commit, and the sweep commits as it goes (it committed per department: 2,000 ×
    2,000 expiries at scale)."""

    id: int
    name: str
    position: int
    contact_emails: str
    remind_contacts: bool
    remind_staff: bool

    emails = Department.emails  # the department's own rule, read from the row


def mailboxes() -> list[Mailbox]:
    """Every department, as the sweep reads it."""
    columns = (Department.id, Department.name, Department.position, Department.contact_emails)
    return [
        Mailbox(*row)
        for row in db.session.execute(db.select(*columns, Department.remind_contacts, Department.remind_staff))
    ]


@dataclass(frozen=True)
class _Mail:
    """What every digest of a sweep needs, read once for all of them."""

    sent_chasers: Mapping[int, Counter[tuple[str, ...]]]
    staff: Mapping[int, list[str]]
    languages: Mapping[str, str]
    signer: LinkSigner


def _messages(ids: list[int]) -> list[OutboxMessage]:
    """The messages written, in the order written; their bodies are read only if asked for (a sweep
    at scale writes thousands of digests: holding them all would hold every body)."""
    if not ids:
        return []
    rows = db.session.scalars(
        db.select(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .options(defer(OutboxMessage.body_text), defer(OutboxMessage.body_html))
    )
    by_id = {m.id: m for m in rows}
    return [by_id[i] for i in ids]


def staff_addresses(department_id: int | None = None) -> dict[int, list[str]]:
    """Department → the addresses of its active staff and head accounts, oldest account first (every
    department's, or ``department_id``'s)."""
    query = (
        db.select(User.department_id, User.email)
        .where(User.role.in_(("staff", "head")), User.active.is_(True))
        .order_by(User.id)
    )
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    addresses: dict[int, list[str]] = defaultdict(list)
    for dept_id, email in db.session.execute(query):
        addresses[dept_id].append(email)
    return addresses


def recipients_for(department: Department | Mailbox, staff: Mapping[int, list[str]] | None = None) -> list[str]:
    """The department's reminder addresses (lowercase, each once); ``staff``: ``staff_addresses()``
    read beforehand, else its staff are read now."""
    addresses: list[str] = []
    if department.remind_contacts:
        addresses += department.emails
    if department.remind_staff:
        addresses += (staff_addresses(department.id) if staff is None else staff).get(department.id, [])
    return list(dict.fromkeys(a.lower() for a in addresses))


def _link(line: LineInfo, department_id: int, now: datetime, config: dict[str, Any], signer: LinkSigner) -> str:
    """The one link of a line: a signed link to the task's report form for the period it opens (the
    oldest owed), or the consolidated report's page for a county's line."""
    base = config["BASE_URL"].rstrip("/")
    if line.consolidated:
        period = line.period or period_for(city_date(now), "quarter").key
        return base + _consolidated_path(period)
    if line.figures:  # the plan-level targets: the form where the department enters its unit's figures
        return base + current_app.url_map.bind("localhost").build("figures.form")
    task = line.task
    if task is None:
        return ""
    token = signer.token(
        department_id=department_id,
        task_code=task.code,
        period=line.period or period_for(city_date(now), task.cycle).key,
        plan_key=task.plan_key,
    )
    return base + "/r/" + token


def _consolidated_path(period: str) -> str:
    """The path of the county's consolidated report form for ``period`` (``consolidated.form``)."""
    return current_app.url_map.bind("localhost").build("consolidated.form", {"period": period})


def _queue_digest(
    department: Mailbox, items: list[Item], now: datetime, today: date, config: Any, mail: _Mail
) -> tuple[list[int], int]:
    """Claim the department's items and write the digest of those claimed now, uncommitted (the
    caller commits claims and digests together); the messages' ids (one per language) and the number
    of items."""
    claimed = claim_keys([item.key for item in items], now)
    fresh = [(claimed[item.key], item) for item in items if item.key in claimed]
    if not fresh:
        return [], 0
    chosen = [item for _, item in fresh]
    digests.chase_counts(department.id, chosen, mail.sent_chasers)
    lines = digests.lines_of(chosen)
    for line in lines:
        line.link = _link(line.info, department.id, now, config, mail.signer)
    digest = hashlib.sha1("\n".join(sorted(i.key for i in chosen)).encode()).hexdigest()[:16]

    def compose() -> tuple[str, dict[str, Any]]:
        # the lines' words, and the templates' phrases, translated once for this copy (not per line)
        words = digests.Words()
        subject = words.ngettext(
            "【督办提醒】%(department)s：%(num)s 项事项待办理（%(day)s）",
            "【督办提醒】%(department)s：%(num)s 项事项待办理（%(day)s）",
            len(lines),
            department=department.name,
            day=words.day(today),
        )
        return subject, {
            "department": department,
            "lines": [words.line(line, config["REMINDERS"]["link_days"]) for line in lines],
            "today": today,
            "link_days": config["REMINDERS"]["link_days"],
            **words.template_context(),
        }

    messages = _write_in_languages(
        recipients_for(department, mail.staff),
        dedupe_key=f"digest:{department.id}:{today}:{digest}",
        kind="digest",
        department_id=department.id,
        template="email/digest",
        compose=compose,
        now=now,
        languages=mail.languages,
    )
    if messages:
        # An item is in every language's copy; the history links it to the first.
        connection = db.session.connection()  # no claim is an object in the session
        postgres = connection.dialect.name == "postgresql"
        ids = [sent_id for sent_id, _ in fresh]
        connection.execute(
            _file_claims_statement(postgres), {"ids": ids if postgres else json.dumps(ids), "message": messages[0]}
        )
    return messages, len(chosen)


def account_languages() -> dict[str, str]:
    """Every account's address (lowercase) → the language its owner chose."""
    return dict(db.session.execute(db.select(db.func.lower(User.email), User.locale)).all())


def by_language(addresses: list[str], languages: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """The addresses grouped by the language their email is written in, the site's language first.

    An address that belongs to an account gets the language its owner chose; any other address (a
    department's contact mailbox) gets the site's language. Each address is in exactly one group,
    so everyone receives one copy of a digest. ``languages``: ``account_languages()`` read beforehand
    (for lowercase addresses, as ``recipients_for`` gives them), else the accounts are read now.
    """
    site = site_locale()
    if languages is not None:
        chosen: Mapping[str, str] = languages
    else:
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


def _queue_leader_digest(now: datetime, today: date, stages: Stages) -> list[int]:
    year, week, _ = today.isocalendar()
    key = f"leader:{year}-W{week:02d}"
    if insert_ignore(ReminderSent, {"key": key, "created_at": now}, "key") is None:
        db.session.commit()
        return []
    leaders = db.session.scalars(db.select(User).filter_by(role="leader", active=True).order_by(User.id)).all()
    portfolios = {leader.id: portfolio.department_ids(leader.id) for leader in leaders}
    # rows, not ORM objects (every task of every open plan); their duties only for a leader's portfolio
    tasks = task_rows(
        Plan.closed_at.is_(None),  # a closed plan is no longer chased
        order_by=(Task.due,),
        duties=any(portfolios.values()),
    )
    open_tasks = [t for t in tasks if policy.is_open(t.status, t.closed_on)]
    overdue = [t for t in open_tasks if t.due < today]
    soon = [t for t in open_tasks if today <= t.due <= today + timedelta(days=30)]
    # the latest report of each task, department and period: a returned report fixed and approved
    # counts as approved, not as returned
    states = dict(
        db.session.execute(
            db.select(CheckIn.state, db.func.count()).where(latest_in("returned", "submitted")).group_by(CheckIn.state)
        ).all()
    )
    returned, pending = states.get("returned", 0), states.get("submitted", 0)
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

    def composer(mine: dict[str, Any] | None) -> Callable[[], tuple[str, dict[str, Any]]]:
        def compose() -> tuple[str, dict[str, Any]]:
            subject = gettext(
                "【督办周报】%(year)s 年第 %(week)s 周：逾期 %(overdue)s 项，30 天内到期 %(soon)s 项",
                year=year,
                week=week,
                overdue=len(overdue),
                soon=len(soon),
            )
            # the listed tasks' dates and statuses in this copy's language, each said once (a plan
            # at scale lists tens of thousands of overdue tasks)
            words = digests.Words()
            lists = {name: _listed(context[name], words) for name in ("overdue", "soon")}
            shown = None
            if mine is not None:
                shown = {**mine, "overdue": _listed(mine["overdue"], words), "soon": _listed(mine["soon"], words)}
            return subject, {**context, **lists, "portfolio": shown, **words.template_context()}

        return compose

    # 分管: a leader with a portfolio gets their own copy, starting with their departments' tasks
    shared: list[str] = []
    messages: list[int] = []
    for leader in leaders:
        ids = portfolios[leader.id]
        if not ids:
            shared.append(leader.email)
            continue
        mine = {
            "departments": [d.name for d in db.session.scalars(db.select(Department).where(Department.id.in_(ids)))],
            "overdue": portfolio.portfolio_tasks(overdue, ids),
            "soon": portfolio.portfolio_tasks(soon, ids),
        }
        messages += _write_in_languages(
            [leader.email],
            dedupe_key=f"{key}:u{leader.id}",
            kind="leader_digest",
            department_id=None,
            template="email/leader_digest",
            compose=composer(mine),
            now=now,
        )
    if shared or not leaders:  # with no leader at all the digest is still written (and held: no recipient)
        messages += _write_in_languages(
            shared,
            dedupe_key=key,
            kind="leader_digest",
            department_id=None,
            template="email/leader_digest",
            compose=composer(None),
            now=now,
        )
    db.session.commit()
    return messages


@dataclass(frozen=True, slots=True)
class Listed:
    """A task as the leaders' digest lists it, its date and status in one language."""

    label: str
    title: str
    day: str
    status: str


def _listed(tasks: list[TaskRow], words: digests.Words) -> list[Listed]:
    return [Listed(t.label, t.title, words.day(t.due), words.label(t.status_label)) for t in tasks]


def _write_in_languages(
    addresses: list[str],
    *,
    dedupe_key: str,
    kind: str,
    department_id: int | None,
    template: str,
    compose: Callable[[], tuple[str, dict[str, Any]]],
    now: datetime,
    languages: Mapping[str, str] | None = None,
) -> list[int]:
    """One message per language among ``addresses`` (see ``by_language``): ``compose`` gives the
    subject and the template's context, called in that language; ``template`` names the .txt and .html.
    The ids of the messages written."""
    messages = []
    for language, recipients in by_language(addresses, languages).items():
        with force_locale(language):
            subject, context = compose()
            context["email_lang"] = HTML_LANG[language]
            text = render_template(f"{template}.txt", **context)
            html = render_template(f"{template}.html", **context)
        message_id = _insert_message(
            dedupe_key=dedupe_key + language_suffix(language),
            kind=kind,
            department_id=department_id,
            recipients=recipients,
            subject=subject,
            text=text,
            html=html,
            now=now,
        )
        if message_id is not None:
            messages.append(message_id)
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
    message_id = _insert_message(
        dedupe_key=dedupe_key,
        kind=kind,
        department_id=department_id,
        recipients=recipients,
        subject=subject,
        text=text,
        html=html,
        now=now,
    )
    return db.session.get(OutboxMessage, message_id) if message_id is not None else None


def _insert_message(
    *,
    dedupe_key: str,
    kind: str,
    department_id: int | None,
    recipients: list[str],
    subject: str,
    text: str,
    html: str,
    now: datetime,
) -> int | None:
    """``write_message`` without loading what it wrote: the new message's id, None if the key exists."""
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
    return db.session.connection().execute(_message_statement(db.engine.dialect.name == "postgresql"), values).scalar()


@cache
def _message_statement(postgres: bool) -> Any:
    """``insert_ignore`` of an outbox message as one statement built once, run on the connection: a sweep
    writes a message per department and language, and building the statement and running it through the
    ORM was most of the time of writing one (the bodies themselves are quick to store)."""
    table = OutboxMessage.__table__
    insert = postgresql.insert if postgres else sqlite.insert
    columns = ("dedupe_key", "kind", "department_id", "recipients", "subject", "body_text", "body_html")
    columns += ("status", "attempts", "last_error", "created_at")
    values = {name: db.bindparam(name, type_=table.c[name].type) for name in columns}
    return insert(table).values(values).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id)


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
