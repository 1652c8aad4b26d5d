"""Numeric and dated goals read out of a plan's sentences: the targets of a draft plan.

Pure: no Flask, no database. A sentence is cut into clauses (，；); a deadline ("到 2025 年",
"2022 年底前", "2023 年 6 月底前", "“十四五”时期") holds for the rest of its sentence; a number is a
target when a goal verb leads to it (达到、下降、控制在、创建 …) or it closes its clause with a
unit ("50% 以上", "95%左右"); a list after "分别" or "、" gives one target per number; a number after
"或" is an alternative criterion of the target before it (one target, met when any criterion holds,
as the plan file records it: ``alternatives``). Comparison, value (or range), unit and baseline year come from
the words around the number. A clause with no number after a deadline is a milestone (value and
comparison empty), as the seeded plan records "到 2025 年，争取建成一批……".
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Any

from .draft_text import paren_depths, split_outside_parens

__all__ = ["deadline_of", "targets_in"]

_NUM = r"\d+(?:\.\d+)?"
_RANGE_SEP = r"\s*[—\-–~～至到]\s*"
_UNIT = (
    r"个百分点|百分点|%|‰|(?:微克|毫克|千克|克)\s*(?:每|/)\s*(?:立方米|千瓦时)|"
    r"[万亿千百]?(?:吨标准煤|标准煤|千瓦时|平方公里|平方米|立方米|蒸吨|吨|千瓦|公里|公顷|亩|元|辆|家|个|座|项|处|台|户|所|条|人|套|倍|栋|艘|根|部)"
    r"(?:\s*/\s*(?:日|天|年|小时|时))?"
)
_NUMBER = re.compile(
    rf"(?P<a>{_NUM})(?:{_RANGE_SEP}(?P<b>{_NUM}))?\s*(?P<unit>{_UNIT})?"
    rf"(?P<after>\s*(?:及?以上|以下|以内|左右))?"
)
# Goal words right before a number (spaces allowed); longest first.
_VERB_BEFORE = re.compile(
    r"(?:达到|达|超过|高于|不低于|不少于|不高于|不超过|低于|少于|控制在|稳定在|保持在|下降|降低|削减|减少|减排|"
    r"提高|提升|增加|增长|创建|建成|打造|遴选|培育|新增|完成|累计|实现|为|占比|力争|分别|比例)"
    r"(?:到|至|在)?\s*$"
)
_YEAR_AFTER = re.compile(r"^\s*年")
_BASELINE = re.compile(r"(?:比|较|在|与)\s*(\d{4})\s*年(?!底|末|前)(?:基础上|相比)?")
_DUE_BY = re.compile(r"(?:到|至|截至)\s*(\d{4})\s*年(?:\s*(\d{1,2})\s*月)?(?:底|末)?")
_DUE_BEFORE = re.compile(r"(\d{4})\s*年(?:\s*(\d{1,2})\s*月)?(?:底|末)?前")
_PERIOD = re.compile(r"“十[一二三四五六]五”(?:时期|期间|末)")
_RELATIVE = ("下降", "降低", "削减", "减少", "提高", "提升", "增加", "增长")


def deadline_of(text: str, *, plan_end: date) -> tuple[date | None, int]:
    """The first deadline named in ``text`` and where it ends; (None, 0) when there is none.

    >>> from datetime import date
    >>> deadline_of("到 2025 年，全市……", plan_end=date(2025, 12, 31))[0]
    datetime.date(2025, 12, 31)
    >>> deadline_of("2023年6月底前完成", plan_end=date(2025, 12, 31))[0]
    datetime.date(2023, 6, 30)
    """
    best: tuple[date | None, int, int] = (None, 0, len(text) + 1)
    for pattern in (_DUE_BY, _DUE_BEFORE):
        m = pattern.search(text)
        if m and m.start() < best[2]:
            year = int(m.group(1))
            month = int(m.group(2)) if m.group(2) else 12
            if 1 <= month <= 12 and 1900 < year < 2100:
                day = calendar.monthrange(year, month)[1]
                best = (date(year, month, day), m.end(), m.start())
    m = _PERIOD.search(text)
    if m and m.start() < best[2]:
        best = (plan_end, m.end(), m.start())
    return best[0], best[1]


def _comparison(before: str, m: re.Match[str]) -> str:
    after = (m.group("after") or "").strip()
    if m.group("b"):
        return "range"
    if "左右" in after:
        return "~"
    if after in ("以下", "以内"):
        return "<="
    tail = before[-8:]
    if re.search(r"(?:超过|高于)\s*$", tail):
        return ">"
    if re.search(r"(?:低于|少于)\s*$", tail) and not re.search(r"不(?:低于|少于)\s*$", tail):
        return "<"
    if re.search(r"(?:不高于|不超过|控制在)\s*$", tail):
        return "<="
    return ">="


def _number(text: str) -> float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def _name_of(before: str) -> str:
    """The goal's subject: the clause before the number, without deadline and goal words."""
    name = _DUE_BY.sub("", before)
    name = _DUE_BEFORE.sub("", name)
    name = _PERIOD.sub("", name)
    name = re.sub(r"(?:比|较|在|与)\s*\d{4}\s*年(?:基础上|相比)?", "", name)
    name = _VERB_BEFORE.sub("", name.rstrip())
    name = re.sub(r"(?:力争|分别|基本|争取|稳定在|达到|达)\s*$", "", name.strip())
    return name.strip(" ，、：")


