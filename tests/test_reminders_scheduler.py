"""The scheduler process: job settings steer it, runs are recorded, one active scheduler at a time."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from tracker.extensions import db
from tracker.models import JobRun, JobSetting
from tracker.scheduler import jobs
from tracker.scheduler.process import LeaderLock, build_scheduler, sync

from .conftest import dept_by_name


@pytest.fixture
def scheduler(seeded: Flask):  # type: ignore[no-untyped-def]
    jobs.bind(seeded)
    sched = BackgroundScheduler(timezone=jobs.TIMEZONE)
    sched.start(paused=True)  # jobs get their next run times; none runs during the test
    yield sched
    sched.shutdown(wait=False)


def test_the_schedule_has_a_sweep_a_deliverer_and_one_checkin_job_per_bureau(seeded: Flask, scheduler) -> None:
    sync(scheduler)
    ids = {job.id for job in scheduler.get_jobs()}
    assert {
        "sweep",
        "deliver",
        f"checkin:{dept_by_name('市发展改革委').id}",
        f"checkin:{dept_by_name('林州市人民政府').id}",
    } <= ids
    assert str(scheduler.get_job("sweep").trigger.timezone) == "Asia/Shanghai"
    assert db.session.get(JobSetting, "sweep").next_run_at is not None


def test_pause_resume_cadence_and_run_now_written_by_the_web_reach_the_scheduler(seeded: Flask, scheduler) -> None:
    sync(scheduler)
    job_id = f"checkin:{dept_by_name('市发展改革委').id}"
    jobs.set_paused(job_id, True)
    sync(scheduler)
    assert scheduler.get_job(job_id).next_run_time is None
    assert db.session.get(JobSetting, job_id).next_run_at is None

    jobs.set_paused(job_id, False)
    jobs.set_cron(job_id, "30 8 * * mon")
    sync(scheduler)
    job = scheduler.get_job(job_id)
    assert job.next_run_time is not None and job.next_run_time.weekday() == 0
    assert (job.next_run_time.hour, job.next_run_time.minute) == (8, 30)

    jobs.request_run_now(job_id)
    now = datetime(2030, 1, 1, tzinfo=UTC)
    sync(scheduler, now=now)
    assert scheduler.get_job(job_id).next_run_time == now
    assert not db.session.get(JobSetting, job_id).run_now


def test_a_job_run_is_recorded_with_its_result(seeded: Flask) -> None:
    jobs.bind(seeded)
    jobs.ensure_job_settings()
    seeded.config["TRACKER_NOW"] = "2025-12-24T09:00"
    jobs.run_job(f"checkin:{dept_by_name('市发展改革委').id}")
    jobs.run_job("sweep")
    runs = db.session.scalars(db.select(JobRun).order_by(JobRun.id)).all()
    assert [(r.job_id.split(":")[0], r.ok) for r in runs] == [("checkin", True), ("sweep", True)]
    assert "新排入发件箱" in runs[1].result
    assert db.session.get(JobSetting, "sweep").last_ok is True


def test_the_web_never_builds_a_scheduler(seeded: Flask) -> None:
    # The app factory starts nothing; the scheduler is built only by `flask scheduler run`.
    assert not any(isinstance(v, BackgroundScheduler) for v in seeded.extensions.values())
    sched = build_scheduler(seeded)
    assert [job.id for job in sched.get_jobs()] == ["sync"]


@pytest.mark.postgres  # advisory locks are PostgreSQL's: the PostgreSQL pass runs it
def test_two_schedulers_on_postgres_one_is_active_and_the_other_takes_over(app: Flask, tmp_path: Path) -> None:
    first, second = LeaderLock(db.engine, tmp_path / "x"), LeaderLock(db.engine, tmp_path / "x")
    try:
        assert first.postgres
        assert first.try_acquire()
        assert not second.try_acquire()
        took_over = threading.Event()

        def standby() -> None:
            if second.wait(0.05, give_up_after=10):
                took_over.set()

        thread = threading.Thread(target=standby)
        thread.start()
        time.sleep(0.2)
        assert not took_over.is_set()  # still waiting while the first is alive
        first.release()  # the first dies: its connection closes, PostgreSQL frees the lock
        thread.join(timeout=10)
        assert took_over.is_set()
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()


def test_on_sqlite_a_lock_file_keeps_a_second_scheduler_waiting(tmp_path: Path) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine("sqlite://")
    first, second = LeaderLock(engine, tmp_path / "scheduler.lock"), LeaderLock(engine, tmp_path / "scheduler.lock")
    assert first.try_acquire() and not second.try_acquire()
    first.release()
    assert second.wait(0.01, give_up_after=1)
    second.release()
