"""Sentences built around data are one translatable unit each, so English can order its words.

The Chinese pages and emails say exactly what they said before; the English ones read as English
sentences (not Chinese word order with English words), with plurals where English needs them.
"""

from __future__ import annotations

import html
import io
import re
from datetime import date
from types import SimpleNamespace

from flask import Flask, render_template
from flask.testing import FlaskClient
from flask_babel import force_locale

from tracker import clock
from tracker.extensions import db
from tracker.models import CheckIn, OutboxMessage, Target
from tracker.reminders.digest import Line, LineInfo, Words

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _language(client: FlaskClient, locale: str) -> None:
    client.post("/language", data={"locale": locale})


def _report_returned_resubmitted_and_approved(client: FlaskClient, login) -> None:  # type: ignore[no-untyped-def]
    factories = db.session.scalar(db.select(Target).filter_by(key="3.1-green-factories"))
    assert factories is not None
    report = {
        "status": "in_progress",
        "percent": "40",
        "narrative": "已创建 <b>3</b> 家。",
        "problems": "",
        "next_steps": "",
        "action": "submit",
        f"value-{factories.id}": "3",
        f"source-{factories.id}": "台账",
        "evidence": (io.BytesIO(PDF), "台账.pdf"),
    }
    login("staff", "林州市人民政府")
    url = "/tasks/3.1/report?period=2024Q2"  # named: without it the form opens the oldest period owed
    assert client.post(url, data=report, content_type="multipart/form-data").status_code == 302
    first = db.session.scalar(db.select(CheckIn))
    assert first is not None
    client.post("/logout")
    login("coordinator", "市发展改革委")
    client.post(f"/reviews/{first.id}", data={"decision": "return", "comment": "请补充 <i>名单</i>"})
    client.post("/logout")
    login("staff", "林州市人民政府")
    report.update(checkin_id=str(first.id), evidence=(io.BytesIO(PDF), "名单.pdf"))
    client.post(url, data=report, content_type="multipart/form-data")
    client.post("/logout")
    login("coordinator", "市发展改革委")
    second = db.session.scalars(db.select(CheckIn).order_by(CheckIn.id.desc())).first()
    assert second is not None
    client.post(f"/reviews/{second.id}", data={"decision": "approve", "comment": "同意"})
    client.post("/logout")


def test_the_task_timeline_tells_each_event_as_one_english_sentence(seeded: Flask, client: FlaskClient, login) -> None:
    _report_returned_resubmitted_and_approved(client, login)
    login("staff", "市发展改革委")
    assert (
        client.post("/tasks/3.1/extension", data={"new_due": "2026-06-30", "reason": "资金未到位"}).status_code == 302
    )

    _language(client, "en")
    page = client.get("/tasks/3.1").get_data(as_text=True)
    text = _text(page)
    assert "Implementation period Jan 1, 2021 to Dec 31, 2025" in text
    assert "林州市人民政府 submitted the 2024Q2 progress report ( Approved ):" in text
    assert re.search(r"\S+@test\.local approved the 2024Q2 report from 林州市人民政府: 同意", text)
    assert re.search(r"\S+@test\.local returned the 2024Q2 report from 林州市人民政府: 请补充 <i>名单</i>", text)
    assert "Extension requested: Dec 31, 2025 → Jun 30, 2026; reason: 资金未到位" in text
    assert "创建绿色工厂（园区）: 3 家 (台账)" in text
    # What people typed goes into the sentence escaped, never as markup.
    assert "请补充 &lt;i&gt;名单&lt;/i&gt;" in page and "<i>名单</i>" not in page
    assert "已创建 &lt;b&gt;3&lt;/b&gt; 家。" in page
    for chinese_order in ["提交了", "审核通过了", "的 2024Q2 报告", "申请延期："]:
        assert chinese_order not in text

    _language(client, "zh_CN")
    text = _text(client.get("/tasks/3.1").get_data(as_text=True))
    assert "实施期 2021-01-01 至 2025-12-31" in text
    assert "林州市人民政府 提交了 2024Q2 进展报告（ 已通过 ）：" in text
    assert re.search(r"\S+@test\.local 审核通过了 林州市人民政府 的 2024Q2 报告：同意", text)
    assert "申请延期：2025-12-31 → 2026-06-30，理由：资金未到位" in text


