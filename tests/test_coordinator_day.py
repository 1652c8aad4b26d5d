"""The coordinator's day: who does what on a task, the review queue and bulk approval, the review page,
and separation of duties (a coordinator does not review their own department's report)."""

from __future__ import annotations

from datetime import date

import pytest

from tracker import clock
from tracker.extensions import db
from tracker.models import Assignment, Attachment, AuditLog, CheckIn, Target
from tracker.plans.loader import load_plan
from tracker.plans.schema import read_plan_file
from tracker.reports import review_queue
from tracker.reports.assignments import remove_assignment, replace_assignment
from tracker.reports.bulk import approve_reports
from tracker.reports.consolidated import LineInput, review_report, save_report
from tracker.reports.service import (
    CheckInData,
    OwnDepartmentReview,
    ReportError,
    ValueInput,
    decide_extension,
    request_extension,
    review_checkin,
    save_checkin,
)
from tracker.tasks.periods import parse_period

from .conftest import DATA, dept_by_name, task_by_code

NOW = "2026-07-06T10:00:00+08:00"


def _submit(code: str, department: str, period: str, narrative: str = "进展", values=()) -> CheckIn:  # type: ignore[no-untyped-def]
    task = task_by_code(code)
    return save_checkin(
        task=task,
        department_id=dept_by_name(department).id,
        period=parse_period(period),
        data=CheckInData("in_progress", 30, narrative, values=list(values)),
        submit=True,
        now=clock.now(),
        user_id=None,
        editing_id=None,
        version_id=None,
    )


def _target(key: str) -> Target:
    target = db.session.scalar(db.select(Target).filter_by(key=key))
    assert target is not None
    return target


@pytest.fixture
def day(mini_plan):  # type: ignore[no-untyped-def]
    mini_plan.config["TRACKER_NOW"] = NOW
    return mini_plan


# --- separation of duties ------------------------------------------------------------------------


def test_a_coordinator_does_not_approve_their_own_departments_report_anywhere(day, make_user, bearer, client) -> None:
    own = _submit("3.1", "市交通运输局", "2026Q2")
    transport_coordinator = make_user("coordinator", "市交通运输局")
    with pytest.raises(OwnDepartmentReview, match="本单位报告，需由其他协调员审核"):
        review_checkin(
            checkin_id=own.id, decision="approve", comment="", now=clock.now(), user_id=transport_coordinator.id,
            version_id=None,
        )  # fmt: skip
    db.session.rollback()
    with pytest.raises(ReportError, match="本单位报告"):
        approve_reports(versions={own.id: None}, comment="", now=clock.now(), user_id=transport_coordinator.id)
    # the API refuses it as a permission matter
    api = client.post(
        f"/api/v1/checkins/{own.id}/review", json={"decision": "approve"}, headers=bearer("coordinator", "市交通运输局")
    )
    assert api.status_code == 403 and "本单位报告" in api.get_data(as_text=True)
    assert db.session.get(CheckIn, own.id).state == "submitted"  # type: ignore[union-attr]

    # the web: the queue says so and offers no box; the review page has no decision form
    client.post("/login", data={"email": transport_coordinator.email, "password": "password-123"})
    queue = client.get("/reviews").get_data(as_text=True)
    assert "本单位报告，需由其他协调员审核" in queue and f'name="ids" value="{own.id}"' not in queue
    page = client.get(f"/reviews/{own.id}").get_data(as_text=True)
    assert "本单位报告，需由其他协调员审核" in page and 'name="decision"' not in page
    posted = client.post(f"/reviews/{own.id}", data={"decision": "approve"})
    assert posted.status_code == 400 and db.session.get(CheckIn, own.id).state == "submitted"  # type: ignore[union-attr]

    # another coordinator, or an administrator, may
    admin = make_user("admin")
    review_checkin(
        checkin_id=own.id, decision="approve", comment="", now=clock.now(), user_id=admin.id, version_id=None
    )
    assert db.session.get(CheckIn, own.id).state == "approved"  # type: ignore[union-attr]


