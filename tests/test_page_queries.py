"""我的任务 (/my) and a task page run a fixed number of queries whatever the plan's size (no N+1).

Counted with the page cache off: a cached answer runs next to none, which would prove nothing here.
"""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.synthetic import make_plan
from tracker.extensions import db
from tracker.models import Plan

from .conftest import PASSWORD, count_queries


def _counts(client: FlaskClient, make_user, key: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    staff = make_user("staff", f"{key}合成部门0")
    client.post("/logout")
    assert client.post("/login", data={"email": staff.email, "password": PASSWORD}).status_code == 302
    out = {}
    # The department leads S0 and supports the sub-task S19, and has no part in S2, in both plans.
    for url in ["/my", "/tasks/S0", "/tasks/S2", "/tasks/S19"]:
        db.session.expire_all()
        with count_queries() as statements:
            response = client.get(url)
        assert response.status_code == 200, url
        out[url] = len(statements)
    return out


def test_my_tasks_and_a_task_page_do_not_grow_with_the_plan(app, client: FlaskClient, make_user) -> None:
    app.config["CACHE_ENABLED"] = False
    make_plan(20, 5, key="small")
    small = _counts(client, make_user, "small")
    make_plan(600, 40, key="big")
    small_plan = db.session.scalar(db.select(Plan).filter_by(key="small"))
    small_plan.start = small_plan.start.replace(year=2020)  # the big plan is now the current one
    db.session.commit()
    big = _counts(client, make_user, "big")
    assert "合成措施 2" in client.get("/tasks/S2").get_data(as_text=True)
    assert big == small, (small, big)
