"""Plans side by side: once the next plan runs, the old plan's tasks are reached by ``?plan=KEY`` on
every page, form, API write, signed link and feed; the header switches plans; the comparison page.

The fixture: the 14th FYP seed (2021–2025) and a small next plan (2026–2030, from
tests/data/mini-plan.yaml under another key) that numbers its tasks 3.1, 3.2, 4.1 too; the clock
in 2026, so the next plan is today's.
"""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from flask_login import login_user

from tracker import clock
from tracker.extensions import db
from tracker.leadership.targets import TargetRow
from tracker.models import CheckIn, Plan, Target, TargetValue
from tracker.plans.compare import department_duties, match_targets, normalise_name
from tracker.reminders.links import make_token

from .conftest import DATA, dept_by_name, task_by_code

OLD, NEW = "anyang-14fyp-esr", "next"
OLD_TITLE, NEW_TITLE = "重点行业绿色升级工程", "交通减排工程"  # task 3.1 of each


@pytest.fixture
def two_plans(seeded: Flask, tmp_path) -> Flask:  # type: ignore[no-untyped-def]
    from tracker.plans.loader import load_plan
    from tracker.plans.schema import read_plan_file

    text = (DATA / "mini-plan.yaml").read_text(encoding="utf-8")
    text = text.replace("key: mini", f"key: {NEW}").replace(
        "单位生产总值能耗下降", "全市单位生产总值能源消耗比2025年下降"
    )
    path = tmp_path / "next.yaml"
    path.write_text(text, encoding="utf-8")
    load_plan(read_plan_file(path), now=clock.now())
    seeded.config["TRACKER_NOW"] = "2026-03-02T10:00:00+08:00"
    return seeded


def _page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.headers.get("Location"))
    return response.get_data(as_text=True)


class TestPagesAndForms:
    def test_a_task_address_without_plan_is_todays_plan_and_plan_names_the_other(self, two_plans, client, login):
        login("leader")
        assert NEW_TITLE in _page(client, "/tasks/3.1")
        old = _page(client, f"/tasks/3.1?plan={OLD}")
        assert OLD_TITLE in old and NEW_TITLE not in old
        # the page's own links stay on the old plan
        assert f'href="/tasks?plan={OLD}"' in old
        missing = _page(client, "/tasks/3.1?plan=nope", 404)
        assert "nope" in missing

    def test_url_for_keeps_the_requests_plan_unless_it_is_todays(self, two_plans: Flask, make_user) -> None:
        user = make_user("leader")
        with two_plans.test_request_context(f"/tasks?plan={OLD}"):
            login_user(user)
            assert two_plans.preprocess_request() is None
            assert url_for("leadership.targets") == f"/targets?plan={OLD}"
            assert url_for("reports.form", code="3.1") == f"/tasks/3.1/report?plan={OLD}"
            assert url_for("tasks.detail", code="3.1", plan=None) == "/tasks/3.1"  # explicitly today's
            static = url_for("static", filename="css/app.css")  # the file's version, never a plan
            assert static.startswith("/static/css/app.css?v=") and "plan=" not in static
            assert url_for("auth.login") == "/login"
        with two_plans.test_request_context(f"/tasks?plan={NEW}"):
            login_user(user)
            assert two_plans.preprocess_request() is None
            assert url_for("leadership.targets") == "/targets"  # today's plan needs no name

    def test_a_report_form_posts_to_the_plan_it_was_opened_on(self, two_plans, client, login) -> None:
        login("staff", "市发展改革委")  # responsible in the old 3.1, lead in the new one
        form = _page(client, f"/tasks/3.1/report?plan={OLD}")
        assert OLD_TITLE in form and f"plan={OLD}" in form
        response = client.post(
            f"/tasks/3.1/report?plan={OLD}&period=2025Q4",
            data={"status": "in_progress", "percent": "90", "narrative": "收尾", "action": "draft"},
        )
        assert response.status_code == 302 and f"plan={OLD}" in response.headers["Location"]
        response = client.post(
            "/tasks/3.1/report", data={"status": "in_progress", "percent": "5", "narrative": "起步", "action": "draft"}
        )
        assert response.status_code == 302
        saved = {c.narrative: c.task_id for c in db.session.scalars(db.select(CheckIn))}
        assert saved == {"收尾": task_by_code("3.1", OLD).id, "起步": task_by_code("3.1", NEW).id}
        # 我的任务 spans the plans: each task's links name its own plan (today's: none)
        home = _page(client, "/my")
        assert f'href="/tasks/3.1?plan={OLD}"' in home and 'href="/tasks/3.1"' in home

    def test_the_switcher_lists_todays_plan_first_and_keeps_the_page(self, two_plans, client, login) -> None:
        login("leader")
        page = _page(client, f"/targets?plan={OLD}")
        switcher = page.split('class="plan-switcher"')[1].split("</details>")[0].split("</summary>")[1]
        assert switcher.index("测试市") < switcher.index("安阳市")  # today's (the next plan) first
        assert "进行中" in switcher and "已结束" in switcher
        assert 'href="/targets"' in switcher and f'href="/targets?plan={OLD}" aria-current="true"' in switcher
        task_page = _page(client, f"/tasks/3.1?plan={OLD}")
        assert 'href="/tasks"' in task_page.split('class="plan-switcher"')[1]  # a task page: the plan's list


