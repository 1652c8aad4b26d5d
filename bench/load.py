"""Side by side under load: a bare Flask "hello" and the tracker's pages, same server, same load generator.

Both run under gunicorn with ``--workers`` sync workers (4, as docs/deploy.md says); wrk (``apt-get install
wrk``) drives each URL for ``--seconds`` with 2 threads and 8 connections, one URL after another. The
tracker runs on the ``make demo`` database (built here under ``--work`` if missing: the same commands,
clock 2024-06-20) twice: with the page cache warm (Redis, as several workers need) and with it off
(``CACHE_ENABLED=0``). The API's rate limit is raised out of the way and counted in Redis, as in
production. Pages are read as the demo leader; ``/my`` as the staff of 市发展改革委 (a leader has no /my).

    .venv/bin/python bench/load.py                 # prints a Markdown table; bench/README.md keeps results
    .venv/bin/python bench/load.py --modes warm --only /api/ --compare main   # the API, this tree and main

Nothing here is a test: the figures depend on the machine and its load (``uptime`` is printed).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "demo-2025"
NOW = "2024-06-20"
PAGES = [
    ("/tasks", "leader"),
    ("/my", "staff"),
    ("/dashboard", "leader"),
    ("/matrix", "leader"),
    ("/targets", "leader"),
    ("/tasks/3.1", "leader"),
    ("/api/v1/plans/anyang-14fyp-esr/tasks", "token"),
]
ACCOUNTS = {"leader": "leader@demo.local", "staff": "fgw@demo.local"}
# The app's floor: what any request costs it before a page does anything (hooks, session, headers).
FLOOR = [("/static/css/app.css", "leader"), ("/healthz", "none")]
# Asked again by a browser that holds the page (If-None-Match): the conditional GET's 304.
REVALIDATED = ["/tasks", "/matrix", "/tasks/3.1"]


def flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(done.stdout + done.stderr)
    return done.stdout


def demo_database(env: dict[str, str]) -> None:
    """The make demo steps, on the bench's own database."""
    flask(env, "db", "upgrade")
    flask(env, "plan", "load", "--if-missing")
    flask(env, "users", "demo")
    flask(env, "demo", "generate", "--if-empty")


TOKEN_SCRIPT = """
from tracker import clock, create_app
from tracker.api.tokens import create_token
from tracker.extensions import db
from tracker.models import User
app = create_app()
with app.app_context():
    user = db.session.scalar(db.select(User).filter_by(email="leader@demo.local"))
    print(create_token(user, "bench", now=clock.now())[1])
"""


def api_token(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", TOKEN_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(done.stderr)
    return done.stdout.strip().splitlines()[-1]


def checkout(rev: str, work: Path) -> tuple[Path, str]:
    """Revision ``rev`` of this repository as a tree of its own under ``work`` (``git archive``), with its
    catalogue compiled and the vendored static files copied: served side by side with the working tree."""
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True, check=True)
    short = sha.stdout.strip()
    tree = work / f"rev-{short}"
    if not tree.exists():
        tree.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", short], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        compile_mo = [sys.executable, "-m", "babel.messages.frontend", "compile", "-d", "tracker/translations"]
        subprocess.run(compile_mo, cwd=tree, capture_output=True, check=True)
        vendor = ROOT / "tracker" / "static" / "vendor"
        if vendor.exists():
            shutil.copytree(vendor, tree / "tracker" / "static" / "vendor")
    return tree, short


