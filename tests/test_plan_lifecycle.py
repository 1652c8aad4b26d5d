"""A plan's end: final assessment, closing (read-only everywhere, results frozen), reopening, carry-over."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tracker import clock
from tracker.errors import PlanClosed
from tracker.extensions import db
from tracker.leadership.closing import ClosingError, close_plan, live_results
from tracker.leadership.final import target_outcome
from tracker.leadership.targets import load_targets
from tracker.models import AuditLog, CarryOver, CheckIn, Plan, ReminderSent, Target, TargetValue, Task
from tracker.plans.carryover import CarryError, carry_target, carry_task
from tracker.plans.county_values import import_target_values
from tracker.plans.loader import load_plan
from tracker.plans.schema import read_plan_file
from tracker.plans.xlsx_read import import_task_workbook
from tracker.plans.xlsx_write import task_workbook
from tracker.reminders import service as reminders
from tracker.reports import service
from tracker.reports.consolidated import LineInput, save_report
from tracker.tasks.lifecycle import plan_stage
from tracker.tasks.lights import LightRule
from tracker.tasks.periods import period_for

from .conftest import DATA, dept_by_name, task_by_code

AFTER = "2031-03-03T10:00:00+08:00"  # a working day after the mini plan (2026–2030)
MINI = DATA / "mini-plan.yaml"


def at(app: Flask, moment: str) -> None:
    app.config["TRACKER_NOW"] = clock.parse_instant(moment)


def mini() -> Plan:
    plan = db.session.scalar(db.select(Plan).filter_by(key="mini"))
    assert plan is not None
    return plan


def value(target_key: str, number: float, period: str = "2030") -> None:
    target = db.session.scalar(db.select(Target).filter_by(key=target_key))
    assert target is not None
    p = period_for(date(int(period[:4]), 12, 31), "year")
    db.session.add(
        TargetValue(target_id=target.id, period=p.key, period_end=p.end, value=number, created_at=clock.now())
    )
    db.session.commit()


def submitted(code: str, department: str, when: date) -> CheckIn:
    return service.save_checkin(
        task=task_by_code(code, "mini"),
        department_id=dept_by_name(department).id,
        period=period_for(when, "quarter"),
        data=service.CheckInData("in_progress", 40, "进展"),
        submit=True,
        now=clock.now(),
        user_id=None,
        editing_id=None,
        version_id=None,
    )


def closed(app: Flask, user_id: int | None = None) -> Plan:
    at(app, AFTER)
    return close_plan(mini(), now=clock.now(), user_id=user_id, rule=LightRule())


def next_plan(tmp_path: Path) -> Plan:
    """The mini plan's successor (2031–2035): the same file, five years on, under another key."""
    text = MINI.read_text(encoding="utf-8").replace("key: mini", "key: next").replace("“十五五”", "“十六五”")
    for year in range(2030, 2024, -1):
        text = text.replace(str(year), str(year + 5))
    path = tmp_path / "next.yaml"
    path.write_text(text, encoding="utf-8")
    load_plan(read_plan_file(path), now=clock.now())
    plan = db.session.scalar(db.select(Plan).filter_by(key="next"))
    assert plan is not None
    return plan


class TestFinalAssessment:
    def test_after_the_end_each_target_is_met_not_met_or_without_figure_by_the_progress_rule(
        self, mini_plan: Flask
    ) -> None:
        value("city-energy", 14.0)  # ≥ 13.5: met
        value("3.1-bus", 80.0)  # ≥ 100: not met
        at(mini_plan, AFTER)
        task = task_by_code("3.2", "mini")
        task.status, task.closed_on = "done", date(2029, 5, 1)  # closed before its deadline
        late = task_by_code("4.1", "mini")
        late.status, late.closed_on = "done", date(2031, 1, 10)  # after 2030-12-31
        db.session.commit()

        results = live_results(mini(), today=clock.today(), rule=LightRule())
        outcomes = {t["key"]: t["outcome"] for t in results["targets"]}
        assert outcomes["city-energy"] == "met" and outcomes["3.1-bus"] == "not_met"
        assert outcomes["3.1-hubs"] == "no_figure"
        # the one rule: what the targets page calls reached
        rows = {r.target.key: r for r in load_targets(mini())}
        assert all(target_outcome(rows[k], mini().start) == o for k, o in outcomes.items())
        assert results["target_counts"] == {"met": 1, "not_met": 1, "no_figure": len(outcomes) - 2}
        measures = results["measures"]
        assert [m["code"] for m in measures["on_time"]] == ["3.2"]
        assert [(m["code"], m["days_late"]) for m in measures["late"]] == [("4.1", 10)]
        (open_one,) = measures["never"]
        assert open_one["code"] == "3.1" and open_one["light"] == "red" and open_one["days_overdue"] == 62
        assert results["counties"] and results["departments"]  # the five-year window's assessment
        assert plan_stage(mini(), clock.today()) == "final"

    def test_the_dashboard_leads_with_the_period_s_results_after_the_end(self, seeded: Flask, client, login) -> None:
        at(seeded, "2026-11-29T10:00:00+08:00")
        login("leader")
        page = client.get("/dashboard").get_data(as_text=True)
        assert page.index("五年考核（2021—2025）") < page.index("本期报送率")
        assert "目标达成" in page and "措施按期完成" in page and "未完成的措施" in page
        assert "已逾期 333 天" in page  # what is still open keeps its light, the days counted
        assert "/plans/anyang-14fyp-esr/close" not in page  # a leader reads; coordinators close


