"""The app's per-request floor through the Flask test client: milliseconds per request, one process.

What a logged-in request costs the app before (and besides) its page: the account, the session rules,
the language, the security headers, the data version. Runs the ``make demo`` database that
``bench/load.py`` builds (``--db``), with the page cache and the rate limit in Redis as in production,
logs in through the login form, warms each URL once and then asks it ``--repeat`` times.

    PYTHONPATH=. .venv/bin/python bench/floor.py --db /tmp/tracker-bench/demo.sqlite3
    PYTHONPATH=. .venv/bin/python bench/floor.py --only "/tasks (c" --profile   # cProfile of a cached /tasks hit

Instructions per request, stable under load: run ``--only ROW --repeat 0`` and ``--repeat 200`` under
``valgrind --tool=callgrind`` and divide the difference by 200.

Nothing here is a test: the figures depend on the machine and its load (``uptime`` is printed).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import subprocess
import time
from typing import Any

from flask import Flask

URLS = [
    ("hello (bare Flask)", "/", "hello"),
    ("/static/css/app.css", "/static/css/app.css", "leader"),
    ("/healthz", "/healthz", "none"),
    ("/login (GET, anonymous)", "/login", "none"),
    ("/tasks (cached)", "/tasks", "leader"),
    ("/tasks (304)", "/tasks", "leader-304"),
    ("/my (cached)", "/my", "staff"),
    ("/matrix (cached)", "/matrix", "leader"),
    ("/tasks/3.1 (cached)", "/tasks/3.1", "leader"),
    ("API task list (cached)", "/api/v1/plans/anyang-14fyp-esr/tasks", "token"),
]
ACCOUNTS = {"leader": "leader@demo.local", "staff": "fgw@demo.local"}
PASSWORD = "demo-2025"


def make_app(db: str, redis: str) -> Flask:
    os.environ.update(
        DATABASE_URL=f"sqlite:///{db}",
        TRACKER_NOW="2024-06-20",
        SECRET_KEY="bench-" + "0123456789abcdef" * 2,
        API_RATE_LIMIT="1000000000",
        RATELIMIT_STORAGE_URI=redis,
        RATELIMIT_KEY_PREFIX=f"floor-{os.getpid()}",
        CACHE_URL=redis,
        CACHE_KEY_PREFIX=f"floor-{os.getpid()}",
    )
    from tracker import create_app

    return create_app()


def hello_app() -> Flask:
    app = Flask("hello")
    app.add_url_rule("/", "hello", lambda: "hello")
    return app


def login(app: Flask, email: str) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    form = {"email": email, "password": PASSWORD, "csrf_token": token.group(1) if token else ""}
    answer = client.post("/login", data=form)
    assert answer.status_code == 302, answer.status_code
    return client


def api_token(app: Flask) -> str:
    from tracker import clock
    from tracker.api.tokens import create_token
    from tracker.extensions import db
    from tracker.models import User

    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email="leader@demo.local"))
        return create_token(user, "floor", now=clock.now())[1]


def counts(app: Flask, ask: Any, n: int = 50) -> tuple[float, float]:
    """Python function calls and SQL statements per request: the same on a busy machine as on an idle one."""
    from sqlalchemy import event

    from tracker.extensions import db

    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(n):
        ask()
    profile.disable()
    event.remove(engine, "before_cursor_execute", count)
    return pstats.Stats(profile).total_calls / n, statements / n  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/tracker-bench/demo.sqlite3")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--repeat", type=int, default=500)
    parser.add_argument("--only", help="time only the rows whose label starts with this")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the (first) row instead")
    args = parser.parse_args()
    app = make_app(args.db, args.redis)
    clients: dict[str, Any] = {who: login(app, email) for who, email in ACCOUNTS.items()}
    clients["none"] = app.test_client()
    clients["hello"] = hello_app().test_client()
    token = api_token(app)
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    if not args.profile:
        print("| request | best of 5 rounds | median round | Python calls | SQL |\n| --- | ---: | ---: | ---: | ---: |")
    for label, url, who in URLS:
        if args.only and not label.startswith(args.only):
            continue
        headers: dict[str, str] = {}
        client = clients.get(who.removesuffix("-304"))
        if who == "token":
            client, headers = clients["none"], {"Authorization": f"Bearer {token}"}
        first = client.get(url, headers=headers)  # warms the cache
        assert first.status_code == 200, (url, first.status_code)
        if who.endswith("-304"):
            headers["If-None-Match"] = first.headers["ETag"]
        expected = 304 if who.endswith("-304") else 200
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.repeat):
                client.get(url, headers=headers).close()
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(60)
            pstats.Stats(profile).sort_stats("tottime").print_stats(40)
            return
        rounds = []  # the best of five rounds: the others' load only ever adds time
        for _round in range(5):
            start = time.perf_counter()
            for _ in range(args.repeat // 5):
                answer = client.get(url, headers=headers)
                answer.close()
                assert answer.status_code == expected, (url, answer.status_code)
            rounds.append((time.perf_counter() - start) / max(1, args.repeat // 5) * 1000)
        calls, statements = counts(app, lambda c=client, u=url, h=headers: c.get(u, headers=h).close())
        print(f"| {label} | {min(rounds):.2f} ms | {sorted(rounds)[2]:.2f} ms | {calls:,.0f} | {statements:g} |")


if __name__ == "__main__":
    main()