class TestApiLinksFeeds:
    def test_the_api_writes_to_the_plan_named(self, two_plans, client, bearer) -> None:
        headers = bearer("staff", "市发展改革委")
        body = {"period": "2025Q4", "status": "in_progress", "percent": 90, "submit": False}
        created = client.post(f"/api/v1/tasks/3.1/checkins?plan={OLD}", json=body, headers=headers)
        assert created.status_code == 201, created.get_json()
        assert db.session.get(CheckIn, created.get_json()["id"]).task_id == task_by_code("3.1", OLD).id
        read = client.get(f"/api/v1/plans/{OLD}/checkins?task=3.1", headers=headers).get_json()
        assert [c["id"] for c in read] == [created.get_json()["id"]]
        unknown = client.post("/api/v1/tasks/3.1/checkins?plan=nope", json=body, headers=headers)
        assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "not_found"
        assert "nope" in unknown.get_json()["error"]["message"]

    def test_the_api_description_documents_the_plan_parameter(self, client) -> None:
        spec = client.get("/api/v1/openapi.json").get_json()
        params = spec["paths"]["/tasks/{code}/checkins"]["post"]["parameters"]
        assert {"name": "plan", "in": "query"}.items() <= next(p for p in params if p["name"] == "plan").items()

    def test_a_signed_link_opens_its_plans_task_only(self, two_plans, client) -> None:
        token = make_token(
            two_plans.config["SECRET_KEY"],
            department_id=dept_by_name("市发展改革委").id,
            task_code="3.1",
            period="2025Q4",
            plan_key=OLD,
            now=clock.now(),
        )
        response = client.get("/r/" + token)
        assert response.headers["Location"] == f"/tasks/3.1/report?period=2025Q4&plan={OLD}"
        assert OLD_TITLE in _page(client, response.headers["Location"])
        # the new plan's 3.1 is another task: no grant for it
        assert client.get("/tasks/3.1/report").status_code == 302

    def test_the_feed_links_each_task_to_its_plan(self, two_plans, client, login) -> None:
        login("coordinator", "市发展改革委")
        page = _page(client, "/calendar")
        feed = "/calendar/" + page.split("/calendar/")[1].split(".ics")[0] + ".ics"
        text = client.get(feed).get_data(as_text=True).replace("\r\n ", "")
        assert f"/tasks/3.1?plan={OLD}" in text and f"/tasks/3.1?plan={NEW}" in text
        assert "DESCRIPTION:测试市“十五五”示范方案\\n" in text  # a period's report event names its plan
        assert OLD_TITLE in _page(client, f"/tasks/3.1?plan={OLD}")