class TestClosing:
    def test_a_coordinator_closes_after_confirming_and_the_results_are_frozen(
        self, mini_plan: Flask, client: FlaskClient, login
    ) -> None:
        value("city-energy", 12.0)
        at(mini_plan, AFTER)
        coordinator = login("coordinator", "市发展改革委")
        confirm = client.get("/plans/mini/close")
        assert confirm.status_code == 200 and "确认关闭计划" in confirm.get_data(as_text=True)
        assert client.post("/plans/mini/close").status_code == 302
        plan = mini()
        assert plan.closed_at == clock.now() and plan.closed_by_id == coordinator.id
        assert plan.final_results["target_counts"]["not_met"] == 1
        assert db.session.scalar(db.select(AuditLog).filter_by(entity="plan", action="close")) is not None
        value("city-energy", 20.0, "2031")  # a figure arriving after closing changes nothing shown
        page = client.get("/plans/mini/final").get_data(as_text=True)
        assert "已关闭" in page and "12 %" in page and "20 %" not in page
        again = client.post("/plans/mini/close")
        assert again.status_code == 409 and "已于" in again.get_data(as_text=True)

    def test_closing_is_refused_before_the_end_and_to_leaders(self, mini_plan: Flask, client, login) -> None:
        at(mini_plan, "2030-06-03T10:00:00+08:00")
        with pytest.raises(ClosingError):
            close_plan(mini(), now=clock.now(), user_id=None, rule=LightRule())
        login("leader")
        assert client.post("/plans/mini/close").status_code == 403
        assert mini().closed_at is None

    def test_only_an_administrator_reopens_and_the_history_keeps_the_frozen_results(
        self, mini_plan: Flask, client, login
    ) -> None:
        closed(mini_plan)
        login("coordinator", "市发展改革委")
        assert client.post("/plans/mini/reopen").status_code == 403
        login("admin")
        assert client.post("/plans/mini/reopen").status_code == 302
        assert mini().closed_at is None and mini().final_results is None
        kept = db.session.scalar(db.select(AuditLog).filter_by(action="reopen", field="final_results"))
        assert kept is not None and "target_counts" in kept.old