def test_a_countys_consolidated_report_follows_the_same_rule_and_a_plan_may_turn_it_off(
    day, make_user, client, login
) -> None:
    task = task_by_code("4.1")
    county = dept_by_name("乙区人民政府")
    report = save_report(
        plan=task.plan, department_id=county.id, period=parse_period("2026Q2"),
        lines=[LineInput(task.id, "in_progress", "落实")], submit=True, now=clock.now(), user_id=None,
        editing_id=None, version_id=None,
    )  # fmt: skip
    own = make_user("coordinator", "乙区人民政府")
    with pytest.raises(OwnDepartmentReview):
        review_report(report_id=report.id, decision="approve", comment="", now=clock.now(), user_id=own.id,
                      version_id=None)  # fmt: skip
    db.session.rollback()
    other = make_user("coordinator", "市发展改革委")
    review_report(report_id=report.id, decision="approve", comment="", now=clock.now(), user_id=other.id,
                  version_id=None)  # fmt: skip
    assert report.state == "approved"

    # the plan may turn the rule off (it is on by default)
    own_report = _submit("3.1", "市交通运输局", "2026Q2")
    assert task.plan.separate_review is True
    login("admin")  # an administrator turns it off on the plan settings page, recorded in the history
    assert "审核回避" in client.get("/admin/plans").get_data(as_text=True)
    response = client.post(f"/admin/plans/{task.plan_id}/separation", data={"on": "0"})
    assert response.status_code == 302
    db.session.expire_all()
    assert task.plan.separate_review is False
    assert db.session.scalar(db.select(AuditLog).filter_by(entity="plan", entity_id=task.plan_id)) is not None
    transport = make_user("coordinator", "市交通运输局")
    review_checkin(checkin_id=own_report.id, decision="approve", comment="", now=clock.now(), user_id=transport.id,
                   version_id=None)  # fmt: skip
    assert own_report.state == "approved"


# --- the review page -----------------------------------------------------------------------------


