"""The supervision bulletin (督办通报): issued, numbered, frozen, downloadable, mailed once per period.

The figures are checked in the Word file (python-docx) and in its PDF (pdftotext) against the
dashboard's for the same moment.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from datetime import date

import pytest
from docx import Document
from flask import Flask, current_app
from flask.testing import FlaskClient

from tracker import clock
from tracker.bulletins import service
from tracker.extensions import db
from tracker.leadership import dashboard
from tracker.models import Bulletin, CheckIn, OutboxAttachment, OutboxMessage
from tracker.reminders import mailer
from tracker.tasks import state as task_state
from tracker.tasks.queries import current_plan

from .reminder_helpers import Inbox


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def _squash(text: str) -> str:
    """pdftotext breaks lines and spaces where the page did: compare without whitespace."""
    return re.sub(r"\s+", "", text)


def _pdf_text(data: bytes, tmp_path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "bulletin.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout


def _dashboard_now() -> dashboard.Dashboard:
    today = clock.today()
    rule = task_state.light_rule(current_app.config["LIGHT_RULE"])
    snap = task_state.load(current_plan(today), today=today, rule=rule)
    return dashboard.build_dashboard(snap)


def _submit(code: str, percent: int = 40) -> None:
    """The lead's report for the period the dashboard expects now (the due rule decides which)."""
    state = next(st for st in _dashboard_now().state.states if st.task.code == code)
    task, period = state.task, state.period
    assert period is not None
    lead = next(a for a in task.assignments if a.role in {"lead", "responsible"})
    db.session.add(
        CheckIn(
            task_id=task.id,
            department_id=lead.department_id,
            period=period.key,
            period_start=period.start,
            period_end=period.end,
            state="submitted",
            status="in_progress",
            percent=percent,
            created_at=clock.now(),
            submitted_at=clock.now(),
        )
    )
    db.session.commit()


def _figures(d: dashboard.Dashboard) -> list[str]:
    rate = "—" if d.rate is None else f"{d.rate * 100:.0f}%"
    progress = "—" if d.progress is None else f"{d.progress:.1f}%"
    return [
        f"方案共有措施 {len(d.state.states)} 项",
        f"总体进度 {progress}",
        f"红灯 {d.light_counts['red']} 项、黄灯 {d.light_counts['yellow']} 项、绿灯 {d.light_counts['green']} 项",
        f"本期应报送 {d.expected} 份，已报送 {d.reported} 份，报送率 {rate}",
        f"待审核 {len(d.pending)} 份",
    ]


