"""The curated dependencies and contributions in seeds/anyang-14fyp.yaml: acyclic, quoted, complete.

Every rationale quotes the plan in 「」; each quote must be found (up to whitespace and bracket form)
in the text of a measure the entry names, so a rationale cannot drift from the plan it cites.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import networkx as nx
import yaml
from flask import Flask

from tracker.graph import service
from tracker.tasks.queries import get_plan

from .conftest import SEED_FILE

QUOTE = re.compile(r"「(.+?)」")


def flat(text: str) -> str:
    text = re.sub(r"\s+", "", text)
    return text.translate(str.maketrans({"（": "(", "〔": "(", "）": ")", "〕": ")", ",": "，"}))


@cache
def seed() -> dict[str, Any]:
    return yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))


def task_text(code: str) -> str:
    task = next(t for t in seed()["tasks"] if t["code"] == code)
    return flat(task["title"] + task.get("text", ""))


def test_seeded_dependencies_form_no_cycle_and_each_has_a_rationale() -> None:
    deps = seed()["dependencies"]
    assert len(deps) >= 10
    graph = nx.DiGraph((d["depends_on"], d["task"]) for d in deps)
    assert nx.is_directed_acyclic_graph(graph)
    assert all(d["rationale"].strip() for d in deps)
    assert len({(d["task"], d["depends_on"]) for d in deps}) == len(deps)


def test_every_dependency_quote_is_in_the_text_of_one_of_its_two_measures() -> None:
    for d in seed()["dependencies"]:
        quotes = QUOTE.findall(d["rationale"])
        assert len(quotes) >= 2, d
        texts = task_text(d["task"]) + "|" + task_text(d["depends_on"])
        for quote in quotes:
            assert flat(quote) in texts, (d["task"], d["depends_on"], quote)


def test_every_contribution_quotes_the_measure_that_contributes() -> None:
    contributions = seed()["contributions"]
    assert len({(c["task"], c["target"]) for c in contributions}) == len(contributions)
    for c in contributions:
        quotes = QUOTE.findall(c["rationale"])
        assert quotes, c
        for quote in quotes:
            assert flat(quote) in task_text(c["task"]), (c["task"], c["target"], quote)


def test_every_city_target_has_at_least_one_contributing_task() -> None:
    city = {t["key"] for t in seed()["targets"] if t["group"] == "city"}
    fed = {c["target"] for c in seed()["contributions"]}
    assert len(city) == 6
    assert city <= fed


def test_loaded_seed_leaves_no_plan_target_without_a_task_and_no_task_without_an_owner(seeded: Flask) -> None:
    checks = service.checks(get_plan("anyang-14fyp-esr"))
    assert checks.targets_without_contribution == []
    assert checks.tasks_without_owner == []
    assert checks.departments_without_task == []
