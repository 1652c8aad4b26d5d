"""Reminder emails are written in each reader's language (issue 8).

An address that belongs to an account gets the language its owner chose; a department's contact
mailbox gets the site's language (``TRACKER_LANGUAGE``, Chinese by default). A bureau whose readers
differ gets one copy per language, and every address is in exactly one of them.
"""

from __future__ import annotations

import re
from datetime import date

from flask import Flask

from tracker import clock
from tracker.extensions import db
from tracker.models import OutboxMessage, Task, User
from tracker.reminders import mailer, service

from .conftest import dept_by_name
from .reminder_helpers import Inbox, html_of, only_task, text_of

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def english(make_user, role: str, department: str | None, email: str) -> User:  # type: ignore[no-untyped-def]
    user = make_user(role, department, email=email)
    user.locale = "en"
    db.session.commit()
    return user


def chinese_left(text: str, data: list[str]) -> list[str]:
    """The Chinese words left once the plan's own words (task titles, department names) are removed."""
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    return sorted({m.group(0) for m in re.finditer(r"\S*[\u3400-\u4dbf\u4e00-\u9fff]\S*", text)})


def plan_words() -> list[str]:
    tasks = db.session.scalars(db.select(Task)).all()
    return [*(t.title for t in tasks), *(t.label for t in tasks), "市发展改革委"]


def send(app: Flask, moment: str) -> service.SweepReport:
    app.config["TRACKER_NOW"] = clock.parse_instant(moment)
    report = service.sweep(clock.now())
    mailer.deliver(clock.now(), app.config)
    return report


def test_an_english_reader_gets_the_digest_in_english_and_the_contact_mailbox_in_chinese(
    seeded: Flask, smtp: Inbox, make_user
) -> None:
    only_task("3.1", date(2025, 12, 31))
    english(make_user, "staff", "市发展改革委", "en-staff@test.local")
    make_user("staff", "市发展改革委", email="zh-staff@test.local")
    fgw = dept_by_name("市发展改革委")
    fgw.contact_emails = "office@fgw.test"
    db.session.commit()

    send(seeded, "2025-12-24T09:00")

    [en] = smtp.to("en-staff@test.local")
    [zh] = smtp.to("office@fgw.test")
    assert zh is smtp.to("zh-staff@test.local")[0]  # the Chinese readers share one copy
    assert "en-staff@test.local" not in zh["X-Envelope-To"]
    assert "office@fgw.test" not in en["X-Envelope-To"]

    assert zh["Subject"].startswith("【督办提醒】市发展改革委：")
    assert "距截止还有 7 天" in text_of(zh) and "贵单位职责：负责" in text_of(zh)

    assert en["Subject"].startswith("[Supervision reminder] 市发展改革委: ")
    text, html = text_of(en), html_of(en)
    assert "7 days to the deadline" in text and "Responsible" in text
    assert '<html lang="en">' in html
    assert not chinese_left(en["Subject"] + text, plan_words()), chinese_left(en["Subject"] + text, plan_words())
    assert not chinese_left(re.sub(r"<[^>]+>", " ", html), plan_words())
    assert "Dec 31, 2025" in text  # dates as English writes them

    # Both copies come from one claim of each item: the next run sends nothing to either.
    before = len(smtp.messages)
    send(seeded, "2025-12-24T15:00")
    assert len(smtp.messages) == before


def test_the_leaders_weekly_digest_follows_each_leaders_language(seeded: Flask, smtp: Inbox, make_user) -> None:
    only_task("3.1", date(2025, 12, 1))
    english(make_user, "leader", None, "en-leader@test.local")
    make_user("leader", None, email="zh-leader@test.local")

    send(seeded, "2025-12-24T09:00")

    [en] = [m for m in smtp.to("en-leader@test.local") if "Weekly" in m["Subject"]]
    [zh] = [m for m in smtp.to("zh-leader@test.local") if "督办周报" in m["Subject"]]
    assert "zh-leader@test.local" not in en["X-Envelope-To"]
    assert not CJK.search(en["Subject"]), en["Subject"]
    assert not chinese_left(text_of(en), plan_words()), chinese_left(text_of(en), plan_words())
    assert "逾期" in zh["Subject"]


def test_a_site_set_to_english_writes_to_contact_mailboxes_in_english(seeded: Flask, smtp: Inbox) -> None:
    seeded.config["LANGUAGE"] = "en"
    only_task("3.1", date(2025, 12, 31))
    fgw = dept_by_name("市发展改革委")
    fgw.contact_emails = "office@fgw.test"
    db.session.commit()

    report = send(seeded, "2025-12-24T09:00")

    [mail] = smtp.to("office@fgw.test")
    assert mail["Subject"].startswith("[Supervision reminder] ")
    assert "queued in the outbox" in report.summary()  # and the scheduler's log speaks the site language too


def test_a_digest_nobody_would_receive_is_held_with_the_reason_shown_in_the_readers_language(
    seeded: Flask, client, login
) -> None:
    only_task("3.1", date(2025, 12, 31))
    seeded.config["TRACKER_NOW"] = clock.parse_instant("2025-12-24T09:00")
    service.sweep(clock.now())
    held = db.session.scalars(db.select(OutboxMessage).filter_by(status="held")).first()
    assert held is not None and held.last_error == mailer.NO_RECIPIENTS  # stored as written, in Chinese

    login("admin")
    client.post("/language", data={"locale": "en"})
    page = client.get(f"/admin/outbox/{held.id}").get_data(as_text=True)
    assert "No recipient address" in page and mailer.NO_RECIPIENTS not in page
