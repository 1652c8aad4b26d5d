"""The daily journeys, in a real Chromium against the app started as `make run` starts it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import Server, log_in, shot

pytestmark = pytest.mark.e2e


def test_a_leader_logs_in_and_reads_the_plan_task_by_task(page, server: Server) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/tasks")
    assert "/login" in page.url  # nothing without an account
    shot(page, "login")
    log_in(page, server, "leader@demo.local")
    page.goto(server.url + "/tasks")
    assert page.title().startswith("任务清单")
    assert page.locator("table.tasks tbody tr").count() == 21
    shot(page, "task-list")
    page.get_by_role("link", name="交通物流节能减排工程").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "三（四） 交通物流节能减排工程"
    assert page.get_by_text("市交通运输局、市发展改革委", exact=True).is_visible()
    shot(page, "task-page")


def test_a_wrong_password_is_refused_in_chinese(page, server: Server) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/login")
    page.get_by_label("电子邮箱").fill("leader@demo.local")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    # the refusal is a new page: wait for it (a click does not wait for the page it submits to)
    expect(page.get_by_text("邮箱或密码不正确")).to_be_visible()
