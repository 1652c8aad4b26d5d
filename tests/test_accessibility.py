"""Accessibility basics on every page, for every role.

The walk takes every GET route of ``app.url_map`` that needs no argument, plus one instance of each
parameterised HTML page, and opens each as each role (anonymous, two staff, coordinator, leader,
admin). Every HTML page answered 200 must have

* a non-empty ``<title>`` (the page's own part before ``· 规划任务督办系统`` too);
* a label for every form control (``input`` other than hidden/submit/button/reset/image, ``select``,
  ``textarea``): ``<label for=id>``, a wrapping ``<label>``, ``aria-label`` or ``aria-labelledby``;
* a text alternative for every image (``img`` with ``alt``; ``svg`` with ``<title>``, ``aria-label``,
  ``aria-labelledby``, or ``aria-hidden="true"`` when decorative);
* the skip link ``<a class="skip" href="#main">`` and an element ``id="main"``.

The stylesheet must define visible focus styles and show the skip link on focus.
"""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask

from tracker import clock
from tracker.extensions import db
from tracker.models import CheckIn, Department, OutboxMessage, Plan, Target
from tracker.reports import consolidated
from tracker.reports.service import CheckInData, save_checkin
from tracker.tasks.periods import period_for

from .conftest import PASSWORD, ROOT

CONTROLS = {"input", "select", "textarea"}
UNLABELLED_INPUTS = {"hidden", "submit", "button", "reset", "image"}
# Parameterised HTML pages: endpoint → URL (filled in from the data below).
PARAMETERISED = {
    "tasks.detail": "/tasks/3.1",
    "reports.form": "/tasks/3.1/report",
    "reports.extension": "/tasks/{lead_task}/extension",
    "reports.breakdown": "/tasks/{lead_task}/breakdown",
    "manage.edit_task": "/tasks/3.1/edit",
    "manage.assignments": "/tasks/3.1/assignments",
    "manage.change_assignment": "/assignments/{assignment}/change",
    "manage.contacts": "/departments/{department}/contacts",
    "leadership.department": "/departments/{department}",
    "reports.review": "/reviews/{checkin}",
    "admin_jobs.outbox_message": "/admin/outbox/{message}",
    "exchange.values": "/plans/{plan}/values/import",
    "consolidated.form": "/consolidated/2024Q2",
    "consolidated.review": "/consolidated/reviews/{consolidated}",
    "admin.department": "/admin/departments/{department}",
    "passwords.set_from_link": "/password/set/{link_token}",
    "lifecycle.final": "/plans/{plan}/final",
    "lifecycle.close": "/plans/{plan}/close",
    "lifecycle.carry": "/plans/{plan}/tasks/3.1/carry",
    "lifecycle.carry_goal": "/plans/{plan}/targets/{target}/carry",
    "signoff.decide": "/signoff/checkin/{awaiting}",
    "admin.user_portfolio": "/admin/users/{leader_id}/portfolio",
}
# Not HTML pages, or only reachable in a flow (a token, an upload): covered elsewhere.
NOT_PAGES = {
    "static",
    "reminders.follow_link",  # redirects to reports.form
    "feeds.feed",
    "reports.download",
    "exchange.preview",
    "graph.export",
    "exchange.tasks_xlsx",
    "tasks.home",  # redirects to each role's landing page
    "auth.healthz",  # a JSON health check for the load balancer
    "bulletins.word",  # a bulletin's Word and PDF files (tests/test_bulletin.py)
    "bulletins.pdf",
    "drafts.review",  # a pending draft opens only for its uploader: checked in test_plan_draft_web
}


