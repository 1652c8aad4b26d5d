"""The five daily journeys of issue 8, in a real Chromium against the app started as `make run` does.

1. county staff report a quarter with a target value and a PDF;
2. a coordinator returns it, the staff fix it, the coordinator approves; the task's timeline shows it;
3. a leader reads the dashboard and the matrix, filters one department and downloads the Excel file;
4. a week before a deadline the reminder digest is in the outbox and its signed link opens the form;
5. two people save the same task: the second gets the conflict page and loses nothing.

Journeys 1 and 2 share the session server's database (2024-06-20): the report of journey 1 is the
one reviewed in journey 2 (journey 2 files it itself when run alone).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from .conftest import Server, allow_status, log_in, mailed_body, shot, start_server, watching

pytestmark = pytest.mark.e2e

TASK = "3.1"  # 重点行业绿色升级工程: 林州市人民政府 implements it (落实) and reports five targets
TASK_LABEL = "三（一）"
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n164\n%%EOF\n"
)


def _file_report(page, server: Server, tmp_path: Path, *, screenshots: bool) -> str:  # type: ignore[no-untyped-def]
    log_in(page, server, "linzhou@demo.local")
    assert page.url.endswith("/my")
    assert page.locator("h1").inner_text() == "林州市人民政府 · 我的任务"
    if screenshots:
        shot(page, "staff-my")
    # 我的任务 leads a county to its one consolidated 落实 report (tests/test_consolidated.py); the measure's own
    # form still takes its figures and evidence, opened here by its address.
    assert page.get_by_role("link", name="填报落实报告").is_visible()
    # the quarter being closed (the form without a period opens the oldest one owed: tasks.due)
    page.goto(f"{server.url}/tasks/{TASK}/report?period=2024Q2")
    page.wait_for_load_state()
    assert f"/tasks/{TASK}/report" in page.url
    assert page.locator("h1").inner_text() == f"进展报送：{TASK_LABEL} 重点行业绿色升级工程"

    page.get_by_label("状态").select_option(label="推进中")
    page.get_by_label("完成百分比（%）").fill("40")
    page.get_by_label("进展情况").fill("林州市完成两家钢铁企业超低排放改造，创建省级绿色工厂 1 家。")
    page.get_by_label("存在问题").fill("部分企业改造资金未到位。")
    page.get_by_label("下步计划").fill("下季度推进焦化企业节能诊断。")
    value = page.locator("table.targets tbody tr").first.locator("input").first
    value.fill("3")
    page.locator("table.targets tbody tr").first.locator("input").nth(1).fill("林州市工信局 2024 年二季度台账")
    pdf = tmp_path / "改造验收报告.pdf"
    pdf.write_bytes(PDF)
    page.get_by_label("佐证材料").set_input_files(str(pdf))
    if screenshots:
        shot(page, "staff-report-form")
    form_url = page.url  # names the period 我的任务 opened
    page.get_by_role("button", name="提交审核").click()
    page.wait_for_load_state()
    return form_url


def test_1_county_staff_submit_a_quarterly_report_with_a_value_and_a_pdf(page, server: Server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    form_url = _file_report(page, server, tmp_path, screenshots=True)
    # The form of that period now shows the submitted report, frozen, with its evidence and the value.
    page.goto(form_url)
    body = page.locator("main").inner_text()
    assert "待审核" in body or "已提交" in body, body[:600]
    assert "改造验收报告.pdf" in body
    shot(page, "staff-report-submitted")


def _queue_row(page):  # type: ignore[no-untyped-def]
    """The row of the review queue holding 林州市人民政府's report on the task."""
    return (
        page.locator("table tbody tr")
        .filter(has_text=f"{TASK_LABEL} 重点行业绿色升级工程")
        .filter(has_text="林州市人民政府")
    )


