"""Digests a person reads (issue 12): one line per task, what is due nested under it, the periods owed
on the line as the one due rule counts them, chasers numbered by what was sent, and the leader's counts
from the current state. The real plan, the app clock at 2025-12-24 unless a test says otherwise."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask

from tracker import clock
from tracker.extensions import db
from tracker.models import CheckIn, OutboxMessage, Plan, ReminderSent, Review, Target, Task
from tracker.reminders import service
from tracker.tasks.due import DueRule, owed_periods, reporting_window
from tracker.tasks.periods import parse_period, periods_between
from tracker.tasks.queries import city_workdays

from .conftest import dept_by_name, task_by_code
from .reminder_helpers import only_task
from .test_reminders_language import chinese_left, english, plan_words

CHASER_NUMBER = re.compile(r"第 (\d+) 次催办")


def sweep_at(app: Flask, moment: str) -> service.SweepReport:
    app.config["TRACKER_NOW"] = clock.parse_instant(moment)
    return service.sweep(clock.now())


def body(name: str) -> str:
    """The newest digest written to a department."""
    return db.session.scalar(
        db.select(OutboxMessage.body_text)
        .filter_by(department_id=dept_by_name(name).id, kind="digest")
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )


def blocks(text: str) -> list[list[str]]:
    """The digest's lines: each numbered line with the rows nested under it."""
    out: list[list[str]] = []
    for row in text.splitlines():
        if re.match(r"^\d+\. ", row):
            out.append([row])
        elif out and row.startswith("   "):
            out[-1].append(row.strip())
    return out


def block_of(text: str, t: Task) -> list[str]:
    [found] = [b for b in blocks(text) if b[0].split(". ", 1)[1].startswith(f"{t.label} {t.title}")]
    return found


def owed_in_words(keys: list[str]) -> str:
    first, last = parse_period(keys[0]).label, parse_period(keys[-1]).label
    return f"{first}未报" if len(keys) == 1 else f"{first}至{last}共 {len(keys)} 期未报"


def approved(t: Task, department_id: int, period: str, state: str = "approved", **values: object) -> CheckIn:
    p = parse_period(period)
    checkin = CheckIn(
        task_id=t.id,
        department_id=department_id,
        period=period,
        period_start=p.start,
        period_end=p.end,
        state=state,
        created_at=clock.now(),
        **values,
    )
    db.session.add(checkin)
    db.session.flush()
    return checkin


class TestLinzhouOn20251224:
    def test_one_line_per_task_at_most_no_link_twice_and_no_chaser_it_never_sent(
        self, seeded: Flask, make_user
    ) -> None:
        make_user("staff", "林州市人民政府", email="linzhou@test.local")
        sweep_at(seeded, "2025-12-24T09:00")
        text = body("林州市人民政府")
        lines = blocks(text)
        titles = [b[0].split(". ", 1)[1] for b in lines]
        assert len(titles) == len(set(titles))
        for t in db.session.scalars(db.select(Task)):
            assert sum(title.startswith(f"{t.label} ") for title in titles) <= 1
        links = [row for row in text.splitlines() if "填报链接" in row or "填报页面" in row]
        assert links and len(links) == len(set(links))
        # a county implements its measures through one consolidated 落实 report, linked once
        [consolidated] = [b for b in lines if "落实情况汇总报告" in b[0]]
        assert any("/consolidated/2021Q1" in row for row in consolidated)
        # its page asks for a login (it is no signed link), so the line promises no days of validity
        [row] = [row for row in consolidated if "/consolidated/" in row]
        assert "填报页面（登录后填报）" in row and "天内有效" not in row
        assert len(lines) < 10  # it was 81 items, one per target
        assert "三（一）" in "".join(consolidated)  # the measures' deadlines ride on that line
        assert all(n == "1" for n in CHASER_NUMBER.findall(text))
        # and the county is asked no per-task report
        own = dept_by_name("林州市人民政府").id
        assert not [
            k
            for k in db.session.scalars(db.select(ReminderSent.key))
            if k.startswith("checkin") and f":{own}:task:" in k
        ]

    def test_the_digest_shows_the_periods_the_due_rule_says_are_owed(self, seeded: Flask) -> None:
        t = task_by_code("3.1")
        fgw = dept_by_name("市发展改革委")
        plan = db.session.scalar(db.select(Plan))
        for p in periods_between(date(2021, 1, 1), date(2023, 12, 31), "quarter"):
            approved(t, fgw.id, p.key)
        db.session.commit()
        sweep_at(seeded, "2025-12-24T09:00")

        start, until = reporting_window(t.start, t.due, plan.end)
        reported = {p.key for p in periods_between(date(2021, 1, 1), date(2023, 12, 31), "quarter")}
        owed = owed_periods(
            date(2025, 12, 24), t.reporting_cycle, start, until, reported, DueRule.of(plan), city_workdays()
        )
        keys = [p.period.key for p in owed]
        assert keys[0] == "2024Q1" and keys[-1] == "2025Q3"
        line = block_of(body("市发展改革委"), t)
        assert f"- 【进展报送催报】{owed_in_words(keys)}" in line  # 2024年第一季度至2025年第三季度共 7 期未报
        assert "2024年第一季度至2025年第三季度共 7 期未报" in owed_in_words(keys)

        # the county's consolidated line: nothing reported yet, so every quarter the rule has requested
        implemented = [
            x for x in db.session.scalars(db.select(Task)) if any(a.role == "implementing" for a in x.assignments)
        ]
        start = min(x.start for x in implemented)
        until = max(reporting_window(x.start, x.due, plan.end)[1] for x in implemented)
        owed = owed_periods(date(2025, 12, 24), "quarter", start, until, set(), DueRule.of(plan), city_workdays())
        text = body("林州市人民政府")
        assert owed_in_words([p.period.key for p in owed]) in text

    def test_a_supporting_department_is_neither_asked_nor_chased(self, seeded: Flask) -> None:
        t = task_by_code("3.4")
        supporters = {a.department_id for a in t.assignments if a.role == "support"}
        leads = {a.department_id for a in t.assignments if a.role == "lead"}
        assert supporters and leads
        sweep_at(seeded, "2025-12-24T09:00")
        on_task = [k.split(":") for k in db.session.scalars(db.select(ReminderSent.key)) if f":task:{t.id}:" in k]
        assert {int(k[1]) for k in on_task if k[0] == "checkin_chase"} == leads
        assert not [k for k in on_task if int(k[1]) in supporters]

    def test_the_new_lines_are_in_english_for_an_english_reader(self, seeded: Flask, make_user) -> None:
        english(make_user, "staff", "林州市人民政府", "en-linzhou@test.local")
        sweep_at(seeded, "2025-12-24T09:00")
        text = db.session.scalar(
            db.select(OutboxMessage.body_text).where(OutboxMessage.recipients == "en-linzhou@test.local")
        )
        words = [*plan_words(), "林州市人民政府", *db.session.scalars(db.select(Plan.title))]
        words += db.session.scalars(db.select(Target.name)).all()
        assert "not yet submitted" in text and "consolidated implementation report" in text
        assert not chinese_left(text, words), chinese_left(text, words)


