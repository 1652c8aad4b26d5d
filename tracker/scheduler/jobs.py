"""Scheduled jobs: the schedule declared as data with stable ids, and the job functions themselves.

Jobs are module-level functions that run inside the app context and call the same services as the
CLI. ``JobSetting`` rows carry what the web may change (pause, run now, a bureau's check-in cadence);
the scheduler process re-reads them every minute (process.py). Every run is recorded in ``job_run``.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from flask import Flask, current_app
from flask_babel import force_locale, gettext

from .. import clock
from ..bulletins import service as bulletins
from ..errors import TrackerError
from ..extensions import db
from ..i18n import N_, site_locale
from ..models import Assignment, Department, JobRun, JobSetting
from ..reminders import mailer, service
from ..tasks.queries import city_workdays

__all__ = [
    "SCHEDULE",
    "JobError",
    "JobSpec",
    "bind",
    "cron_trigger",
    "ensure_job_settings",
    "request_run_now",
    "run_job",
    "set_cron",
    "set_paused",
]

TIMEZONE = "Asia/Shanghai"
_app: Flask | None = None


class JobError(TrackerError):
    """A job setting cannot be changed as asked."""


@dataclass(frozen=True)
class JobSpec:
    job_id: str
    name: str
    cron_setting: str | None = None  # key of app.config["REMINDERS"] holding its default crontab
    every_seconds: int | None = None


SCHEDULE = [
    JobSpec("sweep", N_("每日提醒、催办与督办（工作日）"), cron_setting="sweep_cron"),
    JobSpec("deliver", N_("发送发件箱"), every_seconds=60),
    JobSpec("bulletin", N_("督办通报（每期印发一次，发送领导和统筹协调人员）"), cron_setting="bulletin_cron"),
]
CHECKIN_PREFIX = "checkin:"


def bind(app: Flask) -> None:
    """Give the job functions the app they run in (the scheduler process calls this once)."""
    global _app
    _app = app


def cron_trigger(expression: str) -> CronTrigger:
    """A crontab expression (minute hour day month weekday) in city time; ``JobError`` if malformed."""
    try:
        return CronTrigger.from_crontab(expression, timezone=TIMEZONE)
    except ValueError as exc:
        raise JobError(
            gettext("无效的执行周期“%(cron)s”：应为 分 时 日 月 周，如 0 9 * * mon-fri", cron=expression)
        ) from exc


def ensure_job_settings() -> list[JobSetting]:
    """One settings row per declared job and per department that holds a role; returns all, in order."""
    defaults = current_app.config["REMINDERS"]
    existing = {s.job_id: s for s in db.session.scalars(db.select(JobSetting))}
    for spec in SCHEDULE:
        if spec.job_id not in existing:
            cron = defaults[spec.cron_setting] if spec.cron_setting else ""
            existing[spec.job_id] = JobSetting(job_id=spec.job_id, name=spec.name, cron=cron, last_result="")
            db.session.add(existing[spec.job_id])
    holders = db.session.scalars(
        db.select(Department)
        .where(Department.id.in_(db.select(Assignment.department_id)))
        .order_by(Department.position)
    )
    for dept in holders:
        job_id = f"{CHECKIN_PREFIX}{dept.id}"
        if job_id not in existing:
            existing[job_id] = JobSetting(
                job_id=job_id,
                name=f"进展报送通知：{dept.name}",
                department_id=dept.id,
                cron=defaults["checkin_cron"],
                last_result="",
            )
            db.session.add(existing[job_id])
    db.session.commit()
    order = {spec.job_id: i for i, spec in enumerate(SCHEDULE)}
    return sorted(existing.values(), key=lambda s: (order.get(s.job_id, len(order)), s.department_id or 0))


def _setting(job_id: str) -> JobSetting:
    setting = db.session.get(JobSetting, job_id)
    if setting is None:
        raise JobError(gettext("没有编号为 %(job)s 的定时任务", job=job_id))
    return setting


def set_paused(job_id: str, paused: bool) -> None:
    _setting(job_id).paused = paused
    db.session.commit()


def request_run_now(job_id: str) -> None:
    _setting(job_id).run_now = True
    db.session.commit()


def set_cron(job_id: str, expression: str) -> None:
    setting = _setting(job_id)
    if not setting.cron:
        raise JobError(gettext("该任务按固定间隔运行，不能修改执行周期"))
    cron_trigger(expression.strip())
    setting.cron = expression.strip()
    db.session.commit()


# The job functions: each runs one service call as of the app clock.


def _sweep() -> str:
    now = clock.now()
    if not city_workdays().is_workday(clock.city_date(now)):
        return gettext("非工作日，不发送提醒")
    report = service.sweep(now, kinds=service.ALL_KINDS - {"checkin"})
    return report.summary() + "\n" + mailer.deliver(now, current_app.config).summary()


def _checkin(department_id: int) -> str:
    return service.sweep(clock.now(), kinds={"checkin"}, department_ids={department_id}).summary()


def _deliver() -> str:
    return mailer.deliver(clock.now(), current_app.config).summary()


def _bulletin() -> str:
    return bulletins.send_scheduled(clock.now())


def function_for(job_id: str) -> tuple[Callable[..., str], dict[str, Any]]:
    if job_id.startswith(CHECKIN_PREFIX):
        return _checkin, {"department_id": int(job_id.removeprefix(CHECKIN_PREFIX))}
    return {"sweep": _sweep, "deliver": _deliver, "bulletin": _bulletin}[job_id], {}


def run_job(job_id: str) -> None:
    """Run one job inside the app context and record the run; errors are recorded, not raised."""
    if _app is None:
        raise RuntimeError("jobs.bind(app) was not called")
    with _app.app_context():
        func, kwargs = function_for(job_id)
        run = JobRun(job_id=job_id, started_at=clock.now(), result="")
        db.session.add(run)
        db.session.commit()
        try:
            # The run's log is kept in the site's language, whoever pressed "run now".
            with force_locale(site_locale()):
                result, ok = func(**kwargs), True
        except Exception:
            db.session.rollback()
            result, ok = traceback.format_exc(limit=5), False
        run = db.session.get(JobRun, run.id)
        run.finished_at, run.ok, run.result = clock.now(), ok, result
        setting = db.session.get(JobSetting, job_id)
        if setting is not None:
            setting.last_run_at, setting.last_ok, setting.last_result = run.started_at, ok, result[:4000]
        db.session.commit()