def test_the_review_page_says_returned_not_the_button_word_return(seeded: Flask, client: FlaskClient, login) -> None:
    _report_returned_resubmitted_and_approved(client, login)
    first = db.session.scalars(db.select(CheckIn).order_by(CheckIn.id)).first()
    assert first is not None
    login("coordinator", "市发展改革委")
    _language(client, "en")
    text = _text(client.get(f"/reviews/{first.id}").get_data(as_text=True))
    assert "Returned : 请补充 <i>名单</i>" in text and "40% complete · Submitted Jun 3, 2024" in text
    _language(client, "zh_CN")
    text = _text(client.get(f"/reviews/{first.id}").get_data(as_text=True))
    assert "退回 ：请补充 <i>名单</i>" in text and "完成 40% · 提交于 2024-06-03" in text


def test_my_home_headings_put_counts_and_roles_where_english_wants_them(
    seeded: Flask, client: FlaskClient, login
) -> None:
    login("staff", "市发展改革委")
    _language(client, "en")
    text = _text(client.get("/my").get_data(as_text=True))
    assert re.search(r"Due this period \(\d+\)", text) and re.search(r"To acknowledge \(\d+\)", text)
    assert re.search(r"Tasks as Lead \(\d+\)", text)
    assert "三（一） 重点行业绿色升级工程 (Responsible)" in text
    assert "'s tasks" not in text

    _language(client, "zh_CN")
    text = _text(client.get("/my").get_data(as_text=True))
    assert re.search(r"本期待报送（\d+）", text) and re.search(r"牵头 的任务（\d+）", text)
    assert "三（一） 重点行业绿色升级工程（负责）" in text


def test_dashboard_and_matrix_ledes_read_as_english(seeded: Flask, client: FlaskClient, login) -> None:
    login("leader")
    _language(client, "en")
    dashboard = _text(client.get("/dashboard").get_data(as_text=True))
    assert "· Implementation period: Jan 1, 2021 to Dec 31, 2025 · As of Jun 3, 2024" in dashboard
    assert re.search(r"Plan period remaining \d+ days until Dec 31, 2025", dashboard)
    assert re.search(r"Overdue and flagged measures \(\d+\)", dashboard)
    matrix = _text(client.get("/matrix").get_data(as_text=True))
    assert re.search(r"· As of Jun 3, 2024 · Showing \d+ of \d+ measures × \d+ departments\.", matrix)
    assessment = _text(client.get("/assessment?window=2025").get_data(as_text=True))
    assert "2025 annual assessment has not started yet (it starts on Jan 1, 2025)." in assessment
    assert "within 5 days after the period ends" in assessment  # the one due rule's due date

    _language(client, "zh_CN")
    dashboard = _text(client.get("/dashboard").get_data(as_text=True))
    assert "· 实施期 2021-01-01 至 2025-12-31 · 截至 2024-06-03" in dashboard
    assert re.search(r"规划期剩余 \d+ 天 至 2025-12-31", dashboard)
    matrix = _text(client.get("/matrix").get_data(as_text=True))
    assert re.search(r"· 截至 2024-06-03 · 显示 \d+ / \d+ 项措施 × \d+ 个单位。", matrix)
    assessment = _text(client.get("/assessment?window=2025").get_data(as_text=True))
    assert "2025 年度考核尚未开始（2025-01-01 起）。" in assessment


