"""Issuing the supervision bulletin: number it, freeze it, serve its files, and mail it once per period.

``issue`` gathers the content from the dashboard's and the assessment's services for the moment of
issue (``content.gather``), writes the Word file in the site's language, and stores both in a new
``Bulletin`` row with the plan's next number. Nothing later changes an issued bulletin: its other
language and its PDF are made from what was frozen. A correction is a new issue naming the old one.

``send_scheduled`` is the scheduler's job: on a working day, once the period's reports are in
(``due_period``), it issues the bulletin of the period that ended (unless a coordinator already did)
and writes one email per language to leaders and coordinators with the Word file attached. A key in
``reminder_sent`` and the outbox's dedupe key make it exactly once, however often the job runs.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..clock import city_date
from ..errors import ConflictError, NotFound, TrackerError
from ..extensions import db
from ..i18n import HTML_LANG, LOCALES, site_locale
from ..i18n import period as period_words
from ..leadership.assessment import assess
from ..leadership.dashboard import build_dashboard
from ..leadership.scoring import ScoringRule
from ..leadership.targets import load_targets
from ..models import Bulletin, Department, ExtensionRequest, OutboxAttachment, Plan, ReminderSent, Task, User
from ..reminders import service as reminders
from ..tasks import state as task_state
from ..tasks.lifecycle import is_closed
from ..tasks.periods import Period, parse_period, period_for, previous
from ..tasks.queries import city_workdays, current_plan
from . import pdf
from .content import Extension, gather

__all__ = [
    "DOCX_TYPE",
    "BulletinError",
    "due_period",
    "file_name",
    "issue",
    "listing",
    "pdf_bytes",
    "send_scheduled",
    "word_bytes",
]

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CYCLES = ("month", "quarter")


class BulletinError(TrackerError):
    """A bulletin cannot be issued as asked."""


def due_period(today: date, cycle: str, after_days: int, plan_start: date, plan_end: date) -> Period | None:
    """The latest period of ``cycle`` that ended at least ``after_days`` days before ``today`` and
    overlaps the plan (after the plan ends, its last period): the one whose bulletin is due (its
    reports were due 5 days after it ended).

    >>> due_period(date(2024, 7, 10), "quarter", 10, date(2021, 1, 1), date(2025, 12, 31)).key
    '2024Q2'
    >>> due_period(date(2024, 7, 9), "quarter", 10, date(2021, 1, 1), date(2025, 12, 31)).key
    '2024Q1'
    >>> due_period(date(2021, 1, 5), "month", 10, date(2021, 1, 1), date(2025, 12, 31)) is None
    True
    """
    x = today - timedelta(days=after_days)
    p = period_for(x, cycle)
    if p.end != x:
        p = previous(p)
    if p.start > plan_end:  # after the plan: its last period, once
        p = period_for(plan_end, cycle)
    return p if p.end >= plan_start else None


def parse(key: str, today: date) -> Period:
    """A month or quarter that has begun, named by ``key`` (``2024Q2``, ``2024-05``)."""
    try:
        p = parse_period(key.strip())
    except ValueError as exc:
        raise BulletinError(str(exc)) from None
    if p.cycle not in CYCLES:
        raise BulletinError(_("督办通报按月或按季度印发：请填写 2024Q2 或 2024-05。"))
    if p.start > today:
        raise BulletinError(_("%(period)s 尚未开始，不能印发通报。", period=period_words(p.label)))
    return p


def office_name() -> str:
    """The issuing office: ``BULLETIN_OFFICE`` if set, else the plan's coordinating offices."""
    configured = current_app.config.get("BULLETIN", {}).get("office")
    if configured:
        return str(configured)
    names = db.session.scalars(
        db.select(Department.name).filter_by(coordinating=True).order_by(Department.position, Department.id)
    ).all()
    return "、".join(names) or _("督查督办办公室")


