"""The end of a plan, in a real Chromium, on the day `make run` runs: the 14th plan in its final
assessment, a coordinator closes it (confirming first), and carries an unfinished measure into the
next plan, whose page links back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .conftest import ROOT, Server, log_in, shot, start_server, watching

pytestmark = pytest.mark.e2e
KEY = "anyang-14fyp-esr"


@pytest.fixture(scope="module")
def after_the_plan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    for server in start_server(tmp_path_factory.mktemp("end"), "2026-11-29T10:00:00+08:00"):
        server.flask("plan", "load", str(ROOT / "tests" / "data" / "mini-plan.yaml"))  # the next plan
        yield server


def test_a_coordinator_closes_the_plan_and_carries_a_measure_over(browser, after_the_plan: Server) -> None:
    server = after_the_plan
    with watching(browser) as page:
        log_in(page, server, "coordinator@demo.local")
        page.goto(f"{server.url}/plans/{KEY}/final")
        assert page.get_by_role("heading", name="五年考核（2021—2025）").is_visible()
        assert page.get_by_text("未完成的措施（21）").is_visible()
        page.get_by_role("link", name="考核完成，关闭计划…").click()
        page.get_by_role("button", name="确认关闭计划").click()
        page.wait_for_load_state()
        assert page.get_by_text("计划已关闭：只能查阅和导出").is_visible()
        assert page.get_by_role("heading", name="五年考核结果（2021—2025）· 已关闭").is_visible()
        shot(page, "plan-closed")

        page.goto(f"{server.url}/tasks/3.4?plan={KEY}")
        page.get_by_role("link", name="转入下一规划…").click()
        page.get_by_label("转入计划").select_option("mini")
        page.get_by_role("button", name="转入", exact=True).click()
        page.wait_for_load_state()
        assert page.get_by_text("转入下一规划：测试市“十五五”示范方案").is_visible()
        page.get_by_role("link", name="3.4 交通物流节能减排工程").click()
        page.wait_for_load_state()
        assert "plan=mini" in page.url
        assert page.get_by_text("承接自上一规划：安阳市“十四五”节能减排综合实施方案").is_visible()
        shot(page, "plan-carried-over")
