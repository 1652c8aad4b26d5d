"""A task's change history as people read it: the one formatter every history table goes through.

The history is stored as rows of (entity, field, old, new) with the program's field names and codes
(:mod:`tracker.audit`). This module turns them into what a reader knows: the field's label in their
language (never ``original_due`` or ``parent_id``), values with their labels (roles, statuses, cycles,
people, tasks), the department an assignment row is about, the person who made the change and, for a
plan-file import, the file's name; an approved extension is shown as an extension (old and new date,
the request's reason, who approved), not as an edited deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from .. import clock
from ..audit import IMPORT_ACTOR
from ..extensions import db
from ..i18n import N_, label, moment
from ..models import Assignment, AuditLog, ExtensionRequest, Section, Task, User
from ..models.org import ROLES
from ..models.plan import REPORTING_CYCLES, TASK_STATUSES

__all__ = [
    "HISTORY_ACTIONS",
    "HISTORY_FIELDS",
    "HistoryRow",
    "actor_label",
    "field_label",
    "history_rows",
    "history_value",
]

# Every field a task's or an assignment's history can name, in Chinese (translated where shown).
HISTORY_FIELDS = {
    "status": N_("状态"),
    "progress": N_("进度"),
    "closed_on": N_("销号日期"),
    "due": N_("完成时限"),
    "original_due": N_("原定完成时限"),
    "title": N_("任务名称"),
    "label": N_("序号"),
    "text": N_("任务内容"),
    "responsibility": N_("责任分工原文"),
    "open_parties": N_("其他责任主体"),
    "start": N_("开始日期"),
    "section_id": N_("所属部分"),
    "parent_id": N_("上级任务"),
    "position": N_("排列顺序"),
    "reporting_cycle": N_("报送周期"),
    "acknowledged_at": N_("签收时间"),
    "acknowledged_by_id": N_("签收人"),
    "contact_emails": N_("联系邮箱"),
    "role": N_("角色"),
    "role_text": N_("原文表述"),
    "note": N_("备注"),
    "department_id": N_("单位"),
}
HISTORY_ACTIONS = {
    "create": N_("创建"),
    "delete": N_("删除"),
    "update": N_("修改"),
    "breakdown": N_("分解出子任务"),
    "extension_request": N_("申请延期"),
    "extension_rejected": N_("延期被驳回"),
    "extension_approved": N_("延期获批准"),
    "remove_party": N_("移除责任单位"),
    "replace_party": N_("替换责任单位"),
    "carry_out": N_("转入下一规划"),
    "carry_in": N_("承接自上一规划"),
    "close": N_("关闭计划"),
    "reopen": N_("重新开启计划"),
    "name": N_("为开放责任方点名"),
    "unlink": N_("删除计划文件中的关系"),
    "instruction": N_("领导批示"),
    "instruction_answer": N_("答复批示"),
}
ENTITIES = {"task": N_("任务"), "assignment": N_("责任分工")}


@dataclass
class HistoryRow:
    at: datetime
    who: str  # the person (and the imported file), or 系统
    subject: str  # 任务 / 责任分工 · 市公安局
    change: str  # the field's label, or what was done
    old: str
    new: str
    note: str = ""  # an extension's reason and approver


def history_value(value: str | None, field: str, names: dict[str, dict[int, str]] | None = None) -> str:
    """A stored history value as a reader knows it: labels for codes, names for ids, city time for instants."""
    if value is None:
        return ""
    names = names or {}
    if field == "status":
        return _(TASK_STATUSES[value]) if value in TASK_STATUSES else value
    if field == "reporting_cycle":
        return _(REPORTING_CYCLES[value]) if value in REPORTING_CYCLES else value
    if field == "role":
        return _(ROLES[value]) if value in ROLES else value
    if field == "acknowledged_at":
        try:
            return moment(datetime.fromisoformat(value).astimezone(clock.CITY_TZ))
        except ValueError:
            return value
    if field in {"acknowledged_by_id", "parent_id", "section_id"}:
        kind = {"acknowledged_by_id": "user", "parent_id": "task", "section_id": "section"}[field]
        try:
            return names.get(kind, {}).get(int(value), value)
        except ValueError:
            return value
    # An assignment is recorded in words, its role last: 3.1 · 林州市人民政府 · 落实
    head, sep, last = value.rpartition(" · ")
    if sep and last in ROLES.values():
        return head + sep + _(last)
    return value


def field_label(field: str | None) -> str:
    """A history field's label in the reader's language (an unknown one as itself)."""
    if not field:
        return ""
    return _(HISTORY_FIELDS[field]) if field in HISTORY_FIELDS else field


def actor_label(actor: str | None) -> str:
    """A history row's ``actor`` as a reader reads it: a plan-file import names its file."""
    if not actor:
        return ""
    if actor.startswith(IMPORT_ACTOR):
        return _("计划文件导入（%(file)s）", file=actor[len(IMPORT_ACTOR) :])
    return label(actor)


