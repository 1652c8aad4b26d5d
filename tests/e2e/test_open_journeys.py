"""Open to other systems, in a real Chromium: Excel preview, an API token, a calendar feed."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import icalendar
import pytest
from openpyxl import load_workbook

from .conftest import Server, log_in, shot

pytestmark = pytest.mark.e2e
PLAN = "anyang-14fyp-esr"


def test_a_coordinator_previews_an_edited_table_and_cancels(page, server: Server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log_in(page, server, "coordinator@demo.local")
    page.get_by_role("link", name="导入导出").click()
    page.wait_for_load_state()
    exported = page.request.get(f"{server.url}/plans/{PLAN}/tasks.xlsx")
    assert exported.ok
    wb = load_workbook(BytesIO(exported.body()))
    ws = wb["任务分解表"]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 2).value == "3.2")
    ws.cell(row, 5).value = "园区节能环保提升工程（修订）"
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)

    page.get_by_label("Excel 文件（.xlsx）").set_input_files(str(edited))
    page.get_by_role("button", name="上传并预览").click()
    page.wait_for_load_state()
    assert page.get_by_text("更新任务 1").is_visible()
    assert page.get_by_role("cell", name="园区节能环保提升工程（修订）", exact=True).is_visible()
    shot(page, "import-preview")
    page.get_by_role("button", name="取消").click()
    page.wait_for_load_state()
    assert page.get_by_text("已取消导入，未做任何修改。").is_visible()


def test_staff_create_an_api_token_and_subscribe_to_their_calendar(page, server: Server) -> None:  # type: ignore[no-untyped-def]
    log_in(page, server, "sthj@demo.local")
    page.get_by_role("link", name="API 令牌").click()
    page.get_by_label("令牌名称（用途）").fill("大数据平台")
    page.get_by_role("button", name="创建令牌").click()
    page.wait_for_load_state()
    secret = page.locator("#new-token").inner_text().strip()
    shot(page, "api-token")
    answer = page.request.get(
        f"{server.url}/api/v1/plans/{PLAN}/tasks?department=mine", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.ok and all(any(d["name"] == "市生态环境局" for d in t["departments"]) for t in answer.json())

    page.get_by_role("link", name="日历订阅").click()
    page.wait_for_load_state()
    url = page.locator("code.feed-url").first.inner_text()
    feed = page.request.get(url)
    assert feed.ok and feed.headers["content-type"].startswith("text/calendar")
    events = icalendar.Calendar.from_ical(feed.body()).walk("VEVENT")
    assert any(str(e["SUMMARY"]).startswith("任务截止：") for e in events)