def test_the_decision_has_no_default_and_a_return_needs_a_comment_the_author_then_sees(day, client, login) -> None:
    staff = login("staff", "市交通运输局")
    sent = client.post(
        "/tasks/3.1/report?period=2026Q2",
        data={"status": "in_progress", "percent": "40", "narrative": "第一稿", "action": "submit"},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    checkin = db.session.scalar(db.select(CheckIn).filter_by(author_id=staff.id))
    assert checkin is not None
    client.post("/logout")
    login("coordinator", "市发展改革委")
    page = client.get(f"/reviews/{checkin.id}").get_data(as_text=True)
    assert 'type="radio"' in page and "checked" not in page
    none = client.post(f"/reviews/{checkin.id}", data={"comment": "看过"})
    assert none.status_code == 400 and "请选择通过或退回" in none.get_data(as_text=True)
    bare = client.post(f"/reviews/{checkin.id}", data={"decision": "return"})
    assert bare.status_code == 400 and "退回时请填写意见" in bare.get_data(as_text=True)
    assert (
        client.post(f"/reviews/{checkin.id}", data={"decision": "return", "comment": "请补充数据来源"}).status_code
        == 302
    )
    client.post("/logout")
    login("staff", "市交通运输局")
    form = client.get("/tasks/3.1/report?period=2026Q2").get_data(as_text=True)
    top = form.index("return-comment")
    assert "请补充数据来源" in form[top : form.index('enctype="multipart/form-data"')]


def test_the_review_page_shows_targets_against_values_and_the_previous_report(day, client, login) -> None:
    bus = _target("3.1-bus")
    _submit("3.1", "市交通运输局", "2026Q1", "上一季度的进展", [ValueInput(bus.id, 40, "市交通局统计")])
    db.session.scalar(db.select(CheckIn).filter_by(period="2026Q1")).state = "approved"  # type: ignore[union-attr]
    db.session.commit()
    current = _submit("3.1", "市交通运输局", "2026Q2", "本季度的进展", [ValueInput(bus.id, 60, "市交通局统计")])
    login("coordinator", "市发展改革委")
    page = client.get(f"/reviews/{current.id}").get_data(as_text=True)
    table = page[page.index("目标与本期报送值") :]
    assert "新能源公交车占比" in table and "≥ 100" in table and "60 %" in table and "40 %" in table
    assert "绿色枢纽" in table and "未报" in table  # a target not reported this time is shown, not dropped
    assert "本单位上期报告" in page and "上一季度的进展" in page[page.index("本单位上期报告") :]


# --- the queue and bulk approval -----------------------------------------------------------------


def test_the_queue_filters_sorts_and_pages(day, client, login, monkeypatch) -> None:
    a = _submit("3.1", "市交通运输局", "2026Q2", "甲")
    b = _submit("3.1", "市发展改革委", "2026Q1", "乙")
    c = _submit("4.1", "市发展改革委", "2026Q2", "丙")
    login("coordinator", "市生态环境局")

    def ids(**args: str) -> list[int]:
        f = review_queue.QueueFilter(
            section_id=int(args["section"]) if "section" in args else None,
            department_id=int(args["department"]) if "department" in args else None,
            period=args.get("period", ""),
            state=args.get("state", "submitted"),
            sort=args.get("sort", "submitted"),
            page=int(args.get("page", "1")),
        )
        return [x.id for x in review_queue.queue_page(f).checkins]

    assert ids() == [a.id, b.id, c.id]
    assert ids(department=str(dept_by_name("市发展改革委").id)) == [b.id, c.id]
    assert ids(period="2026Q2", sort="newest") == [c.id, a.id]
    assert ids(section=str(task_by_code("4.1").section_id)) == [c.id]
    assert ids(sort="period") == [a.id, c.id, b.id]
    assert ids(state="approved") == []
    monkeypatch.setattr(review_queue, "PAGE_SIZE", 2)
    assert ids(page="2") == [c.id] and ids(page="99") == [c.id]  # past the end: the last page
    page = client.get(f"/reviews?department={dept_by_name('市发展改革委').id}&page=2").get_data(as_text=True)
    assert "第 1 / 1 页" not in page and "进展报告（2）" in page
    bad = client.get("/reviews?state=nonsense&sort=x&page=abc&section=zz")
    assert bad.status_code == 200  # unknown values fall back to the defaults


def test_bulk_approval_shows_each_report_in_full_before_one_confirm(day, client, login, tmp_path) -> None:
    bus = _target("3.1-bus")
    a = _submit("3.1", "市交通运输局", "2026Q2", "公交更新 120 辆", [ValueInput(bus.id, 60, "市交通局统计")])
    b = _submit("4.1", "市发展改革委", "2026Q2", "能耗监测平台上线")
    db.session.add(
        Attachment(checkin_id=a.id, filename="验收单.pdf", stored_name="x.pdf", content_type="application/pdf",
                   size=2048, sha256="0" * 64, created_at=clock.now())
    )  # fmt: skip
    db.session.commit()
    login("coordinator", "市生态环境局")
    queue = client.get("/reviews").get_data(as_text=True)
    assert f'name="ids" value="{a.id}"' in queue and f'name="ids" value="{b.id}"' in queue
    confirm = client.get(f"/reviews/bulk?ids={a.id}&ids={b.id}")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    for text in ("公交更新 120 辆", "能耗监测平台上线", "新能源公交车占比", "60 %", "≥ 100", "验收单.pdf"):
        assert text in page, text
    assert db.session.get(CheckIn, a.id).state == "submitted"  # type: ignore[union-attr]  # reading approves nothing
    form = {"ids": [str(a.id), str(b.id)], f"version-{a.id}": str(a.version_id), f"version-{b.id}": str(b.version_id)}
    unconfirmed = client.post("/reviews/bulk", data=form)
    assert unconfirmed.status_code == 400 and "请确认已阅读" in unconfirmed.get_data(as_text=True)
    done = client.post("/reviews/bulk", data={**form, "confirm": "yes"})
    assert done.status_code == 302
    db.session.expire_all()
    assert {db.session.get(CheckIn, i).state for i in (a.id, b.id)} == {"approved"}  # type: ignore[union-attr]
    draft = save_checkin(
        task=task_by_code("3.1"), department_id=dept_by_name("市交通运输局").id, period=parse_period("2026Q3"),
        data=CheckInData("in_progress", 50, "尚未提交的草稿"), submit=False, now=clock.now(), user_id=None,
        editing_id=None, version_id=None,
    )  # fmt: skip
    shown = client.get(f"/reviews/bulk?ids={draft.id}")  # a draft is not shown to coordinators
    assert shown.status_code == 302 and "尚未提交的草稿" not in shown.get_data(as_text=True)
    again = client.post("/reviews/bulk", data={**form, "confirm": "yes"})
    assert again.status_code == 409  # decided meanwhile: nothing done twice


def test_bulk_approval_is_all_or_nothing(day, make_user) -> None:
    a = _submit("3.1", "市发展改革委", "2026Q2")
    b = _submit("3.1", "市交通运输局", "2026Q2")
    coordinator = make_user("coordinator", "市交通运输局")
    with pytest.raises(ReportError, match="市交通运输局"):
        approve_reports(versions={a.id: None, b.id: None}, comment="", now=clock.now(), user_id=coordinator.id)
    db.session.expire_all()
    assert {db.session.get(CheckIn, i).state for i in (a.id, b.id)} == {"submitted"}  # type: ignore[union-attr]


# --- who does what on a task ---------------------------------------------------------------------


def test_a_coordinator_replaces_and_removes_departments_with_history(day, client, login) -> None:
    coordinator = login("coordinator", "市发展改革委")
    task = task_by_code("3.1")
    support = next(a for a in task.assignments if a.department.name == "市生态环境局")
    page = client.get(f"/assignments/{support.id}/change").get_data(as_text=True)
    assert "替换" in page and "移除" in page
    replaced = client.post(
        f"/assignments/{support.id}/change",
        data={"action": "replace", "department_id": str(dept_by_name("人行测试市中心支行").id), "version_id": "1"},
    )
    assert replaced.status_code == 302
    db.session.expire_all()
    task = task_by_code("3.1")
    new = next(a for a in task.assignments if a.department.name == "人行测试市中心支行")
    assert new.role == "support" and new.acknowledged_at is None
    assert all(a.department.name != "市生态环境局" for a in task.assignments)

    # a department with reports on the task stays: the reason is shown
    lead = next(a for a in task.assignments if a.department.name == "市交通运输局")
    _submit("3.1", "市交通运输局", "2026Q2")
    refused = client.get(f"/assignments/{lead.id}/change").get_data(as_text=True)
    assert "已就本任务报送了 1 份报告" in refused and 'value="replace"' not in refused
    posted = client.post(
        f"/assignments/{lead.id}/change", data={"action": "remove", "version_id": str(lead.version_id)}
    )
    assert posted.status_code == 400 and db.session.get(Assignment, lead.id) is not None

    county = next(a for a in task.assignments if a.department.name == "甲县人民政府")
    assert (
        client.post(
            f"/assignments/{county.id}/change", data={"action": "remove", "version_id": str(county.version_id)}
        ).status_code
        == 302
    )

    history = client.get("/tasks/3.1").get_data(as_text=True)
    table = history[history.index("变更历史") :]
    who = coordinator.name or coordinator.email
    assert "替换责任单位" in table and "市生态环境局 · 配合" in table and "人行测试市中心支行 · 配合" in table
    assert "移除责任单位" in table and "甲县人民政府 · 落实" in table and who in table
    for internal in ("original_due", "role_text", "replace_party", "remove_party", "parent_id"):
        assert internal not in table

    # in English too: labels, never the program's names
    client.post("/language", data={"locale": "en"})
    newcomer = next(a for a in task_by_code("3.1").assignments if a.department.name == "人行测试市中心支行")
    client.post(f"/assignments/{newcomer.id}", data={"role": "lead", "role_text": "牵头", "note": "",
                                                     "version_id": str(newcomer.version_id)})  # fmt: skip
    table = client.get("/tasks/3.1").get_data(as_text=True).split('<table class="history">')[1]
    assert "Assignments · 人行测试市中心支行" in table and "Department replaced" in table and "Role" in table
    assert "Support" in table and "Lead" in table and "role_text" not in table


def test_the_only_reporter_is_replaced_not_removed_and_a_file_does_not_remove_reporters(day) -> None:
    task = task_by_code("3.2")
    only = task.assignments[0]
    with pytest.raises(ReportError, match="唯一负责报送"):
        remove_assignment(assignment=only, version_id=only.version_id, now=clock.now(), user_id=None)
    taken = task_by_code("3.1").assignments[0].department
    with pytest.raises(ReportError, match="已在本任务"):
        replace_assignment(assignment=task_by_code("3.1").assignments[1], department_id=taken.id,
                           version_id=1, now=clock.now(), user_id=None)  # fmt: skip
    db.session.rollback()
    row = replace_assignment(
        assignment=only, department_id=dept_by_name("市生态环境局").id, version_id=only.version_id,
        now=clock.now(), user_id=None,
    )  # fmt: skip
    assert row.role == "responsible"

    # a plan file may not take off a department that has reported either
    from tracker.errors import PlanFileError

    _submit("3.1", "市交通运输局", "2026Q2")
    data = read_plan_file(DATA / "mini-plan.yaml")
    entry = next(t for t in data.tasks if t["code"] == "3.1")
    entry["departments"] = [d for d in entry["departments"] if d["name"] != "市交通运输局"]
    with pytest.raises(PlanFileError):
        load_plan(data, now=clock.now(), filename="x.xlsx")
    assert any(a.department.name == "市交通运输局" for a in task_by_code("3.1").assignments)


def test_an_extension_shows_as_an_extension_and_an_import_names_the_person_and_file(
    day, client, login, make_user
) -> None:
    task = task_by_code("3.1")
    lead = dept_by_name("市交通运输局")
    approver = make_user("coordinator", "市发展改革委")
    approver.name = "王协调"
    db.session.commit()
    row = request_extension(task=task, department_id=lead.id, reason="资金未到位", new_due=date(2031, 6, 30),
                            now=clock.now(), user_id=None)  # fmt: skip
    decide_extension(request_id=row.id, approve=True, comment="", now=clock.now(), user_id=approver.id, version_id=None)

    importer = make_user("coordinator", "市发展改革委")
    data = read_plan_file(DATA / "mini-plan.yaml")
    entry = next(t for t in data.tasks if t["code"] == "3.1")
    entry["departments"] = [d for d in entry["departments"] if d["name"] != "市生态环境局"]
    entry["due"] = date(2030, 9, 30)
    load_plan(data, now=clock.now(), user_id=importer.id, filename="任务清单-修订.xlsx")
    rows = db.session.scalars(db.select(AuditLog).filter_by(entity="task", entity_id=task.id, action="remove_party"))
    assert [(r.user_id, r.actor, r.old) for r in rows] == [
        (importer.id, "plan-file:任务清单-修订.xlsx", "市生态环境局 · 配合")
    ]

    login("leader")
    page = client.get("/tasks/3.1").get_data(as_text=True)
    table = page[page.index("变更历史") :]
    assert "延期获批准" in table and "资金未到位" in table and "王协调" in table
    assert "2030-12-31" in table and "2031-06-30" in table
    assert "计划文件导入（任务清单-修订.xlsx）" in table and "市生态环境局 · 配合" in table
    assert "原定完成时限" in table and "original_due" not in table
