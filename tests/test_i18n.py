"""The interface in two languages: Chinese by default, English switchable (issue 8).

Source strings are the Chinese text; ``tracker/translations/en`` holds the English. These tests
fail on a template string left outside ``_()``, on a msgid without English, and on a page that
still shows Chinese interface text in English (the plan's own data stays as written).
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from tracker.extensions import db
from tracker.models import Assignment, Contribution, County, Department, Dependency, Plan, Section, Target, Task

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
TRANSLATIONS = ROOT / "tracker" / "translations"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
CJK = re.compile(r"[\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def _outside_jinja(source: str) -> str:
    source = re.sub(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", "", source, flags=re.S)
    source = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
    source = re.sub(r"\{\{.*?\}\}", "", source, flags=re.S)
    source = re.sub(r"\{%.*?%\}", "", source, flags=re.S)
    return re.sub(r"<!--.*?-->", "", source, flags=re.S)


def test_every_template_string_is_marked_for_translation() -> None:
    left = []
    for path in sorted(TEMPLATES.rglob("*")):
        if path.is_file():
            for number, line in enumerate(_outside_jinja(path.read_text()).splitlines(), 1):
                if CJK.search(line):
                    left.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not left, "Chinese outside {{ _() }} / {% trans %}:\n" + "\n".join(left)


def test_every_chinese_msgid_has_an_english_translation() -> None:
    with PO.open("rb") as f:
        catalog = read_po(f)
    missing = [m.id for m in catalog if m.id and CJK.search(str(m.id)) and (not m.string or m.fuzzy)]
    assert not missing, f"no English (or fuzzy) for: {missing}"


def test_the_catalogue_holds_every_marked_string() -> None:
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    extracted = {msg[2] for msg in extract_from_dir(str(ROOT), method_map, options_map)}
    extracted = {m if isinstance(m, str) else m[0] for m in extracted}
    with PO.open("rb") as f:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}  # plurals: (one, many)
    assert not extracted - known, f"run `make translations` and translate: {sorted(extracted - known)}"


@pytest.fixture(scope="module", autouse=True)
def _compiled() -> None:
    """``make install`` compiles the catalogue; a bare ``pytest`` after editing the .po does it here."""
    mo = PO.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < PO.stat().st_mtime:
        subprocess.run(
            [sys.executable, "-m", "babel.messages.frontend", "compile", "-d", str(TRANSLATIONS)], check=True
        )


def _data_strings() -> list[str]:
    """Everything the plan says in its own words: shown as written in either language."""
    values: set[str] = set()
    for model, fields in [
        (Plan, ["title", "source", "basis"]),
        (Section, ["label", "title"]),
        (Task, ["label", "title", "text", "responsibility"]),
        (Department, ["name"]),
        (County, ["name"]),
        (Assignment, ["role_text", "note"]),
        (Dependency, ["rationale"]),
        (Contribution, ["rationale"]),
        (Target, ["name", "category", "metric", "unit", "source", "note"]),
    ]:
        for row in db.session.execute(db.select(model)).scalars():
            for field in fields:
                value = getattr(row, field, None)
                if isinstance(value, str) and value:
                    values.add(value)
    for task in db.session.execute(db.select(Task)).scalars():  # open parties (各有关部门): the plan's words
        for party in task.open_parties or []:
            values.update(v for k in ("text", "role_text", "note") if isinstance(v := party.get(k), str) and v)
    return sorted(values, key=len, reverse=True)


def _visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    # The graphs' node labels are the plan's own words, shortened to fit (tooltips are kept).
    page = re.sub(r"<text\b.*?</text>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def _interface_chinese(page: str, data: list[str]) -> list[str]:
    text = _visible_text(page)
    for value in data:
        text = text.replace(value, " ")
    found = {m.group(0) for m in re.finditer(r"\S*[\u3400-\u4dbf\u4e00-\u9fff]\S*", text)}
    return sorted(found - {"中文"})  # the language switch names Chinese in Chinese


PAGES = {
    "staff": ["/my", "/tasks", "/tasks/3.1", "/tasks/3.1/report", "/assignments/pending"],
    "coordinator": ["/reviews", "/plans/import", "/admin/outbox", "/admin/jobs", "/admin/recipients", "/bulletins"],
    "leader": [
        "/dashboard",
        "/matrix",
        "/targets",
        "/counties",
        "/assessment",
        "/graph",
        "/graph/departments",
        "/plans/anyang-14fyp-esr/final",
    ],
    "admin": [
        *["/admin/workdays", "/profile/tokens", "/calendar", "/password", "/graph/links", "/tasks/3.9"],
        *["/admin/users", "/admin/departments", "/admin/departments/1", "/admin/counties", "/admin/plans"],
    ],
    "security": ["/security"],
    "auditor": ["/audit", "/audit?kind=logins"],
}
DEPARTMENT = {"staff": "市发展改革委"}


@pytest.mark.parametrize("role", list(PAGES))
def test_pages_in_english_show_no_chinese_but_the_plans_own_words(
    seeded: Flask, client: FlaskClient, login, role: str
) -> None:
    user = login(role, DEPARTMENT.get(role))
    response = client.post("/language", data={"locale": "en", "next": "/tasks"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks")
    assert db.session.get(type(user), user.id).locale == "en"  # saved on the account
    data = _data_strings()
    left = {}
    for url in PAGES[role]:
        page = client.get(url).get_data(as_text=True)
        assert '<html lang="en">' in page, url
        if chinese := _interface_chinese(page, data):
            left[url] = chinese
    assert not left, f"Chinese interface text in English pages: {left}"
    page = client.get("/tasks").get_data(as_text=True)
    assert "Tasks" in page and "Dashboard" in page and "Log out" in page
    assert "任务清单" not in page and "驾驶舱" not in page
    assert re.search(r"[A-Z][a-z]{2} \d{1,2}, \d{4}", _visible_text(page)), "dates in the English format"

    client.post("/language", data={"locale": "zh_CN"})
    page = client.get("/tasks").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "任务清单" in page and "驾驶舱" in page
    for word in ["Dashboard", "Tasks", "Log out", "Deadline", "Responsible departments"]:
        assert word not in _visible_text(page), word


def test_the_browser_language_picks_the_default_and_a_logged_in_choice_wins(
    seeded: Flask, client: FlaskClient, login
) -> None:
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Log in" in page
    answer = client.post("/login", data={"email": "x@y.z", "password": "wrong"}, headers={"Accept-Language": "en"})
    assert "Wrong email or password." in answer.get_data(as_text=True)  # a domain error, in English
    page = client.get("/login", headers={"Accept-Language": "fr-FR,de;q=0.8"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "登录" in page
    login("leader")
    client.post("/language", data={"locale": "en"})
    page = client.get("/dashboard", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Dashboard" in page


def test_logging_out_keeps_the_language_the_user_chose(seeded: Flask, client: FlaskClient, login) -> None:
    user = login("leader")
    user.locale = "en"
    db.session.commit()
    page = client.post("/logout", headers={"Accept-Language": "zh-CN"}, follow_redirects=True).get_data(as_text=True)
    assert "Logged out." in page and '<html lang="en">' in page and "已退出登录" not in page


def test_dates_and_times_follow_the_language_on_every_kind_of_page(seeded: Flask, client: FlaskClient, login) -> None:
    from tracker import clock
    from tracker.reminders import service

    seeded.config["TRACKER_NOW"] = clock.parse_instant("2025-12-24T09:00")
    service.sweep(clock.now())
    login("admin")
    zh = _visible_text(client.get("/admin/outbox").get_data(as_text=True))
    assert "2025-12-24 09:00" in zh  # the outbox's times; the header's date too
    client.post("/language", data={"locale": "en"})
    en = _visible_text(client.get("/admin/outbox").get_data(as_text=True))
    assert "Dec 24, 2025 09:00" in en and "2025-12-24 09:00" not in en  # (subjects are mail, kept as sent)
