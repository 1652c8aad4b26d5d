"""One bad message never stalls all mail (issue 14, class 6; contact markup from class 11).

Addresses are checked strictly when entered; a message that cannot be sent fails alone with its
error on the outbox page; a claimed message never stays ``sending``.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tracker import clock
from tracker.contacts import parse_email_list
from tracker.extensions import db
from tracker.models import Department, OutboxMessage
from tracker.reminders import mailer

from .reminder_helpers import Inbox

BAD_ADDRESSES = [
    "a@x.cn\x0b",
    "a\x00@x.cn",
    "<b>boss</b>@x.cn",
    "a@x.cn<script>alert(1)</script>",
    '"quoted name"@x.cn',
    "a b@x.cn",
    "a@",
    "@x.cn",
    "a@@x.cn",
    "a@x.cn>",
    "a@x",
    "a@x.cn\u2028",
]


@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_an_address_with_control_characters_or_markup_is_refused(address: str) -> None:
    good, bad = parse_email_list(address)
    assert good == [] and bad


def test_line_breaks_of_any_kind_separate_addresses_and_are_never_kept() -> None:
    assert parse_email_list("a@x.cn\r\nb@y.cn\rc@z.cn\n") == (["a@x.cn", "b@y.cn", "c@z.cn"], [])


@pytest.mark.parametrize("address", ["a@x.cn\x0b", "<b>x</b>@x.cn", "a@x.cn<img src=x>"])
def test_contact_forms_refuse_bad_addresses_and_keep_the_old_ones(
    mini_plan: Flask, client: FlaskClient, login, address: str
) -> None:
    department = db.session.scalar(db.select(Department).filter_by(name="市交通运输局"))
    assert department is not None
    before = department.contact_emails
    login("coordinator", "市发展改革委")
    response = client.post(
        f"/departments/{department.id}/contacts",
        data={"contact_emails": f"ok@x.cn, {address}", "version_id": str(department.version_id)},
    )
    assert response.status_code == 400
    assert "<img src=x>" not in response.get_data(as_text=True)
    client.post("/logout")
    login("admin")
    response = client.post(
        f"/admin/recipients/{department.id}",
        data={"contact_emails": address, "remind_contacts": "1", "version": str(department.version_id)},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Department, department.id).contact_emails == before


def _row(n: int, recipients: str) -> OutboxMessage:
    row = OutboxMessage(
        dedupe_key=f"test-{n}",
        kind="test",
        recipients=recipients,
        subject=f"消息 {n}",
        body_text="正文",
        created_at=clock.now(),
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_a_message_that_cannot_be_written_fails_alone_and_the_others_go_out(app: Flask, smtp: Inbox) -> None:
    first = _row(1, "one@x.cn")
    bad = _row(2, "two@x.cn\r")  # stored before addresses were checked
    forged = _row(3, "three@x.cn\r\nBcc: all@x.cn")
    last = _row(4, "four@x.cn")
    report = mailer.deliver(clock.now(), app.config)
    assert report.sent == 2 and report.failed == 2
    assert {m["X-Envelope-To"] for m in smtp.messages} == {"one@x.cn", "four@x.cn"}
    db.session.expire_all()
    statuses = {r.id: r.status for r in db.session.scalars(db.select(OutboxMessage))}
    assert statuses == {first.id: "sent", bad.id: "failed", forged.id: "failed", last.id: "sent"}
    failed = db.session.get(OutboxMessage, bad.id)
    assert "无法生成邮件" in failed.last_error and "two@x.cn" in failed.last_error
    assert mailer.deliver(clock.now(), app.config).sent == 0  # the next run is not stuck on it


def test_the_outbox_page_shows_why_a_message_failed(app: Flask, smtp: Inbox, client: FlaskClient, login) -> None:
    _row(1, "two@x.cn\r")
    mailer.deliver(clock.now(), app.config)
    login("admin")
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "无法生成邮件" in page


def test_a_crash_mid_batch_releases_the_messages_not_reached(
    app: Flask, smtp: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [_row(n, f"r{n}@x.cn") for n in range(1, 5)]
    real = mailer._send_one
    calls = []

    def crash_on_the_second(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(mailer, "_send_one", crash_on_the_second)
    with pytest.raises(RuntimeError):
        mailer.deliver(clock.now(), app.config)
    db.session.expire_all()
    statuses = [db.session.get(OutboxMessage, r.id).status for r in rows]
    assert statuses == ["sent", "pending", "pending", "pending"]
    monkeypatch.undo()
    assert mailer.deliver(clock.now(), app.config).sent == 3  # at once, not after the lease
    assert len(smtp.messages) == 4


def test_a_message_left_sending_by_a_dead_deliverer_is_sent_after_its_lease(app: Flask, smtp: Inbox) -> None:
    row = _row(1, "one@x.cn")
    claimed = mailer._claim(clock.now(), 10)  # then the process is killed
    assert [r.id for r in claimed] == [row.id]
    assert mailer.deliver(clock.now(), app.config).sent == 0
    assert mailer.deliver(clock.now() + mailer.LEASE, app.config).sent == 1
    assert db.session.get(OutboxMessage, row.id).status == "sent"
