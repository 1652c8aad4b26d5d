"""The scheduler process: APScheduler 3 (``BlockingScheduler``, Asia/Shanghai), one active at a time.

It runs in its own process (``flask --app wsgi scheduler run``), never inside web workers.

Election: on PostgreSQL the process takes ``pg_try_advisory_lock`` on a dedicated connection held
for its whole life. A second process keeps trying every ``retry_seconds`` (10 s) and becomes active
within that when the first dies — its connection closes and PostgreSQL releases the lock. On SQLite
(one machine, the embedded default) an exclusive ``flock`` on ``instance/scheduler.lock`` plays the
same part; the operating system releases it when the process dies.

Steering: the web writes ``JobSetting`` rows; the ``sync`` job here re-reads them every minute and
pauses, resumes, reschedules (a changed cron) or runs a job now, and writes each job's next run back.
"""

from __future__ import annotations

import fcntl
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from flask_babel import gettext
from sqlalchemy.pool import NullPool

from ..extensions import db
from ..models import JobSetting
from . import jobs

__all__ = ["LOCK_KEY", "LeaderLock", "build_scheduler", "run_forever", "sync"]

log = logging.getLogger(__name__)
LOCK_KEY = 0x7472_6163  # "trac": one advisory lock id for the tracker's scheduler
SYNC_JOB = "sync"


class LeaderLock:
    """The right to be the one active scheduler: a PostgreSQL advisory lock or, on SQLite, a file lock."""

    def __init__(self, engine: sa.Engine, lock_file: Path) -> None:
        self.engine = engine
        self.lock_file = lock_file
        self._conn: sa.Connection | None = None
        self._dedicated: sa.Engine | None = None
        self._fh: Any = None

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def try_acquire(self) -> bool:
        if self.postgres:
            if self._conn is None:
                # Outside the pool: closing it must end the database session, which frees the lock.
                self._dedicated = sa.create_engine(self.engine.url, poolclass=NullPool)
                self._conn = self._dedicated.connect()
            got = bool(self._conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar())
            self._conn.commit()  # the lock is the session's: it outlives this transaction
            return got
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self._fh or open(self.lock_file, "a+")  # noqa: SIM115 - held for the process lifetime
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def alive(self) -> bool:
        """Whether the lock is still held (the dedicated connection still works)."""
        if not self.postgres:
            return True
        try:
            assert self._conn is not None
            self._conn.execute(sa.text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:
            return False

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()  # closing the session releases the advisory lock
            self._conn = None
        if self._dedicated is not None:
            self._dedicated.dispose()
            self._dedicated = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def wait(self, retry_seconds: float, *, give_up_after: float | None = None) -> bool:
        """Block until this process holds the lock (True) or ``give_up_after`` seconds passed (False)."""
        started = time.monotonic()
        while not self.try_acquire():
            if give_up_after is not None and time.monotonic() - started >= give_up_after:
                return False
            log.info("another scheduler is active; retrying in %s s", retry_seconds)
            time.sleep(retry_seconds)
        return True


def _trigger(setting: JobSetting) -> Any:
    if setting.cron:
        return jobs.cron_trigger(setting.cron)
    return IntervalTrigger(seconds=60, timezone=jobs.TIMEZONE)


def sync(scheduler: BaseScheduler, now: datetime | None = None) -> None:
    """Make the scheduler's jobs match the ``JobSetting`` rows; write next run times back."""
    now = now or datetime.now(UTC)
    settings = jobs.ensure_job_settings()
    wanted = {s.job_id for s in settings}
    for job in scheduler.get_jobs():
        if job.id != SYNC_JOB and job.id not in wanted:
            job.remove()
    for setting in settings:
        job = scheduler.get_job(setting.job_id)
        trigger = _trigger(setting)
        if job is None:
            job = scheduler.add_job(
                jobs.run_job,
                trigger,
                args=[setting.job_id],
                id=setting.job_id,
                name=setting.name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=3600,
            )
        elif str(job.trigger) != str(trigger):  # the cadence was edited in the admin page
            job = scheduler.reschedule_job(setting.job_id, trigger=trigger)
        if setting.paused and job.next_run_time is not None:
            job = scheduler.pause_job(setting.job_id)
        elif not setting.paused and job.next_run_time is None:
            job = scheduler.resume_job(setting.job_id)
        if setting.run_now:
            job = scheduler.modify_job(setting.job_id, next_run_time=now)
            setting.run_now = False
        setting.next_run_at = None if setting.paused else job.next_run_time
    db.session.commit()


def build_scheduler(app: Flask, lock: LeaderLock | None = None) -> BlockingScheduler:
    jobs.bind(app)
    with app.app_context():
        sqlite_db = db.engine.dialect.name == "sqlite"
    # SQLite has one writer at a time: run jobs one after another there, a few at once on PostgreSQL.
    executor = ThreadPoolExecutor(max_workers=1 if sqlite_db else 8)
    scheduler = BlockingScheduler(timezone=jobs.TIMEZONE, executors={"default": executor})

    def sync_job() -> None:
        if lock is not None and not lock.alive():
            log.error("lost the scheduler lock's database connection: stopping")
            scheduler.shutdown(wait=False)
            return
        with app.app_context():
            try:
                sync(scheduler)
            except Exception:
                db.session.rollback()
                log.exception("scheduler sync failed")

    # First run at start-up (the jobs are added then), then every minute.
    scheduler.add_job(
        sync_job,
        IntervalTrigger(seconds=60, timezone=jobs.TIMEZONE),
        id=SYNC_JOB,
        name="sync settings",  # APScheduler's own name for it, in its log only
        next_run_time=datetime.now(UTC),
    )
    return scheduler


def run_forever(app: Flask, *, retry_seconds: float = 10.0) -> None:
    """Wait to be the active scheduler, then run the jobs until stopped."""
    with app.app_context():  # the site's language for what it prints
        engine = db.engine
        waiting = gettext("定时任务进程：等待成为主控（每 %(n)s 秒重试）……", n=f"{retry_seconds:g}")
        running = gettext("定时任务进程：已成为主控，开始运行。")
    lock = LeaderLock(engine, Path(app.instance_path) / "scheduler.lock")
    print(waiting, flush=True)
    lock.wait(retry_seconds)
    print(running, flush=True)
    try:
        build_scheduler(app, lock).start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        lock.release()
