"""Drafting a plan from its official text: parts, measures, duties, deadlines, targets, annex tables.

Pure: no Flask request, no session, no database. The caller passes the directory as it stands
(``export.directory_file_dict()``) and gets back a plan *file* (the input of ``schema.validate`` and
``plan load``) in which every drafted item carries the sentence it came from (``source``), plus a
``draft`` section listing what the coordinator must look at: department names not in the
directory with their near misses, open parties, measures a scope clause was not applied to.

Reading rules (docs/plan-drafting.md measures them):
- a part is ``一、标题``; a measure is ``（一）标题。正文`` (full- or half-width brackets), a numbered
  item ``1.标题。正文`` inside a measure is a sub-task; the measure's title is its first sentence;
- the duty parentheses of a measure (``（市发展改革委牵头，市统计局等配合）``) give its departments:
  牵头 lead, 配合 / 参与 / 协助 support, 负责 / 按职责分工负责 responsible, 落实 / 负责落实 implementing;
  ``等`` is not a department; ``各有关部门`` stays an open party, never expanded into invented names;
- ``各县（市、区）政府`` names the county governments of the directory; a scope clause
  (``以下均需各县（市、区）政府落实，不再列出``) gives them the implementing role on its own measure and
  every later one, except a measure that assesses them (``对各县（市、区）政府……考核``);
- a part whose title speaks of 目标 and has no measures gives the plan-level (city) targets;
- annex tables become county and sector targets (``draft_tables``); numbers and deadlines in
  sentences become targets (``draft_targets``).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .draft_tables import county_column, dedupe, table_targets
from .draft_targets import targets_in
from .draft_text import CN_DIGITS, blocks_of, is_table_row, split_outside_parens, trailing_groups

__all__ = ["DraftOptions", "cn_number", "draft_plan", "guess_kind"]

_PART = re.compile(rf"^([{CN_DIGITS}]{{1,3}})、\s*(.+)$")
_MEASURE = re.compile(rf"^（\s*([{CN_DIGITS}]{{1,3}})\s*）\s*(.*)$")
_ITEM = re.compile(r"^(\d{1,2})[.．、](?!\d)\s*(.*)$")
_ANNEX = re.compile(r"^附件\s*(\d*)\s*$")
_UNIT_LINE = re.compile(r"^（单位[：:]\s*(.+?)）$")
_ROLE = re.compile(
    r"^(?P<names>.*?)(?P<etc>等)?(?P<role>按职责分工负责|负责落实|牵头督导|牵头负责|牵头|配合|参与|协助|负责|落实)$"
)
_ROLE_OF = {
    "按职责分工负责": ("responsible", "按职责分工负责"),
    "负责落实": ("implementing", "落实"),
    "牵头督导": ("lead", "牵头"),
    "牵头负责": ("lead", "牵头"),
    "牵头": ("lead", "牵头"),
    "配合": ("support", "配合"),
    "参与": ("support", "参与"),
    "协助": ("support", "协助"),
    "负责": ("responsible", "负责"),
    "落实": ("implementing", "落实"),
}
_DUTY_WORDS = re.compile(r"牵头|配合|负责|落实|参与|协助")
# 各县（市、区）政府 / 各县（市、区）人民政府 / 各县、区人民政府（管委会） / 各市（特区、区）人民政府
_COUNTY_GROUP = re.compile(r"各(?:县|市|区|县级)(?:（[^）]*）|、区)?(?:人民)?政府(?:（管委会）)?")
_SCOPE = re.compile(r"^以下(?:各项工作|各项任务|任务|工作)?均需(?P<names>.+?)(?:负责)?落实")
_OPEN = re.compile(r"^(?:各)?有关(?:部门|单位)$|^各(?:部门|单位|相关部门|有关部门|有关单位)$")
_FIVE_YEAR = {"十三五": 2016, "十四五": 2021, "十五五": 2026, "十六五": 2031}


@dataclass
class DraftOptions:
    key: str | None = None
    title: str | None = None
    start: date | None = None
    end: date | None = None
    source: str | None = None


def cn_number(text: str) -> int:
    """一 → 1, 十 → 10, 十二 → 12, 二十一 → 21.

    >>> [cn_number(x) for x in ("一", "十", "十二", "二十一")]
    [1, 10, 12, 21]
    """
    digits = {c: i + 1 for i, c in enumerate(CN_DIGITS[:9])}
    if "十" not in text:
        return digits.get(text, 0)
    tens, _, ones = text.partition("十")
    return (digits.get(tens, 1) if tens else 1) * 10 + (digits.get(ones, 0) if ones else 0)


def guess_kind(name: str) -> str:
    """The directory kind of a department name the directory does not know yet."""
    if re.search(r"人民银行|人行|银保监|金融监管|海关|铁路|电力公司|供电公司|国网|气象局|通信管理", name):
        return "outside"
    if re.match(r"^(?:市委|县委|省委|团市委|市总工会|市妇联|市科协|市文明办)", name) or "妇联" in name:
        return "party"
    if re.search(r"[县区市旗]人民政府$", name) and not name.startswith("市"):
        return "county"
    return "bureau"


@dataclass
class _Measure:
    code: str
    label: str
    section: int
    title: str
    heading: str
    text: str = ""
    parent: str | None = None
    duties: list[str] = field(default_factory=list)


@dataclass
class _Doc:
    title: str = ""
    basis: str = ""
    sections: list[dict[str, Any]] = field(default_factory=list)
    measures: list[_Measure] = field(default_factory=list)
    goal_sentences: list[str] = field(default_factory=list)
    tables: list[tuple[list[str], list[list[str]], str | None]] = field(default_factory=list)


def _split_duties(text: str) -> tuple[str, list[str]]:
    """The measure text without its duty parentheses, and the parentheses' contents."""
    duties: list[str] = []
    kept = text
    for start, end in reversed(trailing_groups(text)):
        inner = text[start + 1 : end - 1]
        first = split_outside_parens(inner, "，。；")[:1]
        if _DUTY_WORDS.search(inner) and first and _ROLE.match(first[0]) and len(first[0]) < 120:
            duties.insert(0, inner.strip())
            kept = kept[:start] + kept[end:]
    return re.sub(r"。{2,}", "。", kept).strip(), duties


