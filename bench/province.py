"""Province scale: generate a 20,000-task plan into a database file, then measure pages and exports.

    .venv/bin/python bench/province.py generate --db /tmp/province.sqlite3   # 20,000 tasks, 400 depts, 150 counties
    .venv/bin/python bench/province.py pages --db /tmp/province.sqlite3      # each page once: s, KiB, queries, RSS
    .venv/bin/python bench/province.py load --url http://127.0.0.1:5106 --users 8 --seconds 15

``generate`` bulk-inserts (``tests.synthetic.make_plan``) three years of quarterly check-ins
(2021Q2–2024Q1), a leader ``leader@province.local`` and a staff member of the first bureau
``staff@province.local`` (password ``province-1234``). ``--database-url`` writes to PostgreSQL instead
(its tables are dropped first: never point it at a real database). ``load`` logs in as the leader
and has ``--users`` threads request every page in turn for ``--seconds``; it prints each page's
p50 / p95 and size. Serve the file with gunicorn for it, e.g.

    DATABASE_URL=sqlite:////tmp/province.sqlite3 TRACKER_NOW=2024-06-20 SECRET_KEY=x \\
        .venv/bin/gunicorn -w 4 -b 127.0.0.1:5106 wsgi:app
"""

from __future__ import annotations

import argparse
import http.cookiejar
import re
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "province-1234"


def pages(first_task: str, department: int, county: int) -> list[str]:
    """The pages measured: every one a leader opens, bounded at province scale."""
    return [
        "/matrix",
        "/matrix?section=3",
        f"/matrix?county={county}&light=red",
        f"/matrix?department={department}",
        "/matrix?light=red&page=3",
        "/tasks",
        "/tasks?page=5",
        f"/tasks/{first_task}",
        "/dashboard",
        "/targets",
        "/counties",
        "/assessment",
        "/reviews",
        "/my",
        "/graph?section=3",
        f"/graph?department={department}",
    ]


def _app(url: str):  # type: ignore[no-untyped-def]
    from tracker import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "TRACKER_NOW": "2024-06-20", "SECRET_KEY": "b"}
    )


def _url(args: argparse.Namespace) -> str:
    return args.database_url or f"sqlite:///{Path(args.db).resolve()}"


def generate(args: argparse.Namespace) -> None:
    from tests.synthetic import make_plan
    from tracker import clock
    from tracker.accounts.service import create_user
    from tracker.extensions import db
    from tracker.models import Department

    if args.db and not args.database_url:
        Path(args.db).unlink(missing_ok=True)
    app = _app(_url(args))
    with app.app_context():
        db.drop_all()
        db.create_all()
        t0 = time.perf_counter()
        make_plan(
            args.tasks,
            args.departments,
            key="province",
            counties=args.counties,
            periods=("2021Q2", "2024Q1"),
            sections=args.sections,
        )
        took = time.perf_counter() - t0
        bureau = db.session.scalar(db.select(Department).where(Department.kind == "bureau").order_by(Department.id))
        assert bureau is not None
        create_user(
            email="leader@province.local", password=PASSWORD, role="leader", department_name=None, now=clock.now()
        )
        create_user(
            email="staff@province.local", password=PASSWORD, role="staff", department_name=bureau.name, now=clock.now()
        )
        counts = {
            t: db.session.scalar(db.text(f"SELECT count(*) FROM {t}"))
            for t in ("task", "department", "county", "assignment", "check_in", "target")
        }
        print(f"generated in {took:.1f} s: {counts}")