class TestComparison:
    def test_names_match_across_years_brackets_and_places(self) -> None:
        fourteenth, fifteenth = "单位生产总值能源消耗比2020年下降", "全市单位生产总值能源消耗比 2025 年下降"
        assert normalise_name(fourteenth) == normalise_name(fifteenth)
        assert normalise_name("化学需氧量（COD）重点工程减排量") == normalise_name("化学需氧量重点工程减排量")

        def row(name: str, county: str = "", metric: str = "") -> TargetRow:
            return TargetRow(Target(name=name, metric=metric), [], county=county)

        a = [
            row(fourteenth),
            row("能耗降低", "甲县"),
            row("煤炭消费量", metric="coal"),
            row("旧"),
        ]
        b = [row("能耗降低", "乙区"), row("煤炭消费总量", metric="coal"), row(fifteenth)]
        pairs, only_a, only_b = match_targets(a, b)
        assert [(p.a.target.name, p.b.target.name, p.by) for p in pairs] == [
            (fourteenth, fifteenth, "name"),
            ("煤炭消费量", "煤炭消费总量", "metric"),
        ]
        assert [r.county for r in only_a] == ["甲县", ""] and [r.county for r in only_b] == ["乙区"]

    def test_duties_count_roles_and_led_tasks_per_plan(self, two_plans: Flask) -> None:
        from tracker.tasks.queries import get_plan, plan_tasks

        fgw = dept_by_name("市发展改革委")
        duties = department_duties(plan_tasks(get_plan(OLD)), plan_tasks(get_plan(NEW)), [fgw])
        assert len(duties) == 1
        assert duties[0].roles_b == {"lead": 2} and [t.code for t in duties[0].led_b] == ["3.1", "4.1"]
        assert duties[0].total_a == 18 and "3.1" not in [t.code for t in duties[0].led_a]

    def test_the_page_sets_the_targets_and_duties_side_by_side(self, two_plans, client, login) -> None:
        old_target = db.session.scalar(
            db.select(Target).join(Plan).where(Plan.key == OLD, Target.key == "city-energy-intensity")
        )
        db.session.add(
            TargetValue(
                target_id=old_target.id,
                period="2025",
                period_end=date(2025, 12, 31),
                value=15.3,
                source="统计公报",
                created_at=clock.now(),
            )
        )
        db.session.commit()
        login("leader")
        page = _page(client, "/plans/compare")  # by default the plan before today's beside today's
        shared = page.split('id="targets"')[1].split("</section>")[0]
        assert "单位生产总值能源消耗比2020年下降" in shared and "全市单位生产总值能源消耗比2025年下降" in shared
        assert "15.3 %" in shared and "85%" in shared  # the old plan's latest actual and its share of 18 %
        assert "13.5" in shared
        only_b = page.split('id="only-b"')[1].split("</section>")[0]
        assert "万元GDP能耗降低率" in only_b and "新能源公交车占比" in only_b
        duties = page.split('id="departments"')[1]
        fgw = next(row for row in duties.split("<tr>") if "<td>市发展改革委</td>" in row)
        assert "牵头 2" in fgw and 'href="/tasks/4.1"' in fgw
        swapped = _page(client, f"/plans/compare?a={NEW}&b={OLD}")
        assert "单位生产总值能源消耗比2020年下降" in swapped
        assert "nope" in _page(client, "/plans/compare?a=nope", 404)
        assert "不同" in _page(client, f"/plans/compare?a={OLD}&b={OLD}", 400)
        client.post("/language", data={"locale": "en"})
        english = _page(client, "/plans/compare")
        assert "Compare plans" in english and "Only in B" in english and "Lead 2" in english

    def test_with_one_plan_there_is_no_switcher_and_nothing_to_compare(self, seeded, client, login) -> None:
        login("leader")
        assert "plan-switcher" not in _page(client, "/tasks")
        assert "只导入了一个计划" in _page(client, "/plans/compare")
