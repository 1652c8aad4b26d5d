"""Leaders' portfolios (分管): set by an administrator; the leader's dashboard and weekly digest start
with the tasks of the departments they oversee."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tracker import clock
from tracker.extensions import db
from tracker.leadership import portfolio
from tracker.models import AuditLog, LeaderPortfolio, OutboxMessage
from tracker.reminders import service as reminders
from tracker.tasks import state as task_state
from tracker.tasks.queries import current_plan

from .conftest import PASSWORD, dept_by_name

SHJ = "市生态环境局"


def _as(client: FlaskClient, user) -> None:  # type: ignore[no-untyped-def]
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def test_admin_sets_a_portfolio_and_the_dashboard_starts_with_it(seeded: Flask, client: FlaskClient, make_user) -> None:
    admin = make_user("admin")
    leader = make_user("leader")
    staff = make_user("staff", SHJ)
    shj = dept_by_name(SHJ)
    _as(client, admin)
    assert client.get(f"/admin/users/{staff.id}/portfolio").status_code == 404  # leaders only
    assert "分管单位" in client.get("/admin/users").get_data(as_text=True)
    page = client.get(f"/admin/users/{leader.id}/portfolio")
    assert page.status_code == 200 and SHJ in page.get_data(as_text=True)
    bad = client.post(f"/admin/users/{leader.id}/portfolio", data={"department_id": ["999999"]})
    assert bad.status_code == 200 and "没有这个单位" in bad.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(LeaderPortfolio)) == 0
    assert client.post(f"/admin/users/{leader.id}/portfolio", data={"department_id": [str(shj.id)]}).status_code == 302
    assert portfolio.department_ids(leader.id) == [shj.id]
    assert db.session.scalar(db.select(AuditLog).filter_by(action="portfolio_add", entity_id=leader.id)) is not None

    _as(client, leader)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "我分管的单位：市生态环境局" in html
    assert html.index("我分管的单位") < html.index("逾期与预警措施")
    snap = task_state.load(current_plan(clock.today()), today=clock.today(), rule=task_state.light_rule({}))
    mine = portfolio.portfolio_of(snap, [shj.id])
    assert mine is not None and mine.tasks
    assert all(
        any(a.department_id == shj.id and a.role in {"lead", "responsible"} for a in st.task.assignments)
        for st in mine.tasks
    )
    lights = [st.light for st in mine.tasks]
    assert lights == sorted(lights, key=portfolio.LIGHT_ORDER.__getitem__)
    block = html[html.index("我分管的单位") : html.index("逾期与预警措施")]
    positions = [block.index(f'/tasks/{st.task.code}"') for st in mine.tasks]
    assert positions == sorted(positions)  # the page shows them in that order

    _as(client, make_user("leader"))  # a leader without a portfolio sees no such block
    assert "我分管的单位" not in client.get("/dashboard").get_data(as_text=True)


def test_the_leader_digest_starts_with_the_portfolio(seeded: Flask, make_user) -> None:
    leader = make_user("leader", email="leader-a@test.local")
    make_user("leader", email="leader-b@test.local")
    admin = make_user("admin")
    shj = dept_by_name(SHJ)
    portfolio.set_portfolio(leader, [shj.id], now=clock.now(), by=admin)
    seeded.config["TRACKER_NOW"] = clock.parse_instant("2025-12-24T09:00")  # a working day, tasks due soon
    reminders.sweep(clock.now(), kinds={"leader"})
    messages = db.session.scalars(db.select(OutboxMessage).filter_by(kind="leader_digest")).all()
    mine = [m for m in messages if "leader-a@test.local" in m.recipients]
    others = [m for m in messages if "leader-b@test.local" in m.recipients]
    assert len(mine) == 1 and len(others) == 1 and mine[0].id != others[0].id
    text = mine[0].body_text
    assert "【分管单位：市生态环境局】" in text and "分管单位" not in others[0].body_text
    assert text.index("分管单位") < text.index("在办任务")
    # the portfolio's lines are tasks its departments answer for
    rows = [r for r in text.splitlines() if r.startswith(("逾期：", "30 天内到期："))]
    assert rows
    reminders.sweep(clock.now(), kinds={"leader"})  # once a week, exactly once
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage).filter_by(kind="leader_digest")) == 2
