"""Drafting a plan from its official text: reading rules, `plan draft`, and measured quality."""

from __future__ import annotations

import io
import json
import sys
from datetime import date
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from flask.testing import FlaskCliRunner

from tracker.plans.draft import draft_plan, guess_kind
from tracker.plans.draft_score import KINDS, score_draft
from tracker.plans.draft_targets import targets_in
from tracker.plans.draft_text import blocks_of, docx_text

from .conftest import ROOT, SEED_FILE

SEED_TEXT = ROOT / "seeds" / "anyang-14th-fyp-energy-saving-emission-reduction-plan.txt"
START, END = date(2021, 1, 1), date(2025, 12, 31)

sys.path.insert(0, str(ROOT / "bench"))
import plan_drafting  # noqa: E402


def _targets(sentence: str) -> list[tuple[object, ...]]:
    return [
        (t["value"], t["value_min"], t["value_max"], t["comparison"], t["unit"], t["baseline_year"], str(t["due"]))
        for t in targets_in(sentence, plan_start=START, plan_end=END)
    ]


class TestText:
    def test_a_department_name_split_over_a_page_break_is_rejoined(self) -> None:
        text = (
            "（七）加强统计监测能力建设。提升统计数据质量。"
            "（市统计局、市发展改革委、市生态环境局、市工业和\n\n信息化局等按职责分工负责）\n"
        )
        assert blocks_of(text) == [
            "（七）加强统计监测能力建设。提升统计数据质量。（市统计局、市发展改革委、市生态环境局、市工业和信息化局等按职责分工负责）"
        ]

    def test_a_page_number_in_the_middle_of_a_sentence_is_dropped(self) -> None:
        text = "推进涂装类、化工类等产业集群分类治理，开展重点行\n\n- 12 -\n\n业清洁生产和工业废水资源化利用改造。"
        assert blocks_of(text) == [
            "推进涂装类、化工类等产业集群分类治理，开展重点行业清洁生产和工业废水资源化利用改造。"
        ]

    def test_half_width_brackets_and_commas_become_full_width(self) -> None:
        assert blocks_of("(六) 公共机构能效提升工程。到 2025 年,创建 5 家。(市机关事务中心负责)") == [
            "（六） 公共机构能效提升工程。到 2025 年，创建 5 家。（市机关事务中心负责）"
        ]

    def test_a_heading_is_never_joined_to_the_next_paragraph(self) -> None:
        assert blocks_of("二、主要目标\n\n到 2025 年，全市单位生产总值能源消耗比 2020 年下降 18%以上。") == [
            "二、主要目标",
            "到 2025 年，全市单位生产总值能源消耗比 2020 年下降 18%以上。",
        ]


class TestTargets:
    def test_a_goal_above_a_value_with_its_deadline(self) -> None:
        assert _targets("到2025年，城市生活污水集中收集率达到70%以上。") == [
            (70, None, None, ">=", "%", None, "2025-12-31")
        ]

    def test_a_reduction_against_a_base_year(self) -> None:
        assert _targets("到2025年，全市单位生产总值能源消耗比2020年下降18%。") == [
            (18, None, None, ">=", "%", 2020, "2025-12-31")
        ]

    def test_a_cap_written_control_within(self) -> None:
        assert _targets("到2025年，煤炭消费总量控制在1200万吨以内。") == [
            (1200, None, None, "<=", "万吨", None, "2025-12-31")
        ]

    def test_percentage_points_above_a_base_year(self) -> None:
        assert _targets("到2025年，非化石能源消费比重比2020年提高5个百分点。") == [
            (5, None, None, ">=", "个百分点", 2020, "2025-12-31")
        ]

    def test_alternatives_joined_by_or_are_each_a_target(self) -> None:
        found = _targets("生活污水集中收集率力争达到70%以上或在2020年基础上增加5%以上。")
        assert found == [
            (70, None, None, ">=", "%", None, "2025-12-31"),
            (5, None, None, ">=", "%", 2020, "2025-12-31"),
        ]

    def test_a_deadline_written_end_of_year_before(self) -> None:
        assert _targets("2022年底前，高速公路服务区快速充电桩覆盖率达100%。")[0][-1] == "2022-12-31"

    def test_a_range_about_and_strictly_above(self) -> None:
        assert _targets("创建2—3个绿色供应链管理企业，焚烧处理能力达到4000吨/日左右，比例超过30%。") == [
            (None, 2, 3, "range", "个", None, "2025-12-31"),
            (4000, None, None, "~", "吨/日", None, "2025-12-31"),
            (30, None, None, ">", "%", None, "2025-12-31"),
        ]

    def test_numbers_that_are_not_goals_are_left_alone(self) -> None:
        assert _targets("开展 PM2.5 和 O3 协同治理，推进非道路移动机械（560kW及以下）第四阶段排放标准。") == []

    def test_a_dated_clause_without_a_number_is_a_milestone(self) -> None:
        assert _targets("到 2025 年，争取建成一批节能环保示范园区。") == [
            (None, None, None, None, None, None, "2025-12-31")
        ]


