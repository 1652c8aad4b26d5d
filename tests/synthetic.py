"""A synthetic plan of any size, bulk-inserted: for query-count tests and the page benchmark.

Not demo data: names are plainly synthetic (合成部门 12, 合成措施 345) and nothing in the app calls this
outside tests and ``bench/``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import insert

from tracker.extensions import db
from tracker.models import Assignment, CheckIn, Department, Plan, Section, Target, TargetValue, Task

KINDS = ["bureau", "bureau", "county", "outside", "party"]
STATUSES = ["not_started", "in_progress", "in_progress", "lagging", "done", "blocked"]


def make_plan(tasks: int, departments: int, *, key: str = "synthetic") -> Plan:
    """Insert a plan of ``tasks`` tasks over ``departments`` departments, with check-ins and targets."""
    created = datetime(2024, 1, 1, tzinfo=UTC)
    plan = Plan(key=key, title=f"合成方案（{tasks} 项措施）", start=date(2021, 1, 1), end=date(2025, 12, 31))
    db.session.add(plan)
    db.session.flush()
    sections = [
        Section(plan_id=plan.id, number=n, label=label, title=f"合成部分{label}")
        for n, label in [(3, "三"), (4, "四"), (5, "五")]
    ]
    db.session.add_all(sections)
    db.session.flush()
    first_dept = (db.session.scalar(db.select(db.func.max(Department.id))) or 0) + 1
    db.session.execute(
        insert(Department),
        [
            {
                "id": first_dept + i,
                "name": f"{key}合成部门{i}",
                "kind": KINDS[i % len(KINDS)],
                "position": i,
                "version_id": 1,
            }
            for i in range(departments)
        ],
    )
    first_task = (db.session.scalar(db.select(db.func.max(Task.id))) or 0) + 1
    task_rows = []
    for i in range(tasks):
        tid = first_task + i
        parent = tid - 1 if i % 10 == 9 else None
        task_rows.append(
            {
                "id": tid,
                "plan_id": plan.id,
                "section_id": sections[i % 3].id,
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
        for j, role in enumerate(["lead", "responsible", "support", "support"]):
            dept = first_dept + (i + j * 7) % departments
            if any(a["task_id"] == tid and a["department_id"] == dept for a in assignments[-4:]):
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
            if role in {"lead", "responsible"} and i % 3:
                checkins.append(
                    {
                        "task_id": tid,
                        "department_id": dept,
                        "period": "2024Q1",
                        "period_start": date(2024, 1, 1),
                        "period_end": date(2024, 3, 31),
                        "state": "approved" if i % 2 else "submitted",
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
