"""Measure the plan drafting: precision and recall by kind (docs/plan-drafting.md).

    .venv/bin/python bench/plan_drafting.py

Drafts the seeded plan's text and compares it with the hand-made seed file, then drafts the
published plan excerpts under tests/data/plan-texts/ (not used while writing the drafting rules)
and compares each with its hand-annotated expected file. No database, no Flask.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.plans.draft import draft_plan  # noqa: E402
from tracker.plans.draft_score import KINDS, Score, score_draft  # noqa: E402

SEED_TEXT = ROOT / "seeds" / "anyang-14th-fyp-energy-saving-emission-reduction-plan.txt"
SEED_FILE = ROOT / "seeds" / "anyang-14fyp.yaml"
OTHERS = ROOT / "tests" / "data" / "plan-texts"


def seed_scores() -> dict[str, Score]:
    expected = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    return score_draft(expected, draft_plan(SEED_TEXT.read_text(encoding="utf-8")))


def other_scores() -> dict[str, dict[str, Score]]:
    out = {}
    for text in sorted(OTHERS.glob("*.txt")):
        expected = yaml.safe_load(text.with_suffix(".expected.yaml").read_text(encoding="utf-8"))
        directory: dict[str, Any] = {"counties": [{"name": c, "kind": "county"} for c in expected.get("counties", [])]}
        expected.setdefault("targets", [])
        out[text.stem] = score_draft(expected, draft_plan(text.read_text(encoding="utf-8"), directory=directory))
    return out


def total(scores: list[dict[str, Score]]) -> dict[str, Score]:
    return {
        k: Score(
            sum(s[k].expected for s in scores), sum(s[k].drafted for s in scores), sum(s[k].correct for s in scores)
        )
        for k in KINDS
    }


def table(scores: dict[str, Score]) -> str:
    lines = [
        "| kind | expected | drafted | correct | precision | recall |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for k in KINDS:
        s = scores[k]
        lines.append(f"| {k} | {s.expected} | {s.drafted} | {s.correct} | {s.precision:.1%} | {s.recall:.1%} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print("## seeds/anyang-14th-fyp-energy-saving-emission-reduction-plan.txt against seeds/anyang-14fyp.yaml\n")
    print(table(seed_scores()))
    others = other_scores()
    for name, scores in others.items():
        print(f"\n## tests/data/plan-texts/{name}.txt\n")
        print(table(scores))
    print("\n## all other texts together\n")
    print(table(total(list(others.values()))))
