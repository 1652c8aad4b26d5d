"""The supervision bulletin (督办通报) on the web: past issues, issuing one, downloading its files.

Leaders, coordinators and administrators read and download; only coordinators issue.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from .. import clock
from ..accounts.permissions import is_coordinator
from ..bulletins import service
from ..bulletins.pdf import ConversionError
from ..numbers import int_or_none
from ..tasks.periods import period_for, previous
from .common import attachment, request_plan

bp = Blueprint("bulletins", __name__)


@bp.before_request
def readers_only() -> None:
    if not (current_user.is_authenticated and current_user.role in {"leader", "coordinator", "admin"}):
        abort(403)


@bp.get("/bulletins")
def index() -> str:
    today = clock.today()
    plan = request_plan()
    default = previous(period_for(today, "quarter")).key
    return render_template(
        "bulletins/index.html",
        plan=plan,
        bulletins=service.listing(plan),
        default_period=request.args.get("period", default),
        can_issue=is_coordinator(current_user),
    )


@bp.post("/bulletins")
def issue() -> BaseResponse:
    if not is_coordinator(current_user):
        abort(403)
    try:
        row = service.issue(
            request.form.get("period", ""),
            plan=request_plan(),
            now=clock.now(),
            user_id=current_user.id,
            corrects_id=int_or_none(request.form.get("corrects")),
        )
    except service.BulletinError as exc:
        flash(str(exc), "error")
        return redirect(url_for("bulletins.index", period=request.form.get("period", "")))
    flash(_("已印发第 %(n)s 期督办通报。", n=row.number))
    return redirect(url_for("bulletins.index"))


def _language() -> str:
    asked = request.args.get("lang")
    if asked in {"zh_CN", "en"}:
        return asked
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh_CN"


@bp.get("/bulletins/<int:bulletin_id>.docx")
def word(bulletin_id: int) -> Response:
    row, language = service.get(bulletin_id), _language()
    name, fallback = service.file_name(row, "docx", language), f"bulletin_{row.number}_{row.period}.docx"
    return attachment(service.word_bytes(row, language), name, service.DOCX_TYPE, fallback)


@bp.get("/bulletins/<int:bulletin_id>.pdf")
def pdf(bulletin_id: int) -> Response | tuple[str, int]:
    row, language = service.get(bulletin_id), _language()
    try:
        data = service.pdf_bytes(row, language)
    except ConversionError as exc:
        return render_template("error.html", title=_("无法生成 PDF"), message=str(exc)), 503
    name, fallback = service.file_name(row, "pdf", language), f"bulletin_{row.number}_{row.period}.pdf"
    return attachment(data, name, "application/pdf", fallback)