def test_the_digest_email_reads_as_english_for_an_english_reader_and_stays_chinese(seeded: Flask, make_user) -> None:
    from tracker.reminders import service

    reader = make_user("staff", "市发展改革委", email="fgw-en@test.local")
    reader.locale = "en"
    db.session.commit()
    seeded.config["TRACKER_NOW"] = clock.parse_instant("2025-12-24")
    service.sweep(clock.now())
    copies = db.session.scalars(
        db.select(OutboxMessage).filter_by(kind="digest", department_id=reader.department_id)
    ).all()
    english = next(m for m in copies if "fgw-en@test.local" in m.recipients)
    chinese = next(m for m in copies if "fgw-en@test.local" not in m.recipients)

    assert re.search(r"As of Dec 24, 2025, your department has \d+ items to act on", english.body_text)
    # one line per task: the role under its title, what is due nested under it (issue 12)
    assert re.search(r"Your department's role: \w+\n", english.body_text)
    assert re.search(r"Task due \w{3} \d+, \d{4}, \d+ days to the deadline", english.body_text)
    assert re.search(r"Reporting link \(valid for 14 days\): http", english.body_text)
    assert "【" not in english.body_text and "：" not in english.body_text
    assert '<html lang="en">' in english.body_html
    assert re.search(r"As of Dec 24, 2025, your department has \d+ items", _text(english.body_html))
    assert "Reporting links are valid for 14 days." in _text(english.body_html)

    assert re.search(r"截至 2025-12-24，贵单位在规划任务督办系统中有以下 \d+ 项事项需要办理", chinese.body_text)
    assert re.search(r"贵单位职责：\w+\n", chinese.body_text)
    assert re.search(r"任务截止 \d{4}-\d\d-\d\d，距截止还有 \d+ 天", chinese.body_text)
    assert "填报链接（14 天内有效）：http" in chinese.body_text and "【到期提醒】" in chinese.body_text
    assert '<html lang="zh-CN">' in chinese.body_html
    assert "填报链接 14 天内有效。" in _text(chinese.body_html)


def test_the_leaders_weekly_digest_reads_as_english(seeded: Flask, make_user) -> None:
    from tracker.reminders import service

    leader = make_user("leader", email="boss-en@test.local")
    leader.locale = "en"
    db.session.commit()
    seeded.config["TRACKER_NOW"] = clock.parse_instant("2026-01-05")
    service.sweep(clock.now())
    copies = db.session.scalars(db.select(OutboxMessage).filter_by(kind="leader_digest")).all()
    english = next(m for m in copies if "boss-en@test.local" in m.recipients)
    body = english.body_text
    assert "Weekly plan implementation report (as of Jan 5, 2026)" in body
    assert re.search(r"Open tasks: \d+; overdue: \d+ \(already escalated: \d+\); due within 30 days: \d+;", body)
    assert "[Overdue tasks]" in body and re.search(r"重点行业绿色升级工程 \(due Dec 31, 2025; \w", body)
    assert "未启动" not in body  # the status is a label, shown in English
    page = _text(english.body_html)
    assert re.search(r"Weekly plan implementation report \(as of Jan 5, 2026\): Open tasks: \d+;", page)
    assert "Overdue tasks" in page


def test_english_sentences_with_a_count_of_one_are_singular(app: Flask) -> None:
    # a digest line: one task, its entries nested, one link (issue 12); its sentences are said by
    # ``Words.line`` in the copy's language, as the sweep does
    line = Line(LineInfo(key=("task", 1), title=("三（一） 重点行业绿色升级工程", {}), duty="牵头"), [], "http://x/r/t")
    context = {
        "department": SimpleNamespace(name="市发展改革委"),
        "today": date(2025, 12, 24),
        "link_days": 1,
    }
    with app.test_request_context():
        with force_locale("en"):
            shown = [Words().line(line, link_days=1)]
            text = render_template("email/digest.txt", lines=shown, **context)
            page = render_template("email/digest.html", lines=shown, **context)
        with force_locale("zh_CN"):
            chinese = render_template("email/digest.txt", lines=[Words().line(line, link_days=1)], **context)
    assert "your department has 1 item to act on" in text and "Reporting link (valid for 1 day): http://x/r/t" in text
    assert "Reporting links are valid for 1 day." in _text(page)
    assert "有以下 1 项事项需要办理" in chinese and "填报链接（1 天内有效）：http://x/r/t" in chinese