def granted_extensions(plan: Plan, p: Period) -> list[Extension]:
    """Extensions approved inside the period (city dates)."""
    rows = db.session.execute(
        db.select(ExtensionRequest, Task.label, Task.title, Department.name)
        .join(Task, Task.id == ExtensionRequest.task_id)
        .join(Department, Department.id == ExtensionRequest.department_id)
        .where(Task.plan_id == plan.id, ExtensionRequest.state == "approved")
        .order_by(ExtensionRequest.decided_at, ExtensionRequest.id)
    ).all()
    out = []
    for row, label, title, department in rows:
        decided = city_date(row.decided_at) if row.decided_at else None
        if decided is not None and p.start <= decided <= p.end:
            out.append(Extension(label, title, department, row.old_due, row.new_due, row.reason, decided))
    return out


def content(plan: Plan, p: Period, *, today: date, number: int) -> dict[str, Any]:
    """What the bulletin says, from the dashboard's and the assessment's own services as of ``today``."""
    snap = task_state.load(plan, today=today, rule=task_state.light_rule(current_app.config["LIGHT_RULE"]))
    rankings = assess(snap, load_targets(plan), ScoringRule())
    reply_days = int(current_app.config.get("BULLETIN", {}).get("reply_days", 10))
    return gather(
        build_dashboard(snap),
        rankings,
        granted_extensions(plan, p),
        period=p,
        number=number,
        office=office_name(),
        reply_days=reply_days,
    )


def _issue(plan: Plan, p: Period, *, now: datetime, user_id: int | None, corrects: Bulletin | None) -> Bulletin:
    """Number, gather, render and store (flushed, not committed)."""
    number = (db.session.scalar(db.select(db.func.max(Bulletin.number)).filter_by(plan_id=plan.id)) or 0) + 1
    data = content(plan, p, today=city_date(now), number=number)
    if corrects is not None:
        data["corrects"] = corrects.number
    language = site_locale()
    with force_locale(language):
        docx = _render_docx(data)
    row = Bulletin(
        plan_id=plan.id,
        number=number,
        period=p.key,
        as_of=city_date(now),
        issued_at=now,
        issued_by_id=user_id,
        corrects_id=corrects.id if corrects else None,
        language=language,
        data=json.dumps(data, ensure_ascii=False, sort_keys=True),
        docx=docx,
    )
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:  # another issue took this number a moment ago
        db.session.rollback()
        raise ConflictError(_("另一期通报刚刚印发，请刷新后重试。")) from None
    return row


def issue(
    period_key: str,
    *,
    now: datetime,
    user_id: int | None,
    corrects_id: int | None = None,
    plan: Plan | None = None,
) -> Bulletin:
    """Issue the bulletin of a month or quarter of ``plan`` (by default the current plan), as of
    ``now``; committed."""
    today = city_date(now)
    plan = plan or current_plan(today)
    corrects = None
    if corrects_id is not None:
        corrects = db.session.get(Bulletin, corrects_id)
        if corrects is None or corrects.plan_id != plan.id:
            raise NotFound(_("没有这一期通报。"))
    row = _issue(plan, parse(period_key, today), now=now, user_id=user_id, corrects=corrects)
    db.session.commit()
    return row


def listing(plan: Plan) -> list[Bulletin]:
    """The plan's issued bulletins, newest first (without loading their files)."""
    return list(
        db.session.scalars(
            db.select(Bulletin)
            .options(db.defer(Bulletin.docx), db.defer(Bulletin.pdf), db.defer(Bulletin.data))
            .filter_by(plan_id=plan.id)
            .order_by(Bulletin.number.desc())
        )
    )


def get(bulletin_id: int) -> Bulletin:
    row = db.session.get(Bulletin, bulletin_id)
    if row is None:
        raise NotFound(_("没有这一期通报。"))
    return row


