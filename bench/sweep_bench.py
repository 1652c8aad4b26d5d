"""The reminder sweep at five times province scale: 100,000 tasks, 2,000 departments, time and peak memory.

    .venv/bin/python bench/sweep_bench.py generate --db /tmp/sweep.sqlite3   # once (about two minutes)
    .venv/bin/python bench/sweep_bench.py sweep --db /tmp/sweep.sqlite3      # a fresh process per run

``generate`` writes the plan with ``tests.synthetic.make_plan`` (150 counties, three years of quarterly
check-ins) and gives every department a contact address. ``sweep`` copies nothing: it runs
``tracker.reminders.service.sweep`` once at ``--at`` inside a transaction that it rolls back (the file
can be swept again), and prints the wall time, the digests queued (one per department, checked), the
items, the process's resident memory before the sweep and its peak (``ru_maxrss``) after it, and the
peak of Python allocations during the sweep (``tracemalloc``, with ``--tracemalloc``: it slows the run).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["generate", "sweep"])
    parser.add_argument("--db", default="/tmp/sweep.sqlite3")
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--departments", type=int, default=2000)
    parser.add_argument("--at", default="2024-07-08T09:00")
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()

    from tracker import clock, create_app
    from tracker.extensions import db

    url = f"sqlite:///{Path(args.db).resolve()}"
    if args.command == "generate":
        Path(args.db).unlink(missing_ok=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TRACKER_NOW": args.at, "SECRET_KEY": "b"})
    with app.app_context():
        if args.command == "generate":
            from tests.synthetic import make_plan

            db.create_all()
            t0 = time.perf_counter()
            make_plan(args.tasks, args.departments, key="sweep", counties=150, periods=("2021Q2", "2024Q1"), sections=5)
            db.session.execute(db.text("UPDATE department SET contact_emails = 'd' || id || '@example.test'"))
            db.session.commit()
            print(f"generated {args.tasks} tasks × {args.departments} departments in {time.perf_counter() - t0:.1f} s")
            return
        from tracker.reminders import service

        before = _rss_mb()
        if args.tracemalloc:
            tracemalloc.start()
        t0 = time.perf_counter()
        report = service.sweep(clock.now())
        took = time.perf_counter() - t0
        traced = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        per_dept = Counter(m.department_id for m in report.queued if m.department_id is not None)
        assert all(n <= 2 for n in per_dept.values()), per_dept.most_common(3)  # one digest (per language)
        kinds = Counter(m.kind for m in report.queued)
        db.session.rollback()
        print(
            f"sweep at {args.at}: {took:.1f} s; {len(report.queued)} messages to {len(per_dept)} departments "
            f"(most to one department: {max(per_dept.values(), default=0)}), {report.items} items {dict(kinds)}; "
            f"RSS before {before:.0f} MB, peak {peak:.0f} MB"
            + (f"; Python allocations peak {traced:.0f} MB" if traced is not None else "")
        )


if __name__ == "__main__":
    main()