def _who(row: AuditLog, users: dict[int, User]) -> str:
    user = users.get(row.user_id) if row.user_id is not None else None
    person = (user.name or user.email) if user else ""
    if row.actor.startswith(IMPORT_ACTOR):
        source = actor_label(row.actor)
        return f"{person} · {source}" if person else source
    if person:
        return person
    return actor_label(row.actor) or _("系统")


def history_rows(
    rows: list[AuditLog], *, users: dict[int, User], extensions: list[ExtensionRequest]
) -> list[HistoryRow]:
    """The rows of a task's (or its assignments') history, formatted; a few queries whatever the count."""
    assignment_ids = {r.entity_id for r in rows if r.entity == "assignment" and r.entity_id is not None}
    departments = {
        a.id: a.department.name
        for a in db.session.scalars(db.select(Assignment).where(Assignment.id.in_(assignment_ids or [-1])))
    }
    ids: dict[str, set[int]] = {"user": set(), "task": set(), "section": set()}
    for r in rows:
        kind = {"acknowledged_by_id": "user", "parent_id": "task", "section_id": "section"}.get(r.field)
        if kind:
            ids[kind] |= {int(v) for v in (r.old, r.new) if v and v.isdigit()}
    names: dict[str, dict[int, str]] = {
        "user": {
            u.id: u.name or u.email for u in db.session.scalars(db.select(User).where(User.id.in_(ids["user"] or [-1])))
        },
        "task": {t.id: t.label for t in db.session.scalars(db.select(Task).where(Task.id.in_(ids["task"] or [-1])))},
        "section": {
            s.id: f"{s.label}、{s.title}"
            for s in db.session.scalars(db.select(Section).where(Section.id.in_(ids["section"] or [-1])))
        },
    }
    approved = {(e.task_id, e.decided_at, e.new_due.isoformat()): e for e in extensions if e.state == "approved"}
    out = []
    for r in rows:
        subject = _(ENTITIES.get(r.entity, r.entity)) if r.entity in ENTITIES else r.entity
        if r.entity == "assignment":
            name = departments.get(r.entity_id or 0) or _department_in_words(r.old or r.new)
            subject = f"{subject} · {name}" if name else subject
        extension = approved.get((r.entity_id, r.at, r.new)) if r.field == "due" else None
        note = ""
        if r.action == "extension_approved" or extension is not None:
            change = _(HISTORY_ACTIONS["extension_approved"])
            if extension is not None:
                approver = users.get(extension.decided_by_id) if extension.decided_by_id is not None else None
                note = _(
                    "理由：%(reason)s；批准人：%(who)s",
                    reason=extension.reason,
                    who=(approver.name or approver.email) if approver else _("系统"),
                )
        elif r.field and r.action == "update":
            change = _(HISTORY_FIELDS[r.field]) if r.field in HISTORY_FIELDS else _("其他字段")
        elif r.field and r.field in HISTORY_FIELDS and r.action not in HISTORY_ACTIONS:
            change = _(HISTORY_FIELDS[r.field])
        else:
            action = _(HISTORY_ACTIONS[r.action]) if r.action in HISTORY_ACTIONS else _("其他操作")
            field = _(HISTORY_FIELDS[r.field]) if r.field in HISTORY_FIELDS else ""
            change = (
                f"{action}（{field}）" if field and r.action in {"extension_request", "extension_rejected"} else action
            )
        out.append(
            HistoryRow(
                at=r.at,
                who=_who(r, users),
                subject=subject,
                change=change,
                old=history_value(r.old, r.field, names),
                new=history_value(r.new, r.field, names),
                note=note,
            )
        )
    return out


def _department_in_words(words: str | None) -> str:
    """The department of an assignment written in words (``3.1 · 林州市人民政府 · 落实`` or ``市公安局 · 配合``)."""
    if not words:
        return ""
    parts = words.split(" · ")
    if len(parts) >= 2 and parts[-1] in ROLES.values():
        return parts[-2]
    return ""