def word_bytes(row: Bulletin, language: str) -> bytes:
    """The Word file: the one frozen at issue, or in another language written from the frozen data."""
    if language == row.language or language not in LOCALES:
        return row.docx
    with force_locale(language):
        return _render_docx(json.loads(row.data))


def _render_docx(data: dict[str, Any]) -> bytes:
    # python-docx is loaded when a bulletin is written, not by every web worker at start
    from .document import render_docx

    return render_docx(data)


def pdf_bytes(row: Bulletin, language: str) -> bytes:
    """The PDF of the Word file; the issued language's is made once and kept."""
    if language == row.language or language not in LOCALES:
        if row.pdf is None:
            row.pdf = pdf.to_pdf(row.docx)
            db.session.commit()
        return row.pdf
    return pdf.to_pdf(word_bytes(row, language))


def file_name(row: Bulletin, extension: str, language: str) -> str:
    """``督办通报_第3期_2024Q2.docx`` in ``language``."""
    with force_locale(language):
        return _("督办通报_第%(n)s期_%(period)s", n=row.number, period=row.period) + f".{extension}"


# --- the scheduled issue ---------------------------------------------------------------------------


def _recipients() -> list[str]:
    return list(
        db.session.scalars(
            db.select(User.email)
            .where(User.active.is_(True), User.role.in_(["leader", "coordinator"]))
            .order_by(User.id)
        )
    )


def mail(row: Bulletin, now: datetime) -> int:
    """One email per language to leaders and coordinators, the Word file attached; not committed."""
    written = 0
    data = json.loads(row.data)
    for language, recipients in reminders.by_language(_recipients()).items():
        with force_locale(language):
            subject = _(
                "【督办通报】第 %(n)s 期：%(period)s", n=row.number, period=period_words(data["period"]["label"])
            )
            context = {
                "data": data,
                "bulletin": row,
                "email_lang": HTML_LANG[language],
                "base_url": current_app.config["BASE_URL"].rstrip("/"),
            }
            text = render_template("email/bulletin.txt", **context)
            html = render_template("email/bulletin.html", **context)
            filename = file_name(row, "docx", language)
        message = reminders.write_message(
            dedupe_key=f"bulletin:{row.id}" + reminders.language_suffix(language),
            kind="bulletin",
            department_id=None,
            recipients=recipients,
            subject=subject,
            text=text,
            html=html,
            now=now,
        )
        if message is None:
            continue
        db.session.add(
            OutboxAttachment(
                message_id=message.id, filename=filename, content_type=DOCX_TYPE, data=word_bytes(row, language)
            )
        )
        written += 1
    return written


def send_scheduled(now: datetime) -> str:
    """The scheduler's job: issue and mail the due period's bulletin, once (see the module docstring)."""
    today = city_date(now)
    if not city_workdays().is_workday(today):
        return _("非工作日，不印发通报")
    plan = current_plan(today)
    if is_closed(plan):
        return _("计划已关闭，不再印发督办通报")
    settings = current_app.config.get("BULLETIN", {})
    p = due_period(today, settings.get("cycle", "quarter"), int(settings.get("after_days", 10)), plan.start, plan.end)
    if p is None:
        return _("没有到期的督办通报")
    key = f"bulletin:{plan.key}:{p.key}"
    if reminders.insert_ignore(ReminderSent, {"key": key, "created_at": now}, "key") is None:
        db.session.commit()
        return _("%(period)s 的督办通报已发送过", period=period_words(p.label))
    row = db.session.scalar(
        db.select(Bulletin).filter_by(plan_id=plan.id, period=p.key).order_by(Bulletin.number.desc()).limit(1)
    ) or _issue(plan, p, now=now, user_id=None, corrects=None)
    written = mail(row, now)
    db.session.commit()
    return _(
        "已印发第 %(n)s 期督办通报（%(period)s），写入发件箱 %(m)s 封。",
        n=row.number,
        period=period_words(p.label),
        m=written,
    )
