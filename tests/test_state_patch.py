"""The kept plan state brought up to date task by task (tracker.tasks.state._patch) equals a state built
afresh after the same writes; a write to anything else the state reads builds it afresh."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask

from tracker import cache, clock
from tracker.extensions import db
from tracker.models import Assignment, CheckIn, Department, Section, Task
from tracker.tasks import state
from tracker.tasks.queries import current_plan


def _facts(snap: state.PlanState) -> dict[str, Any]:
    """Everything a page reads from a state, as plain values."""
    return {
        "tasks": [
            (
                st.task.id,
                st.task.status,
                st.task.progress,
                st.light,
                tuple(st.reasons),
                st.period.key if st.period else None,
                tuple(d.id for d in st.missing),
                tuple(sorted((d, c.id) for d, c in st.latest.items())),
                tuple(d.id for d in st.leads),
                tuple(d.id for d in st.reporters),
                tuple(sorted((d, tuple(p.period.key for p in ps)) for d, ps in st.owed.items())),
                tuple((a.department_id, a.role) for a in st.task.assignments),
            )
            for st in snap.states
        ],
        "pending": [(c.id, c.state, c.period, c.submitted_on) for c in snap.pending],
        "consolidated": [(d.department.id, d.missing, tuple(p.period.key for p in d.owed)) for d in snap.consolidated],
        "submitted": sorted(snap.consolidated_submitted.items()),
    }


def _current(app: Flask) -> state.PlanState:
    with app.test_request_context("/dashboard"):
        plan = current_plan(clock.today())
        return state.current(plan, today=clock.today(), rule=state.light_rule(app.config["LIGHT_RULE"]))


def _fresh(app: Flask) -> state.PlanState:
    """Built afresh (not counted among the kept state's builds: see ``no_fresh_builds``)."""
    with app.test_request_context("/dashboard"):
        plan = current_plan(clock.today())
        return state.load(plan, today=clock.today(), rule=state.light_rule(app.config["LIGHT_RULE"]))


def _report(task: Task, department_id: int, period: str, start: date, end: date, state_: str) -> CheckIn:
    return CheckIn(
        task_id=task.id,
        department_id=department_id,
        period=period,
        period_start=start,
        period_end=end,
        state=state_,
        status="in_progress",
        percent=40,
        created_at=clock.now(),
        submitted_at=clock.now(),
    )


@pytest.fixture
def no_fresh_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every full build of a kept state after the first one."""
    builds: list[str] = []
    build = state._build

    def counting(*args: Any, **kwargs: Any) -> Any:
        builds.append("build")
        return build(*args, **kwargs)

    def fresh(plan, *, today, rule, cal=None):  # type: ignore[no-untyped-def]
        sections = list(db.session.scalars(db.select(Section).filter_by(plan_id=plan.id).order_by(Section.number)))
        return build(plan, today, rule, cal).state(plan, today, sections)

    monkeypatch.setattr(state, "_build", counting)
    monkeypatch.setattr(state, "load", fresh)
    return builds


def test_reports_task_edits_and_assignments_bring_the_kept_state_up_to_date_as_a_fresh_build(
    seeded: Flask, no_fresh_builds: list[str]
) -> None:
    state.forget()
    _current(seeded)
    assert no_fresh_builds == ["build"]
    t32 = db.session.scalar(db.select(Task).filter_by(code="3.2"))
    t31 = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    reporter = next(a.department_id for a in t32.assignments if a.role in {"lead", "responsible"})
    # a report submitted, another approved, a task's status and due date, a department added to a task
    db.session.add(_report(t32, reporter, "2024Q1", date(2024, 1, 1), date(2024, 3, 31), "submitted"))
    db.session.commit()
    assert _facts(_current(seeded)) == _facts(_fresh(seeded))
    db.session.add(_report(t31, reporter, "2023Q4", date(2023, 10, 1), date(2023, 12, 31), "approved"))
    t31.status, t31.progress = "lagging", 35
    db.session.commit()
    t32.due = date(2024, 5, 1)
    db.session.commit()
    other = db.session.scalar(
        db.select(Department.id).where(Department.id.not_in([a.department_id for a in t31.assignments]))
    )
    db.session.add(Assignment(task_id=t31.id, department_id=other, role="lead", position=9))
    db.session.commit()
    patched = _current(seeded)  # four bumps behind: their changes together
    assert _facts(patched) == _facts(_fresh(seeded))
    assert "2024Q1" in {c.period for c in patched.pending if c.task_id == t32.id}
    assert no_fresh_builds == ["build"]  # every one of them brought the kept state up to date, no build
    # a report withdrawn (deleted) is a change of its task as well
    db.session.delete(db.session.scalar(db.select(CheckIn).filter_by(task_id=t32.id, period="2024Q1")))
    db.session.commit()
    assert _facts(_current(seeded)) == _facts(_fresh(seeded))
    assert no_fresh_builds == ["build"]


def test_a_write_to_anything_else_the_state_reads_builds_it_afresh(seeded: Flask, no_fresh_builds: list[str]) -> None:
    state.forget()
    _current(seeded)
    department = db.session.scalar(db.select(Department).filter_by(name="市发展改革委"))
    department.position = 0  # the order of every list of departments
    db.session.commit()
    assert _facts(_current(seeded)) == _facts(_fresh(seeded))
    assert no_fresh_builds == ["build", "build"]
    task = db.session.scalar(db.select(Task).filter_by(code="3.2"))
    task.position = 99  # a task's place in the plan: the order of every page
    db.session.commit()
    assert _facts(_current(seeded)) == _facts(_fresh(seeded))
    assert no_fresh_builds == ["build", "build", "build"]


def test_a_broken_chain_of_changes_builds_afresh(seeded: Flask, no_fresh_builds: list[str]) -> None:
    """A change record that is missing (or from another era of the version) is never patched over."""
    state.forget()
    _current(seeded)
    store = cache.page_cache().store
    assert isinstance(store, cache.MemoryStore)
    store.bump(frozenset())
    store._changes.clear()  # as if the records had expired
    task = db.session.scalar(db.select(Task).filter_by(code="3.2"))
    task.progress = 77
    db.session.commit()
    assert _facts(_current(seeded)) == _facts(_fresh(seeded))
    assert no_fresh_builds == ["build", "build"]
