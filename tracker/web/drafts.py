"""A coordinator opens the next plan from its official text: upload → review every drafted item → create.

The pending draft lives server-side (``plans.draft_service``), under a random token that only its
uploader may open; nothing reaches the database until the review is confirmed, and then it goes
through ``plan load``'s validation and loader.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import clock
from ..accounts.permissions import can_edit_plan
from ..errors import NotFound, PermissionDenied, PlanFileError, TrackerError
from ..plans import draft_service

bp = Blueprint("drafts", __name__)

ROLE_NAMES = {
    "lead": _l("牵头"),
    "support": _l("配合"),
    "responsible": _l("负责"),
    "implementing": _l("落实"),
}
COMPARISONS = {
    "": _l("里程碑（无数值）"),
    ">=": _l("不低于（≥）"),
    ">": _l("超过（>）"),
    "<=": _l("不高于（≤）"),
    "<": _l("低于（<）"),
    "=": _l("等于（=）"),
    "~": _l("左右（~）"),
    "range": _l("区间"),
}
# A reviewed seeded plan posts about 1,700 fields (289 roles, 101 targets); Werkzeug stops at 1,000.
MAX_REVIEW_FIELDS = 20_000


def _require_coordinator() -> None:
    if not can_edit_plan(current_user):
        raise PermissionDenied(_("只有统筹协调人员可以起草和新建计划。"))


def _pending(token: str) -> dict[str, Any]:
    try:
        draft = draft_service.load_pending(token)
    except NotFound:
        abort(404)
    if draft.get("draft", {}).get("owner") != current_user.id:
        abort(404)
    return draft


@bp.route("/plans/draft", methods=["GET", "POST"])
def upload() -> str | Response | tuple[str, int]:
    _require_coordinator()
    problems: list[tuple[str, str]] = []
    form = {"key": request.form.get("key", "").strip(), "title": request.form.get("title", "").strip()}
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            problems.append((_("文件"), _("请选择 .txt 或 .docx 文件")))
        else:
            try:
                content = upload.read()
                draft = draft_service.draft_from_file(upload.filename, content, key=form["key"], title=form["title"])
            except TrackerError as exc:
                problems.append((_("文件"), str(exc)))
            else:
                draft["draft"]["owner"] = current_user.id
                draft["draft"]["filename"] = upload.filename
                return redirect(url_for("drafts.review", token=draft_service.save_pending(draft)))
    status = 422 if problems else 200
    return render_template("drafts/upload.html", form=form, problems=problems), status


@bp.get("/plans/draft/<token>")
def review(token: str) -> str:
    _require_coordinator()
    return _review_page(token, _pending(token), [])


def _review_page(token: str, draft: dict[str, Any], problems: list[tuple[str, str]]) -> str:
    return render_template(
        "drafts/review.html",
        token=token,
        draft=draft,
        problems=problems,
        ROLES=ROLE_NAMES,
        COMPARISONS=COMPARISONS,
        known=sorted(d["name"] for d in draft["departments"]),
        warning_text=draft_service.warning_text,
    )


@bp.post("/plans/draft/<token>")
def confirm(token: str) -> str | Response | tuple[str, int]:
    _require_coordinator()
    request.max_form_parts = MAX_REVIEW_FIELDS
    draft = _pending(token)
    reviewed = draft_service.review(draft, request.form)
    try:
        report = draft_service.create_plan(reviewed, now=clock.now())
    except PlanFileError as exc:
        draft_service.save_pending(reviewed, token)
        return _review_page(token, reviewed, exc.problems), 422
    except TrackerError as exc:
        draft_service.save_pending(reviewed, token)
        return _review_page(token, reviewed, [(_("计划"), str(exc))]), 422
    draft_service.delete_pending(token)
    flash(report.summary())
    return redirect(url_for("tasks.index", plan=report.plan_key))


@bp.post("/plans/draft/<token>/cancel")
def cancel(token: str) -> Response:
    _require_coordinator()
    _pending(token)
    draft_service.delete_pending(token)
    flash(_("已放弃草案，未做任何修改。"))
    return redirect(url_for("drafts.upload"))