def measure_pages(args: argparse.Namespace) -> None:
    from sqlalchemy import event

    from tracker.extensions import db
    from tracker.models import County, Department, Task

    app = _app(_url(args))
    with app.app_context():
        first = db.session.scalar(db.select(Task.code).order_by(Task.id))
        dept = db.session.scalar(db.select(Department.id).where(Department.kind == "bureau").order_by(Department.id))
        county = db.session.scalar(db.select(County.id).order_by(County.id))
        client = app.test_client()
        client.post("/login", data={"email": args.user, "password": PASSWORD})
        count = [0]

        def on_execute(*_: object) -> None:
            count[0] += 1

        event.listen(db.engine, "before_cursor_execute", on_execute)
        # "s": the first request (the first page builds the plan's state); "again s": the same page under
        # another address, so the page cache misses but the state kept for this data version is used.
        # "RSS MB": this process's resident memory after the page (what a web worker holds by then).
        print(
            f"{'page':<36} {'status':>6} {'queries':>7} {'s':>7} {'again s':>7} {'queries':>7} {'KiB':>7} {'RSS MB':>7}"
        )
        for page in args.page or pages(first or "", dept or 0, county or 0):
            count[0] = 0
            start = time.perf_counter()
            response = client.get(page)
            took = time.perf_counter() - start
            queries, count[0] = count[0], 0
            start = time.perf_counter()
            client.get(page + ("&" if "?" in page else "?") + "again=1")
            again = time.perf_counter() - start
            size = len(response.data) / 1024
            print(
                f"{page:<36} {response.status_code:>6} {queries:>7} {took:>7.3f} {again:>7.3f} {count[0]:>7} "
                f"{size:>7.0f} {_rss_mb():>7.0f}"
            )


