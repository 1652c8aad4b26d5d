"""The matrix, the dashboard, the targets page and the task list run a fixed number of queries."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.synthetic import make_plan
from tracker.extensions import db
from tracker.models import Plan

from .conftest import count_queries

PAGES = [
    "/matrix",
    "/matrix?section=3&page=2",
    "/dashboard",
    "/tasks",
    "/targets",
    "/matrix.xlsx?section=3",
    "/matrix.csv",
]


def _queries_per_page(client: FlaskClient) -> dict[str, int]:
    out = {}
    for url in PAGES:
        with count_queries() as statements:
            response = client.get(url)
        assert response.status_code == 200, url
        out[url] = len(statements)
    return out


def test_query_counts_do_not_grow_with_tasks_and_departments(app, client: FlaskClient, login) -> None:
    login("leader")
    make_plan(20, 5, key="small")
    small = _queries_per_page(client)
    # the same pages on a plan 100 times larger, made the current plan
    big_plan = make_plan(2000, 100, key="big")
    small_plan = db.session.scalar(db.select(Plan).filter_by(key="small"))
    small_plan.start = small_plan.start.replace(year=2020)  # the big one is now the current plan
    db.session.commit()
    assert big_plan.start > small_plan.start
    big = _queries_per_page(client)
    page = client.get("/matrix").get_data(as_text=True)
    assert '<tr id="t' not in page and "各部分措施预警" in page  # a large plan opens on the summary
    assert client.get("/matrix?light=green").get_data(as_text=True).count('<tr id="t') == 50  # one page
    assert client.get("/matrix.csv").data.decode("utf-8-sig").count("\n") == 1 + 2000  # exports: every row
    assert big == small, (small, big)
