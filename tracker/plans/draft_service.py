"""Drafting a new plan from an uploaded text: read, draft, keep pending, review, create.

Shared by ``plan draft`` and the coordinator's page (upload → review → confirm). The pending draft
is a JSON file under ``UPLOAD_FOLDER/plan-drafts/`` (where every web worker reaches it), named by a
random token, never in the cookie. Nothing is written to the database until ``create_plan``, which
goes through ``schema.validate`` and ``loader.load_plan`` like ``plan load`` (one transaction,
history kept) and refuses a plan key that already exists.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from ..errors import NotFound, TrackerError
from ..tasks.queries import plan_exists
from .draft import DraftOptions, draft_plan
from .draft_text import docx_text
from .export import directory_file_dict
from .loader import LoadReport, load_plan
from .schema import validate

__all__ = [
    "DraftError",
    "create_plan",
    "delete_pending",
    "draft_from_file",
    "load_pending",
    "plan_file_text",
    "review",
    "save_pending",
    "warning_text",
]

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class DraftError(TrackerError):
    """A text could not be drafted, or a draft could not become a plan."""


def plan_file_text(filename: str, data: bytes) -> str:
    """The text of an uploaded plan: a Word ``.docx`` or a plain-text file (UTF-8 or GB18030)."""
    name = filename.lower()
    if name.endswith(".docx"):
        try:
            return docx_text(data)
        except Exception as exc:  # python-docx raises several kinds on a damaged file
            raise DraftError(_("无法读取 Word 文件：%(error)s", error=exc)) from exc
    if name.endswith(".txt"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
        raise DraftError(_("无法识别文本文件的编码（应为 UTF-8 或 GB18030）"))
    raise DraftError(_("只接受 .txt 或 .docx 文件"))


def draft_from_file(filename: str, data: bytes, *, key: str | None = None, title: str | None = None) -> dict[str, Any]:
    """Draft a plan file from an uploaded text, names matched to the directory as it stands."""
    text = plan_file_text(filename, data)
    options = DraftOptions(key=key or None, title=title or None, source=Path(filename).name)
    return draft_plan(text, directory=_json_ready(directory_file_dict()), options=options)


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / "plan-drafts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


STALE_AFTER = timedelta(days=7)


def save_pending(draft: dict[str, Any], token: str | None = None) -> str:
    """Keep a draft under a new (or its) token; drafts nobody touched for a week are dropped."""
    folder = _folder()
    limit = (datetime.now(UTC) - STALE_AFTER).timestamp()
    for old in folder.glob("*.json"):
        if old.stat().st_mtime < limit:
            old.unlink(missing_ok=True)
    token = token or secrets.token_urlsafe(24)
    (folder / f"{token}.json").write_text(json.dumps(draft, ensure_ascii=False), encoding="utf-8")
    return token


def load_pending(token: str) -> dict[str, Any]:
    path = _folder() / f"{token}.json"
    if not _TOKEN.match(token) or not path.is_file():
        raise NotFound(_("草案不存在或已处理"))
    return json.loads(path.read_text(encoding="utf-8"))


def delete_pending(token: str) -> None:
    if _TOKEN.match(token):
        (_folder() / f"{token}.json").unlink(missing_ok=True)


def review(draft: dict[str, Any], form: Any) -> dict[str, Any]:
    """Apply a coordinator's review (accept / edit / remove per item) to a pending draft.

    ``form`` maps field names to values (a ``MultiDict`` or a dict): ``plan-key``, ``plan-title``;
    per task ``t{i}-keep``, ``t{i}-title``, ``t{i}-due``; per assignment ``t{i}-a{j}-keep``,
    ``t{i}-a{j}-name``, ``t{i}-a{j}-role``; per target ``t{i}-g{j}-keep``, ``-name``, ``-value``,
    ``-comparison``, ``-unit``, ``-due``, plan-level targets ``p{k}-…``. An item is kept only when its
    ``-keep`` box is sent; edited values replace the drafted ones.
    """
    plan = dict(draft["plan"])
    plan["key"] = (form.get("plan-key") or plan["key"]).strip()
    plan["title"] = (form.get("plan-title") or plan["title"]).strip()
    tasks = []
    for i, task in enumerate(draft["tasks"]):
        if not form.get(f"t{i}-keep"):
            continue
        task = dict(task)
        task["title"] = (form.get(f"t{i}-title") or task["title"]).strip()
        task["due"] = (form.get(f"t{i}-due") or task["due"]).strip()
        task["departments"] = [
            {
                **a,
                "name": (form.get(f"t{i}-a{j}-name") or a["name"]).strip(),
                "role": form.get(f"t{i}-a{j}-role") or a["role"],
            }
            for j, a in enumerate(task["departments"])
            if form.get(f"t{i}-a{j}-keep")
        ]
        task["targets"] = [
            _edited_target(t, form, f"t{i}-g{j}") for j, t in enumerate(task["targets"]) if form.get(f"t{i}-g{j}-keep")
        ]
        tasks.append(task)
    kept_codes = {t["code"] for t in tasks}
    for task in tasks:
        if task.get("parent") and task["parent"] not in kept_codes:
            task["parent"] = None
    targets = [_edited_target(t, form, f"p{k}") for k, t in enumerate(draft["targets"]) if form.get(f"p{k}-keep")]
    out = {**draft, "plan": plan, "tasks": tasks, "targets": targets, "draft": dict(draft.get("draft", {}))}
    _add_new_departments(out)
    _drop_unused_new_departments(out)
    return out


def _drop_unused_new_departments(draft: dict[str, Any]) -> None:
    """A name the draft would have added to the directory, renamed or removed in the review, is not added."""
    used = {a["name"] for task in draft["tasks"] for a in task["departments"]}
    unknown = draft["draft"].get("unknown_departments", [])
    new = {u["name"] for u in unknown}
    draft["departments"] = [d for d in draft["departments"] if d["name"] in used or d["name"] not in new]
    draft["draft"]["unknown_departments"] = [u for u in unknown if u["name"] in used]


def _edited_target(target: dict[str, Any], form: Any, prefix: str) -> dict[str, Any]:
    t = dict(target)
    t["name"] = (form.get(f"{prefix}-name") or t["name"]).strip()
    if f"{prefix}-value" in form:
        raw = (form.get(f"{prefix}-value") or "").strip()
        if t.get("comparison") != "range":
            try:
                t["value"] = float(raw) if raw else None
            except ValueError:
                t["value"] = raw  # the validation names the field
            if isinstance(t["value"], float) and t["value"].is_integer():
                t["value"] = int(t["value"])
    if f"{prefix}-comparison" in form:
        t["comparison"] = form.get(f"{prefix}-comparison") or None
    if f"{prefix}-unit" in form:
        t["unit"] = (form.get(f"{prefix}-unit") or "").strip() or None
    t["due"] = (form.get(f"{prefix}-due") or t["due"]).strip()
    return t


def _add_new_departments(draft: dict[str, Any]) -> None:
    """A name the coordinator typed that neither the directory nor the draft knows becomes a new department."""
    from .draft import guess_kind

    known = {d["name"] for d in draft["departments"]}
    for task in draft["tasks"]:
        for a in task["departments"]:
            if a["name"] and a["name"] not in known:
                draft["departments"].append(
                    {
                        "name": a["name"],
                        "kind": guess_kind(a["name"]),
                        "county": None,
                        "coordinating": False,
                        "emails": [],
                    }
                )
                unknown = draft["draft"].setdefault("unknown_departments", [])
                unknown.append({"name": a["name"], "kind": guess_kind(a["name"]), "suggestions": []})
                known.add(a["name"])


def warning_text(warning: dict[str, str]) -> str:
    """A drafting warning in the current language."""
    if warning.get("kind") == "scope_skipped":
        return _(
            "%(measure)s：本条考核各县（市、区）政府，未按“%(clause)s”列为落实单位",
            measure=warning["measure"],
            clause=warning["clause"],
        )
    if warning.get("kind") == "table_unread":
        return _("未能识别的表格：%(title)s", title=warning["title"])
    return str(warning)


def create_plan(draft: dict[str, Any], *, now: datetime) -> LoadReport:
    """Validate the reviewed draft and load it as a NEW plan, as ``plan load`` does."""
    key = draft["plan"].get("key") or ""
    if key and plan_exists(key):
        raise DraftError(_("计划编号 %(key)s 已存在：草案只能新建计划，请换一个编号", key=key))
    data = validate({k: v for k, v in draft.items() if k != "draft"})
    return load_plan(data, now=now)