def _refers(ids: str | None, present: set[str]) -> bool:
    return bool(ids and ids.split() and all(i in present for i in ids.split()))


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self._in_title = False
        self.label_for: set[str] = set()
        self.ids: set[str] = set()
        self.controls: list[tuple[str, dict[str, str | None], bool]] = []  # tag, attrs, inside a <label>
        self._label_depth = 0
        self.svgs: list[dict[str, str | None]] = []
        self._svg_stack: list[dict[str, object]] = []
        self.images: list[dict[str, str | None]] = []
        self.skip_link = False

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = dict(attrs_list)
        if attrs.get("id"):
            self.ids.add(attrs["id"] or "")
        if tag == "title" and not self._svg_stack:
            self._in_title = True
        elif tag == "title" and self._svg_stack:
            self._svg_stack[-1]["title"] = True
        elif tag == "label":
            self._label_depth += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"] or "")
        elif tag in CONTROLS:
            if tag != "input" or (attrs.get("type") or "text").lower() not in UNLABELLED_INPUTS:
                self.controls.append((tag, attrs, self._label_depth > 0))
        elif tag == "img":
            self.images.append(attrs)
        elif tag == "svg":
            self._svg_stack.append({"attrs": attrs, "title": False})
        elif tag == "a" and "skip" in (attrs.get("class") or "").split() and attrs.get("href") == "#main":
            self.skip_link = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "label":
            self._label_depth = max(0, self._label_depth - 1)
        elif tag == "svg" and self._svg_stack:
            svg = self._svg_stack.pop()
            attrs = dict(svg["attrs"])  # type: ignore[call-overload]
            attrs["has-title"] = "yes" if svg["title"] else None
            self.svgs.append(attrs)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def problems(self) -> list[str]:
        found = []
        title = " ".join(self.title.split())
        if not title or not title.split(" · ")[0].strip():
            found.append(f"empty title: {title!r}")
        for tag, attrs, wrapped in self.controls:
            labelled = (
                wrapped
                or (attrs.get("id") and attrs["id"] in self.label_for)
                or (attrs.get("aria-label") or "").strip()
                or _refers(attrs.get("aria-labelledby"), self.ids)
            )
            if not labelled:
                found.append(f"unlabelled <{tag} name={attrs.get('name')!r} id={attrs.get('id')!r}>")
        for img in self.images:
            if img.get("alt") is None and not img.get("aria-label"):
                found.append(f"<img src={img.get('src')!r}> without alt")
        for svg in self.svgs:
            if not (svg.get("has-title") or svg.get("aria-label") or svg.get("aria-labelledby")) and (
                svg.get("aria-hidden") != "true"
            ):
                found.append("<svg> without a title or aria-label")
        if not self.skip_link:
            found.append('no skip link <a class="skip" href="#main">')
        if "main" not in self.ids:
            found.append('no element id="main" for the skip link')
        return found


def _data(app: Flask, make_user) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from tracker.models import Assignment, Task
    from tracker.reminders import service

    linzhou = db.session.scalar(db.select(Department).filter_by(name="林州市人民政府"))
    fgw = db.session.scalar(db.select(Department).filter_by(name="市发展改革委"))
    lead_task = db.session.scalar(
        db.select(Task.code).join(Assignment).filter(Assignment.department_id == fgw.id, Assignment.role == "lead")
    )
    task = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    checkin = save_checkin(
        task=task,
        department_id=linzhou.id,
        period=period_for(clock.today(), "quarter"),
        data=CheckInData("in_progress", 10, "进展"),
        submit=True,
        now=clock.now(),
        user_id=None,
        editing_id=None,
        version_id=None,
    )
    db.session.commit()
    anyang = db.session.scalar(db.select(Department).filter_by(name="安阳县人民政府"))
    plan = db.session.scalar(db.select(Plan))
    measures = consolidated.county_measures(plan, anyang.id)
    report = consolidated.save_report(
        plan=plan,
        department_id=anyang.id,
        period=period_for(clock.today(), "quarter"),
        lines=[consolidated.LineInput(t.id, "in_progress", "落实") for t in measures],
        submit=True,
        now=clock.now(),
        user_id=None,
        editing_id=None,
        version_id=None,
    )
    awaiting = save_checkin(  # 单位负责人审核: a report waiting for 林州's head
        task=task,
        department_id=linzhou.id,
        period=period_for(date(2024, 1, 15), "quarter"),
        data=CheckInData("in_progress", 5, "待负责人审核"),
        submit=True,
        now=clock.now(),
        user_id=None,
        editing_id=None,
        version_id=None,
    )
    awaiting.state = "awaiting_head"
    db.session.commit()
    saved = app.config["TRACKER_NOW"]
    app.config["TRACKER_NOW"] = clock.parse_instant("2025-12-24T09:00:00+08:00")
    service.sweep(clock.now())
    app.config["TRACKER_NOW"] = saved
    users = {
        "staff_county": make_user("staff", "林州市人民政府"),
        "staff_lead": make_user("staff", "市发展改革委"),
        "coordinator": make_user("coordinator", "市发展改革委"),
        "leader": make_user("leader"),
        "head": make_user("head", "林州市人民政府"),
        "admin": make_user("admin"),
        "security": make_user("security"),
        "auditor": make_user("auditor"),
    }
    from tracker.accounts.links import make_link_token

    newcomer = make_user("leader")
    return {
        "link_token": make_link_token(app.config["SECRET_KEY"], newcomer, "set", now=clock.now()),
        "lead_task": lead_task,
        "department": linzhou.id,
        "checkin": db.session.get(CheckIn, checkin.id).id,
        "assignment": db.session.scalar(db.select(Assignment.id).order_by(Assignment.id)),
        "consolidated": report.id,
        "message": db.session.scalar(db.select(OutboxMessage.id).order_by(OutboxMessage.id)),
        "plan": db.session.scalar(db.select(Plan.key)),
        "target": db.session.scalar(db.select(Target.id).order_by(Target.id).limit(1)),
        "users": {role: u.email for role, u in users.items()},
        "awaiting": awaiting.id,
        "leader_id": users["leader"].id,
    }


