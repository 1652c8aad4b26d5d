"""Excel in and out on the web: the template, a plan's 任务分解表, and the upload → preview → confirm import.

Between preview and confirm the upload waits in the instance folder under a random name; the form
carries only that name, checked against a strict pattern, never a path.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import clock
from ..accounts.permissions import can_edit_plan
from ..errors import PermissionDenied, PlanFileError, TrackerError
from ..extensions import db
from ..i18n import Labels
from ..models import Plan
from ..plans.county_values import import_target_values
from ..plans.loader import ENTITY_NAMES
from ..plans.xlsx_read import import_task_workbook
from ..plans.xlsx_write import task_workbook
from ..tasks.queries import get_plan
from .common import request_plan

bp = Blueprint("exchange", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
# Field names of the history, as the preview shows them.
FIELD_NAMES = {
    "title": _l("名称"),
    "label": _l("序号"),
    "text": _l("主要内容"),
    "start": _l("开始时间"),
    "due": _l("完成时限"),
    "original_due": _l("原定完成时限"),
    "reporting_cycle": _l("报送周期"),
    "parent_id": _l("上级任务"),
    "section_id": _l("部分"),
    "position": _l("排列顺序"),
    "role": _l("角色"),
    "role_text": _l("角色原文"),
    "name": _l("名称"),
    "value": _l("目标值"),
    "value_min": _l("区间下限"),
    "value_max": _l("区间上限"),
    "unit": _l("计量单位"),  # not 单位, which the interface uses for a department
    "comparison": _l("比较"),
}


def _xlsx(content: bytes, name: str) -> Response:
    from io import BytesIO

    return send_file(BytesIO(content), mimetype=XLSX, as_attachment=True, download_name=name)


def _require_coordinator() -> None:
    if not can_edit_plan(current_user):
        raise PermissionDenied(_("只有统筹协调人员可以导入计划。"))


STALE_AFTER = timedelta(days=1)


def _upload_dir() -> Path:
    # Under the upload folder, which is in the instance folder unless configured elsewhere.
    path = Path(current_app.config["UPLOAD_FOLDER"]) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _drop_stale_uploads(folder: Path) -> None:
    """Uploads previewed but never confirmed or cancelled are removed after a day."""
    limit = (datetime.now(UTC) - STALE_AFTER).timestamp()
    for path in folder.glob("*.*"):
        if path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


@bp.get("/plans/template.xlsx")
def template() -> Response:
    return _xlsx(task_workbook(None), _("任务分解表模板.xlsx"))


@bp.get("/plans/<key>/tasks.xlsx")
def tasks_xlsx(key: str) -> Response:
    plan = get_plan(key)
    return _xlsx(task_workbook(plan), _("%(key)s-任务分解表.xlsx", key=plan.key))


def _plans() -> list[Plan]:
    return list(db.session.scalars(db.select(Plan).order_by(Plan.start)))


@bp.route("/plans/import", methods=["GET", "POST"])
def upload() -> str | Response:
    _require_coordinator()
    form: dict[str, Any] = {"mode": "update", "plan": "", "key": "", "title": "", "start": "", "end": ""}
    problems: list[tuple[str, str]] = []
    plans = _plans()
    if plans and not request.form:
        form["plan"] = request_plan().key
    if request.method == "POST":
        form.update({k: request.form.get(k, "").strip() for k in form})
        upload = request.files.get("file")
        params: dict[str, Any] = {}
        if upload is None or not upload.filename:
            problems.append((_("文件"), _("请选择 .xlsx 文件")))
        if form["mode"] == "new":
            try:
                start, end = date.fromisoformat(form["start"]), date.fromisoformat(form["end"])
            except ValueError:
                problems.append((_("起止日期"), _("请填写有效的开始和结束日期（YYYY-MM-DD）")))
            else:
                params["new_plan"] = {"key": form["key"], "title": form["title"], "start": start, "end": end}
            if not form["key"] or not form["title"]:
                problems.append((_("新计划"), _("请填写计划编号和名称")))
        else:
            params["plan_key"] = form["plan"]
        if not problems and upload is not None:
            content = upload.read()
            token = secrets.token_hex(16)
            try:
                report, changes = import_task_workbook(content, now=clock.now(), dry_run=True, **params)
            except PlanFileError as exc:
                problems = exc.problems
            except TrackerError as exc:
                problems = [(_("文件"), str(exc))]
            else:
                folder = _upload_dir()
                _drop_stale_uploads(folder)
                (folder / f"{token}.xlsx").write_bytes(content)
                meta = {"user_id": current_user.id, "filename": upload.filename, **_jsonable(params)}
                (folder / f"{token}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
                return render_template(
                    "exchange/preview.html",
                    token=token,
                    report=report,
                    changes=changes,
                    meta=meta,
                    ENTITIES=Labels(ENTITY_NAMES),
                    FIELDS=FIELD_NAMES,
                )
    status = 422 if problems else 200
    return render_template("exchange/upload.html", form=form, plans=plans, problems=problems), status  # type: ignore[return-value]


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    if "new_plan" in params:
        p = params["new_plan"]
        return {"new_plan": {**p, "start": p["start"].isoformat(), "end": p["end"].isoformat()}}
    return params


def _pending(token: str) -> tuple[Path, dict[str, Any]]:
    if not _TOKEN.match(token):
        abort(404)
    folder = _upload_dir()
    meta_path = folder / f"{token}.json"
    if not meta_path.exists():
        abort(404)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta["user_id"] != current_user.id:
        abort(404)
    return folder / f"{token}.xlsx", meta


@bp.post("/plans/import/<token>")
def confirm(token: str) -> str | Response:
    _require_coordinator()
    path, meta = _pending(token)
    params: dict[str, Any] = {}
    if "new_plan" in meta:
        p = meta["new_plan"]
        params["new_plan"] = {**p, "start": date.fromisoformat(p["start"]), "end": date.fromisoformat(p["end"])}
    else:
        params["plan_key"] = meta["plan_key"]
    try:
        report, _written = import_task_workbook(
            path.read_bytes(), now=clock.now(), user_id=current_user.id, filename=meta.get("filename", ""), **params
        )
    except PlanFileError as exc:
        return render_template("exchange/upload.html", form={}, plans=_plans(), problems=exc.problems), 422  # type: ignore[return-value]
    finally:
        path.unlink(missing_ok=True)
        path.with_suffix(".json").unlink(missing_ok=True)
    flash(report.summary())
    return redirect(url_for("tasks.index", plan=report.plan_key))


@bp.post("/plans/import/<token>/cancel")
def cancel(token: str) -> Response:
    _require_coordinator()
    path, _params = _pending(token)
    path.unlink(missing_ok=True)
    path.with_suffix(".json").unlink(missing_ok=True)
    flash(_("已取消导入，未做任何修改。"))
    return redirect(url_for("exchange.upload"))


@bp.route("/plans/<key>/values/import", methods=["GET", "POST"])
def values(key: str) -> str | Response:
    _require_coordinator()
    plan = get_plan(key)
    problems: list[tuple[str, str]] = []
    period = request.form.get("period", "").strip()
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            problems.append((_("文件"), _("请选择 .xlsx 文件")))
        else:
            try:
                rows = import_target_values(
                    upload.read(),
                    plan=plan,
                    period=period,
                    now=clock.now(),
                    reporter_id=current_user.id,
                    source_name=upload.filename,
                )
            except PlanFileError as exc:
                problems = exc.problems
            else:
                flash(_("已导入 %(value)s 个实际值（%(period)s）。", value=len(rows), period=period))
                return redirect(url_for("exchange.values", key=plan.key))
    status = 422 if problems else 200
    return render_template("exchange/values.html", plan=plan, period=period, problems=problems), status  # type: ignore[return-value]