def _read(blocks: list[str]) -> _Doc:
    doc = _Doc()
    part: int | None = None
    part_title = ""
    part_has_measures = False
    current: _Measure | None = None
    measure_parent: _Measure | None = None
    in_annex = False
    pending_title: list[str] = []
    pending_unit: str | None = None
    i = 0
    while i < len(blocks):
        block = blocks[i]
        if is_table_row(block):
            header_rows = [block.split("\t")]
            rows: list[list[str]] = []
            i += 1
            while i < len(blocks) and is_table_row(blocks[i]):
                cells = blocks[i].split("\t")
                numeric = sum(1 for c in cells[1:] if re.search(r"\d", c))
                (rows if numeric or rows else header_rows).append(cells)
                i += 1
            doc.tables.append((" ".join(pending_title), [*header_rows, *rows], pending_unit))
            pending_title, pending_unit = [], None
            current = None
            in_annex = True
            continue
        next_is_table = _table_follows(blocks, i)
        if _ANNEX.match(block):
            in_annex, current, pending_title = True, None, []
        elif _UNIT_LINE.match(block) and (next_is_table or in_annex):
            pending_unit = _UNIT_LINE.match(block).group(1)  # type: ignore[union-attr]
        elif next_is_table or (in_annex and not _MEASURE.match(block)):
            pending_title.append(block)
            current = None
            in_annex = True
        elif (m := _PART.match(block)) and len(m.group(2)) <= 40 and "。" not in m.group(2).rstrip("。"):
            part = cn_number(m.group(1))
            part_title = m.group(2).rstrip("。").strip()
            part_has_measures = False
            current = measure_parent = None
        elif (m := _MEASURE.match(block)) and part is not None:
            n = cn_number(m.group(1))
            title, _, rest = m.group(2).partition("。")
            if len(title) > 60:
                title, rest = title[:60], m.group(2)
            if not part_has_measures:
                doc.sections.append(
                    {"number": part, "label": CN_DIGITS[part - 1] if part <= 10 else str(part), "title": part_title}
                )
                part_has_measures = True
            label = f"{doc.sections[-1]['label']}（{m.group(1)}）"
            current = _Measure(f"{part}.{n}", label, part, title.strip(), block, rest.strip())
            measure_parent = current
            doc.measures.append(current)
        elif (m := _ITEM.match(block)) and measure_parent is not None:
            n = int(m.group(1))
            title, _, rest = m.group(2).partition("。")
            current = _Measure(
                f"{measure_parent.code}.{n}",
                f"{measure_parent.label}{n}",
                measure_parent.section,
                title.strip()[:60],
                block,
                rest.strip(),
                parent=measure_parent.code,
            )
            doc.measures.append(current)
        elif current is not None:
            current.text = (current.text + block).strip()
        elif part is not None and "目标" in part_title:
            doc.goal_sentences.extend(s + "。" for s in block.split("。") if s.strip())
        elif part is None:
            if not doc.title and "。" not in block and len(block) <= 60:
                doc.title = block
            elif not doc.basis and "。" in block:
                doc.basis = block
        i += 1
    for measure in doc.measures:
        measure.text, measure.duties = _split_duties(measure.text)
    return doc


