"""The pure rules of the leadership views, and how the report-missing rule feeds the warning light."""

from __future__ import annotations

from datetime import date

import pytest

from tracker import clock
from tracker.extensions import db
from tracker.leadership.rules import TargetSpec, on_track, plan_progress, target_share
from tracker.models import CheckIn, Task
from tracker.tasks import state as snapshot
from tracker.tasks.periods import periods_between
from tracker.tasks.queries import current_plan


class TestTargetShare:
    def test_increase_from_baseline(self) -> None:
        assert target_share(TargetSpec(">=", 20, baseline=10), 15) == 0.5

    def test_decrease_towards_a_ceiling_from_baseline(self) -> None:
        assert target_share(TargetSpec("<=", 297, baseline=300), 297) == 1.0
        assert target_share(TargetSpec("<=", 297, baseline=300), 301) < 0

    def test_reduction_amount_without_baseline_is_actual_over_target(self) -> None:
        assert target_share(TargetSpec(">=", 156), 0) == 0.0
        assert target_share(TargetSpec(">=", 156), 312) == 2.0

    def test_no_actual_or_milestone_has_no_share(self) -> None:
        assert target_share(TargetSpec(">=", 156), None) is None
        assert target_share(TargetSpec(None, None), 1) is None

    def test_zero_goal_does_not_divide_by_zero(self) -> None:
        assert target_share(TargetSpec(">=", 0), 3) == 1.0


class TestOnTrack:
    @pytest.mark.parametrize(
        ("share", "on", "expected"),
        [
            (0.0, date(2021, 1, 1), "on_track"),  # at the path's start nothing is expected
            (0.99, date(2025, 12, 31), "behind"),  # at the deadline everything is
            (1.0, date(2021, 6, 1), "reached"),
            (0.5, date(2023, 7, 2), "on_track"),
            (0.49, date(2023, 7, 2), "behind"),
        ],
    )
    def test_against_the_linear_path(self, share: float, on: date, expected: str) -> None:
        assert on_track(share, on=on, start=date(2021, 1, 1), due=date(2025, 12, 31)) == expected


def test_plan_progress_counts_done_as_100_and_clamps() -> None:
    assert plan_progress([(120, "in_progress"), (-5, "not_started")]) == 50.0
    assert plan_progress([(10, "done")]) == 100.0


def _snapshot_state(code: str):  # type: ignore[no-untyped-def]
    from flask import current_app

    today = clock.today()
    snap = snapshot.load(current_plan(today), today=today, rule=snapshot.light_rule(current_app.config["LIGHT_RULE"]))
    return next(st for st in snap.states if st.task.code == code)


def test_missing_report_turns_an_on_schedule_task_yellow_until_every_reporter_reports(seeded) -> None:
    # clock: 2024-06-03; 2024Q2 is requested only from 2024-06-24, so the period leaders count is 2024Q1
    # (tasks.due), and every period since the task began is owed and past its due date
    task = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    task.status, task.progress = "in_progress", 75
    db.session.commit()
    state = _snapshot_state("3.1")
    assert state.period.key == "2024Q1"
    assert state.light == "yellow" and "本期进展未报送" in state.reasons
    owing = {a.department_id for a in task.assignments if a.role in {"lead", "responsible"}}
    assert {d.id for d in state.missing} == owing
    for i, dept_id in enumerate(sorted(owing)):
        for period in periods_between(task.start, date(2024, 3, 31), "quarter"):
            db.session.add(
                CheckIn(
                    task_id=task.id,
                    department_id=dept_id,
                    period=period.key,
                    period_start=period.start,
                    period_end=period.end,
                    state="submitted" if i % 2 else "approved",
                    status="in_progress",
                    percent=75,
                    created_at=clock.now(),
                )
            )
    db.session.commit()
    state = _snapshot_state("3.1")
    assert state.missing == [] and state.light == "green"


def test_a_draft_or_returned_report_does_not_count_and_support_roles_owe_none(seeded) -> None:
    task = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    task.status, task.progress = "in_progress", 75
    lead = next(a for a in task.assignments if a.role in {"lead", "responsible"})
    for state in ("draft", "returned"):
        db.session.add(
            CheckIn(
                task_id=task.id,
                department_id=lead.department_id,
                period="2024Q2",
                period_start=date(2024, 4, 1),
                period_end=date(2024, 6, 30),
                state=state,
                created_at=clock.now(),
            )
        )
    db.session.commit()
    state = _snapshot_state("3.1")
    assert lead.department_id in {d.id for d in state.missing}
    assert all(
        a.role in {"lead", "responsible"} for a in task.assignments if a.department_id in {d.id for d in state.missing}
    )


def test_a_done_task_owes_no_report_and_is_green(seeded) -> None:
    task = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    task.status, task.progress = "done", 100
    db.session.commit()
    state = _snapshot_state("3.1")
    assert state.missing == [] and state.light == "green"
