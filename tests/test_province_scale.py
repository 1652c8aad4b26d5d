"""Province scale: the matrix's summary, filters and pages, the paged task list and review queue.

The fast tests run the paging and filter logic on the seeded plan (21 tasks × 36 departments) with
small page sizes; the one marked ``province`` renders the pages of a 20,000-task plan (400
departments, 150 counties) and checks that they page correctly and stay under 1 MB. Nothing is timed
(``bench/province.py`` measures).
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.synthetic import make_plan
from tracker import clock
from tracker.extensions import db
from tracker.leadership.matrix import Filters, build_matrix
from tracker.models import County, Department
from tracker.tasks import state as task_state
from tracker.tasks.queries import current_plan, tasks_by_section, tasks_page

from .conftest import dept_by_name

MB = 1024 * 1024


def _snapshot(app: Flask) -> task_state.PlanState:
    rule = task_state.light_rule(app.config["LIGHT_RULE"])
    return task_state.load(current_plan(clock.today()), today=clock.today(), rule=rule)


def _counties() -> dict[int, str]:
    return {c.id: c.name for c in db.session.scalars(db.select(County))}


def test_filters_read_the_page_and_keep_it_out_of_filter_links() -> None:
    f = Filters.from_args({"section": "4", "light": "red", "page": "3", "role": "boss"})
    assert (f.section, f.light, f.page, f.role) == (4, "red", 3, None)
    assert f.query() == {"section": 4, "light": "red"} and f.paged() == {"section": 4, "light": "red", "page": 3}
    assert Filters.from_args({"page": "0"}).page == 1 and Filters.from_args({"page": "-2"}).page == 1
    assert not Filters.from_args({"page": "7"}).narrowed


def test_a_large_plan_opens_on_the_summary_whose_counts_add_up(seeded: Flask) -> None:
    snap = _snapshot(seeded)
    m = build_matrix(snap, Filters(), _counties(), summary_above=5)
    assert m.summary is not None and m.sections == []
    lights = {k: sum(1 for st in snap.states if st.light == k) for k in ("red", "yellow", "green")}
    assert m.summary.total.counts == lights and m.summary.total.total == 21
    assert sum(r.total for r in m.summary.sections) == 21
    assert [r.query for r in m.summary.sections] == [{"section": s.number} for s in snap.sections]
    assert m.summary.counties and all(set(r.query) == {"county"} for r in m.summary.counties)
    # the seeded plan's own size keeps the whole matrix on one page
    whole = build_matrix(snap, Filters(), _counties())
    assert whole.summary is None and whole.pages == 1 and len(whole.rows) == 21 and len(whole.columns) == 36


def test_rows_come_a_page_at_a_time_with_only_the_departments_they_involve(seeded: Flask) -> None:
    snap = _snapshot(seeded)
    pages = [
        build_matrix(snap, Filters(section=3, page=n), _counties(), page_size=4, narrow_above=10) for n in (1, 2, 3, 99)
    ]
    in_section = [st.task.code for s, states in snap.by_section() if s.number == 3 for st in states]
    assert pages[0].pages == -(-len(in_section) // 4) and pages[0].total_rows == len(in_section)
    seen = [r.state.task.code for m in pages[: pages[0].pages] for r in m.rows]
    assert seen == in_section[: len(seen)] and len(set(seen)) == len(seen)
    assert pages[-1].page == pages[0].pages  # a page past the end shows the last one
    for m in pages:
        involved = {a.department_id for r in m.rows for a in r.state.task.assignments}
        assert {c.department.id for c in m.columns} == involved
        assert all(len(r.cells) == len(m.columns) for r in m.rows)


def test_the_county_filter_keeps_the_tasks_its_county_works_on(seeded: Flask) -> None:
    snap = _snapshot(seeded)
    county = dept_by_name("滑县人民政府")
    m = build_matrix(snap, Filters(county=county.county_id), _counties())
    assert m.rows and all(any(a.department_id == county.id for a in r.state.task.assignments) for r in m.rows)
    assert len(m.rows) < 21
    assert [c.department.name for g in m.groups if g.kind == "county" for c in g.columns] == ["滑县人民政府"]


def test_the_task_list_pages_in_list_order(seeded: Flask) -> None:
    plan = current_plan(clock.today())
    order = [t.code for s in tasks_by_section(plan) for t in s.tasks]
    pages = [tasks_page(plan, n, 5) for n in range(1, 6)]
    assert [p.pages for p in pages] == [5] * 5 and pages[0].total == 21
    assert [t.code for p in pages for s in p.sections for t in s.tasks] == order
    assert all(t.assignments for s in pages[1].sections for t in s.tasks)  # loaded with the page


def test_matrix_and_task_pages_link_to_their_other_pages(seeded: Flask, client: FlaskClient, login) -> None:
    login("leader")
    page = client.get("/tasks").get_data(as_text=True)
    assert 'class="pager"' not in page and page.count('<tr class="subtask"') + page.count("<tr>\n") > 0
    matrix = client.get("/matrix?page=5").get_data(as_text=True)  # one page: the page number changes nothing
    assert matrix.count('<tr id="t') == 21 and 'class="pager"' not in matrix


def test_targets_page_across_their_groups_in_order(seeded: Flask) -> None:
    from tracker.leadership.targets import grouped, load_targets, page_of_groups

    groups = grouped(load_targets(current_plan(clock.today())), ["city", "sector", "task"])
    order = [r.target.id for _, _, rows in groups for r in rows]
    pages = [page_of_groups(groups, n, 7) for n in range(1, 30)]
    count = pages[0][2]
    assert count == -(-len(order) // 7) and pages[-1][1] == count  # past the end: the last page
    assert [r.target.id for shown, _, _ in pages[:count] for _, _, rows in shown for r in rows] == order
    whole, page, one = page_of_groups(groups, 1, 10_000)
    assert (page, one) == (1, 1) and [k for k, _, _ in whole] == ["city", "sector", "task"]


def _pages_of(html: str) -> tuple[int, int]:
    found = re.search(r"第 (\d+) / (\d+) 页", html)
    assert found, "no pager"
    return int(found.group(1)), int(found.group(2))


@pytest.mark.province
def test_province_pages_are_bounded_and_page_correctly(app: Flask, client: FlaskClient, login) -> None:
    make_plan(20_000, 400, key="province", counties=150, sections=5)
    login("leader")
    summary = client.get("/matrix")
    html = summary.get_data(as_text=True)
    assert summary.status_code == 200 and len(summary.data) < MB
    assert '<tr id="t' not in html and "各部分措施预警" in html and "红灯最多的县区" in html
    # a leader drills down: a county's red tasks (each request loads the whole plan's state: kept few)
    county = re.search(r'href="/matrix\?county=(\d+)"', html)
    assert county
    cid = int(county.group(1))
    drill = client.get(f"/matrix?county={cid}&light=red")
    html = drill.get_data(as_text=True)
    assert drill.status_code == 200 and len(drill.data) < MB
    rows = html.count('<tr id="t')
    assert 0 < rows <= 50
    assert html.count('<td class="col-light"><span class="light light-red"') == rows  # every row red
    # every row is that county's: its government's column is the only county column, and each row has a role in it
    (government,) = db.session.scalars(db.select(Department.id).filter_by(county_id=cid))
    assert f'id="d{government}"' in html and html.count('class="group group-county"') == 1
    # a section pages 50 rows at a time, in list order: section 三 holds S0, S5, S10 …, so page 2 is S250 … S495
    second = client.get("/matrix?section=3&page=2").get_data(as_text=True)
    assert _pages_of(second) == (2, 80) and len(second.encode()) < MB
    assert re.findall(r'<tr id="t([^"]+)"', second) == [f"S{i}" for i in range(250, 500, 5)]
    assert re.search(r'rel="next" href="/matrix\?[^"]*page=3', second)
    assert re.search(r'rel="prev" href="/matrix\?[^"]*page=1', second)
    # the task list: 100 a page, 200 pages
    tasks = client.get("/tasks?page=2")
    html = tasks.get_data(as_text=True)
    assert len(tasks.data) < MB and _pages_of(html) == (2, 200) and "共 20000 项措施" in html
    assert html.count('href="/tasks/S') == 100
    targets = client.get("/targets?page=2").get_data(as_text=True)
    assert _pages_of(targets) == (2, 10) and len(targets.encode()) < MB  # 2,000 targets, 200 a page
    for url in ("/dashboard", "/reviews"):
        response = client.get(url)
        assert response.status_code == 200 and len(response.data) < MB, url
