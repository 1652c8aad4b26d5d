"""Departments and counties as the system administrator keeps them: add, rename (old names kept and
searchable), deactivate (refused while leading an open task), merge (nothing lost)."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tracker import clock
from tracker.directory.merge import merge_departments
from tracker.directory.service import DirectoryError, deactivate_department
from tracker.extensions import db
from tracker.models import Assignment, AuditLog, CheckIn, County, Department, Task, User
from tracker.reports.service import CheckInData, save_checkin
from tracker.tasks.periods import period_for


def dept(name: str) -> Department:
    return db.session.scalar(db.select(Department).filter_by(name=name))


def task(code: str) -> Task:
    return db.session.scalar(db.select(Task).filter_by(code=code))


def report(code: str, department: Department, narrative: str) -> CheckIn:
    return save_checkin(
        task=task(code),
        department_id=department.id,
        period=period_for(date(2024, 3, 1), "quarter"),
        data=CheckInData("in_progress", 30, narrative),
        submit=True,
        now=clock.now(),
        user_id=None,
        editing_id=None,
        version_id=None,
    )


def test_admin_adds_and_renames_a_department_and_finds_it_by_its_old_name(
    mini_plan: Flask, client: FlaskClient, login
) -> None:
    login("admin")
    added = client.post("/admin/departments", data={"name": "市工业和信息化局", "kind": "bureau"})
    assert added.status_code == 302
    new = dept("市工业和信息化局")
    client.post(f"/admin/departments/{new.id}/rename", data={"name": "市工业和信息化局（市国资委）"})
    assert db.session.get(Department, new.id).name == "市工业和信息化局（市国资委）"
    found = client.get("/admin/departments?q=市工业和信息化局").get_data(as_text=True)
    assert "市工业和信息化局（市国资委）" in found
    assert "市交通运输局" not in found
    history = db.session.scalar(db.select(AuditLog).filter_by(entity="department", entity_id=new.id, field="name"))
    assert (history.old, history.new) == ("市工业和信息化局", "市工业和信息化局（市国资委）")
    duplicate = client.post(
        "/admin/departments", data={"name": "市交通运输局", "kind": "bureau"}, follow_redirects=True
    )
    assert "已有同名" in duplicate.get_data(as_text=True)


def test_deactivation_lists_open_duties_and_is_refused_while_leading_an_open_task(
    mini_plan: Flask, client: FlaskClient, login
) -> None:
    login("admin")
    lead = dept("市交通运输局")
    page = client.get(f"/admin/departments/{lead.id}").get_data(as_text=True)
    assert "交通" in page and "牵头" in page  # its duties are listed before anything is done
    refused = client.post(f"/admin/departments/{lead.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "仍牵头" in refused.get_data(as_text=True)
    assert dept("市交通运输局").active is True
    support = dept("市生态环境局")
    client.post(f"/admin/departments/{support.id}/active", data={"active": "0"})
    assert dept("市生态环境局").active is False


def test_merging_keeps_the_stronger_role_and_both_reports(mini_plan: Flask, login) -> None:
    admin = login("admin")
    survivor, merged = dept("市交通运输局"), dept("市生态环境局")
    ours = report("3.1", survivor, "交通局的报告")
    theirs = report("3.1", merged, "生态环境局的报告")
    staff = User(email="s@x.cn", password_hash="-", role="staff", department_id=merged.id, created_at=clock.now())
    db.session.add(staff)
    merged.contact_emails = "hb@x.cn"
    db.session.commit()

    result = merge_departments(merged, survivor, now=clock.now(), user_id=admin.id)

    assert result.combined_roles == ["3.1"] and result.reports == 1
    [role] = db.session.scalars(db.select(Assignment).filter_by(task_id=task("3.1").id, department_id=survivor.id))
    assert role.role == "lead" and "市生态环境局（配合）" in role.note
    both = db.session.scalars(db.select(CheckIn).filter_by(task_id=task("3.1").id, department_id=survivor.id)).all()
    assert {c.id for c in both} == {ours.id, theirs.id}
    assert db.session.get(CheckIn, theirs.id).original_department.name == "市生态环境局"
    assert db.session.get(CheckIn, ours.id).original_department_id is None
    assert db.session.get(User, staff.id).department_id == survivor.id
    assert "hb@x.cn" in dept("市交通运输局").emails
    gone = dept("市生态环境局")
    assert (gone.active, gone.merged_into_id) == (False, survivor.id)
    assert db.session.scalar(db.select(AuditLog).filter_by(action="merge", entity="department")) is not None


def test_merging_moves_a_role_the_survivor_does_not_hold(mini_plan: Flask, client: FlaskClient, login) -> None:
    login("admin")
    jia, yi = dept("甲县人民政府"), dept("乙区人民政府")
    response = client.post(f"/admin/departments/{jia.id}/merge", data={"into": str(yi.id)}, follow_redirects=True)
    assert "已将 甲县人民政府 合并到 乙区人民政府" in response.get_data(as_text=True)
    roles = {a.task.code: a.role for a in db.session.scalars(db.select(Assignment).filter_by(department_id=yi.id))}
    assert roles == {"3.1": "implementing", "4.1": "implementing"}


def test_merge_is_refused_for_a_closed_plan(mini_plan: Flask, login) -> None:
    admin = login("admin")
    plan = task("3.1").plan
    plan.closed_at = clock.now()  # closed (tracker.leadership.closing sets it after the final assessment)
    db.session.commit()
    with pytest.raises(DirectoryError, match="已关闭"):
        merge_departments(dept("市生态环境局"), dept("市交通运输局"), now=clock.now(), user_id=admin.id)
    assert dept("市生态环境局").active


def test_deactivate_service_names_the_tasks_it_leads(mini_plan: Flask, login) -> None:
    admin = login("admin")
    try:
        deactivate_department(dept("市发展改革委"), now=clock.now(), user_id=admin.id)
    except DirectoryError as exc:
        assert "3.1" in str(exc) and "4.1" in str(exc)
    else:
        raise AssertionError("a lead department was deactivated")


def test_admin_adds_renames_and_deactivates_counties(mini_plan: Flask, client: FlaskClient, login) -> None:
    login("admin")
    client.post("/admin/counties", data={"name": "丙县", "kind": "county"})
    bing = db.session.scalar(db.select(County).filter_by(name="丙县"))
    client.post(f"/admin/counties/{bing.id}", data={"name": "丙市"})
    assert db.session.get(County, bing.id).name == "丙市"
    client.post(f"/admin/counties/{bing.id}", data={"active": "0"})
    assert db.session.get(County, bing.id).active is False
    jia = db.session.scalar(db.select(County).filter_by(name="甲县"))
    refused = client.post(f"/admin/counties/{jia.id}", data={"active": "0"}, follow_redirects=True)
    assert "甲县人民政府" in refused.get_data(as_text=True) and db.session.get(County, jia.id).active


def test_a_merged_report_shows_its_original_department_on_the_task_page(
    mini_plan: Flask, client: FlaskClient, login
) -> None:
    admin = login("admin")
    report("3.1", dept("市生态环境局"), "生态环境局的报告")
    merge_departments(dept("市生态环境局"), dept("市交通运输局"), now=clock.now(), user_id=admin.id)
    page = client.get("/tasks/3.1").get_data(as_text=True)
    assert "（原 市生态环境局）" in page