class TestClosedPlanIsReadOnly:
    def test_the_report_form_refuses_with_one_clear_message(self, mini_plan: Flask, client, login) -> None:
        closed(mini_plan)
        login("staff", "市交通运输局")
        response = client.post("/tasks/3.1/report", data={"status": "in_progress", "percent": "10", "action": "draft"})
        assert response.status_code == 403 and "已关闭" in response.get_data(as_text=True)
        assert db.session.scalar(db.select(db.func.count()).select_from(CheckIn)) == 0
        assert client.get("/tasks/3.1").status_code == 200  # still readable
        assert client.get("/plans/mini/tasks.xlsx").status_code == 200  # and exportable

    def test_the_api_answers_a_json_error(self, mini_plan: Flask, client, bearer) -> None:
        headers = bearer("staff", "市交通运输局")
        closed(mini_plan)
        response = client.post(
            "/api/v1/tasks/3.1/checkins", json={"status": "in_progress", "percent": 30}, headers=headers
        )
        assert response.status_code == 409 and response.get_json()["error"]["code"] == "plan_closed"
        assert client.get("/api/v1/plans/mini", headers=headers).get_json()["closed_at"] is not None

    def test_reviews_consolidated_reports_and_task_edits_are_refused(self, mini_plan: Flask) -> None:
        at(mini_plan, "2030-10-08T10:00:00+08:00")
        checkin = submitted("3.1", "市交通运输局", date(2030, 9, 30))
        closed(mini_plan)
        task = task_by_code("3.1", "mini")
        now = clock.now()
        refused = [
            lambda: service.review_checkin(
                checkin_id=checkin.id, decision="approve", comment="", now=now, user_id=None, version_id=None
            ),
            lambda: save_report(
                plan=mini(),
                department_id=dept_by_name("乙区人民政府").id,
                period=period_for(date(2030, 12, 31), "quarter"),
                lines=[LineInput(task_by_code("4.1", "mini").id, "in_progress", "落实")],
                submit=True,
                now=now,
                user_id=None,
                editing_id=None,
                version_id=None,
            ),
            lambda: service.update_task(
                task=task, values={"title": "改"}, version_id=task.version_id, now=now, user_id=None
            ),
            lambda: service.add_assignment(
                task=task, department_id=dept_by_name("乙区人民政府").id, role="support", now=now, user_id=None
            ),
            lambda: service.request_extension(
                task=task, department_id=1, reason="理由", new_due=date(2032, 1, 1), now=now, user_id=None
            ),
        ]
        for call in refused:
            with pytest.raises(PlanClosed):
                call()
            db.session.rollback()
        assert db.session.get(CheckIn, checkin.id).state == "submitted"
        assert task_by_code("3.1", "mini").title == "交通减排工程"

    def test_instructions_and_the_heads_sign_off_are_refused_too(self, mini_plan: Flask, make_user) -> None:
        from tracker.instructions import service as instructions
        from tracker.reports import signoff

        at(mini_plan, "2030-10-08T10:00:00+08:00")
        leader, head = make_user("leader"), make_user("head", "市交通运输局")
        staff = make_user("staff", "市交通运输局")
        task = task_by_code("3.1", "mini")
        asked = instructions.create(task=task, text="抓紧", answer_by=date(2030, 12, 1), now=clock.now(), user=leader)
        waiting = submitted("3.1", "市交通运输局", date(2030, 9, 30))
        waiting.state = "awaiting_head"
        db.session.commit()
        closed(mini_plan)
        now = clock.now()
        refused = [
            lambda: instructions.create(task=task, text="再抓紧", answer_by=date(2031, 3, 1), now=now, user=leader),
            lambda: instructions.answer(instruction_id=asked.id, text="已办", now=now, user=staff),
            lambda: signoff.decide(
                kind="checkin",
                report_id=waiting.id,
                decision="approve",
                comment="",
                now=now,
                user=head,
                version_id=None,
            ),
        ]
        for call in refused:
            with pytest.raises(PlanClosed):
                call()
            db.session.rollback()
        assert db.session.get(CheckIn, waiting.id).state == "awaiting_head"

    def test_plan_load_into_a_closed_plan_exits_with_the_message(
        self, mini_plan: Flask, runner: FlaskCliRunner
    ) -> None:
        closed(mini_plan)
        result = runner.invoke(args=["plan", "load", str(MINI)])
        assert result.exit_code == 1 and "已关闭" in result.output

    def test_excel_imports_are_refused(self, mini_plan: Flask, client, login) -> None:
        workbook = task_workbook(mini())
        closed(mini_plan)
        with pytest.raises(PlanClosed):
            import_task_workbook(workbook, plan_key="mini", now=clock.now())
        with pytest.raises(PlanClosed):
            import_target_values(
                workbook, plan=mini(), period="2030", now=clock.now(), reporter_id=None, source_name="x"
            )
        login("coordinator", "市发展改革委")
        page = client.post(
            "/plans/import", data={"mode": "update", "plan": "mini", "file": (BytesIO(workbook), "m.xlsx")}
        )
        assert page.status_code == 422 and "已关闭" in page.get_data(as_text=True)

    def test_the_sweep_asks_nothing_more_of_a_closed_plan(self, mini_plan: Flask) -> None:
        at(mini_plan, AFTER)
        assert [i for i in reminders_items() if i.startswith("final:")]  # the final-assessment request, before
        closed(mini_plan)
        at(mini_plan, "2031-03-04T10:00:00+08:00")
        assert reminders_items() == []


def reminders_items() -> list[str]:
    """The item keys one sweep claims now (leadership's weekly digest aside)."""
    before = set(db.session.scalars(db.select(ReminderSent.key)))
    reminders.sweep(clock.now())
    after = set(db.session.scalars(db.select(ReminderSent.key)))
    return sorted(k for k in after - before if not k.startswith("leader:"))


