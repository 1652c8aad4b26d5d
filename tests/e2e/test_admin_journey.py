"""An administrator creates a staff account in Chromium; the person sets a password from the email a
local SMTP server caught, logs in and reaches 我的任务 (issue 16, "Done when")."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from ..reminder_helpers import Inbox, free_port, start_smtp, text_of
from .conftest import Server, log_in, shot, start_server, watching

pytestmark = pytest.mark.e2e

NEW_STAFF = "wang.lin@linzhou.example.cn"


@pytest.fixture(scope="module")
def smtp_inbox() -> Iterator[Inbox]:
    controller, inbox = start_smtp(port := free_port())
    inbox.port = port  # type: ignore[attr-defined]
    yield inbox
    controller.stop()


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory, smtp_inbox: Inbox) -> Iterator[Server]:
    port = str(smtp_inbox.port)  # type: ignore[attr-defined]
    yield from start_server(
        tmp_path_factory.mktemp("e2e-admin"),
        "2024-06-20T10:00:00+08:00",
        {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port},
    )


def _mail_to(inbox: Inbox, address: str) -> str:
    deadline = time.monotonic() + 10
    while not inbox.to(address):
        assert time.monotonic() < deadline, "no mail reached the local SMTP server"
        time.sleep(0.1)
    return text_of(inbox.to(address)[0])


def test_an_administrator_creates_a_staff_account_and_the_person_sets_a_password_and_logs_in(
    browser, mail_server: Server, smtp_inbox: Inbox
) -> None:  # type: ignore[no-untyped-def]
    with watching(browser) as admin:
        log_in(admin, mail_server, "admin@demo.local")
        admin.get_by_role("link", name="系统管理").click()
        admin.wait_for_load_state()
        assert admin.locator("h1").inner_text() == "账号管理"
        admin.get_by_label("电子邮箱").fill(NEW_STAFF)
        admin.get_by_label("姓名").fill("王琳")
        admin.locator("#new-role").select_option(label="部门填报员")
        admin.locator("#new-department").select_option(label="林州市人民政府")
        admin.get_by_role("button", name="创建并发送设置密码邮件").click()
        admin.wait_for_load_state()
        assert admin.get_by_text(f"已创建账号 {NEW_STAFF}").is_visible()
        row = admin.locator("tr", has_text=NEW_STAFF)
        assert "从未登录" in row.inner_text()
        shot(admin, "admin-users")

    body = _mail_to(smtp_inbox, NEW_STAFF)
    link = re.search(r"http://\S+/password/set/\S+", body)
    assert link, body

    with watching(browser) as person:
        person.goto(link.group(0))
        assert person.locator("h1").inner_text() == "设置密码"
        person.get_by_label("新密码", exact=True).fill("Linzhou-hongqiqu-1960")
        person.get_by_label("确认新密码").fill("Linzhou-hongqiqu-1960")
        person.get_by_role("button", name="保存密码").click()
        person.wait_for_load_state()
        assert "/login" in person.url
        person.get_by_label("电子邮箱").fill(NEW_STAFF)
        person.get_by_label("密码", exact=True).fill("Linzhou-hongqiqu-1960")
        person.get_by_role("button", name="登录").click()
        person.wait_for_load_state()
        assert person.url.endswith("/my")
        assert "我的任务" in person.locator("h1").inner_text()
        assert "林州市人民政府" in person.locator("h1").inner_text()


def test_a_session_cookie_copied_before_logout_is_refused_by_the_running_app(browser, mail_server: Server) -> None:  # type: ignore[no-untyped-def]
    with watching(browser) as page:
        log_in(page, mail_server, "leader@demo.local")
        page.goto(mail_server.url + "/tasks")
        assert "/login" not in page.url
        copied = page.context.cookies()
        page.get_by_role("button", name="退出").click()
        page.wait_for_load_state()
    with watching(browser) as thief:
        thief.context.add_cookies(copied)
        thief.goto(mail_server.url + "/tasks")
        assert "/login" in thief.url  # the session ended at logout, copies included
