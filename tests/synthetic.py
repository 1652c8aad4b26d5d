"""A synthetic plan of any size, bulk-inserted: for query-count tests and the page benchmark.

Not demo data: names are plainly synthetic (合成部门 12, 合成措施 345) and nothing in the app calls this
outside tests and ``bench/``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import insert

from tracker.extensions import db
from tracker.models import Assignment, CheckIn, County, Department, Plan, Section, Target, TargetValue, Task

KINDS = ["bureau", "bureau", "county", "outside", "party"]
ROLES = ["lead", "responsible", "support", "support"]
STATUSES = ["not_started", "in_progress", "in_progress", "lagging", "done", "blocked"]


def quarters(first: str, last: str) -> list[tuple[str, date, date]]:
    """``[("2021Q2", start, end), ...]`` from ``first`` to ``last`` inclusive (keys like ``2024Q1``)."""
    out = []
    year, q = int(first[:4]), int(first[-1])
    while f"{year}Q{q}" <= last:
        end_month = 3 * q
        end = date(year, end_month, 31 if end_month in (3, 12) else 30)
        out.append((f"{year}Q{q}", date(year, end_month - 2, 1), end))
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return out


def make_plan(
    tasks: int,
    departments: int,
    *,
    key: str = "synthetic",
    counties: int = 0,
    periods: tuple[str, str] = ("2024Q1", "2024Q1"),
    sections: int = 3,
) -> Plan:
    """Insert a plan of ``tasks`` tasks over ``departments`` departments, with check-ins and targets.

    ``counties``: that many counties, the first ``counties`` departments being their governments
    (kind ``county``). ``periods``: the quarters (first, last) every reporting department has filed
    (two thirds of the tasks have reports; the province bench files three years of them).
    ``sections``: how many sections (三、四、五 ... ) the tasks are spread over.
    """
    created = datetime(2024, 1, 1, tzinfo=UTC)
    plan = Plan(key=key, title=f"合成方案（{tasks} 项措施）", start=date(2021, 1, 1), end=date(2025, 12, 31))
    db.session.add(plan)
    db.session.flush()
    labels = "三四五六七八九十"
    section_rows = [
        Section(plan_id=plan.id, number=n + 3, label=labels[n], title=f"合成部分{labels[n]}") for n in range(sections)
    ]
    db.session.add_all(section_rows)
    db.session.flush()
    first_dept = (db.session.scalar(db.select(db.func.max(Department.id))) or 0) + 1
    first_county = (db.session.scalar(db.select(db.func.max(County.id))) or 0) + 1
    if counties:
        db.session.execute(
            insert(County),
            [
                {"id": first_county + i, "name": f"{key}合成县{i}", "kind": "county", "position": i, "active": True}
                for i in range(counties)
            ],
        )
    db.session.execute(
        insert(Department),
        [
            {
                "id": first_dept + i,
                "name": f"{key}合成县{i}人民政府" if i < counties else f"{key}合成部门{i}",
                "kind": "county" if i < counties else KINDS[i % len(KINDS)],
                "county_id": first_county + i if i < counties else None,
                "position": i,
                "version_id": 1,
            }
            for i in range(departments)
        ],
    )
    filed = quarters(*periods)
    first_task = (db.session.scalar(db.select(db.func.max(Task.id))) or 0) + 1
    task_rows = []
    for i in range(tasks):
        tid = first_task + i
        parent = tid - 1 if i % 10 == 9 else None
        task_rows.append(
            {
                "id": tid,
                "plan_id": plan.id,
                "section_id": section_rows[i % sections].id,
                "parent_id": parent,
                "code": f"S{i}",
                "label": f"合成{i}",
                "title": f"合成措施 {i}",
                "text": "",
                "responsibility": "",
                "open_parties": [],
                "start": date(2021, 1, 1),
                "due": date(2022 + i % 4, 12, 31),
                "original_due": date(2022 + i % 4, 12, 31),
                "status": STATUSES[i % len(STATUSES)],
                "progress": (i * 7) % 101,
                "reporting_cycle": "quarter",
                "position": i,
                "version_id": 1,
                "closed_on": date(2022 + i % 4, 6, 30) if STATUSES[i % len(STATUSES)] == "done" else None,
            }
        )
    db.session.execute(insert(Task), task_rows)
    assignments, checkins = [], []
    for i in range(tasks):
        tid = first_task + i
        roles = [
            (j, role, first_dept + counties + (i + j * 7) % (departments - counties)) for j, role in enumerate(ROLES)
        ]
        if counties:  # every task implemented in one county, by its government (not in step with the statuses)
            roles.append((len(ROLES), "implementing", first_dept + (i + i // counties) % counties))
        for j, role, dept in roles:
            if any(a["task_id"] == tid and a["department_id"] == dept for a in assignments[-5:]):
                continue
            assignments.append(
                {
                    "task_id": tid,
                    "department_id": dept,
                    "role": role,
                    "role_text": "",
                    "note": "",
                    "position": j,
                    "version_id": 1,
                }
            )
            if role not in {"lead", "responsible"} or not i % 3:
                continue
            for n, (period, period_start, period_end) in enumerate(filed):
                last = n == len(filed) - 1
                checkins.append(
                    {
                        "task_id": tid,
                        "department_id": dept,
                        "period": period,
                        "period_start": period_start,
                        "period_end": period_end,
                        "state": "approved" if i % 2 or not last else "submitted",
                        "status": STATUSES[i % len(STATUSES)],
                        "percent": 50,
                        "narrative": "",
                        "problems": "",
                        "next_steps": "",
                        "created_at": created,
                        "submitted_at": created,
                        "version_id": 1,
                    }
                )
        if len(checkins) >= 50_000:  # in batches: a 100,000-task plan has 1.6 million check-ins
            db.session.execute(insert(Assignment), assignments)
            db.session.execute(insert(CheckIn), checkins)
            assignments, checkins = [], []
    if assignments:
        db.session.execute(insert(Assignment), assignments)
    if checkins:
        db.session.execute(insert(CheckIn), checkins)
    first_target = (db.session.scalar(db.select(db.func.max(Target.id))) or 0) + 1
    target_rows = [
        {
            "id": first_target + i,
            "plan_id": plan.id,
            "task_id": first_task + i * 10,
            "key": f"T{i}",
            "group": "task",
            "category": "",
            "name": f"合成指标 {i}",
            "metric": "",
            "value": 100.0,
            "unit": "%",
            "comparison": ">=",
            "baseline": 0.0,
            "due": date(2025, 12, 31),
            "source": "",
            "note": "",
            "position": i,
            "version_id": 1,
        }
        for i in range(max(1, tasks // 10))
    ]
    db.session.execute(insert(Target), target_rows)
    db.session.execute(
        insert(TargetValue),
        [
            {
                "target_id": r["id"],
                "period": str(y),
                "period_end": date(y, 12, 31),
                "value": 20.0 * (y - 2020),
                "source": "",
                "created_at": created,
            }
            for r in target_rows
            for y in (2021, 2022, 2023)
        ],
    )
    if db.session.get_bind().dialect.name == "postgresql":  # explicit ids: move the sequences past them
        for table in ("department", "task", "target"):
            db.session.execute(
                db.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
    db.session.commit()
    return plan
