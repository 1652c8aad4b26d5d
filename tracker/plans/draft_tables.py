"""Annex tables of a plan text read as targets: per-county tables and the sector indicator table.

Pure: no Flask, no database. A table arrives as its title, its rows (cells as printed) and the unit
line printed above it (``（单位：吨）``). A table whose first column lists counties gives one target per
county and figure column (``county_energy`` when it speaks of 能耗 / 能源, else ``county_pollutant``);
a table with 指标 / 单位 / 实际值 / 目标 / 变化 columns gives ``sector`` targets, category rows kept,
``<1.3`` and ``[4.5%]`` read. A table printed twice is read once.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

__all__ = ["county_column", "dedupe", "table_targets"]

Table = tuple[str, list[list[str]], str | None]


def dedupe(tables: list[Table]) -> list[Table]:
    seen: set[tuple[tuple[str, ...], ...]] = set()
    out = []
    for table in tables:
        fingerprint = tuple(tuple(c.strip() for c in row) for row in table[1])
        if fingerprint not in seen:
            seen.add(fingerprint)
            out.append(table)
    return out


def _number_cell(cell: str) -> float | None:
    m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*%?\s*", cell)
    return float(m.group(1)) if m else None


def county_column(rows: list[list[str]], known: list[str]) -> list[str]:
    """The counties listed in a table's first column, if it is a per-county table."""
    names = []
    for row in rows:
        first = row[0].strip()
        has_number = any(_number_cell(c) is not None for c in row[1:])
        if has_number and (first in known or re.fullmatch(r"[\u4e00-\u9fff]{1,6}[市县区旗]", first)):
            names.append(first)
    return names if len(names) >= 3 else []


def table_targets(
    n: int, title: str, rows: list[list[str]], unit_line: str | None, counties: list[str], start: date, end: date
) -> list[dict[str, Any]]:
    county_rows = set(county_column(rows, counties))
    if county_rows:
        return _county_targets(n, title, rows, unit_line, county_rows, start, end)
    return _sector_targets(n, title, rows, start, end)


def _header(rows: list[list[str]], first_data: int) -> list[str]:
    width = max(len(r) for r in rows)
    return ["".join(r[j] if j < len(r) else "" for r in rows[:first_data]).strip() for j in range(width)]


def _county_targets(
    n: int,
    title: str,
    rows: list[list[str]],
    unit_line: str | None,
    county_rows: set[str],
    start: date,
    end: date,
) -> list[dict[str, Any]]:
    first_data = next(i for i, r in enumerate(rows) if r[0].strip() in county_rows)
    header = _header(rows, first_data)
    group = "county_energy" if re.search(r"能耗|能源", title + "".join(header)) else "county_pollutant"
    relative = bool(re.search(r"降低|下降", title + "".join(header)))
    out = []
    for row in rows[first_data:]:
        county = row[0].strip()
        if county not in county_rows:
            continue
        for j, cell in enumerate(row[1:], start=1):
            value = _number_cell(cell)
            if value is None:
                continue
            column = header[j] if j < len(header) else ""
            m = re.search(r"（([^）]*)）\s*$", column)
            unit = m.group(1) if m else (unit_line or None)
            name = re.sub(r"（[^）]*）\s*$", "", column).strip() or title
            out.append(
                {
                    "key": f"annex{n}-{county}-{j}",
                    "group": group,
                    "name": name,
                    "metric": f"annex{n}-{j}",
                    "value": int(value) if value.is_integer() and "." not in cell else value,
                    "value_min": None,
                    "value_max": None,
                    "unit": unit,
                    "comparison": ">=",
                    "baseline": None,
                    "baseline_year": start.year - 1 if relative else None,
                    "due": end.isoformat(),
                    "county": county,
                    "source": f"{title}：{' '.join(c.strip() for c in row if c.strip())}",
                }
            )
    return out


def _sector_targets(n: int, title: str, rows: list[list[str]], start: date, end: date) -> list[dict[str, Any]]:
    first_data = next(
        (
            i
            for i, r in enumerate(rows)
            if i and any(_number_cell(c) is not None or "<" in c or "[" in c for c in r[1:])
        ),
        None,
    )
    if first_data is None:
        return []
    header_end = first_data
    while header_end > 1 and len([c for c in rows[header_end - 1] if c.strip()]) == 1:
        header_end -= 1  # a category row right above the first figures is not part of the header
    header = _header(rows, header_end)
    col = {"unit": None, "base": None, "target": None, "change": None}
    for j, h in enumerate(header):
        if j == 0:
            continue
        if h == "单位":
            col["unit"] = j
        elif re.search(r"实际值|基期|基准", h):
            col["base"] = j
        elif re.search(r"变化", h):
            col["change"] = j
        elif re.search(r"目标|指标", h) and col["target"] is None:
            col["target"] = j
    if col["target"] is None:
        return []
    base_year = re.search(r"(\d{4})", header[col["base"]]) if col["base"] is not None else None
    out = []
    category = None

    def cell(row: list[str], key: str) -> str:
        j = col[key]
        return row[j].strip() if j is not None and j < len(row) else ""

    for row in rows[header_end:]:
        filled = [c for c in row if c.strip()]
        if len(filled) == 1:
            category = filled[0].strip()
            continue
        if not filled:
            continue
        target, change_cell = cell(row, "target"), cell(row, "change")
        baseline = _number_cell(cell(row, "base"))
        unit = cell(row, "unit") or None
        change = _number_cell(change_cell) if "[" not in change_cell else None
        m = re.fullmatch(r"([<>≤≥＜＞]=?)?\s*(-?\d+(?:\.\d+)?)\s*(%?)", target)
        bracket = re.fullmatch(r"\[\s*(-?\d+(?:\.\d+)?)\s*(%?)\s*\]", change_cell)
        if m:
            value = float(m.group(2))
            sign = {"<": "<", "＜": "<", ">": ">", "＞": ">", "≤": "<=", "≥": ">=", "<=": "<=", ">=": ">="}.get(
                m.group(1) or ""
            )
            comparison = sign or ("<=" if baseline is not None and value < baseline else ">=")
            unit = unit or (m.group(3) or None)
        elif bracket:
            value, comparison, unit = float(bracket.group(1)), ">=", unit or (bracket.group(2) or None)
        else:
            continue
        out.append(
            {
                "key": f"annex{n}-{len(out) + 1}",
                "group": "sector",
                "category": category,
                "name": row[0].strip(),
                "metric": None,
                "value": int(value) if value.is_integer() else value,
                "value_min": None,
                "value_max": None,
                "unit": unit,
                "comparison": comparison,
                "baseline": baseline,
                "baseline_year": int(base_year.group(1)) if base_year and (baseline is not None or bracket) else None,
                "change": change,
                "due": end.isoformat(),
                "county": None,
                "source": f"{title}：{' '.join(c.strip() for c in row if c.strip())}",
            }
        )
    return out
