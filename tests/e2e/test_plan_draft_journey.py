"""Opening the next plan from its text, in a real Chromium: a coordinator uploads a Word file made from a
plan text, corrects two drafted items on the review page and creates the plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import ROOT, Server, log_in, shot

pytestmark = pytest.mark.e2e
SEED_TEXT = ROOT / "seeds" / "anyang-14th-fyp-energy-saving-emission-reduction-plan.txt"


def _docx_from_text(text: str, path: Path) -> None:
    """A Word document of the plan text: paragraphs as paragraphs, tab-separated rows as tables."""
    from docx import Document

    doc = Document()
    rows: list[list[str]] = []

    def flush() -> None:
        if rows:
            width = max(len(r) for r in rows)
            table = doc.add_table(rows=len(rows), cols=width)
            for i, row in enumerate(rows):
                for j, cell in enumerate(row):
                    table.cell(i, j).text = cell
            rows.clear()

    for line in text.split("\n"):
        if "\t" in line:
            rows.append(line.split("\t"))
            continue
        flush()
        doc.add_paragraph(line)
    flush()
    doc.save(str(path))


def test_a_coordinator_drafts_a_plan_from_a_word_file_corrects_two_items_and_creates_it(  # type: ignore[no-untyped-def]
    page, server: Server, tmp_path: Path
) -> None:
    source = tmp_path / "安阳市节能减排方案.docx"
    _docx_from_text(SEED_TEXT.read_text(encoding="utf-8"), source)

    log_in(page, server, "coordinator@demo.local")
    page.get_by_role("link", name="导入导出").click()
    page.get_by_role("link", name="从方案原文起草新计划").click()
    page.get_by_label("方案原文（.txt 或 .docx）").set_input_files(str(source))
    page.get_by_label("新计划编号（可稍后修改）").fill("anyang-next-draft")
    page.get_by_role("button", name="上传并起草").click()
    page.wait_for_load_state()

    assert page.get_by_role("heading", name="核对计划草案：安阳市节能减排方案.docx").is_visible()
    # Every item shows the sentence it came from.
    assert page.get_by_text("原文：（一）重点行业绿色升级工程。").first.is_visible()
    assert page.get_by_text("三（一）：以下均需各县（市、区）政府落实，不再列出").first.is_visible()

    # Correction 1: the title of 三（二）. Correction 2: remove the milestone drafted from 三（二）.
    title = page.get_by_label("措施名称 三（二）")
    title.fill("园区节能环保提升工程（修订）")
    keep = page.get_by_label("保留目标 争取建成一批节能环保示范园区")
    keep.uncheck()
    shot(page, "plan-draft-review")
    page.get_by_role("button", name="新建计划").click()
    page.wait_for_load_state()

    assert "plan=anyang-next-draft" in page.url
    assert page.get_by_text("园区节能环保提升工程（修订）").first.is_visible()
    exported = json.loads(server.flask("plan", "export", "--plan", "anyang-next-draft"))
    second = next(t for t in exported["tasks"] if t["code"] == "3.2")
    assert second["title"] == "园区节能环保提升工程（修订）" and second["targets"] == []
    # 36 targets drafted inside the measures (三（十）'s "…或…" is one), one removed in the review.
    assert len(exported["tasks"]) == 21 and sum(len(t["targets"]) for t in exported["tasks"]) == 35
