"""The reminder sweep at five times province scale: 100,000 tasks, 2,000 departments, time and peak memory.

    .venv/bin/python bench/sweep_bench.py generate --db /tmp/sweep.sqlite3   # once (about two minutes)
    .venv/bin/python bench/sweep_bench.py sweep --db /tmp/sweep.sqlite3      # a fresh process per run

``generate`` writes the plan with ``tests.synthetic.make_plan`` (150 counties, three years of quarterly
check-ins) and gives every department a contact address. ``sweep`` copies the file and runs
``tracker.reminders.service.sweep`` once at ``--at`` on the copy, then deletes it: the sweep commits
once per department (as it does in production), so a rollback would not undo it and the file must stay
unswept for the next run. It prints the wall time, the digests queued (one per department, checked), the
items, the process's resident memory before the sweep and its peak (``ru_maxrss``) after it, and the
peak of Python allocations during the sweep (``tracemalloc``, with ``--tracemalloc``: it slows the run);
``--profile FILE`` writes a cProfile of the sweep alone.

``--dump FILE`` writes every queued message (key, status, recipients, subject, both bodies) and every
claimed item (key, its message's key) to FILE, sorted, so two versions of the sweep can be diffed on the
same plan; ``--language en`` sweeps with English as the site's language (the contact mailboxes' copies).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import resource
import shutil
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
    parser.add_argument("--profile", help="write a cProfile of the sweep alone here (it slows the run)")
    parser.add_argument("--dump", help="write the queued messages and claimed items here, to diff versions")
    parser.add_argument("--language", default="zh_CN", choices=["zh_CN", "en"])
    args = parser.parse_args()

    path = Path(args.db).resolve()
    if args.command == "generate":
        path.unlink(missing_ok=True)
    else:  # sweep a copy (outside the timed part): the sweep commits, the file stays as generated
        copy = path.with_name(f"{path.stem}.sweeping-{os.getpid()}{path.suffix}")
        shutil.copyfile(path, copy)
        try:
            _run(args, copy)
        finally:
            copy.unlink(missing_ok=True)
        return
    _run(args, path)


def _run(args: argparse.Namespace, path: Path) -> None:
    from tracker import clock, create_app
    from tracker.extensions import db

    url = f"sqlite:///{path}"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "TRACKER_NOW": args.at, "SECRET_KEY": "b", "LANGUAGE": args.language}
    )
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
        profiler = cProfile.Profile() if args.profile else None
        t0 = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        report = service.sweep(clock.now())
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        took = time.perf_counter() - t0
        traced = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        per_dept = Counter(m.department_id for m in report.queued if m.department_id is not None)
        assert all(n <= 2 for n in per_dept.values()), per_dept.most_common(3)  # one digest (per language)
        kinds = Counter(m.kind for m in report.queued)
        if args.dump:
            _dump(Path(args.dump))
        print(
            f"sweep at {args.at}: {took:.1f} s; {len(report.queued)} messages to {len(per_dept)} departments "
            f"(most to one department: {max(per_dept.values(), default=0)}), {report.items} items {dict(kinds)}; "
            f"RSS before {before:.0f} MB, peak {peak:.0f} MB"
            + (f"; Python allocations peak {traced:.0f} MB" if traced is not None else "")
        )


def _dump(path: Path) -> None:
    """Every message and claimed item of the sweep just run (on the swept copy), sorted."""
    from tracker.extensions import db
    from tracker.models import OutboxMessage, ReminderSent

    with path.open("w") as out:
        messages = db.session.execute(
            db.select(
                OutboxMessage.id,
                OutboxMessage.dedupe_key,
                OutboxMessage.status,
                OutboxMessage.recipients,
                OutboxMessage.subject,
                OutboxMessage.body_text,
                OutboxMessage.body_html,
            ).order_by(OutboxMessage.dedupe_key)
        ).all()
        keys = {row.id: row.dedupe_key for row in messages}
        for row in messages:
            out.write(f"== {row.dedupe_key} [{row.status}] {row.recipients}\n{row.subject}\n")
            out.write(f"{row.body_text}\n-- html\n{row.body_html}\n")
        for key, message_id in db.session.execute(
            db.select(ReminderSent.key, ReminderSent.message_id).order_by(ReminderSent.key)
        ):
            out.write(f"{key} -> {keys.get(message_id)}\n")


if __name__ == "__main__":
    main()