def _urls(app: Flask, data: dict[str, object]) -> dict[str, str]:
    urls = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_PAGES or rule.endpoint.startswith("api."):
            continue
        if rule.arguments:
            assert rule.endpoint in PARAMETERISED, f"add {rule.endpoint} ({rule.rule}) to PARAMETERISED or NOT_PAGES"
            urls[rule.endpoint] = PARAMETERISED[rule.endpoint].format(**data)
        else:
            urls[rule.endpoint] = rule.rule
    urls["api.docs"] = "/api/v1/docs"
    urls["reports.bulk_approve"] = "/reviews/bulk?ids={checkin}".format(**data)  # the reports chosen in the queue
    return urls


def test_every_page_for_every_role_has_a_title_labels_text_alternatives_and_the_skip_link(
    seeded: Flask, make_user
) -> None:
    data = _data(seeded, make_user)
    urls = _urls(seeded, data)
    checked: dict[str, set[str]] = {}
    problems: list[str] = []
    for role in ["anonymous", *data["users"]]:  # type: ignore[list-item]
        client = seeded.test_client()
        if role != "anonymous":
            email = data["users"][role]  # type: ignore[index]
            assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        for endpoint, url in sorted(urls.items()):
            response = client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            page = Page()
            page.feed(response.get_data(as_text=True))
            checked.setdefault(endpoint, set()).add(role)
            problems += [f"{role} {url}: {p}" for p in page.problems()]
    assert problems == [], "\n".join(problems)
    never = sorted(set(urls) - set(checked))
    # Exports answer a file, not a page; every other route is an HTML page for some role.
    assert all(u.endswith((".xlsx", ".csv", ".json")) or "/api/" in u for u in (urls[e] for e in never)), never
    assert set(PARAMETERISED) <= set(checked), sorted(set(PARAMETERISED) - set(checked))


def test_focus_is_visible_and_the_skip_link_appears_on_focus() -> None:
    css = (ROOT / "tracker" / "static" / "css" / "app.css").read_text(encoding="utf-8")
    for selector in ["a:focus-visible", "button:focus-visible", "input:focus-visible", "select:focus-visible"]:
        assert selector in css
    assert ".skip:focus" in css
    rule = css[css.index("a:focus-visible") :].split("}", 1)[0]
    assert "outline" in rule and "none" not in rule


@pytest.mark.parametrize("path", sorted((ROOT / "templates").rglob("*.html")), ids=lambda p: str(p.name))
def test_templates_extend_the_base_or_are_partials(path: Path) -> None:
    """Every full page gets the skip link and the title from base.html."""
    text = path.read_text(encoding="utf-8")
    if path.name.startswith("_") or path.parent.name == "email" or path.name in {"base.html", "macros.html"}:
        return
    if path.name.startswith("macros"):
        return
    assert '{% extends "base.html" %}' in text or "{% extends 'base.html' %}" in text, path