def _rss_mb() -> float:
    """This process's resident set size now (Linux), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def exports(args: argparse.Namespace) -> None:
    """The whole plan's matrix workbook and CSV: the state's load, then each writer, timed (the workbook also
    in CPU time, which other work on a shared machine disturbs less), and the peak RSS."""
    import resource
    import tempfile

    from tracker import clock
    from tracker.leadership import export
    from tracker.leadership.matrix import Filters, build_matrix
    from tracker.tasks import state as task_state
    from tracker.tasks.queries import current_plan

    app = _app(_url(args))
    with app.test_request_context():
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        plan = current_plan(clock.today())
        snap = task_state.load(plan, today=clock.today(), rule=task_state.light_rule(app.config["LIGHT_RULE"]))
        m = build_matrix(snap, Filters(), {})
        loaded, cpu = time.perf_counter(), time.process_time()
        after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "m.xlsx"
            export.matrix_xlsx_file(m, plan.title, "as of", path)
            xlsx, xlsx_cpu = time.perf_counter(), time.process_time() - cpu
            size = path.stat().st_size
        csv_size = sum(len(c) for c in export.matrix_csv_chunks(m))
        done = time.perf_counter()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"state load + matrix {loaded - t0:.1f} s (peak RSS {rss:.0f} → {after_load:.0f} MB); "
            f"workbook {xlsx - loaded:.1f} s (CPU {xlsx_cpu:.1f} s), {size / 2**20:.1f} MiB; "
            f"CSV {done - xlsx:.1f} s, {csv_size / 2**20:.1f} MiB; "
            f"peak RSS after both {peak:.0f} MB"
        )


def _opener(base: str, email: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = {"email": email, "password": PASSWORD}
    if token:
        data["csrf_token"] = token.group(1)
    opener.open(base + "/login", urllib.parse.urlencode(data).encode()).read()
    return opener


def load(args: argparse.Namespace) -> None:
    """``--users`` threads, each logged in, request the pages round-robin for ``--seconds`` (bounded)."""
    base = args.url.rstrip("/")
    probe = _opener(base, args.user)
    ids = re.findall(r'href="/tasks/([^"/?#]+)"', probe.open(base + "/tasks").read().decode())
    first = ids[0] if ids else "S0"
    matrix = probe.open(base + "/matrix").read().decode()
    dept = re.search(r"department=(\d+)", matrix)
    county = re.search(r"county=(\d+)", matrix)
    urls = args.page or pages(first, int(dept.group(1)) if dept else 0, int(county.group(1)) if county else 0)
    times: dict[str, list[float]] = {u: [] for u in urls}
    warm: dict[str, list[float]] = {u: [] for u in urls}  # requests that began after the warm-up
    sizes: dict[str, int] = {}
    errors: list[str] = []
    began = time.monotonic()
    stop = began + args.seconds

    def user(n: int) -> None:
        opener = _opener(base, args.user)
        i = n
        while time.monotonic() < stop:
            u = urls[i % len(urls)]
            i += 1
            start = time.perf_counter()
            after_warmup = time.monotonic() - began >= args.warmup
            try:
                body = opener.open(base + u, timeout=60).read()
            except Exception as exc:
                errors.append(f"{u}: {exc}")
                continue
            times[u].append(time.perf_counter() - start)
            if after_warmup:
                warm[u].append(times[u][-1])
            sizes[u] = len(body)

    def writer() -> None:
        """Bump the shared data version every ``--bump-every`` seconds as a report on one task does (a
        random task id up to ``--bump-tasks``; with ``--bump-all``, as a write to anything else): every
        cached page is then of an old version, and each worker's kept plan state is brought up to date
        for that task (or built again)."""
        import random

        from tracker.cache import RedisStore

        store = RedisStore(args.cache_url, args.cache_prefix)
        while time.monotonic() + args.bump_every < stop:
            time.sleep(args.bump_every)
            store.bump(None if args.bump_all else frozenset({random.randint(1, args.bump_tasks)}))

    threads = [threading.Thread(target=user, args=(n,)) for n in range(args.users)]
    if args.bump_every:
        threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    what = "anything" if args.bump_all else "one task"
    bumps = f"; the data version bumped every {args.bump_every:g} s ({what})" if args.bump_every else ""
    print(
        f"{args.users} users, {args.seconds} s (warm-up: the first {args.warmup} s){bumps}; "
        f"errors: {len(errors)} {errors[:3]}"
    )
    print(
        f"{'page':<36} {'n':>5} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} | "
        f"{'after warm-up: n':>16} {'p50':>6} {'p95':>6} {'KiB':>6}"
    )

    def stats(ts: list[float]) -> tuple[float, float, float]:
        ts = sorted(ts)
        return statistics.median(ts) * 1000, ts[min(len(ts) - 1, int(0.95 * len(ts)))] * 1000, ts[-1] * 1000

    for u in urls:
        if not times[u]:
            print(f"{u:<36} {0:>5}")
            continue
        p50, p95, top = stats(times[u])
        w50, w95, _top = stats(warm[u]) if warm[u] else (0.0, 0.0, 0.0)
        print(
            f"{u:<36} {len(times[u]):>5} {p50:>7.0f} {p95:>7.0f} {top:>7.0f} | {len(warm[u]):>16} {w50:>6.0f} "
            f"{w95:>6.0f} {sizes[u] / 1024:>6.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--tasks", type=int, default=20000)
    g.add_argument("--departments", type=int, default=400)
    g.add_argument("--counties", type=int, default=150)
    g.add_argument("--sections", type=int, default=5)
    for p in (g, sub.add_parser("pages"), sub.add_parser("exports")):
        p.add_argument("--db", default="/tmp/province.sqlite3")
        p.add_argument("--database-url")
        p.add_argument("--user", default="leader@province.local")
        p.add_argument("--page", action="append")
    ld = sub.add_parser("load")
    ld.add_argument("--url", default="http://127.0.0.1:5106")
    ld.add_argument("--users", type=int, default=8)
    ld.add_argument("--seconds", type=float, default=15)
    ld.add_argument("--warmup", type=float, default=0, help="seconds whose requests the second p95 leaves out")
    ld.add_argument("--bump-every", type=float, default=0, help="bump the data version this often (as a write)")
    ld.add_argument("--bump-tasks", type=int, default=20000, help="task ids the bumps choose from")
    ld.add_argument("--bump-all", action="store_true", help="bump as a write to something else than a task")
    ld.add_argument("--cache-url", default="redis://127.0.0.1:6379/3", help="the server's CACHE_URL")
    ld.add_argument("--cache-prefix", default="tracker", help="the server's CACHE_KEY_PREFIX")
    ld.add_argument("--user", default="leader@province.local")
    ld.add_argument("--page", action="append")
    args = parser.parse_args()
    {"generate": generate, "pages": measure_pages, "load": load, "exports": exports}[args.command](args)


if __name__ == "__main__":
    main()