def _table_follows(blocks: list[str], i: int) -> bool:
    """Whether block ``i`` is the heading of a table (the next block, or the one after a unit line, is a row)."""
    for j in (i + 1, i + 2):
        if j < len(blocks) and is_table_row(blocks[j]):
            return j == i + 1 or bool(_UNIT_LINE.match(blocks[i + 1]))
    return False


class _Directory:
    """The departments and counties a draft may name: the directory as it stands, plus new names."""

    def __init__(self, directory: dict[str, Any], plan_counties: list[str]) -> None:
        self.counties = [dict(c) for c in directory.get("counties", [])]
        self.departments = [dict(d) for d in directory.get("departments", [])]
        self.known = {d["name"] for d in self.departments}
        self.by_name = {d["name"]: d for d in self.departments}
        self.unknown: dict[str, dict[str, Any]] = {}
        county_names = {c["name"] for c in self.counties}
        for name in plan_counties:
            if name not in county_names:
                self.counties.append({"name": name, "kind": _county_kind(name)})
                county_names.add(name)
        # The counties a "各县（市、区）政府" means: those of the plan's own tables, else the directory's.
        self.scope_counties = plan_counties or [c["name"] for c in self.counties]

    def resolve(self, name: str, *, county: str | None = None) -> str:
        if name in self.by_name:
            return name
        kind = "county" if county else guess_kind(name)
        entry = {"name": name, "kind": kind, "county": county, "coordinating": False, "emails": []}
        self.departments.append(entry)
        self.by_name[name] = entry
        if name not in self.known:
            self.unknown[name] = {"name": name, "kind": kind, "suggestions": self.suggest(name)}
        return name

    def suggest(self, name: str) -> list[str]:
        core = _core(name)
        close = difflib.get_close_matches(name, sorted(self.known), n=3, cutoff=0.6)
        contained = [
            k for k in sorted(self.known) if core and len(core) >= 2 and (core in _core(k) or _core(k) in core)
        ]
        return list(dict.fromkeys([*close, *contained]))[:3]

    def county_government(self, county: str) -> str:
        for d in self.departments:
            if d.get("kind") == "county" and d.get("county") == county:
                return str(d["name"])
        return self.resolve(f"{county}人民政府", county=county)


def _core(name: str) -> str:
    return re.sub(r"^(?:市|省|县|区)|(?:局|委|厅|办|中心|委员会)$", "", name)


def _county_kind(name: str) -> str:
    return "district" if name.endswith("区") else "city" if name.endswith("市") else "county"


def _names(text: str) -> list[str]:
    """Department names of a duty clause, split at 、 but not inside 各县（市、区）."""
    groups: list[str] = []

    def keep(m: re.Match[str]) -> str:
        groups.append(m.group(0))
        return f"\x00{len(groups) - 1}\x00"

    masked = _COUNTY_GROUP.sub(keep, text)
    out = []
    for part in split_outside_parens(masked, "、"):
        part = re.sub(r"\x00(\d+)\x00", lambda m: groups[int(m.group(1))], part).strip()
        if part:
            out.append(part)
    return out


def _period(title: str, text: str, options: DraftOptions) -> tuple[date, date]:
    start, end = options.start, options.end
    for name, first in _FIVE_YEAR.items():
        if name in title:
            start = start or date(first, 1, 1)
            end = end or date(first + 4, 12, 31)
    if end is None:
        years = [int(y) for y in re.findall(r"到\s*(\d{4})\s*年", text)]
        end = date(max(years), 12, 31) if years else date(date.today().year + 4, 12, 31)
    if start is None:
        start = date(end.year - 4, 1, 1)
    return start, end


