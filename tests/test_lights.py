"""The warning-light rule at its edges, and the reporting periods."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from tracker.tasks.lights import LightRule, light, light_reasons
from tracker.tasks.periods import parse_period, period_for, periods_between

RULE = LightRule(due_soon_days=30, yellow_behind=10, red_behind=25)
START, DUE = date(2024, 1, 1), date(2024, 12, 31)


def _light(today: date, status: str = "in_progress", progress: int = 100, missing: bool = False) -> str:
    return light(RULE, today=today, start=START, due=DUE, status=status, progress=progress, report_missing=missing)


def test_overdue_turns_red_the_day_after_the_deadline_not_on_it() -> None:
    assert _light(date(2024, 12, 31)) == "yellow"  # due today: within 30 days
    assert _light(date(2025, 1, 1)) == "red"


def test_a_done_task_is_green_even_when_past_its_deadline() -> None:
    assert _light(date(2025, 6, 1), status="done") == "green"


@pytest.mark.parametrize("status", ["lagging", "blocked"])
def test_reported_lagging_or_blocked_is_red(status: str) -> None:
    assert _light(date(2024, 3, 1), status=status) == "red"


def test_due_soon_boundary_is_inclusive_at_30_days() -> None:
    assert _light(date(2024, 12, 1)) == "yellow"  # 30 days left
    assert _light(date(2024, 11, 30)) == "green"  # 31 days left


def test_behind_schedule_thresholds_are_strict() -> None:
    today = date(2024, 7, 1)  # expected 49.7 % (182 of 365 days)
    assert _light(today, progress=40) == "green"  # 9.7 behind
    assert _light(today, progress=39) == "yellow"  # 10.7 behind
    assert _light(today, progress=25) == "yellow"  # 24.7 behind
    assert _light(today, progress=24) == "red"  # 25.7 behind


def test_a_missing_report_is_yellow_and_says_why() -> None:
    colour, reasons = light_reasons(
        RULE, today=date(2024, 3, 1), start=START, due=DUE, status="in_progress", progress=100, report_missing=True
    )
    assert (colour, reasons) == ("yellow", ["本期进展未报送"])


def test_thresholds_are_configurable() -> None:
    strict = LightRule(due_soon_days=90, yellow_behind=1, red_behind=5)
    args = {"start": START, "due": DUE, "status": "in_progress", "report_missing": False}
    assert light(strict, today=date(2024, 10, 15), progress=100, **args) == "yellow"
    assert light(strict, today=date(2024, 7, 1), progress=40, **args) == "red"


def test_periods_cover_a_range_without_gaps() -> None:
    quarters = periods_between(date(2021, 1, 1), date(2025, 12, 31), "quarter")
    assert len(quarters) == 20 and quarters[0].key == "2021Q1" and quarters[-1].key == "2025Q4"
    for a, b in itertools.pairwise(quarters):
        assert (b.start - a.end).days == 1
    assert period_for(date(2024, 12, 31), "year").label == "2024年度"


@pytest.mark.parametrize("bad", ["2024Q5", "2024-13", "soon", "Q1"])
def test_malformed_period_keys_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="无效的报送期"):
        parse_period(bad)
