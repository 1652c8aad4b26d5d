"""The pure reminder rules and the working-day calendar, at their edges."""

from __future__ import annotations

from datetime import date

import tracker.reminders.policy
from tracker.reminders.policy import Stages, deadline_stage, stage_dates, stage_label
from tracker.tasks.workdays import Workdays

CAL = Workdays()
S = Stages()


class TestDeadlineStages:
    def test_each_default_stage_comes_due_on_its_day(self) -> None:
        due = date(2025, 12, 31)  # a Wednesday; 12-01, 12-24 and 12-30 are working days
        assert deadline_stage(due, date(2025, 12, 1), S, CAL) == "before-30"
        assert deadline_stage(due, date(2025, 12, 24), S, CAL) == "before-7"
        assert deadline_stage(due, date(2025, 12, 30), S, CAL) == "before-1"
        assert deadline_stage(due, date(2025, 12, 31), S, CAL) == "before-0"

    def test_a_stage_on_a_holiday_goes_out_on_the_next_working_day(self) -> None:
        due = date(2024, 10, 31)  # 30 days before is 2024-10-01, National Day
        assert [deadline_stage(due, date(2024, 10, d), S, CAL) for d in range(1, 8)] == [None] * 7
        assert deadline_stage(due, date(2024, 10, 8), S, CAL) == "before-30"

    def test_a_make_up_sunday_is_a_working_day(self) -> None:
        assert dict(stage_dates(date(2024, 10, 6), S, CAL))["before-7"] == date(2024, 9, 29)
        assert deadline_stage(date(2024, 10, 6), date(2024, 9, 29), S, CAL) == "before-7"

    def test_chasers_are_weekly_after_the_deadline_and_capped(self) -> None:
        due = date(2024, 6, 28)  # Friday
        assert deadline_stage(due, date(2024, 7, 1), S, CAL) == "after-1"
        assert deadline_stage(due, date(2024, 7, 8), S, CAL) == "after-2"
        assert deadline_stage(due, date(2026, 6, 1), S, CAL) == "after-4"

    def test_stages_are_configurable(self) -> None:
        stages = Stages.from_config({"before_days": [3], "max_chasers": 1})
        assert [s for s, _ in stage_dates(date(2025, 12, 31), stages, CAL)] == ["before-3", "after-1"]


class TestCalendar:
    def test_local_overrides_win_over_the_statutory_calendar(self) -> None:
        cal = Workdays({date(2024, 10, 8): False, date(2024, 10, 5): True})
        assert cal.next_workday(date(2024, 10, 1)) == date(2024, 10, 5)
        assert not cal.is_workday(date(2024, 10, 8))

    def test_years_outside_the_package_fall_back_to_monday_to_friday_and_say_so(self) -> None:
        cal = Workdays()
        assert cal.is_workday(date(2040, 1, 2)) and not cal.is_workday(date(2040, 1, 7))
        assert cal.fallback_years == {2040}


class TestChaserWords:
    def test_a_chaser_says_how_many_were_sent_not_which_stage_came_due(self) -> None:
        # a catch-up after downtime sends the fourth stage first: it is the first chaser the reader sees
        assert stage_label("chase", "after-4", count=1) == "已逾期（第 1 次催办）"
        assert stage_label("chase", "after-2", count=2) == "已逾期（第 2 次催办）"


def test_there_is_no_second_due_rule_in_the_reminder_policy() -> None:
    # check-in dates come from tracker.tasks.due only (issue 12)
    assert not hasattr(tracker.reminders.policy, "checkin_due")
    assert "checkin_workdays_before" not in Stages.__dataclass_fields__
