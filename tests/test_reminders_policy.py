"""The pure reminder rules and the working-day calendar, at their edges."""

from __future__ import annotations

from datetime import date

from tracker.reminders.policy import Stages, checkin_due, deadline_stage, stage_dates
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


class TestCheckins:
    def test_the_request_comes_five_working_days_before_the_period_closes(self) -> None:
        args = ("quarter", date(2021, 1, 1), date(2025, 12, 31), {"2024Q1"}, S, CAL)
        assert checkin_due(date(2024, 6, 21), *args) == []
        assert checkin_due(date(2024, 6, 24), *args) == [("request", "2024Q2")]

    def test_a_missing_report_is_chased_after_the_period_closed(self) -> None:
        args = ("quarter", date(2021, 1, 1), date(2025, 12, 31), set(), S, CAL)
        assert ("chase", "2024Q2") in checkin_due(date(2024, 7, 1), *args)

    def test_after_the_plan_no_period_is_requested(self) -> None:
        assert checkin_due(date(2026, 6, 1), "quarter", date(2021, 1, 1), date(2025, 12, 31), set(), S, CAL) == []