def targets_in(sentence: str, *, plan_start: date, plan_end: date, milestones: bool = True) -> list[dict[str, Any]]:
    """The targets of one sentence, each with the sentence as its ``source``.

    >>> from datetime import date
    >>> s = "到 2025 年，农村生活污水治理率达到 44%，秸秆综合利用率稳定在 93% 以上。"
    >>> found = targets_in(s, plan_start=date(2021, 1, 1), plan_end=date(2025, 12, 31))
    >>> [(t["value"], t["comparison"], t["unit"]) for t in found]
    [(44, '>=', '%'), (93, '>=', '%')]
    """
    sentence = sentence.strip()
    due: date | None = None
    found: list[dict[str, Any]] = []
    period_relative = bool(_PERIOD.search(sentence))
    clauses = split_outside_parens(sentence.rstrip("。；"), "，；")
    # "除应急保障车辆外，……" qualifies the clause after it.
    merged: list[str] = []
    for clause in clauses:
        if merged and merged[-1].endswith("外"):
            merged[-1] = merged[-1] + "，" + clause
        else:
            merged.append(clause)
    for clause in merged:
        clause_due, date_end = deadline_of(clause, plan_end=plan_end)
        if clause_due is not None:
            due = clause_due
        body = clause[date_end:] if clause_due is not None else clause
        numeric = _numbers(body, plan_start=plan_start, period_relative=period_relative)
        for t in numeric:
            t["due"] = due or plan_end
            t["source"] = sentence
        found.extend(numeric)
        rest = body.strip(" ，、")
        if not numeric and milestones and due is not None and rest and not re.search(r"\d", rest):
            found.append(_milestone(rest, due, sentence))
    if milestones and not found and re.match(r"^完成.*(?:目标|任务)$", sentence.rstrip("。；")):
        found.append(_milestone(sentence.rstrip("。；"), plan_end, sentence))
    return found


def _milestone(name: str, due: date, sentence: str) -> dict[str, Any]:
    return {
        "name": name,
        "value": None,
        "value_min": None,
        "value_max": None,
        "unit": None,
        "comparison": None,
        "baseline": None,
        "baseline_year": None,
        "due": due,
        "source": sentence,
    }


def _numbers(body: str, *, plan_start: date, period_relative: bool) -> list[dict[str, Any]]:
    depths = paren_depths(body)
    out: list[dict[str, Any]] = []
    last_end = -1
    last_name = ""
    for m in _NUMBER.finditer(body):
        start = m.start()
        if depths[start] > 0:
            continue  # inside a parenthesis: a scope note ("560kW及以下"), not a goal
        if start and re.match(r"[A-Za-z.×*]", body[start - 1]):
            continue  # PM2.5, O3, 3×200MW
        if _YEAR_AFTER.match(body[m.end("a") :]) and not m.group("unit"):
            continue  # a year
        tail = body[m.end() : m.end() + 2]
        if re.match(r"\s*[A-Za-z]", tail) and not m.group("unit"):
            continue  # 560kW, 200MW
        before = body[:start]
        continues_list = last_end >= 0 and re.fullmatch(r"\s*(?:、|和|或)\s*", body[last_end:start] or "x") is not None
        goal_verb = _VERB_BEFORE.search(before) is not None
        # "创建 20 家绿色工厂（园区）、2—3 个……": the next item of a list of goals.
        continues_list = continues_list or (bool(out) and re.search(r"、\s*$", before) is not None)
        rest = body[m.end() :].strip()
        closes = m.group("unit") is not None and (not rest or rest[0] in "、，；。或的")
        # "或在 2020 年基础上增加 5%以上": an alternative after 或 names its own baseline.
        alt = re.search(r"或[^或]*$", before) if last_end >= 0 else None
        if not (goal_verb or continues_list or closes):
            continue
        if m.group("after") and "及" in m.group("after"):
            continue  # "及以上" qualifies a scope, it is not a goal
        segment = before[last_end:] if alt and last_end >= 0 else before
        baseline = _BASELINE.search(segment) or (None if alt else _BASELINE.search(before))
        baseline_year = int(baseline.group(1)) if baseline else None
        relative = any(word in before[-12:] for word in _RELATIVE)
        if baseline_year is None and relative and period_relative:
            baseline_year = plan_start.year - 1
        after_text = re.split(r"[、，；。或]", rest)[0].strip()
        if continues_list and not goal_verb:
            name = after_text if len(after_text) >= 2 and after_text[0] != "以" else last_name
        else:
            name = _name_of(before[last_end + 1 :] if alt else before)
            if len(re.sub(r"[\s，、]", "", name)) < 2 and len(after_text) >= 2:
                name = after_text  # "创建 5 家省级节约型公共机构示范单位": the goal follows the number
        name = name or after_text or body.strip()
        unit = (m.group("unit") or "").replace(" ", "") or None
        value_a = _number(m.group("a"))
        t = {
            "name": name,
            "value": None if m.group("b") else value_a,
            "value_min": value_a if m.group("b") else None,
            "value_max": _number(m.group("b")) if m.group("b") else None,
            "unit": unit,
            "comparison": _comparison(before, m),
            "baseline": None,
            "baseline_year": baseline_year,
        }
        if continues_list and out and not goal_verb and t["comparison"] == ">=":
            t["comparison"] = out[-1]["comparison"]
            t["baseline_year"] = t["baseline_year"] or out[-1]["baseline_year"]
        if alt is not None and out and alt.start() >= last_end and m.group("b") is None:
            # "力争达到 70%以上或在 2020 年基础上增加 5%以上": one target, the second criterion its alternative
            out[-1].setdefault("alternatives", []).append(
                {
                    "basis": "change" if relative or baseline_year is not None else "level",
                    "comparison": t["comparison"],
                    "value": value_a,
                    "unit": unit,
                    "baseline": None,
                    "baseline_year": baseline_year,
                    "text": body[alt.start() + 1 : m.end()].strip(),
                }
            )
            last_end = m.end()
            continue
        out.append(t)
        last_end = m.end()
        last_name = name
    return out