class TestDuties:
    TEXT = (
        "某市“十四五”示范方案\n\n三、重点工程\n\n"
        "（一）甲工程。做甲。（市发展改革委牵头，市工信局、各有关部门等配合，各县（市、区）政府负责落实。"
        "以下均需各县（市、区）政府落实，不再列出）\n\n"
        "（二）乙工程。做乙。（市生态环境局负责）\n\n"
        "（三）丙考核。考核结果作为对各县（市、区）政府综合考核评价的重要依据。（市委组织部等配合）\n"
    )
    DIRECTORY: ClassVar[dict] = {
        "counties": [{"name": "甲县", "kind": "county"}, {"name": "乙区", "kind": "district"}],
        "departments": [
            {"name": "市发展改革委", "kind": "bureau", "county": None, "coordinating": True, "emails": []},
            {"name": "市工业和信息化局", "kind": "bureau", "county": None, "coordinating": False, "emails": []},
            {"name": "市生态环境局", "kind": "bureau", "county": None, "coordinating": True, "emails": []},
            {"name": "甲县人民政府", "kind": "county", "county": "甲县", "coordinating": False, "emails": []},
        ],
    }

    def draft(self) -> dict:
        return draft_plan(self.TEXT, directory=self.DIRECTORY)

    def test_roles_are_read_from_the_duty_parenthesis(self) -> None:
        first = self.draft()["tasks"][0]
        assert [(a["name"], a["role"], a["role_text"]) for a in first["departments"]] == [
            ("市发展改革委", "lead", "牵头"),
            ("市工信局", "support", "配合"),
            ("甲县人民政府", "implementing", "落实"),
            ("乙区人民政府", "implementing", "落实"),
        ]
        assert all(a["source"] == first["responsibility"] for a in first["departments"])

    def test_an_open_party_is_kept_as_written(self) -> None:
        first = self.draft()["tasks"][0]
        assert [(p["text"], p["role"]) for p in first["open_parties"]] == [("各有关部门", "support")]

    def test_an_unknown_name_is_listed_with_its_near_misses(self) -> None:
        unknown = {u["name"]: u for u in self.draft()["draft"]["unknown_departments"]}
        assert "市工信局" in unknown and "市发展改革委" not in unknown
        assert "乙区人民政府" in unknown and unknown["乙区人民政府"]["kind"] == "county"

    def test_a_scope_clause_gives_later_measures_the_county_governments(self) -> None:
        second = self.draft()["tasks"][1]
        implementing = [a for a in second["departments"] if a["role"] == "implementing"]
        assert [a["name"] for a in implementing] == ["甲县人民政府", "乙区人民政府"]
        assert implementing[0]["note"] == "三（一）：以下均需各县（市、区）政府落实，不再列出"

    def test_a_measure_that_assesses_the_counties_is_left_out_of_the_scope_and_said_so(self) -> None:
        draft = self.draft()
        third = draft["tasks"][2]
        assert [a["role"] for a in third["departments"]] == ["support"]
        assert {
            "kind": "scope_skipped",
            "measure": "三（三）",
            "clause": "以下均需各县（市、区）政府落实，不再列出",
        } in (draft["draft"]["warnings"])

    def test_guessing_the_kind_of_a_new_name(self) -> None:
        assert [guess_kind(n) for n in ("市税务局", "人行安阳市中心支行", "市妇联", "林州市人民政府")] == [
            "bureau",
            "outside",
            "party",
            "county",
        ]


