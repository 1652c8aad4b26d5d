"""Reading the 任务分解表 into a plan, and importing it.

A workbook is turned into the same plan dict ``schema.validate`` takes and loaded by
``loader.load_plan``: one loader, one transaction, the same history. Updating an existing plan starts
from ``export.plan_file_dict`` (everything the workbook does not carry: texts, plan-level targets,
dependencies, the plan's wording of each role) and overlays what the workbook says, so a round trip
changes exactly the cells that were edited. Problems are collected for the whole file and named by
row and column; a bad file writes nothing.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from typing import Any

from flask_babel import gettext as _
from openpyxl import load_workbook

from ..errors import PlanFileError, TrackerError
from ..extensions import db
from ..models import Department, Plan
from ..models.org import ROLES
from ..tasks.queries import get_plan
from .export import directory_file_dict, plan_file_dict
from .loader import Change, LoadReport, load_plan, preview_plan
from .schema import PlanData, validate
from .workbook_limits import check_workbook_size
from .xlsx_layout import (
    _BY_KEY,
    _CN_DIGITS,
    _CYCLES,
    _HEADER_LOOKUP,
    ROLE_COLUMNS,
    TARGET_COLUMNS,
    TASK_SHEET,
    TASK_SHEET_EN,
    Source,
    _english,
    _join,
    _names,
    _norm_header,
    _target_value,
    _text,
    parse_alternatives,
    parse_day,
    parse_open_parties,
)

__all__ = ["import_task_workbook", "plan_data_from_workbook"]

# ── reading the task sheet ───────────────────────────────────────────────────────────────────────


@dataclass
class _Row:
    number: int
    cells: dict[str, Any]

    def get(self, key: str) -> Any:
        return self.cells.get(key)

    def text(self, key: str) -> str:
        return _text(self.cells.get(key))


@dataclass
class _TaskRows:
    row: _Row
    targets: list[_Row] = field(default_factory=list)


def _open(source: Source) -> Any:
    if isinstance(source, bytes):
        source = BytesIO(source)
    check_workbook_size(source)  # the bounds first: nothing is loaded from a file larger than any plan
    try:
        return load_workbook(source, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        problem = _("无法读取 Excel 文件（.xlsx）：%(error)s", error=exc.__class__.__name__)
        raise PlanFileError([(_("文件"), problem)]) from exc


def _find_header(wb: Any, wanted: set[str], lookup: Any) -> tuple[Any, int, dict[int, str]]:
    sheets = sorted(wb.worksheets, key=lambda ws: ws.title not in {TASK_SHEET, TASK_SHEET_EN})
    for ws in sheets:
        for r, row in enumerate(ws.iter_rows(min_row=1, max_row=10, values_only=True), start=1):
            columns = {i: key for i, value in enumerate(row) if (key := lookup(value))}
            if wanted <= set(columns.values()):
                return ws, r, columns
    english = _english()
    problem = _(
        "找不到表头行：前 10 行中应有“%(label)s”和“%(title)s”等列名",
        label=_BY_KEY["label"].heading(english),
        title=_BY_KEY["title"].heading(english),
    )
    raise PlanFileError([(_("表头"), problem)])


def _header_text(value: Any) -> str:
    """A header as the file writes it, for messages: ``完成 时限`` → 完成时限, ``Due  date`` → Due date."""
    return re.sub(r"\s*([^\x00-\x7f])\s*", r"\1", " ".join(str(value).split()))


def _at_row(number: int, column: str | None = None) -> str:
    """Where a problem is: ``第4行 牵头部门`` (Row 4, 牵头部门)."""
    if column is None:
        return _("第%(n)s行", n=number)
    return _("第%(n)s行 %(column)s", n=number, column=column)


# A problem with the row it concerns (0: the file as a whole), so problems sort by row in any language.
_Problem = tuple[int, str, str]


def _read_rows(wb: Any) -> tuple[dict[str, str], list[_Row], list[_Problem]]:
    """(the columns present, by key, with the file's own header text; the non-empty rows; problems)."""
    ws, header_row, columns = _find_header(wb, {"title"}, lambda v: _HEADER_LOOKUP.get(_norm_header(v)))
    header = next(ws.iter_rows(min_row=header_row, max_row=header_row, values_only=True))
    english = _english()
    problems: list[_Problem] = []
    seen: dict[str, int] = {}
    at = _at_row(header_row)
    for i, key in columns.items():
        if key in seen:
            message = _(
                "列“%(column)s”出现了两次（第 %(first)s 和 %(second)s 列）",
                column=_BY_KEY[key].heading(english),
                first=seen[key] + 1,
                second=i + 1,
            )
            problems.append((header_row, at, message))
        seen[key] = i
    if not {"label", "code"} & set(columns.values()):
        problems.append((header_row, at, _("缺少“%(column)s”列", column=_BY_KEY["label"].heading(english))))
    if not set(ROLE_COLUMNS) & set(columns.values()):
        message = _(
            "缺少单位列：应至少有“%(lead)s”“%(responsible)s”之一",
            lead=_BY_KEY["lead"].heading(english),
            responsible=_BY_KEY["responsible"].heading(english),
        )
        problems.append((header_row, at, message))
    rows = []
    for number, values in enumerate(ws.iter_rows(min_row=header_row + 1, values_only=True), start=header_row + 1):
        cells = {key: values[i] for i, key in columns.items() if i < len(values)}
        cells = {k: v for k, v in cells.items() if _text(v) != ""}
        if cells:
            rows.append(_Row(number, cells))
    return {key: _header_text(header[i]) for i, key in columns.items()}, rows, problems


def plan_data_from_workbook(
    source: Source,
    *,
    plan: Plan | None = None,
    new_plan: dict[str, Any] | None = None,
) -> tuple[PlanData, dict[str, int]]:
    """Read a 任务分解表 into a validated plan, updating ``plan`` or creating ``new_plan``.

    ``new_plan`` holds ``key``, ``title``, ``start``, ``end``. Returns the plan and, for messages,
    the row each task came from. Raises ``PlanFileError`` naming every bad row and field.
    """
    if (plan is None) == (new_plan is None):
        raise TrackerError(_("请指定要更新的计划，或新计划的编号、名称和起止日期（二者选一）"))
    wb = _open(source)
    present, rows, problems = _read_rows(wb)
    english = _english()
    directory = db.session.scalars(db.select(Department).order_by(Department.position, Department.id)).all()
    dept_names = [d.name for d in directory]

    if plan is not None:
        base = plan_file_dict(plan)
    else:
        assert new_plan is not None
        if db.session.scalar(db.select(Plan).filter_by(key=new_plan.get("key"))) is not None:
            message = _("计划 %(key)s 已存在：请选择“更新已有计划”", key=new_plan.get("key"))
            problems.append((0, _("计划编号"), message))
        base = {
            "plan": {"source": "", "basis": "", **new_plan},
            **directory_file_dict(),
            "sections": [],
            "tasks": [],
            "targets": [],
            "dependencies": [],
            "contributions": [],
        }
    plan_end = base["plan"].get("end")
    base_tasks = {t["code"]: t for t in base["tasks"]}
    base_targets = {x["key"]: x for t in base["tasks"] for x in t["targets"]}
    sections = {s["label"]: s for s in base["sections"]}

    def column(key: str) -> str:
        """The column as the file heads it, or as the app would."""
        return present.get(key) or _BY_KEY[key].heading(english)

    def fail(row: _Row, key: str, message: str) -> None:
        problems.append((row.number, _at_row(row.number, column(key)), message))

    # Group the rows: a row with a title starts a task; a row with only target cells continues one.
    groups: list[_TaskRows] = []
    for row in rows:
        if _is_section_heading(row):
            # 三 | 重点工程 with no department and no deadline: the heading of a part, as tables often have.
            number = _CN_DIGITS[row.text("label")]
            sections[row.text("label")] = {"number": number, "label": row.text("label"), "title": row.text("title")}
        elif row.text("title"):
            groups.append(_TaskRows(row))
        elif any(row.text(k) for k in TARGET_COLUMNS) and set(row.cells) <= {"label", "code", *TARGET_COLUMNS}:
            ident = row.text("code") or row.text("label")
            owner = groups[-1] if groups else None
            if owner is None or (ident and ident not in {owner.row.text("code"), owner.row.text("label")}):
                fail(row, "target_name", _("目标行应紧跟在所属任务之后（或序号与所属任务一致）"))
            else:
                owner.targets.append(row)
        else:
            fail(row, "title", _("必填"))

    codes: dict[str, _Row] = {}
    by_label: dict[str, str] = {}
    for g in groups:
        row = g.row
        code = row.text("code") or _code_from_label(row.text("label"))
        if not code:
            fail(row, "label", _("必填"))
            code = f"row{row.number}"
        if code in codes:
            message = _("与第 %(n)s 行重复：%(code)s", n=codes[code].number, code=code)
            fail(row, "code" if row.text("code") else "label", message)
        codes[code] = row
        row.cells["_code"] = code
        if row.text("label"):
            by_label[row.text("label")] = code

    tasks: list[dict[str, Any]] = []
    rows_of: dict[str, int] = {}
    used_keys: set[str] = set(base_targets)
    for g in groups:
        row = g.row
        code = row.cells["_code"]
        rows_of[code] = row.number
        old = base_tasks.get(code, {})
        label = row.text("label") or old.get("label") or code

        section_label = row.text("section") or (old and _section_label(base, old["section"])) or label[:1]
        if section_label in sections:
            section_number = sections[section_label]["number"]
        elif section_label in _CN_DIGITS or section_label.isdigit():
            section_number = _CN_DIGITS.get(section_label) or int(section_label)
            label_cn = next((k for k, v in _CN_DIGITS.items() if v == section_number), section_label)
            sections[section_label] = {"number": section_number, "label": label_cn, "title": f"第{label_cn}部分"}
        else:
            fail(row, "section", _("应为部分的汉字序号（如 三），而不是 %(value)r", value=section_label))
            section_number = 0

        parent = None
        if parent_ref := row.text("parent"):
            parent = parent_ref if parent_ref in codes else by_label.get(parent_ref)
            if parent is None:
                fail(row, "parent", _("表中没有序号或编码为 %(ref)s 的任务", ref=parent_ref))
        elif "parent" not in present:
            parent = old.get("parent")

        dates = {}
        for key in ("start", "due"):
            if key in present:
                try:
                    dates[key] = parse_day(row.get(key))
                except ValueError as exc:
                    fail(row, key, str(exc))
                    dates[key] = None
            else:
                dates[key] = old.get(key)

        cycle = old.get("reporting_cycle", "quarter")
        if row.text("cycle"):
            cycle = _CYCLES.get(row.text("cycle").lower(), "")
            if not cycle:
                fail(row, "cycle", _("应为 月报 / 季报 / 年报 之一，而不是 %(value)r", value=row.text("cycle")))

        departments = _departments(row, present, old, dept_names, fail, column)
        if not departments and not any(row.text(r) for r in ROLE_COLUMNS) and not old.get("departments"):
            problems.append((row.number, _at_row(row.number), _("没有填写任何牵头、责任、配合或落实单位")))

        task_due = dates["due"] or plan_end
        targets = old.get("targets", []) if not set(TARGET_COLUMNS) & present.keys() else []
        if set(TARGET_COLUMNS) & present.keys():
            # Without a 目标编号 column, a task's targets are matched to the existing ones in order.
            by_order = [t["key"] for t in old.get("targets", [])] if "target_key" not in present else []
            for trow in [row, *g.targets]:
                if not any(trow.text(k) for k in TARGET_COLUMNS):
                    continue
                if by_order:
                    trow.cells.setdefault("target_key", by_order.pop(0))
                target = _target(trow, code, base_targets, used_keys, task_due, fail, row.text("title"))
                if target is not None:
                    targets.append(target)

        tasks.append(
            {
                **{k: v for k, v in old.items() if k in {"responsibility", "open_parties"}},
                **_open_parties(row, present, old, fail),
                "code": code,
                "label": label,
                "section": section_number,
                "parent": parent,
                "title": row.text("title"),
                "text": row.text("text") if "text" in present else old.get("text", ""),
                "start": dates["start"],
                "due": dates["due"],
                "reporting_cycle": cycle,
                "departments": departments,
                "targets": targets,
            }
        )

    if problems:
        problems.sort(key=lambda p: p[0])
        raise PlanFileError([(where, message) for _n, where, message in problems])

    kept_codes = {t["code"] for t in tasks}
    kept_keys = {x["key"] for t in tasks for x in t["targets"]} | {x["key"] for x in base["targets"]}
    raw = {
        **base,
        "sections": sorted(sections.values(), key=lambda s: s["number"]),
        "tasks": tasks,
        "dependencies": [d for d in base["dependencies"] if d["task"] in kept_codes and d["depends_on"] in kept_codes],
        "contributions": [c for c in base["contributions"] if c["task"] in kept_codes and c["target"] in kept_keys],
    }
    try:
        return validate(raw), rows_of
    except PlanFileError as exc:
        raise PlanFileError([(_where_to_row(where, tasks, rows_of), msg) for where, msg in exc.problems]) from None


def _is_section_heading(row: _Row) -> bool:
    return (
        row.text("label") in _CN_DIGITS
        and bool(row.text("title"))
        and not any(row.text(k) for k in (*ROLE_COLUMNS, "due", *TARGET_COLUMNS))
    )


def _where_to_row(where: str, tasks: list[dict[str, Any]], rows_of: dict[str, int]) -> str:
    """A schema path (``tasks[3](3.1).due``, ``tasks(3.1).parent``) as the row of the task: ``第5行（3.1）.due``."""
    code = rest = None
    if m := re.match(r"tasks\[(\d+)\]", where):
        code = tasks[int(m[1])]["code"]
        rest = where[m.end() :].removeprefix(f"({code})")
    elif where.startswith("tasks("):
        # The longest code that fits: a code may itself hold parentheses.
        for candidate in sorted(rows_of, key=len, reverse=True):
            if where.startswith(f"tasks({candidate})"):
                code, rest = candidate, where[len(f"tasks({candidate})") :]
                break
    if code is None or rest is None:
        return where
    return _("第%(n)s行（%(code)s）", n=rows_of.get(code, "?"), code=code) + rest


def _section_label(base: dict[str, Any], number: int) -> str:
    return next((s["label"] for s in base["sections"] if s["number"] == number), "")


def _code_from_label(label: str) -> str:
    """三（一） → 3.1, 三（一）2 → 3.1.2; any other label is its own code."""
    label = label.replace("(", "（").replace(")", "）").replace(" ", "")
    if m := re.fullmatch(r"([一二三四五六七八九十])（([一二三四五六七八九十]+)）(\d*)", label):
        inner = m[2]
        n = _CN_DIGITS[inner] if len(inner) == 1 else 10 + _CN_DIGITS.get(inner[-1], 0)
        return f"{_CN_DIGITS[m[1]]}.{n}" + (f".{m[3]}" if m[3] else "")
    return label


def _departments(
    row: _Row, present: dict[str, str], old: dict[str, Any], dept_names: list[str], fail: Any, column: Any
) -> list[dict]:
    """The row's departments, keeping the plan's wording, note and order for those already there."""
    if not set(ROLE_COLUMNS) & present.keys():
        return list(old.get("departments", []))
    wanted: dict[str, str] = {}
    for role in ROLE_COLUMNS:
        if role not in present:
            # A column the sheet lacks keeps that role's departments as they are.
            for a in old.get("departments", []):
                if a["role"] == role:
                    wanted.setdefault(a["name"], role)
            continue
        for name in _names(row.get(role)):
            if name not in dept_names:
                close = difflib.get_close_matches(name, dept_names, n=3, cutoff=0.5)
                if close:
                    message = _("单位目录中没有“%(name)s”，是否为：%(close)s？", name=name, close=_join(close))
                else:
                    message = _("单位目录中没有“%(name)s”（请先在单位目录中添加）", name=name)
                fail(row, role, message)
            elif name in wanted and wanted[name] != role:
                message = _(
                    "%(name)s 同时出现在“%(first)s”和“%(second)s”中",
                    name=name,
                    first=column(wanted[name]),
                    second=column(role),
                )
                fail(row, role, message)
            else:
                wanted[name] = role
    out = []
    for a in old.get("departments", []):
        if a["name"] in wanted:
            role = wanted.pop(a["name"])
            same = role == a["role"]
            out.append(
                {
                    "name": a["name"],
                    "role": role,
                    "role_text": a["role_text"] if same else ROLES[role],
                    "note": a["note"] if same else "",
                    **({"open_party": a["open_party"]} if a.get("open_party") else {}),
                }
            )
    out += [{"name": n, "role": r, "role_text": ROLES[r], "note": ""} for n, r in wanted.items()]
    return out


def _target(
    row: _Row,
    code: str,
    base_targets: dict[str, dict],
    used: set[str],
    task_due: date | None,
    fail: Any,
    task_title: str,
) -> dict[str, Any] | None:
    key = row.text("target_key")
    old = base_targets.get(key, {}) if key else {}
    if not key:
        n = 1
        while f"{code}-t{n}" in used:
            n += 1
        key = f"{code}-t{n}"
    used.add(key)
    try:
        comparison, value, value_min, value_max = _target_value(row.get("comparison"), row.get("value"))
    except ValueError as exc:
        fail(row, "value", str(exc))
        return None
    due = old.get("due") or task_due
    if row.text("target_due"):
        try:
            due = parse_day(row.get("target_due")) or task_due
        except ValueError as exc:
            fail(row, "target_due", str(exc))
    # A table with only 目标值 / 单位 columns names its targets after the task.
    name = row.text("target_name") or old.get("name") or task_title
    alternatives = old.get("alternatives") or []
    if row.text("alternatives") or (alternatives and "alternatives" in row.cells):
        try:
            alternatives = parse_alternatives(row.get("alternatives"), alternatives)
        except ValueError as exc:
            fail(row, "alternatives", str(exc))
    return {
        **{k: v for k, v in old.items() if k not in {"group"}},
        "key": key,
        "name": name,
        "comparison": comparison,
        "value": value,
        "value_min": value_min,
        "value_max": value_max,
        "unit": row.text("unit"),
        "due": due,
        **({"alternatives": alternatives} if alternatives else {}),
    }


def _open_parties(row: _Row, present: dict[str, str], old: dict[str, Any], fail: Any) -> dict[str, Any]:
    """The 开放责任方 cell when the sheet has the column: kept as written, each party's note kept."""
    if "open_parties" not in present:
        return {}
    try:
        parties = parse_open_parties(row.get("open_parties"))
    except ValueError as exc:
        fail(row, "open_parties", str(exc))
        return {}
    notes = {p.get("text"): p.get("note", "") for p in old.get("open_parties") or []}
    return {"open_parties": [{**p, "note": notes.get(p["text"], "")} for p in parties]}


def import_task_workbook(
    source: Source,
    *,
    now: datetime,
    plan_key: str | None = None,
    new_plan: dict[str, Any] | None = None,
    dry_run: bool = False,
    user_id: int | None = None,
    filename: str = "",
) -> tuple[LoadReport, list[Change]]:
    """Update plan ``plan_key`` or create ``new_plan`` from a workbook, through ``load_plan``.

    With ``dry_run`` nothing is written: the load runs and is rolled back, and the changes it would
    make are returned. Without it, the same changes are committed (the list is the preview's).
    """
    plan = get_plan(plan_key) if plan_key else None
    data, _rows = plan_data_from_workbook(source, plan=plan, new_plan=new_plan)
    report, changes = preview_plan(data, now=now, user_id=user_id, filename=filename)
    if not dry_run:
        report = load_plan(data, now=now, user_id=user_id, filename=filename)
    return report, changes