def test_2_coordinator_returns_staff_fix_coordinator_approves(page, other_page, server: Server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    coordinator, staff = page, other_page
    log_in(coordinator, server, "coordinator@demo.local")
    coordinator.goto(server.url + "/reviews")
    if not _queue_row(coordinator).count():  # journey 1 did not run
        _file_report(staff, server, tmp_path, screenshots=False)
        coordinator.reload()
    shot(coordinator, "coordinator-queue")
    _queue_row(coordinator).get_by_role("link", name="审核").click()
    coordinator.wait_for_load_state()
    assert "林州市人民政府" in coordinator.locator("p.lede").inner_text()
    coordinator.get_by_label("退回", exact=True).check()  # no default: the reviewer chooses
    coordinator.get_by_label("审核意见").fill("请补充绿色工厂的认定文件编号。")
    shot(coordinator, "coordinator-review")
    coordinator.get_by_role("button", name="提交审核结果").click()
    coordinator.wait_for_load_state()

    # The staff see the returned report on their home page and fix it.
    log_in(staff, server, "linzhou@demo.local")
    assert staff.get_by_role("heading", name=re.compile("被退回待修改")).is_visible()
    staff.get_by_role("link", name=re.compile(f"{TASK_LABEL} 重点行业绿色升级工程 · 2024Q2")).click()
    staff.wait_for_load_state()
    assert staff.get_by_text("本期报告已被退回").is_visible()
    assert staff.get_by_text("请补充绿色工厂的认定文件编号。").first.is_visible()
    staff.get_by_label("进展情况").fill(
        "林州市完成两家钢铁企业超低排放改造，创建省级绿色工厂 1 家（认定文件：豫工信节能〔2024〕12 号）。"
    )
    staff.get_by_role("button", name="提交审核").click()
    staff.wait_for_load_state()

    coordinator.goto(server.url + "/reviews")
    assert "修改后重报" in _queue_row(coordinator).inner_text()
    _queue_row(coordinator).get_by_role("link", name="审核").click()
    coordinator.wait_for_load_state()
    assert coordinator.get_by_text("豫工信节能〔2024〕12 号", exact=False).first.is_visible()
    coordinator.get_by_label("通过", exact=True).check()
    coordinator.get_by_role("button", name="提交审核结果").click()
    coordinator.wait_for_load_state()

    coordinator.goto(f"{server.url}/tasks/{TASK}")
    timeline = coordinator.locator("main").inner_text()
    assert "退回" in timeline and "通过" in timeline, timeline[-1500:]
    assert "请补充绿色工厂的认定文件编号。" in timeline
    coordinator.get_by_text("请补充绿色工厂的认定文件编号。").first.scroll_into_view_if_needed()
    shot(coordinator, "task-timeline")


def test_3_leader_filters_the_matrix_and_downloads_excel(page, server: Server) -> None:  # type: ignore[no-untyped-def]
    log_in(page, server, "leader@demo.local")
    assert page.url.endswith("/dashboard")
    shot(page, "leader-dashboard")
    page.get_by_role("link", name="责任矩阵").first.click()
    page.wait_for_load_state()
    assert page.title().startswith("责任矩阵")
    page.get_by_label("单位").select_option(label="市统计局")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state()
    assert "department=" in page.url
    # 五（一）'s 各有关部门 names no one: 市统计局 has no duty there (issue 13)
    assert "显示 2 / 21 项措施" in page.locator("p.lede").inner_text()
    shown = {r.locator("td, th").first.inner_text().strip() for r in page.locator("table.matrix tbody tr").all()}
    assert {"四（一）", "四（七）"} <= shown and "五（一）" not in shown
    shot(page, "leader-matrix")
    with page.expect_download() as info:
        page.get_by_role("link", name="Excel", exact=True).click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    ws = load_workbook(BytesIO(Path(download.path()).read_bytes()))["责任矩阵"]
    header = [c.value for c in ws[2]]
    column = header.index("市统计局")
    roles = {row[1]: row[column] for row in ws.iter_rows(min_row=3, values_only=True) if row[1]}
    assert set(roles) == {"四（一）", "四（七）"}
    assert set(roles.values()) <= {"牵头", "负责", "配合", "落实"} and all(roles.values()), roles


# Journey 4 runs on its own server: the clock is fixed per server, and the sweep's signed links are
# checked against it (valid 14 days).
REMINDER_NOW = "2025-12-24T09:30:00+08:00"


@pytest.fixture(scope="module")
def december_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start_server(tmp_path_factory.mktemp("e2e-december"), REMINDER_NOW)


def test_4_the_reminder_digest_is_in_the_outbox_and_its_link_opens_the_form(
    page, browser, december_server: Server
) -> None:  # type: ignore[no-untyped-def]
    server = december_server
    server.flask("reminders", "sweep", "--at", "2025-12-24T09:00:00+08:00")
    log_in(page, server, "coordinator@demo.local")
    page.goto(server.url + "/admin/outbox")
    assert page.title().startswith("发件箱")
    shot(page, "outbox")
    # a bureau that owes its tasks' reports gets a signed link per task; a county's digest links its one
    # consolidated 落实 report instead (issue 12), so the bureau's digest is the one followed here
    row = page.locator("table tbody tr").filter(has=page.get_by_role("cell", name="市发展改革委", exact=True))
    assert row.count() >= 1
    row.first.get_by_role("link").click()
    page.wait_for_load_state()
    assert "市发展改革委" in page.locator("dl.facts").inner_text()
    shot(page, "outbox-digest")
    # The outbox shows each signed link cut short: whoever reads it cannot act as the department.
    shown = page.locator("pre").inner_text()
    assert re.search(r"/r/[\w\-]{6}…", shown) and not re.search(r"/r/[\w.\-]{7,}", shown), shown[:800]
    text = mailed_body(server, int(page.url.rsplit("/", 1)[1]))  # the mail as its recipients get it
    links = re.findall(r"https?://\S+/r/[\w.\-]+", text)
    assert links and all(u.startswith(server.url + "/r/") for u in links), text[:800]
    assert links[0] not in (page.locator("iframe").get_attribute("srcdoc") or "")

    with watching(browser) as stranger:  # a fresh context: not logged in
        stranger.goto(links[0])
        stranger.wait_for_load_state()
        assert "/tasks/" in stranger.url and "/report" in stranger.url, stranger.url
        assert stranger.locator("h1").inner_text().startswith("进展报送：")
        assert "报送单位：市发展改革委" in stranger.locator("p.lede").inner_text()
        assert stranger.get_by_role("button", name="提交审核").is_visible()
        shot(stranger, "signed-link-form")


def test_5_a_stale_edit_shows_the_conflict_and_loses_nothing(page, other_page, server: Server) -> None:  # type: ignore[no-untyped-def]
    first, second = page, other_page
    for p in (first, second):
        log_in(p, server, "coordinator@demo.local")
        p.goto(f"{server.url}/tasks/4.8/edit")
        assert p.locator("h1").inner_text() == "编辑任务：四（八）"

    first.get_by_label("任务名称").fill("壮大节能减排人才队伍（第一位修改）")
    first.get_by_role("button", name="保存").click()
    first.wait_for_load_state()

    second.get_by_label("任务名称").fill("壮大节能减排人才队伍（第二位修改）")
    allow_status(second, 409)
    with second.expect_response(lambda r: r.request.method == "POST") as answer:
        second.get_by_role("button", name="保存").click()
    assert answer.value.status == 409
    second.wait_for_load_state()
    assert second.get_by_role("heading", name="数据已被他人修改").is_visible()
    conflict = second.locator("section.conflict").inner_text()
    assert "壮大节能减排人才队伍（第一位修改）" in conflict
    assert second.get_by_label("任务名称").input_value() == "壮大节能减排人才队伍（第二位修改）"
    shot(second, "conflict")

    first.goto(f"{server.url}/tasks/4.8")
    assert "壮大节能减排人才队伍（第一位修改）" in first.locator("h1").inner_text()