def test_a_word_document_reads_paragraphs_and_tables_in_order() -> None:
    from docx import Document

    doc = Document()
    doc.add_paragraph("附件 1")
    table = doc.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "县（市、区）", "降低率（%）"
    table.cell(1, 0).text, table.cell(1, 1).text = "林州市", "19"
    buffer = io.BytesIO()
    doc.save(buffer)
    assert docx_text(buffer.getvalue()).split("\n")[:3] == ["附件 1", "县（市、区）\t降低率（%）", "林州市\t19"]


def test_every_drafted_item_carries_the_sentence_it_came_from() -> None:
    draft = draft_plan(SEED_TEXT.read_text(encoding="utf-8"))
    text = "".join(blocks_of(SEED_TEXT.read_text(encoding="utf-8")))
    for task in draft["tasks"]:
        assert task["source"] and task["source"] in text
        assert all(a["source"] for a in task["departments"])
        assert all(t["source"] and t["source"].split("：")[0] in text for t in task["targets"])
    assert all(t["source"] for t in draft["targets"])


def test_drafting_the_seeded_text_matches_the_hand_made_seed_by_every_kind() -> None:
    scores = plan_drafting.seed_scores()
    for kind in KINDS:
        assert scores[kind].precision >= 0.95 and scores[kind].recall >= 0.95, (kind, scores[kind])


def test_other_published_plans_are_drafted_at_least_as_well_as_measured_in_the_docs() -> None:
    """The figures in docs/plan-drafting.md; a change that makes them worse fails here."""
    scores = plan_drafting.total(list(plan_drafting.other_scores().values()))
    assert scores["targets"].correct >= 46 and scores["targets"].drafted <= 47
    assert scores["deadlines"].correct >= 53 and scores["deadlines"].drafted <= 54
    for kind in ("measures", "departments", "roles_named", "roles_scope"):
        assert scores[kind].recall == 1.0 and scores[kind].precision == 1.0, (kind, scores[kind])


def test_the_score_counts_a_missing_and_an_extra_target() -> None:
    expected = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    drafted = json.loads(json.dumps(draft_plan(SEED_TEXT.read_text(encoding="utf-8"))))
    drafted["tasks"][0]["targets"].pop()
    drafted["targets"].append({**drafted["targets"][0], "value": 99})
    score = score_draft(expected, drafted)["targets"]
    # The seed has 100 targets: 三（十）'s "70%以上或…增加 5%以上" is one target with an alternative
    # criterion, which the drafter still writes as two (its "增加 5%" counts as an extra target).
    assert (score.expected, score.drafted, score.correct) == (100, 101, 99)


@pytest.mark.parametrize("suffix", [".txt", ".docx"])
def test_plan_draft_prints_a_plan_file_that_loads_into_a_new_plan(
    seeded, runner: FlaskCliRunner, tmp_path: Path, suffix: str
) -> None:
    source = tmp_path / f"plan{suffix}"
    text = SEED_TEXT.read_text(encoding="utf-8")
    if suffix == ".txt":
        source.write_text(text, encoding="utf-8")
    else:
        from docx import Document

        doc = Document()
        for line in text.split("\n"):
            doc.add_paragraph(line)
        doc.save(str(source))
    result = runner.invoke(args=["plan", "draft", str(source), "--key", "next-plan", "--title", "下一个方案"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    draft = json.loads(out)
    assert draft["plan"]["key"] == "next-plan" and draft["plan"]["title"] == "下一个方案"
    saved = tmp_path / "draft.json"
    saved.write_text(out, encoding="utf-8")
    loaded = runner.invoke(args=["plan", "load", str(saved)])
    assert loaded.exit_code == 0, loaded.output
    assert "新增任务 21" in loaded.output and "新增目标 101" in loaded.output
    assert "单位" not in loaded.output.split("：", 1)[1]  # the directory is left as it was
    again = runner.invoke(args=["plan", "load", str(saved)])
    assert "无变化" in again.output


def test_plan_draft_refuses_a_file_that_is_neither_text_nor_word(app, runner: FlaskCliRunner, tmp_path: Path) -> None:
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    result = runner.invoke(args=["plan", "draft", str(pdf)])
    assert result.exit_code == 1
    assert ".txt" in result.output