class TestCarryOver:
    def test_an_unfinished_measure_goes_into_the_next_plan_with_links_both_ways(
        self, mini_plan: Flask, tmp_path: Path, client, login
    ) -> None:
        following = next_plan(tmp_path)
        closed(mini_plan)
        coordinator = login("coordinator", "市发展改革委")
        form = client.get("/plans/mini/tasks/3.2/carry")
        assert form.status_code == 200 and "next" in form.get_data(as_text=True)
        assert client.post("/plans/mini/tasks/3.2/carry", data={"to_plan": "next", "code": "3.9"}).status_code == 302
        new = task_by_code("3.9", "next")
        assert new.title == "绿色金融" and new.due == following.end and new.progress == 0
        assert [(a.department.name, a.role) for a in new.assignments] == [("人行测试市中心支行", "responsible")]
        row = db.session.scalar(db.select(CarryOver))
        assert (row.from_task_id, row.to_task_id, row.by_user_id) == (
            task_by_code("3.2", "mini").id,
            new.id,
            coordinator.id,
        )
        old_page = client.get("/tasks/3.2?plan=mini").get_data(as_text=True)
        new_page = client.get("/tasks/3.9?plan=next").get_data(as_text=True)
        assert "转入下一规划：" in old_page and "3.9" in old_page
        # the new task names where it came from (the header's plan switcher names both plans anyway)
        came = new_page.split("承接自上一规划：", 1)[1].split("</p>", 1)[0]
        assert task_by_code("3.2", "mini").plan.title in came and following.title not in came
        actions = {(a.action, a.entity_id) for a in db.session.scalars(db.select(AuditLog).filter_by(entity="task"))}
        assert {("carry_out", row.from_task_id), ("carry_in", new.id), ("create", new.id)} <= actions

    def test_linking_to_an_existing_measure_and_carrying_a_target(self, mini_plan: Flask, tmp_path: Path) -> None:
        next_plan(tmp_path)
        value("3.1-bus", 80.0, "2030")
        closed(mini_plan)
        existing = task_by_code("3.1", "next")
        link = carry_task(
            task_by_code("3.1", "mini"), db.session.get(Plan, existing.plan_id), code="", now=clock.now(), user_id=None
        )
        assert link.to_task_id == existing.id  # the same code there: linked, not duplicated
        with pytest.raises(CarryError):
            carry_task(task_by_code("3.1", "mini"), existing.plan, code="", now=clock.now(), user_id=None)
        bus = db.session.scalar(db.select(Target).filter_by(plan_id=mini().id, key="3.1-bus"))
        to = carry_target(bus, existing.plan, key="3.1-bus-2", now=clock.now(), user_id=None)
        new = db.session.get(Target, to.to_target_id)
        assert (new.baseline, new.baseline_year, new.value, new.task_id) == (80.0, 2030, 100.0, existing.id)

    def test_a_running_plan_s_measures_are_not_carried(self, mini_plan: Flask, tmp_path: Path) -> None:
        following = next_plan(tmp_path)
        with pytest.raises(CarryError):
            carry_task(task_by_code("3.2", "mini"), following, code="", now=clock.now(), user_id=None)
        assert db.session.scalar(db.select(db.func.count()).select_from(Task).filter_by(plan_id=following.id)) == 4


def test_my_tasks_ask_nothing_of_a_closed_plan(mini_plan: Flask) -> None:
    from tracker.reports.queries import department_home

    at(mini_plan, AFTER)
    lead = dept_by_name("市交通运输局")
    before = department_home(lead, clock.today())
    assert before.due and before.unacknowledged
    closed(mini_plan)
    after = department_home(lead, clock.today())
    assert (after.due, after.unacknowledged, after.returned, after.drafts) == ([], [], [], [])
    assert after.by_role  # its tasks are still listed, to read
    assert not before.only_closed and after.only_closed and [p.key for p in after.closed_plans] == ["mini"]


def test_my_tasks_page_says_the_plan_is_closed_not_that_all_is_reported(mini_plan: Flask, client, login) -> None:
    closed(mini_plan)
    login("staff", "市交通运输局")
    page = client.get("/my").get_data(as_text=True)
    assert "已关闭：只能查阅和导出，不再报送。" in page and "计划已关闭，不再需要报送。" in page
    assert "本期报告都已提交。" not in page