class TestChaserNumbers:
    def test_a_catch_up_chaser_is_the_first_not_the_fourth(self, seeded: Flask, make_user) -> None:
        make_user("staff", "市发展改革委", email="fgw@test.local")
        t = only_task("3.1", date(2022, 12, 31))
        sweep_at(seeded, "2025-06-03T09:00")  # the schedule's last stage (after-4) has come due
        assert f"chase:{dept_by_name('市发展改革委').id}:task:{t.id}:after-4:2022-12-31" in set(
            db.session.scalars(db.select(ReminderSent.key))
        )
        assert "已逾期（第 1 次催办）" in body("市发展改革委")
        assert "第 4 次" not in body("市发展改革委")

    def test_the_second_chaser_sent_says_second_and_a_held_one_does_not_count(self, seeded: Flask, make_user) -> None:
        make_user("staff", "市发展改革委", email="fgw@test.local")  # 市工业和信息化局 has no address: held
        only_task("3.1", date(2024, 6, 28))
        sweep_at(seeded, "2024-07-01T09:00")
        assert "已逾期（第 1 次催办）" in body("市发展改革委")
        sweep_at(seeded, "2024-07-08T09:00")
        assert "已逾期（第 2 次催办）" in body("市发展改革委")
        assert "已逾期（第 1 次催办）" in body("市工业和信息化局")  # its first mail was never sent


def test_the_leaders_counts_are_the_current_state_after_return_resubmit_approve(seeded: Flask, make_user) -> None:
    make_user("leader", None, email="boss@test.local")
    t = task_by_code("3.1")
    fgw, gxj = dept_by_name("市发展改革委"), dept_by_name("市工业和信息化局")
    first = approved(t, fgw.id, "2025Q3", state="returned")
    db.session.add(Review(checkin_id=first.id, decision="return", comment="请补充", created_at=clock.now()))
    fixed = approved(t, fgw.id, "2025Q3", supersedes_id=first.id, state="submitted")
    fixed.state = "approved"  # resubmitted, then approved
    approved(t, gxj.id, "2025Q3", state="submitted")  # one waiting for review
    db.session.commit()

    sweep_at(seeded, "2025-12-22T09:00")  # a Monday: the weekly digest
    text = db.session.scalar(db.select(OutboxMessage.body_text).filter_by(kind="leader_digest"))
    assert "待审核报送 1 份" in text
    assert "被退回待重报 0 份" in text
    # and the department is not told again that its fixed report was returned
    assert "报送被退回" not in (body("市发展改革委") or "")
