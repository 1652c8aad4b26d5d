"""The English interface in a real Chromium, one walk per role: what an English-speaking user sees.

The browser asks for English (Accept-Language ``en-US``), as an English-speaking user's would; the
staff account ``en-staff@demo.local`` also chose English on its account before the reminder sweep,
so its bureau's digest has an English copy. Each page is screenshotted (``en-*.png``, used by
docs/user-guide.en.md) and must be in English: ``<html lang="en">`` and none of the interface's
Chinese words. The plan's own words (task titles, department names) stay as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from .conftest import ENGLISH_STAFF, Server, allow_status, mailed_body, shot, watching
from .conftest import log_in as conftest_log_in

pytestmark = pytest.mark.e2e

# Interface words that must not appear on an English page (each is also a frequent msgid).
CHINESE_INTERFACE = ["任务清单", "驾驶舱", "退出", "截止日期", "状态", "进展", "审核", "提交", "发件箱", "责任单位"]


@pytest.fixture
def english_page(browser, demo_server: Server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A watched page (console errors and failed requests fail the test) whose browser asks for English."""
    with watching(browser, "en-US") as page:
        yield page


def log_in(page, server: Server, email: str) -> None:  # type: ignore[no-untyped-def]
    conftest_log_in(page, server, email, english=True)


def see(page, server: Server, path: str, name: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """Open ``path``, check it is English, screenshot it as ``en-<name>`` (if named); return its main text."""
    page.goto(server.url + path)
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en", path
    text = page.locator("body").inner_text()
    left = [word for word in CHINESE_INTERFACE if word in text]
    assert not left, f"{path}: Chinese interface words on the English page: {left}"
    if name:
        shot(page, f"en-{name}")
    return page.locator("main").inner_text()


def test_staff_in_english_see_their_tasks_and_the_report_form(english_page, demo_server: Server) -> None:  # type: ignore[no-untyped-def]
    page, server = english_page, demo_server
    see(page, server, "/login", "login")
    log_in(page, server, ENGLISH_STAFF)
    assert "My tasks" in see(page, server, "/my", "staff-my")
    assert "measures in total" in see(page, server, "/tasks", "task-list")
    assert "Responsible departments" in see(page, server, "/tasks/3.1", "task-page")
    form = see(page, server, "/tasks/3.1/report", "staff-report-form")
    assert "Progress" in form and "Submit" in page.locator("main").inner_text()


def test_a_coordinator_in_english_reviews_and_reads_the_english_digest(english_page, demo_server: Server) -> None:  # type: ignore[no-untyped-def]
    page, server = english_page, demo_server
    log_in(page, server, "coordinator@demo.local")
    assert "Awaiting review" in see(page, server, "/reviews", "coordinator-queue")
    # a report the coordinator may decide on (their own department's is marked and only viewed)
    review = page.get_by_role("link", name="Review", exact=True).first.get_attribute("href")
    assert "Approve" in see(page, server, review, "coordinator-review")
    see(page, server, "/admin/outbox", "outbox")
    link = page.get_by_role("link", name=re.compile(r"^\[Supervision reminder\] 市发展改革委")).first
    page.goto(server.url + link.get_attribute("href"))
    page.wait_for_load_state()
    body = page.frame_locator("iframe").first.locator("body").inner_text() if page.locator("iframe").count() else ""
    text = page.locator("main").inner_text() + body
    assert "Report progress" in text or "report progress" in text, text[:2000]
    assert ENGLISH_STAFF in text
    shot(page, "en-outbox-digest")


def test_a_leader_in_english_reads_the_dashboard_and_the_matrix(english_page, demo_server: Server) -> None:  # type: ignore[no-untyped-def]
    page, server = english_page, demo_server
    log_in(page, server, "leader@demo.local")
    assert "Overall progress" in see(page, server, "/dashboard", "leader-dashboard")
    assert "Responsibility matrix" in see(page, server, "/matrix", "leader-matrix")
    assert "Assessment" in see(page, server, "/assessment", "leader-assessment")


def test_the_record_a_signed_link_and_a_conflict_in_english(english_page, browser, demo_server: Server) -> None:  # type: ignore[no-untyped-def]
    page, server = english_page, demo_server
    log_in(page, server, "coordinator@demo.local")
    see(page, server, "/tasks/3.1")
    page.get_by_role("heading", name="Reports and reviews").scroll_into_view_if_needed()
    shot(page, "en-task-timeline")

    # The English digest's signed link opens the report form for someone not logged in.
    page.goto(server.url + "/admin/outbox")
    digest = page.get_by_role("link", name=re.compile(r"^\[Supervision reminder\] 市发展改革委")).first
    page.goto(server.url + digest.get_attribute("href"))
    assert re.search(r"/r/[\w\-]{6}…", page.locator("main").inner_text()), "the outbox masks the signed link"
    token = re.search(r"/r/([\w.\-]+)", mailed_body(server, int(page.url.rsplit("/", 1)[1])))
    assert token, "the digest has a signed link"
    with watching(browser, "en-US") as stranger:
        stranger.goto(f"{server.url}/r/{token[1]}")
        stranger.wait_for_load_state()
        assert "/report" in stranger.url and stranger.locator("h1").inner_text().startswith("Progress report: ")
        assert stranger.get_by_role("button", name="Submit for review").is_visible()
        shot(stranger, "en-signed-link-form")

    # Two coordinators edit one task: the second save meets the conflict page and keeps its text.
    with watching(browser, "en-US") as second:
        allow_status(second, 409)
        log_in(second, server, "coordinator@demo.local")
        for p in (page, second):
            p.goto(f"{server.url}/tasks/4.8/edit")
        page.get_by_label("Task title").fill("壮大节能减排人才队伍（first edit）")
        page.get_by_role("button", name="Save", exact=True).click()
        page.wait_for_load_state()
        second.get_by_label("Task title").fill("壮大节能减排人才队伍（second edit）")
        second.get_by_role("button", name="Save", exact=True).click()
        second.wait_for_load_state()
        assert second.get_by_role("heading", name="Changed by someone else").is_visible()
        assert second.get_by_label("Task title").input_value() == "壮大节能减排人才队伍（second edit）"
        shot(second, "en-conflict")