def serve(
    app: str, port: int, workers: int, env: dict[str, str], log: Path, root: Path = ROOT
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", app],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
            return server
        except urllib.error.HTTPError:
            return server  # answering (a redirect to log in counts)
        except OSError:
            if server.poll() is not None:
                sys.exit(log.read_text())
            time.sleep(0.1)
    server.kill()
    sys.exit(f"nothing answers on {port}")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def session_cookie(base: str, email: str) -> str:
    """Log in through the login form (CSRF token and all); the session cookie as a Cookie header."""
    jar = http.cookiejar.CookieJar()

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), Stay())
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "no CSRF token on the login form"
    body = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token.group(1)}).encode()
    try:
        opener.open(base + "/login", body)
    except urllib.error.HTTPError as exc:
        if exc.code != 302:
            raise
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def fetch(url: str, headers: dict[str, str]) -> tuple[int, int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, len(response.read()), response.headers.get("ETag", "")
    except urllib.error.HTTPError as exc:
        return exc.code, 0, ""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` and its children (gunicorn's workers), from /proc."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    total = 0.0
    for each in [str(pid), *children]:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        if each == str(pid):
            ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: workers that ended and were replaced
        total += ticks / os.sysconf("SC_CLK_TCK")
    return total


def wrk(
    url: str, headers: dict[str, str], seconds: int, threads: int, connections: int, server: int | None = None
) -> dict[str, str]:
    """wrk's figures, and the server's CPU time per request when its process id is given: unlike req/s,
    it hardly depends on what else the machine runs (other processes take turns, not this one's work)."""
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    before = cpu_seconds(server) if server else 0.0
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    spent = cpu_seconds(server) - before if server else 0.0
    done = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)  # a 304 counts as 3xx: fine
    return {
        "rate": rate.group(1) if rate else "?",
        "p50": p50.group(1) if p50 else "?",
        "p99": p99.group(1) if p99 else "?",
        "bad": bad.group(1) if bad else "0",
        "cpu": f"{1000 * spent / int(done.group(1)):.2f} ms" if server and done and int(done.group(1)) else "?",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="/tmp/tracker-bench", help="the demo database and logs go here")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "5105")))
    parser.add_argument("--hello-port", type=int, default=int(os.environ.get("BENCH_HELLO_PORT", "5115")))
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="the warm run's cache and rate limit")
    parser.add_argument("--modes", default="warm,cold", help="warm, cold or both")
    parser.add_argument("--only", help="drive only the URLs containing this (hello always runs first)")
    parser.add_argument(
        "--compare", action="append", default=[], metavar="REV",
        help="also serve git revision REV (e.g. main) on the same database, after the working tree, each mode",
    )  # fmt: skip
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CACHE_", "TEST_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=f"sqlite:///{work / 'demo.sqlite3'}",
        TRACKER_NOW=NOW,
        SECRET_KEY="bench-" + "0123456789abcdef" * 2,
        UPLOAD_FOLDER=str(work / "uploads"),
        API_RATE_LIMIT="1000000000",
        RATELIMIT_STORAGE_URI=args.redis,
        RATELIMIT_KEY_PREFIX=f"bench-{os.getpid()}",
    )
    demo_database(env)
    token = api_token(env)
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    print(f"commit {commit.stdout.strip()}, {args.workers} gunicorn workers, wrk -t{args.threads} "
          f"-c{args.connections} -d{args.seconds}s")  # fmt: skip

    hello = serve("bench.hello:app", args.hello_port, args.workers, env, work / "hello.log")
    try:
        base = wrk(f"http://127.0.0.1:{args.hello_port}/", {}, args.seconds, args.threads, args.connections, hello.pid)
    finally:
        stop(hello)
    hello_rate = float(base["rate"])
    rows = [("bare Flask hello", "—", base, "—")]
    trees = [(ROOT, "")] + [(tree, f" @{short}") for tree, short in (checkout(rev, work) for rev in args.compare)]
    runs = [(mode.strip(), tree, label) for mode in args.modes.split(",") if mode.strip() for tree, label in trees]
    for mode, tree, label in runs:
        mode_env = dict(env, PYTHONPATH=str(tree))
        if mode == "warm":
            mode_env.update(CACHE_URL=args.redis, CACHE_KEY_PREFIX=f"bench-{os.getpid()}{label.strip()}")
        else:
            mode_env.update(CACHE_ENABLED="0")
        server = serve("wsgi:app", args.port, args.workers, mode_env, work / f"{mode}.log", tree)
        try:
            site = f"http://127.0.0.1:{args.port}"
            cookies = {who: session_cookie(site, email) for who, email in ACCOUNTS.items()}
            pages = PAGES + (FLOOR if mode == "warm" else [])
            pages = [(path, who) for path, who in pages if not args.only or args.only in path]
            for path, who in pages:
                headers = {"Authorization": f"Bearer {token}"} if who == "token" else {}
                if who in cookies:
                    headers["Cookie"] = cookies[who]
                status, size, etag = fetch(site + path, headers)  # warms the cache in the warm run
                if status != 200:
                    sys.exit(f"{path}: {status}")
                result = wrk(site + path, headers, args.seconds, args.threads, args.connections, server.pid)
                rows.append((path, mode + label, result, f"{size // 1024} KiB"))
                if mode == "warm" and path in REVALIDATED and etag:
                    result = wrk(site + path, {**headers, "If-None-Match": etag}, args.seconds, args.threads,
                                 args.connections, server.pid)  # fmt: skip
                    rows.append((path, f"warm, 304{label}", result, "0 KiB"))
        finally:
            stop(server)
    print("\n| URL | cache | req/s | share of hello | p50 | p99 | non-2xx | size | worker CPU per request |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for path, mode, r, size in rows:
        share = f"{100 * float(r['rate']) / hello_rate:.1f} %" if r["rate"] != "?" else "?"
        print(
            f"| `{path}` | {mode} | {float(r['rate']):,.0f} | {share} | {r['p50']} | {r['p99']} | {r['bad']} | {size} "
            f"| {r['cpu']} |"
        )


if __name__ == "__main__":
    main()
