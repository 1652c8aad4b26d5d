"""Demo progress (演示数据) for ``make demo``: deterministic, clearly labelled, demo database only.

``generate(now=...)`` writes, for the current plan, quarterly check-ins of every lead and
responsible department from the plan start up to the period expected by ``now`` (all narratives
start with 【演示数据】), coordinator reviews, each task's status and progress from its lead's
latest approved report, and yearly target values from 2021 to mid-2024. A seeded random number
generator makes every run identical. A few tasks lag, a few reports arrive late, a few of the
current period are missing, some wait for review. A department that reported on a task has also
acknowledged (签收) it. Target values move from a plausible start towards the goal and stay within
what their unit allows (``plausible_start``, ``plausible``): no share above 100 %, no negative amount,
no data-centre PUE below 1.

It refuses to run unless the database is the demo SQLite file (``DEMO_DB_NAME``): demo data must
never reach a real database.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy.engine import make_url

from ..clock import CITY_TZ, city_date
from ..errors import TrackerError
from ..extensions import db
from ..models import CheckIn, Department, Review, Target, TargetValue, User
from ..tasks.due import DueRule, expected_period, reporting_window
from ..tasks.duties import task_reporters
from ..tasks.periods import periods_between
from ..tasks.queries import city_workdays, current_plan, plan_tasks
from .targets import load_targets

__all__ = ["DEMO_DB_NAME", "DEMO_MARK", "check_demo_database", "generate", "plausible", "plausible_start"]

DEMO_DB_NAME = "demo.sqlite3"
DEMO_MARK = "【演示数据】"  # the demo reports' texts are data, written in Chinese like real ones


class NotADemoDatabase(TrackerError):
    pass


def check_demo_database(url: str) -> None:
    """Raise unless ``url`` is a SQLite file named ``demo.sqlite3``."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or Path(parsed.database).name != DEMO_DB_NAME:
        raise NotADemoDatabase(
            _(
                "拒绝生成演示数据：当前数据库不是演示库（%(url)s）。"
                "演示数据只能写入名为 %(name)s 的 SQLite 文件，请用 make demo。",
                url=parsed.render_as_string(hide_password=True),
                name=DEMO_DB_NAME,
            )
        )


# A percentage that is a change over the plan (下降, 降低 …) starts from 0; a level (比例, 利用率 …) does not.
_CHANGE_WORDS = ("下降", "降低", "削减", "增加", "减少", "提高")


def plausible_start(name: str, unit: str, comparison: str | None, goal: float, baseline: float | None) -> float:
    """Where a demo target's path starts: its baseline, else a value a little short of the goal.

    >>> plausible_start("新建大型和超大型数据中心电能利用效率", "", "<", 1.3, None)  # PUE: from above
    1.49
    >>> plausible_start("市城区、县城污水处理率", "%", ">=", 98, None), plausible_start("能耗下降", "%", ">=", 18, None)
    (78.4, 0.0)
    >>> plausible_start("火电平均供电煤耗", "克标准煤/千瓦时", "<=", 297, 300)
    300
    """
    if baseline is not None:
        return baseline
    if comparison in {"<", "<="}:  # lower is better: start above the goal
        return round(goal * 1.15, 2)
    if unit == "%" and not any(word in name for word in _CHANGE_WORDS):
        return round(goal * 0.8, 2)  # a rate or share is never 0 at the start of a plan
    if comparison == "~":
        return round(goal * 0.6, 2)
    return 0.0


def plausible(value: float, *, unit: str, comparison: str | None, goal: float) -> float:
    """``value`` kept within what its unit and goal allow: shares 0..100, amounts not negative, and a
    lower-is-better figure (PUE, coal per kWh) not far below its goal (so never a PUE under 1).

    >>> plausible(0.4, unit="", comparison="<", goal=1.3), plausible(104.2, unit="%", comparison=">=", goal=98)
    (1.17, 100.0)
    >>> plausible(-3, unit="吨", comparison=">=", goal=900)
    0.0
    """
    if comparison in {"<", "<="}:
        value = max(value, round(goal * 0.9, 2))
    if unit == "%":
        value = min(value, 100.0)
    return round(max(value, 0.0), 2)


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(9 + rng.randrange(8), rng.randrange(60)), tzinfo=CITY_TZ).astimezone(UTC)


class DemoAlreadyGenerated(TrackerError):
    """The demo database already holds progress reports."""