def draft_plan(
    text: str, *, directory: dict[str, Any] | None = None, options: DraftOptions | None = None
) -> dict[str, Any]:
    """Draft a plan file from an official plan text; see the module docstring for the rules."""
    options = options or DraftOptions()
    doc = _read(blocks_of(text))
    title = options.title or doc.title or "未命名计划"
    start, end = _period(title, text, options)
    key = options.key or "draft-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    # Warnings are data (kind and the plan's words); draft_service.warning_text words them in the user's language.
    warnings: list[dict[str, str]] = []
    tables = dedupe(doc.tables)
    known_counties = [c["name"] for c in (directory or {}).get("counties", [])]
    plan_counties: list[str] = []
    for _title, rows, _unit in tables:
        for name in county_column(rows, known_counties):
            if name not in plan_counties:
                plan_counties.append(name)
    dirs = _Directory(directory or {}, plan_counties)

    tasks: list[dict[str, Any]] = []
    # (note, source, department names, level): a scope clause holds for its own measure and the later
    # ones of the same level (a measure, or a numbered item inside one).
    scope: tuple[str, str, list[str], bool] | None = None
    for measure in doc.measures:
        task = _task(measure, dirs, start, end)
        tasks.append(task)
        top = measure.parent is None
        for duty in measure.duties:
            for sentence in split_outside_parens(duty, "。"):
                if m := _SCOPE.match(sentence):
                    names = _expand(m.group("names"), dirs)
                    scope = (f"{measure.label}：{sentence}", sentence, names, top)
        if scope is None or scope[3] != top:
            continue
        named = {a["name"] for a in task["departments"]}
        if re.search(r"对" + _COUNTY_GROUP.pattern, measure.text):
            warnings.append({"kind": "scope_skipped", "measure": measure.label, "clause": scope[1]})
            continue
        for name in scope[2]:
            if name not in named:
                task["departments"].append(
                    {"name": name, "role": "implementing", "role_text": "落实", "note": scope[0], "source": scope[1]}
                )

    city_targets = []
    for sentence in doc.goal_sentences:
        for t in targets_in(sentence, plan_start=start, plan_end=end):
            city_targets.append({"key": f"city-{len(city_targets) + 1}", "group": "city", "metric": None, **t})
    annex_targets = []
    for n, (table_title, rows, unit) in enumerate(tables, start=1):
        found = table_targets(n, table_title, rows, unit, known_counties + plan_counties, start, end)
        if not found:
            warnings.append({"kind": "table_unread", "title": table_title or rows[0][0]})
        annex_targets.extend(found)

    for task in tasks:
        for a in task["departments"]:
            dirs.resolve(a["name"])
    return {
        "plan": {
            "key": key,
            "title": title,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "source": options.source or "",
            "basis": doc.basis,
        },
        "counties": dirs.counties,
        "departments": dirs.departments,
        "sections": doc.sections,
        "tasks": tasks,
        "targets": _iso(city_targets + annex_targets),
        "dependencies": [],
        "contributions": [],
        "draft": {
            "unknown_departments": list(dirs.unknown.values()),
            "open_parties": [{"task": t["code"], **p} for t in tasks for p in t["open_parties"]],
            "warnings": warnings,
        },
    }


def _iso(targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for t in targets:
        if isinstance(t.get("due"), date):
            t["due"] = t["due"].isoformat()
    return targets


def _expand(text: str, dirs: _Directory) -> list[str]:
    out = []
    for name in _names(text):
        if _COUNTY_GROUP.fullmatch(name):
            out.extend(dirs.county_government(c) for c in dirs.scope_counties)
    return out


def _task(measure: _Measure, dirs: _Directory, start: date, end: date) -> dict[str, Any]:
    departments: list[dict[str, Any]] = []
    open_parties: list[dict[str, Any]] = []
    seen: set[str] = set()
    for duty in measure.duties:
        for sentence in split_outside_parens(duty, "。"):
            if _SCOPE.match(sentence) or sentence.startswith("不再列出"):
                continue
            for clause in split_outside_parens(sentence, "，；"):
                m = _ROLE.match(clause)
                if not m or clause == "不再列出":
                    continue
                role, role_text = _ROLE_OF[m.group("role")]
                for name in _names(m.group("names")):
                    if _COUNTY_GROUP.fullmatch(name):
                        governments = [dirs.county_government(c) for c in dirs.scope_counties]
                        if not governments:
                            open_parties.append(
                                {"text": name, "role": role, "role_text": role_text, "expanded": False, "source": duty}
                            )
                        for gov in governments:
                            if gov not in seen:
                                seen.add(gov)
                                departments.append(
                                    {
                                        "name": gov,
                                        "role": role,
                                        "role_text": role_text,
                                        "note": f"原文：{clause}",
                                        "source": duty,
                                    }
                                )
                    elif _OPEN.match(name):
                        open_parties.append(
                            {"text": name, "role": role, "role_text": role_text, "expanded": False, "source": duty}
                        )
                    elif name not in seen:
                        seen.add(name)
                        departments.append(
                            {
                                "name": dirs.resolve(name),
                                "role": role,
                                "role_text": role_text,
                                "note": None,
                                "source": duty,
                            }
                        )
    sentences = [s + "。" for s in measure.text.split("。") if s.strip()]
    targets = []
    for sentence in sentences:
        for t in targets_in(sentence, plan_start=start, plan_end=end):
            targets.append({"key": f"{measure.code}-{len(targets) + 1}", "metric": None, **t})
    heading = measure.heading.partition("。")[0] + "。"
    return {
        "code": measure.code,
        "label": measure.label,
        "section": measure.section,
        "parent": measure.parent,
        "title": measure.title,
        "text": measure.text,
        "responsibility": "；".join(measure.duties),
        "open_parties": open_parties,
        "start": start.isoformat(),
        "due": end.isoformat(),
        "reporting_cycle": "quarter",
        "departments": departments,
        "targets": _iso(targets),
        "source": heading,
    }
