"""Benchmark: render the leadership pages on a synthetic plan of 2,000 tasks × 100 departments.

    .venv/bin/python bench/pages_bench.py [--tasks 2000] [--departments 100] [--repeat 5] [--database-url URL]

Uses a throw-away SQLite file unless ``--database-url`` is given (the database is created and its
tables dropped at the end: never point it at a real database). Prints, per page, the SQL query count
and the median / best wall time of ``repeat`` requests through the Flask test client.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event

from tracker import create_app
from tracker.extensions import db

PAGES = ["/matrix", "/matrix.xlsx", "/matrix.csv", "/dashboard", "/tasks", "/targets"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--departments", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "TRACKER_NOW": "2024-06-20", "SECRET_KEY": "b"}
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        from tests.synthetic import make_plan
        from tracker import clock
        from tracker.accounts.service import create_user

        t0 = time.perf_counter()
        make_plan(args.tasks, args.departments)
        print(f"generated {args.tasks} tasks × {args.departments} departments in {time.perf_counter() - t0:.1f} s")
        create_user(email="bench@x.local", password="bench-1234", role="leader", department_name=None, now=clock.now())
        client = app.test_client()
        client.post("/login", data={"email": "bench@x.local", "password": "bench-1234"})
        print(f"{'page':<14} {'queries':>7} {'median s':>9} {'best s':>7} {'KiB':>7}")
        count = [0]

        def on_execute(*_: object) -> None:
            count[0] += 1

        for page in PAGES:
            event.listen(db.engine, "before_cursor_execute", on_execute)
            times = []
            for _ in range(args.repeat):
                count[0] = 0
                start = time.perf_counter()
                response = client.get(page)
                times.append(time.perf_counter() - start)
                assert response.status_code == 200, page
            event.remove(db.engine, "before_cursor_execute", on_execute)
            size = len(response.data) / 1024
            print(f"{page:<14} {count[0]:>7} {statistics.median(times):>9.3f} {min(times):>7.3f} {size:>7.0f}")
        db.session.remove()
        db.drop_all()


if __name__ == "__main__":
    main()
