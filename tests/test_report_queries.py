"""List pages run a fixed number of queries, however many reports there are (no N+1)."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient

from tracker import clock
from tracker.extensions import db
from tracker.models import Assignment, Department, Task
from tracker.reports.service import CheckInData, save_checkin
from tracker.tasks.periods import period_for

from .conftest import count_queries


def _submit_reports(department: str, limit: int, offset: int = 0) -> None:
    dept = db.session.scalar(db.select(Department).filter_by(name=department))
    assert dept is not None
    tasks = db.session.scalars(
        db.select(Task)
        .join(Assignment)
        .where(Assignment.department_id == dept.id)
        .order_by(Task.id)
        .offset(offset)
        .limit(limit)
    ).all()
    for task in tasks:
        save_checkin(
            task=task,
            department_id=dept.id,
            period=period_for(date(2024, 6, 3), task.reporting_cycle),
            data=CheckInData("in_progress", 20, "进展"),
            submit=True,
            now=clock.now(),
            user_id=None,
            editing_id=None,
            version_id=None,
        )


def _queries(client: FlaskClient, url: str) -> int:
    """The statements of one request, the plan state built afresh (a kept state brought up to date
    after the writes between two counts reads fewer: like is compared with like)."""
    from tracker.tasks import state

    db.session.expire_all()
    state.forget()
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_review_queue_department_home_and_task_page_do_not_grow_with_reports(seeded, client, login) -> None:
    login("staff", "市发展改革委")
    _submit_reports("市发展改革委", 2)
    few = {url: _queries(client, url) for url in ["/my", "/tasks/3.1"]}
    _submit_reports("林州市人民政府", 10)
    _submit_reports("市生态环境局", 10)
    _submit_reports("市发展改革委", 12, offset=2)
    many = {url: _queries(client, url) for url in ["/my", "/tasks/3.1"]}
    assert many == few

    client.post("/logout")
    login("coordinator", "市发展改革委")
    before = _queries(client, "/reviews")
    _submit_reports("市工业和信息化局", 8)
    assert _queries(client, "/reviews") == before