def test_issued_bulletin_says_in_word_and_pdf_what_the_dashboard_says(
    seeded: Flask, client: FlaskClient, login, tmp_path
) -> None:
    _submit("3.2")
    login("coordinator")
    response = client.post("/bulletins", data={"period": "2024Q2"})
    assert response.status_code == 302
    row = db.session.scalar(db.select(Bulletin))
    assert row.number == 1 and row.period == "2024Q2" and row.as_of == clock.today()

    d = _dashboard_now()
    page = client.get("/dashboard").get_data(as_text=True)  # the page shows the same figures
    assert f"{d.progress:.1f}%" in page and f"{d.reported} / {d.expected}" in page
    assert f'<span class="over">{d.light_counts["red"]}</span> / {d.light_counts["yellow"]}' in page
    word = client.get(f"/bulletins/{row.id}.docx")
    assert word.status_code == 200
    assert "filename*=UTF-8''" in word.headers["Content-Disposition"]
    text = _docx_text(word.data)
    assert "内部资料" in text and "督办通报" in text and "第 1 期" in text and "2024年6月3日" in text
    for figure in _figures(d):
        assert figure in text
    for st in d.at_risk[:5]:
        assert st.task.label in text
    for r in d.not_reported[:5]:
        assert r.department.name in text

    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        pytest.fail("LibreOffice (soffice) and poppler-utils (pdftotext) are needed to check the PDF")
    pdf = client.get(f"/bulletins/{row.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    pdf_text = _squash(_pdf_text(pdf.data, tmp_path))
    for figure in [*_figures(d), "内部资料", "督办通报", "第1期"]:
        assert _squash(figure) in pdf_text


def test_an_issued_bulletin_does_not_change_when_the_data_does_a_new_one_does(
    seeded: Flask, client: FlaskClient, login
) -> None:
    login("coordinator")
    client.post("/bulletins", data={"period": "2024Q2"})
    first = db.session.scalar(db.select(Bulletin))
    before = client.get(f"/bulletins/{first.id}.docx").data
    reported_before = json.loads(first.data)["reported"]

    _submit("3.2")
    _submit("3.3")
    assert client.get(f"/bulletins/{first.id}.docx").data == before
    english_before = _docx_text(client.get(f"/bulletins/{first.id}.docx?lang=en").data)
    assert f"{reported_before} submitted" in english_before

    client.post("/bulletins", data={"period": "2024Q2", "corrects": str(first.id)})
    second = db.session.scalar(db.select(Bulletin).filter_by(number=2))
    assert second.corrects_id == first.id
    text = _docx_text(client.get(f"/bulletins/{second.id}.docx").data)
    assert f"已报送 {_dashboard_now().reported} 份" in text and "本期更正第 1 期" in text
    assert _dashboard_now().reported == reported_before + 2
    page = client.get("/bulletins").get_data(as_text=True)
    assert "第 1 期" in page and "第 2 期" in page


def test_bulletin_in_english_on_request(seeded: Flask, client: FlaskClient, login) -> None:
    login("coordinator")
    client.post("/bulletins", data={"period": "2024-05"})
    row = db.session.scalar(db.select(Bulletin))
    response = client.get(f"/bulletins/{row.id}.docx?lang=en")
    text = _docx_text(response.data)
    assert "Supervision Bulletin" in text and "No. 1" in text and "Internal" in text
    assert "红灯" not in text and "内部资料" not in text
    assert "bulletin" in response.headers["Content-Disposition"].lower()


def test_a_future_or_yearly_period_is_refused(seeded: Flask, client: FlaskClient, login) -> None:
    login("coordinator")
    for key in ("2024Q4", "2024", "nonsense"):
        response = client.post("/bulletins", data={"period": key}, follow_redirects=True)
        assert response.status_code == 200
        assert db.session.scalar(db.select(db.func.count()).select_from(Bulletin)) == 0


@pytest.mark.parametrize(("role", "read", "issue"), [("leader", 200, 403), ("admin", 200, 403), ("staff", 403, 403)])
def test_leaders_download_and_only_coordinators_issue(
    seeded: Flask, client: FlaskClient, make_user, login, role, read, issue
) -> None:
    from tracker.models import Department

    coordinator = make_user("coordinator")
    service.issue("2024Q1", now=clock.now(), user_id=coordinator.id)
    row = db.session.scalar(db.select(Bulletin))
    department = db.session.scalar(db.select(Department.name).limit(1)) if role == "staff" else None
    login(role, department)
    assert client.get("/bulletins").status_code == read
    assert client.get(f"/bulletins/{row.id}.docx").status_code == read
    assert client.post("/bulletins", data={"period": "2024Q1"}).status_code == issue


def test_scheduler_issues_and_mails_the_quarter_bulletin_once_with_the_word_file(
    seeded: Flask, make_user, smtp: Inbox
) -> None:
    app = seeded
    leader = make_user("leader")
    coordinator = make_user("coordinator")
    app.config["TRACKER_NOW"] = "2024-07-10T09:30:00+08:00"  # a Wednesday, 10 days after Q2 ended
    now = clock.now()
    service.send_scheduled(now)
    service.send_scheduled(now)  # a re-run, or a second scheduler: nothing more
    service.send_scheduled(clock.now())
    rows = db.session.scalars(db.select(Bulletin)).all()
    assert [(b.number, b.period, b.issued_by_id) for b in rows] == [(1, "2024Q2", None)]
    messages = db.session.scalars(db.select(OutboxMessage).filter_by(kind="bulletin")).all()
    assert len(messages) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxAttachment)) == 1

    mailer.deliver(now, app.config)
    mailer.deliver(now, app.config)
    for user in (leader, coordinator):
        (msg,) = smtp.to(user.email)
        assert "督办通报" in msg["Subject"] and "第 1 期" in msg["Subject"]
        (part,) = list(msg.iter_attachments())
        assert part.get_filename().endswith(".docx")
        assert "第 1 期" in _docx_text(part.get_content())


def test_scheduler_mails_the_bulletin_a_coordinator_already_issued_instead_of_a_new_one(
    seeded: Flask, make_user
) -> None:
    app = seeded
    make_user("leader")
    coordinator = make_user("coordinator")
    app.config["TRACKER_NOW"] = "2024-07-10T08:00:00+08:00"
    issued = service.issue("2024Q2", now=clock.now(), user_id=coordinator.id)
    app.config["TRACKER_NOW"] = "2024-07-10T09:30:00+08:00"
    service.send_scheduled(clock.now())
    assert db.session.scalars(db.select(Bulletin.id)).all() == [issued.id]
    (message,) = db.session.scalars(db.select(OutboxMessage).filter_by(kind="bulletin"))
    assert message.dedupe_key == f"bulletin:{issued.id}"


def test_due_period_of_the_schedule() -> None:
    plan = (date(2021, 1, 1), date(2025, 12, 31))
    assert service.due_period(date(2024, 8, 10), "month", 10, *plan).key == "2024-07"
    assert service.due_period(date(2024, 8, 9), "month", 10, *plan).key == "2024-06"
    assert service.due_period(date(2027, 3, 1), "quarter", 10, *plan).key == "2025Q4"