def generate(*, url: str, now: datetime, seed: int = 20240620) -> dict[str, int]:
    check_demo_database(url)
    if db.session.scalar(db.select(db.func.count()).select_from(CheckIn)):
        raise DemoAlreadyGenerated(
            _("演示库中已有进展报送，未重复生成。如需重来，请删除 instance/demo.sqlite3 后重新运行 make demo。")
        )
    rng = random.Random(seed)
    today = city_date(now)
    plan = current_plan(today)
    tasks = plan_tasks(plan)
    names = {d.id: d.name for d in db.session.scalars(db.select(Department))}
    reviewer = db.session.scalar(db.select(User).filter_by(role="coordinator").order_by(User.id))
    counts = {"checkins": 0, "reviews": 0, "target_values": 0, "lagging": 0, "missing": 0, "pending": 0}

    due_rule, cal = DueRule.of(plan), city_workdays()
    lagging_tasks = set(rng.sample([t.id for t in tasks], min(3, len(tasks))))  # a few tasks fall behind
    for task in tasks:
        expected = expected_period(
            today, task.reporting_cycle, *reporting_window(task.start, task.due, plan.end), due_rule, cal
        )
        if expected is None:
            continue
        last = expected.period
        periods = periods_between(task.start, last.end, task.reporting_cycle)
        reporters = task_reporters({a.department_id: a.role for a in task.assignments})
        pace = rng.choice([0.7, 0.9, 1.0, 1.0, 1.1, 1.2, 1.3])  # <1: behind the linear schedule
        lagging = task.id in lagging_tasks
        span = (task.due - task.start).days
        lead_latest: tuple[str, int] | None = None
        other_latest: tuple[str, int] | None = None
        for i, period in enumerate(periods):
            current = i == len(periods) - 1
            base = min(100, round(100 * pace * (period.end - task.start).days / span))
            for a in task.assignments:
                if a.department_id not in reporters:
                    continue
                if current and rng.random() < 0.08:
                    counts["missing"] += 1
                    continue
                percent = max(0, min(100, base + rng.randint(-5, 5)))
                status = (
                    "done" if percent >= 100 else ("lagging" if lagging and i >= len(periods) - 3 else "in_progress")
                )
                late = rng.random() < 0.1
                submitted = period.end + timedelta(days=rng.randint(15, 40) if late else rng.randint(1, 9))
                submitted = min(submitted, today)
                pending = current and rng.random() < 0.4
                checkin = CheckIn(
                    task_id=task.id,
                    department_id=a.department_id,
                    period=period.key,
                    period_start=period.start,
                    period_end=period.end,
                    state="submitted" if pending else "approved",
                    status=status,
                    percent=percent,
                    narrative=(
                        f"{DEMO_MARK}{names[a.department_id]}{period.label}推进“{task.title}”，完成约 {percent}%。"
                    ),
                    problems=f"{DEMO_MARK}资金和项目审批进度偏慢。" if status == "lagging" else "",
                    next_steps=f"{DEMO_MARK}按计划继续推进。",
                    author_id=None,
                    created_at=_at(submitted, rng),
                    submitted_at=_at(submitted, rng),
                )
                db.session.add(checkin)
                counts["checkins"] += 1
                if pending:
                    counts["pending"] += 1
                    continue
                db.session.flush()
                db.session.add(
                    Review(
                        checkin_id=checkin.id,
                        reviewer_id=reviewer.id if reviewer else None,
                        decision="approve",
                        comment=f"{DEMO_MARK}同意。",
                        created_at=_at(min(submitted + timedelta(days=2), today), rng),
                    )
                )
                counts["reviews"] += 1
                if a.role == "lead":
                    lead_latest = (status, percent)
                else:
                    other_latest = (status, percent)
        # the task's status and progress follow its lead's latest approved report (else a responsible one's)
        latest = lead_latest or other_latest
        if latest:
            task.status, task.progress = latest
            if task.status == "done":
                task.closed_on = min(today, task.due)
            counts["lagging"] += task.status == "lagging"

    _acknowledge_reported(tasks)
    for row in load_targets(plan):
        t = row.target
        goal = t.value_min if t.comparison == "range" else t.value
        points = [(str(y), date(y, 12, 31)) for y in range(plan.start.year, today.year) if date(y, 12, 31) < today]
        points.append((f"{today.year}-05", date(today.year, 5, 31)))
        if t.comparison is None:
            done = rng.random() < 0.4
            db.session.add(_value(t, points[-1], 1.0 if done else 0.0, now))
            counts["target_values"] += 1
            continue
        if goal is None:
            continue
        start = plausible_start(t.name, t.unit or "", t.comparison, goal, t.baseline)
        pace = rng.choice([0.6, 0.85, 1.0, 1.1, 1.25])
        for key, end in points:
            if end >= today:
                continue
            fraction = min(1.2, pace * max(0, (end - plan.start).days) / max(1, (t.due - plan.start).days))
            value = start + (goal - start) * fraction * rng.uniform(0.9, 1.1)
            value = plausible(value, unit=t.unit or "", comparison=t.comparison, goal=goal)
            db.session.add(_value(t, (key, end), value, now))
            counts["target_values"] += 1
    db.session.commit()
    return counts


def _acknowledge_reported(tasks: list) -> None:  # type: ignore[type-arg]
    """A department that reported on a task has signed for it (签收), at its first report, by its staff."""
    db.session.flush()
    first: dict[tuple[int, int], datetime] = {}
    for task_id, department_id, created in db.session.execute(
        db.select(CheckIn.task_id, CheckIn.department_id, CheckIn.created_at).order_by(CheckIn.created_at)
    ):
        first.setdefault((task_id, department_id), created)
    staff: dict[int, int] = {}
    for user_id, department_id in db.session.execute(
        db.select(User.id, User.department_id).filter_by(role="staff").order_by(User.id.desc())
    ):
        staff[department_id] = user_id  # the department's first account wins
    for task in tasks:
        for a in task.assignments:
            at = first.get((task.id, a.department_id))
            if at is not None and a.acknowledged_at is None:
                a.acknowledged_at, a.acknowledged_by_id = at, staff.get(a.department_id)


def _value(target: Target, point: tuple[str, date], value: float, now: datetime) -> TargetValue:
    """A demo figure measures the target's own unit: the city's for a city target, its county's else."""
    return TargetValue(
        target_id=target.id,
        unit_kind="county" if target.county_id is not None else "city",
        county_id=target.county_id,
        period=point[0],
        period_end=point[1],
        value=value,
        source=f"{DEMO_MARK}协调单位录入",
        created_at=now,
    )
