"""Every mutating route, every role: allowed, 403, or sent to log in. Leaders change nothing but
write instructions (批示); a department head (单位负责人) signs off only their own department's reports.

The walk is built from ``app.url_map``: a new POST/PUT/DELETE route fails this test until it is
added to ``EXPECTED`` below with the answer each role must get.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask, g

from tracker import clock
from tracker.extensions import db
from tracker.models import (
    CheckIn,
    ConsolidatedReport,
    Contribution,
    Department,
    Dependency,
    ExtensionRequest,
    Instruction,
    InstructionAnswer,
    Target,
    Task,
    User,
)
from tracker.reports.consolidated import LineInput, save_report
from tracker.reports.service import CheckInData, request_extension, save_checkin
from tracker.tasks.periods import period_for

ROLES = [
    "anonymous",
    "staff_right",
    "staff_other",
    "head_right",  # 单位负责人 of staff_right's department
    "head_other",
    "coordinator",
    "leader",
    "admin",
    "security",
    "auditor",
]
OK, FORBIDDEN, LOGIN, UNAUTHORIZED = "allowed", "403", "login", "401"


def only(*allowed: str) -> dict[str, str]:
    """Logged-in roles in ``allowed`` may; the others get 403; anonymous is sent to log in."""
    return {r: (OK if r in allowed else LOGIN if r == "anonymous" else FORBIDDEN) for r in ROLES}


EVERYONE = dict.fromkeys(ROLES, OK)

# endpoint → (url builder, form data, expected answer per role)
Fixture = dict[str, int]
EXPECTED: dict[str, tuple[Callable[[Fixture], str], dict[str, str], dict[str, str]]] = {
    "auth.login": (lambda f: "/login", {"email": "nobody@x", "password": "x"}, EVERYONE),
    "auth.logout": (lambda f: "/logout", {}, {**EVERYONE, "anonymous": LOGIN}),
    "auth.language": (lambda f: "/language", {"locale": "zh_CN"}, EVERYONE),  # also on the login page
    "auth.password": (
        lambda f: "/password",
        {"old": "wrong", "new": "newpassword1", "confirm": "newpassword1"},
        {**EVERYONE, "anonymous": LOGIN},  # one's own password: the only thing a leader may change
    ),
    "reports.form": (
        lambda f: "/tasks/3.1/report",
        {"status": "in_progress", "percent": "10", "action": "draft"},
        only("staff_right"),
    ),
    # Coordinators review; an administrator may too (separation of duties: where a coordinator may not
    # review their own department's report, another coordinator or an administrator does).
    "reports.review": (lambda f: f"/reviews/{f['checkin']}", {"decision": "approve"}, only("coordinator", "admin")),
    "reports.bulk_approve": (
        lambda f: "/reviews/bulk",
        {"confirm": "yes"},  # nothing chosen: sent back to the queue once allowed in
        only("coordinator", "admin"),
    ),
    "reports.acknowledge_task": (lambda f: "/tasks/3.1/acknowledge", {}, only("staff_right")),
    "reports.extension": (
        lambda f: "/tasks/3.1/extension",
        {"new_due": "2031-06-30", "reason": "资金未到位"},
        only("staff_right"),
    ),
    "reports.decide": (
        lambda f: f"/extensions/{f['extension']}",
        {"decision": "reject"},
        only("coordinator", "admin"),
    ),
    "reports.breakdown": (
        lambda f: "/tasks/3.1/breakdown",
        {"code": "3.1.9", "label": "三（一）9", "title": "子任务", "due": "2027-01-01", "role-1": "lead"},
        only("staff_right"),
    ),
    # 乙区 (staff_other) implements 4.1 of the mini plan: its consolidated 落实 report; a bureau has none.
    "consolidated.form": (
        lambda f: "/consolidated/2026Q1",
        {"action": "draft"},  # a draft with no line yet: the route is what is walked
        only("staff_other"),
    ),
    # a unit's own plan-level figures: a county government's staff (its county), coordinators (the city)
    "figures.form": (lambda f: "/figures", {"period": "2026"}, only("staff_other", "coordinator")),
    # their review: coordinators and administrators (a figure that does not exist: the route is walked)
    "figures.decide": (lambda f: "/figures/reviews/999999", {"decision": "approve"}, only("coordinator", "admin")),
    "consolidated.review": (
        lambda f: f"/consolidated/reviews/{f['consolidated']}",
        {"decision": "approve"},
        only("coordinator", "admin"),
    ),
    "consolidated.acknowledge_everything": (
        lambda f: "/my/acknowledge-all",
        {"confirm": "1"},
        only("staff_right", "staff_other"),
    ),
    "manage.edit_task": (
        lambda f: "/tasks/3.1/edit",
        {"title": "交通减排工程", "due": "2030-12-31", "reporting_cycle": "quarter", "version_id": "1"},
        only("coordinator"),
    ),
    "manage.assignments": (
        lambda f: "/tasks/3.1/assignments",
        {"department_id": "", "role": "support"},  # no department: refused with 400 once allowed in
        only("coordinator"),
    ),
    "manage.change_assignment": (
        lambda f: f"/assignments/{f['assignment']}/change",
        {"action": "remove", "version_id": "1"},  # it has a report on 3.1: refused with the reason once allowed in
        only("coordinator"),
    ),
    "tasks.name_open_party": (
        lambda f: "/tasks/3.1/open-parties",
        {"party": "各有关部门"},  # the mini plan's 3.1 has no open party: refused with 400 once allowed in
        only("coordinator"),
    ),
    "manage.edit_assignment": (
        lambda f: f"/assignments/{f['assignment']}",
        {"role": "lead", "role_text": "牵头", "note": "", "version_id": "1"},
        only("coordinator"),
    ),
    # The JSON API authenticates by token only: a session is not enough, and nobody is redirected.
    "api.unknown": (lambda f: "/api/v1/tasks", {}, dict.fromkeys(ROLES, UNAUTHORIZED)),
    "api.checkin_create": (
        lambda f: "/api/v1/tasks/3.1/checkins",
        {"status": "in_progress", "percent": "10"},
        dict.fromkeys(ROLES, UNAUTHORIZED),
    ),
    "api.checkin_review": (
        lambda f: f"/api/v1/checkins/{f['checkin']}/review",
        {"decision": "approve"},
        dict.fromkeys(ROLES, UNAUTHORIZED),
    ),
    "feeds.regenerate_feed": (lambda f: "/calendar/regenerate", {"scope": "plan"}, only("coordinator", "admin")),
    "exchange.upload": (lambda f: "/plans/import", {}, only("coordinator")),
    "exchange.confirm": (lambda f: "/plans/import/" + "0" * 32, {}, only("coordinator")),
    "exchange.cancel": (lambda f: "/plans/import/" + "0" * 32 + "/cancel", {}, only("coordinator")),
    "exchange.values": (lambda f: "/plans/mini/values/import", {}, only("coordinator")),
    "drafts.upload": (lambda f: "/plans/draft", {}, only("coordinator")),
    "drafts.confirm": (lambda f: "/plans/draft/" + "0" * 32, {}, only("coordinator")),
    "drafts.cancel": (lambda f: "/plans/draft/" + "0" * 32 + "/cancel", {}, only("coordinator")),
    "graph.add_dependency": (
        lambda f: "/graph/dependencies",
        {"task": "4.1", "depends_on": "3.2", "rationale": "测试"},
        only("coordinator"),
    ),
    "graph.remove_dependency": (lambda f: f"/graph/dependencies/{f['dependency']}/delete", {}, only("coordinator")),
    "graph.add_contribution": (
        lambda f: "/graph/contributions",
        {"task": "4.1", "target": "city-energy", "rationale": "测试"},
        only("coordinator"),
    ),
    "graph.remove_contribution": (
        lambda f: f"/graph/contributions/{f['contribution']}/delete",
        {},
        only("coordinator"),
    ),
    # One's own API tokens, like one's own password: every account manages its own.
    "profile.tokens": (lambda f: "/profile/tokens", {"name": "walk"}, {**EVERYONE, "anonymous": LOGIN}),
    "profile.revoke": (lambda f: "/profile/tokens/999999/revoke", {}, {**EVERYONE, "anonymous": LOGIN}),
    "admin_jobs.job_action": (lambda f: "/admin/jobs/sweep", {"action": "pause"}, only("coordinator", "admin")),
    "admin_jobs.outbox_retry": (lambda f: "/admin/outbox/999999/retry", {}, only("coordinator", "admin")),
    "admin_jobs.recipients_save": (
        lambda f: f"/admin/recipients/{f['department']}",
        {"contact_emails": "a@b.cn", "remind_contacts": "1", "version": "1"},
        only("coordinator", "admin"),
    ),
    "admin_jobs.workdays_save": (
        lambda f: "/admin/workdays",
        {"day": "2026-10-10", "is_workday": "1", "note": "测试"},
        only("coordinator", "admin"),
    ),
    # The system administrator's pages (三员分立: not the security administrator, not the auditor).
    "admin.create_user": (
        lambda f: "/admin/users",
        {"email": "new@walk.test", "role": "leader", "department_id": ""},
        only("admin"),
    ),
    "admin.user_active": (lambda f: f"/admin/users/{f['target_user']}/active", {"active": "0"}, only("admin")),
    "admin.user_reset": (lambda f: f"/admin/users/{f['target_user']}/reset", {}, only("admin")),
    "admin.user_edit": (
        lambda f: f"/admin/users/{f['target_user']}",
        {"role": "leader", "department_id": ""},
        only("admin"),
    ),
    "admin.department_add": (lambda f: "/admin/departments", {"name": "市新设局", "kind": "bureau"}, only("admin")),
    "admin.department_rename": (
        lambda f: f"/admin/departments/{f['department']}/rename",
        {"name": "市交通运输局"},
        only("admin"),
    ),
    "admin.department_active": (
        lambda f: f"/admin/departments/{f['department']}/active",
        {"active": "0"},  # it leads 3.1: refused with a message once allowed in
        only("admin"),
    ),
    "admin.department_merge": (
        lambda f: f"/admin/departments/{f['department']}/merge",
        {"into": ""},  # no target chosen: refused with a message once allowed in
        only("admin"),
    ),
    "admin.county_add": (lambda f: "/admin/counties", {"name": "", "kind": "county"}, only("admin")),
    "admin.county_edit": (lambda f: "/admin/counties/999999", {"name": "丙县"}, only("admin")),
    # Password links: public, the signed token is the credential (a bad one is a 400 for everyone).
    "passwords.forgot": (lambda f: "/password/forgot", {"email": "nobody@walk.test"}, EVERYONE),
    "passwords.set_from_link": (
        lambda f: "/password/set/not-a-token",
        {"new": "a-long-pass-9", "confirm": "a-long-pass-9"},
        EVERYONE,
    ),
    "security.end_user_sessions": (
        lambda f: f"/security/users/{f['target_user']}/end-sessions",
        {},
        only("security"),
    ),
    "bulletins.issue": (lambda f: "/bulletins", {"period": "2026Q1"}, only("coordinator")),
    # The plan's end (walked while the plan runs: each allowed role is refused with a message, nothing closes).
    "lifecycle.close": (lambda f: "/plans/mini/close", {}, only("coordinator", "admin")),
    "lifecycle.reopen": (lambda f: "/plans/mini/reopen", {}, only("admin")),
    "lifecycle.carry": (lambda f: "/plans/mini/tasks/3.2/carry", {"to_plan": "mini"}, only("coordinator")),
    "lifecycle.carry_goal": (lambda f: f"/plans/mini/targets/{f['target']}/carry", {}, only("coordinator")),
    # 单位负责人审核: only the head of the report's own department decides.
    "signoff.decide": (
        lambda f: f"/signoff/checkin/{f['awaiting']}",
        {"decision": "approve"},
        only("head_right"),
    ),
    "admin.plan_separation": (lambda f: f"/admin/plans/{f['plan_id']}/separation", {"on": "1"}, only("admin")),
    "admin.department_signoff": (
        lambda f: f"/admin/departments/{f['department']}/signoff",
        {"required": "1"},
        only("admin"),
    ),
    "admin.user_portfolio": (
        lambda f: f"/admin/users/{f['leader_user']}/portfolio",
        {"department_id": ""},  # an empty portfolio: the route is what is walked
        only("admin"),
    ),
    # 批示: leaders and coordinators write; only the department asked (the lead) answers.
    "instructions.create": (
        lambda f: "/tasks/3.1/instructions",
        {"text": "抓紧推进", "answer_by": "2026-06-30"},
        only("coordinator", "leader"),
    ),
    "instructions.answer": (
        lambda f: f"/instructions/{f['instruction']}/answer",
        {"text": "已推进"},
        only("staff_right"),
    ),
    "manage.contacts": (
        lambda f: f"/departments/{f['department']}/contacts",
        {"contact_emails": "a@b.cn", "version_id": "1"},
        only("coordinator"),
    ),
}

DEPARTMENTS = {
    "staff_right": "市交通运输局",
    "staff_other": "乙区人民政府",
    "head_right": "市交通运输局",
    "head_other": "乙区人民政府",
    "coordinator": "市发展改革委",
}


def mutating_endpoints(app: Flask) -> set[str]:
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.methods and rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
    }


def test_every_mutating_route_is_known_to_the_walk(app: Flask) -> None:
    unknown = mutating_endpoints(app) - set(EXPECTED)
    assert not unknown, f"add these routes to EXPECTED in {__file__}: {sorted(unknown)}"
    assert not set(EXPECTED) - mutating_endpoints(app), "EXPECTED names a route that no longer exists"


def _fixture() -> tuple[Fixture, dict[str, str]]:
    task = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    lead = db.session.scalar(db.select(Department).filter_by(name="市交通运输局"))
    assert task is not None and lead is not None
    now = clock.now()
    checkin = save_checkin(
        task=task,
        department_id=lead.id,
        period=period_for(date(2026, 3, 1), "quarter"),
        data=CheckInData("in_progress", 10, "进展"),
        submit=True,
        now=now,
        user_id=None,
        editing_id=None,
        version_id=None,
    )
    county = db.session.scalar(db.select(Department).filter_by(name="乙区人民政府"))
    task_4_1 = db.session.scalar(db.select(Task).filter_by(code="4.1"))
    assert county is not None and task_4_1 is not None
    report = save_report(
        plan=task.plan,
        department_id=county.id,
        period=period_for(date(2026, 6, 1), "quarter"),  # not the period the walk's form saves
        lines=[LineInput(task_4_1.id, "in_progress", "落实")],
        submit=True,
        now=now,
        user_id=None,
        editing_id=None,
        version_id=None,
    )
    awaiting = save_checkin(
        task=task,
        department_id=lead.id,
        period=period_for(date(2026, 9, 1), "quarter"),
        data=CheckInData("in_progress", 20, "待单位负责人审核"),
        submit=True,
        now=now,
        user_id=None,
        editing_id=None,
        version_id=None,
    )
    awaiting.state = "awaiting_head"
    instruction = Instruction(
        task_id=task.id, department_id=lead.id, text="请报进展", answer_by=date(2026, 6, 30), created_at=now
    )
    db.session.add(instruction)
    extension = request_extension(
        task=task, department_id=lead.id, reason="理由", new_due=date(2031, 6, 30), now=now, user_id=None
    )
    emails = {}
    for role in ROLES[1:]:
        # Accounts made directly and logged in through the session: the walk is about routes, not scrypt.
        dept = db.session.scalar(db.select(Department).filter_by(name=DEPARTMENTS.get(role, "")))
        user = User(
            email=f"{role}@walk.test",
            password_hash="-",
            role=role.split("_")[0],
            department_id=dept.id if dept else None,
            created_at=now,
        )
        db.session.add(user)
        db.session.flush()
        emails[role] = user.get_id()  # "<id>:<session version>", as login_user stores it
    target_user = User(email="target@walk.test", password_hash="-", role="staff", department_id=lead.id, created_at=now)
    db.session.add(target_user)
    db.session.commit()
    assignment = next(a for a in task.assignments if a.department_id == lead.id)
    dependency = db.session.scalar(db.select(Dependency.id))
    contribution = db.session.scalar(db.select(Contribution.id))
    fixture = {
        "checkin": checkin.id,
        "extension": extension.id,
        "department": lead.id,
        "assignment": assignment.id,
        "dependency": dependency,
        "contribution": contribution,
        "consolidated": report.id,
        "target_user": target_user.id,
        "target": db.session.scalar(db.select(Target.id).order_by(Target.id).limit(1)),
        "plan_id": task.plan_id,
        "awaiting": awaiting.id,
        "instruction": instruction.id,
        "leader_user": int(emails["leader"].split(":")[0]),
    }
    return fixture, emails


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_each_role_gets_the_right_answer_on_each_mutating_route(mini_plan, endpoint: str) -> None:
    app = mini_plan
    app.config["TRACKER_NOW"] = "2026-03-02T10:00:00+08:00"
    fixture, emails = _fixture()
    url_for, data, expected = EXPECTED[endpoint]
    for role in ROLES:
        client = app.test_client()
        # Requests share the test's app context, hence ``g``: forget the previous request's user.
        g.pop("_login_user", None)
        if role != "anonymous":
            with client.session_transaction() as s:
                s["_user_id"] = emails[role]
                s["_fresh"] = True
        response = client.post(url_for(fixture), data=data)
        location = response.headers.get("Location", "")
        if response.status_code == 403:
            answer = FORBIDDEN
        elif response.status_code == 401:
            answer = UNAUTHORIZED
        elif response.status_code == 302 and "/login?next=" in location:
            answer = LOGIN
        else:
            answer = OK
        assert answer == expected[role], f"{endpoint} as {role}: got {response.status_code} {location}"
        db.session.rollback()
        # Undo what an allowed write did, so the next role meets the same state.
        db.session.execute(db.update(CheckIn).values(state="submitted").where(CheckIn.id == fixture["checkin"]))
        db.session.execute(
            db.update(ExtensionRequest).values(state="pending").where(ExtensionRequest.id == fixture["extension"])
        )
        db.session.execute(
            db.update(ConsolidatedReport)
            .values(state="submitted")
            .where(ConsolidatedReport.id == fixture["consolidated"])
        )
        db.session.execute(db.delete(CheckIn).where(CheckIn.period == "2026Q1", CheckIn.consolidated_id.is_not(None)))
        db.session.execute(db.delete(ConsolidatedReport).where(ConsolidatedReport.period == "2026Q1"))
        db.session.execute(db.update(CheckIn).values(state="awaiting_head").where(CheckIn.id == fixture["awaiting"]))
        db.session.execute(db.delete(InstructionAnswer))
        db.session.execute(db.delete(Instruction).where(Instruction.id != fixture["instruction"]))
        db.session.execute(db.update(Instruction).values(answered_at=None))
        db.session.commit()


def _answer(response) -> str:  # type: ignore[no-untyped-def]
    if response.status_code == 403:
        return FORBIDDEN
    if response.status_code == 401:
        return UNAUTHORIZED
    if response.status_code == 302 and "/login?next=" in response.headers.get("Location", ""):
        return LOGIN
    return OK


# Routes walked again with the plan named in the address (?plan=KEY, as the header's plan switcher
# and every link of an older plan's pages write it): naming a plan changes nobody's rights.
PLAN_NAMED = ["reports.form", "reports.acknowledge_task", "reports.extension", "manage.edit_task", "bulletins.issue"]


def test_naming_the_plan_in_the_address_changes_no_ones_rights_and_everyone_may_compare_plans(
    mini_plan, tmp_path
) -> None:
    from tracker.plans.loader import load_plan
    from tracker.plans.schema import read_plan_file

    from .conftest import DATA

    app = mini_plan
    app.config["TRACKER_NOW"] = "2026-03-02T10:00:00+08:00"
    fixture, emails = _fixture()
    other = tmp_path / "other.yaml"
    other.write_text((DATA / "mini-plan.yaml").read_text(encoding="utf-8").replace("key: mini", "key: other"))
    load_plan(read_plan_file(other), now=clock.now())  # a second plan: the comparison has two to set side by side
    walks = [(endpoint, "post", EXPECTED[endpoint]) for endpoint in PLAN_NAMED]
    walks.append(
        ("plans.compare", "get", (lambda f: "/plans/compare?a=mini&b=other", {}, {**EVERYONE, "anonymous": LOGIN}))
    )
    for endpoint, method, (url_for, data, expected) in walks:
        url = url_for(fixture)
        if method == "post":
            url += ("&" if "?" in url else "?") + "plan=mini"
        for role in ROLES:
            client = app.test_client()
            g.pop("_login_user", None)
            if role != "anonymous":
                with client.session_transaction() as s:
                    s["_user_id"] = emails[role]
                    s["_fresh"] = True
            response = getattr(client, method)(url, data=data) if method == "post" else client.get(url)
            if method == "get" and role != "anonymous":
                assert response.status_code == 200, f"{endpoint} as {role}: {response.status_code}"
            assert _answer(response) == expected[role], f"{endpoint} {url} as {role}: got {response.status_code}"
            db.session.rollback()
            db.session.execute(db.delete(CheckIn).where(CheckIn.id != fixture["checkin"]))
            db.session.commit()


# The new pages people open (GET), per role: 200, 403/404, or sent to log in.
PAGES: dict[str, tuple[Callable[[Fixture], str], dict[str, str]]] = {
    "signoff queue": (lambda f: "/signoff", only("head_right", "head_other")),
    "signoff report": (lambda f: f"/signoff/checkin/{f['awaiting']}", only("head_right")),
    "leader portfolio": (lambda f: f"/admin/users/{f['leader_user']}/portfolio", only("admin")),
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_each_role_sees_only_the_new_pages_it_may(mini_plan, page: str) -> None:
    app = mini_plan
    app.config["TRACKER_NOW"] = "2026-03-02T10:00:00+08:00"
    fixture, emails = _fixture()
    url_for, expected = PAGES[page]
    for role in ROLES:
        client = app.test_client()
        g.pop("_login_user", None)
        if role != "anonymous":
            with client.session_transaction() as s:
                s["_user_id"] = emails[role]
                s["_fresh"] = True
        response = client.get(url_for(fixture))
        location = response.headers.get("Location", "")
        if response.status_code == 403:
            answer = FORBIDDEN
        elif response.status_code == 302 and "/login?next=" in location:
            answer = LOGIN
        else:
            assert response.status_code == 200, f"{page} as {role}: {response.status_code}"
            answer = OK
        assert answer == expected[role], f"{page} as {role}: got {response.status_code} {location}"
