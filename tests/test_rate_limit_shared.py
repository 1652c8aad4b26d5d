"""The API rate limit is one count for every worker process (issue 14, class 11).

Counted in Flask-Limiter's storage: in memory by default, Redis in production. The Redis tests use
the real server (``TEST_REDIS_URL``, default ``redis://127.0.0.1:6379/15``; ``.ci/run`` starts it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tracker import clock
from tracker.api.tokens import create_token

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def redis_app(app: Flask) -> Flask:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail(f"Redis is not answering at {REDIS_URL}: start redis-server (.ci/run does)")
    from tracker.extensions import limiter

    app.config.update(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}")
    limiter.init_app(app)  # the storage is chosen when the extension is bound
    return app


def test_the_default_storage_is_memory(app: Flask) -> None:
    from tracker.extensions import limiter

    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert type(limiter.storage).__name__ == "MemoryStorage"


@pytest.mark.redis
def test_the_api_counts_calls_in_redis(redis_app: Flask, make_user, client: FlaskClient) -> None:
    import redis

    redis_app.config.update(API_RATE_LIMIT=3, API_RATE_WINDOW=3600)
    from tracker.extensions import limiter

    assert type(limiter.storage).__name__ == "RedisStorage"
    _token, secret = create_token(make_user("leader"), "x", now=clock.now())
    h = {"Authorization": f"Bearer {secret}"}
    assert [client.get("/api/v1/plans", headers=h).status_code for _ in range(4)] == [200, 200, 200, 429]
    prefix = redis_app.config["RATELIMIT_KEY_PREFIX"]
    keys = redis.Redis.from_url(REDIS_URL).keys(f"*{prefix}*")
    assert keys, "nothing was counted in Redis"


WORKER = textwrap.dedent(
    """
    import sys
    from tracker import create_app
    from tracker.api.tokens import rate_limit_hit

    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "RATELIMIT_STORAGE_URI": sys.argv[1], "RATELIMIT_KEY_PREFIX": sys.argv[2]})
    with app.app_context():
        print(sum(rate_limit_hit(7, limit=10, window=3600)[0] for _ in range(8)))
    """
)


@pytest.mark.redis
def test_four_worker_processes_share_one_limit(redis_app: Flask) -> None:
    """Four processes, eight calls each, a limit of ten: ten calls pass in all, not forty."""
    prefix = redis_app.config["RATELIMIT_KEY_PREFIX"]
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, REDIS_URL, prefix], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    allowed = [int(w.communicate(timeout=120)[0].strip().splitlines()[-1]) for w in workers]
    assert sum(allowed) == 10, allowed


def test_with_memory_storage_each_process_counts_alone_which_is_why_production_uses_redis() -> None:
    workers = [
        subprocess.run(
            [sys.executable, "-c", WORKER, "memory://", "x"], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        for _ in range(2)
    ]
    assert [int(w.stdout.strip().splitlines()[-1]) for w in workers] == [8, 8]


def test_a_storage_that_is_down_lets_calls_through(app: Flask, make_user, client: FlaskClient) -> None:
    from tracker.extensions import limiter

    app.config.update(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", API_RATE_LIMIT=1)
    limiter.init_app(app)
    _token, secret = create_token(make_user("leader"), "x", now=clock.now())
    h = {"Authorization": f"Bearer {secret}"}
    assert [client.get("/api/v1/plans", headers=h).status_code for _ in range(2)] == [200, 200]
