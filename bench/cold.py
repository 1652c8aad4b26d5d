"""Cold pages through the test client: CPU milliseconds, Python calls and SQL statements per request.

The pages ``bench/load.py --modes cold`` measures under gunicorn, with every cache off
(``CACHE_ENABLED=0``: each request reads the database and renders), one process, the app built as
``wsgi.py`` builds it for a worker. CPU time (``time.process_time``) moves less with the machine's load
than wrk's requests per second; the calls and statements do not move at all. Runs the ``make demo``
database that ``bench/load.py`` builds (``--db``). Run it from the checkout to measure (it imports that
checkout's ``wsgi``), e.g. a ``git archive`` copy of the base commit beside the worktree:

    PYTHONPATH=. .venv/bin/python bench/cold.py --db /tmp/tracker-bench/demo.sqlite3

Nothing here is a test: the times depend on the machine and its load (``uptime`` is printed).
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import os
import pstats
import subprocess
import time
from typing import Any

from load import ACCOUNTS, PAGES  # the pages bench/load.py drives (bench/ is this script's own folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/tracker-bench/demo.sqlite3")
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    os.environ.update(
        DATABASE_URL=f"sqlite:///{args.db}",
        TRACKER_NOW="2024-06-20",
        SECRET_KEY="bench-" + "0123456789abcdef" * 2,
        API_RATE_LIMIT="1000000000",
        CACHE_ENABLED="0",
    )
    app = importlib.import_module("wsgi").app  # as a gunicorn worker builds it
    app.config["WTF_CSRF_ENABLED"] = False  # logging in through the form's token is floor.py's business
    from sqlalchemy import event

    from tracker import clock
    from tracker.api.tokens import create_token
    from tracker.extensions import db
    from tracker.models import User

    clients: dict[str, Any] = {}
    for who, email in ACCOUNTS.items():
        clients[who] = app.test_client()
        answer = clients[who].post("/login", data={"email": email, "password": "demo-2025"})
        assert answer.status_code == 302, answer.status_code
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email="leader@demo.local"))
        token = create_token(user, "cold", now=clock.now())[1]
        db.session.commit()
        engine = db.engine
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print("| URL | CPU ms a request | Python calls | SQL |\n| --- | ---: | ---: | ---: |")
    for url, who in PAGES:
        client = clients.get(who) or app.test_client()
        headers = {"Authorization": f"Bearer {token}"} if who == "token" else {}
        for _ in range(3):
            assert client.get(url, headers=headers).status_code == 200, url
        started = time.process_time()
        for _ in range(args.repeat):
            client.get(url, headers=headers)
        cpu = (time.process_time() - started) * 1000 / args.repeat
        statements = 0

        def count(*_args: object) -> None:
            nonlocal statements
            statements += 1

        event.listen(engine, "before_cursor_execute", count)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(10):
            client.get(url, headers=headers)
        profile.disable()
        event.remove(engine, "before_cursor_execute", count)
        calls = pstats.Stats(profile).total_calls / 10  # type: ignore[attr-defined]
        print(f"| `{url}` | {cpu:.1f} | {calls:,.0f} | {statements / 10:.0f} |")


if __name__ == "__main__":
    main()
