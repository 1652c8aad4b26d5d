"""The coordinator's page: upload a plan text → review every drafted item → create the plan."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tracker.errors import NotFound
from tracker.extensions import db
from tracker.models import Assignment, Plan, Target, Task
from tracker.plans import draft_service

from .conftest import ROOT

SEED_TEXT = ROOT / "seeds" / "anyang-14th-fyp-energy-saving-emission-reduction-plan.txt"


def _upload(client: FlaskClient, name: str = "plan.txt", content: bytes | None = None, key: str = "next-plan"):  # type: ignore[no-untyped-def]
    data = {"key": key, "file": (io.BytesIO(content or SEED_TEXT.read_bytes()), name)}
    return client.post("/plans/draft", data=data, content_type="multipart/form-data")


def _everything_kept(draft: dict) -> dict[str, str]:
    form = {"plan-key": draft["plan"]["key"], "plan-title": draft["plan"]["title"]}
    for i, task in enumerate(draft["tasks"]):
        form[f"t{i}-keep"] = "1"
        for j, _a in enumerate(task["departments"]):
            form[f"t{i}-a{j}-keep"] = "1"
        for j, _t in enumerate(task["targets"]):
            form[f"t{i}-g{j}-keep"] = "1"
    for k, _t in enumerate(draft["targets"]):
        form[f"p{k}-keep"] = "1"
    return form


def _token(response) -> str:  # type: ignore[no-untyped-def]
    return response.headers["Location"].rsplit("/", 1)[1]


def test_the_review_lists_every_drafted_item_with_its_sentence_and_writes_nothing(
    seeded: Flask, client: FlaskClient, login
) -> None:
    login("coordinator")
    plans_before = db.session.scalar(db.select(db.func.count(Plan.id)))
    response = _upload(client)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    draft = draft_service.load_pending(_token(response))
    assert page.count('name="t') >= len(draft["tasks"])
    for task in draft["tasks"]:
        assert task["source"] in page
        for target in task["targets"]:
            assert f'value="{target["name"]}"' in page
    assert "以下均需各县（市、区）政府落实，不再列出" in page
    from .test_accessibility import Page

    checked = Page()
    checked.feed(page)
    assert checked.problems() == []  # a label for every control, a title, the skip link
    assert "各有关部门" in page  # the open party, kept as written
    assert db.session.scalar(db.select(db.func.count(Plan.id))) == plans_before


def test_confirming_the_reviewed_draft_creates_the_plan_with_the_corrections(
    seeded: Flask, client: FlaskClient, login
) -> None:
    login("coordinator")
    token = _token(_upload(client))
    draft = draft_service.load_pending(token)
    form = _everything_kept(draft)
    form["t0-title"] = "重点行业绿色升级改造工程"  # an edited title
    del form["t0-g0-keep"]  # a removed target
    form["t3-a0-role"] = "responsible"  # an edited role
    response = client.post(f"/plans/draft/{token}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert "plan=next-plan" in response.headers["Location"]
    plan = db.session.scalar(db.select(Plan).filter_by(key="next-plan"))
    tasks = {t.code: t for t in db.session.scalars(db.select(Task).filter_by(plan_id=plan.id))}
    assert len(tasks) == 21 and tasks["3.1"].title == "重点行业绿色升级改造工程"
    assert (
        db.session.scalar(db.select(db.func.count(Target.id)).filter_by(plan_id=plan.id)) == 99
    )  # 100 drafted, one removed
    first = db.session.scalar(db.select(Assignment).filter_by(task_id=tasks["3.4"].id).order_by(Assignment.id))
    assert first.role == "responsible"
    with pytest.raises(NotFound):
        draft_service.load_pending(token)


def test_a_key_that_exists_is_refused_and_the_review_kept(seeded: Flask, client: FlaskClient, login) -> None:
    login("coordinator")
    token = _token(_upload(client, key="anyang-14fyp-esr"))
    form = _everything_kept(draft_service.load_pending(token))
    form["t1-title"] = "改过的标题"
    response = client.post(f"/plans/draft/{token}", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "已存在" in page and 'value="改过的标题"' in page


def test_a_draft_that_fails_validation_names_the_field_and_writes_nothing(
    seeded: Flask, client: FlaskClient, login
) -> None:
    login("coordinator")
    token = _token(_upload(client))
    form = _everything_kept(draft_service.load_pending(token))
    form["t0-due"] = "soon"
    response = client.post(f"/plans/draft/{token}", data=form)
    assert response.status_code == 422
    assert re.search(r"tasks\[0\]\(3\.1\)\.due", response.get_data(as_text=True))
    assert db.session.scalar(db.select(Plan).filter_by(key="next-plan")) is None


def test_only_the_uploader_opens_a_pending_draft(seeded: Flask, client: FlaskClient, login) -> None:
    login("coordinator")
    token = _token(_upload(client))
    client.post("/logout")
    login("coordinator")
    assert client.get(f"/plans/draft/{token}").status_code == 404


def test_a_pdf_is_refused_with_a_message(seeded: Flask, client: FlaskClient, login) -> None:
    login("coordinator")
    response = _upload(client, name="plan.pdf", content=b"%PDF-1.4")
    assert response.status_code == 422
    assert ".docx" in response.get_data(as_text=True)


def test_discarding_a_draft_removes_it(seeded: Flask, client: FlaskClient, login) -> None:
    login("coordinator")
    token = _token(_upload(client))
    assert client.post(f"/plans/draft/{token}/cancel").status_code == 302
    assert client.get(f"/plans/draft/{token}").status_code == 404


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) and value else []


def test_the_review_page_in_english_shows_no_chinese_but_the_plans_own_words(
    seeded: Flask, client: FlaskClient, login
) -> None:
    from .test_i18n import _interface_chinese

    login("coordinator")
    client.post("/language", data={"locale": "en"})
    assert _interface_chinese(client.get("/plans/draft").get_data(as_text=True), []) == []
    token = _token(_upload(client))
    draft = draft_service.load_pending(token)
    page = client.get(f"/plans/draft/{token}").get_data(as_text=True)
    assert '<html lang="en">' in page and "Review the draft plan" in page
    words = sorted(set(_strings(draft)), key=len, reverse=True)
    assert _interface_chinese(page, words) == []


def test_an_unknown_name_corrected_to_the_directorys_adds_no_department(
    seeded: Flask, client: FlaskClient, login
) -> None:
    from tracker.models import Department

    login("coordinator")
    text = SEED_TEXT.read_text(encoding="utf-8").replace("(市机关事务中心负责)", "(市机关事务局负责)")
    token = _token(_upload(client, content=text.encode("utf-8")))
    draft = draft_service.load_pending(token)
    assert [u["name"] for u in draft["draft"]["unknown_departments"]] == ["市机关事务局"]
    assert "市机关事务中心" in draft["draft"]["unknown_departments"][0]["suggestions"]
    form = _everything_kept(draft)
    i = next(i for i, t in enumerate(draft["tasks"]) if t["code"] == "3.6")
    form[f"t{i}-a0-name"] = "市机关事务中心"
    departments_before = db.session.scalar(db.select(db.func.count(Department.id)))
    assert client.post(f"/plans/draft/{token}", data=form).status_code == 302
    assert db.session.scalar(db.select(db.func.count(Department.id))) == departments_before
