"""附件 1 / 附件 3: the counties' actual values of their allocated targets, read from a table laid out like
the plan's annexes and appended (never overwriting) as TargetValue rows, all or nothing."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from ..errors import PlanFileError
from ..extensions import db
from ..models import County, Plan, Target, TargetValue, User
from ..numbers import NumberError, finite_number
from ..tasks.lifecycle import ensure_open
from ..tasks.periods import parse_period
from .xlsx_layout import Source, _join, _norm_header, _text
from .xlsx_read import _at_row, _find_header, _open

__all__ = ["ValueRow", "import_target_values", "read_target_values"]

# ── 附件 1 / 附件 3: target values per county ──────────────────────────────────────────────────────

METRIC_HEADERS = [
    ("cod_reduction", ("COD", "化学需氧量")),
    ("ammonia_reduction", ("氨氮", "NH3-N", "NH3")),
    ("nox_reduction", ("氮氧化物", "NOX")),
    ("voc_reduction", ("挥发性有机物", "VOC")),
    ("energy_intensity_reduction", ("能耗强度", "能耗降低", "万元GDP能耗", "能源消耗")),
]
COUNTY_HEADERS = ("县（市、区）", "县(市、区)", "县市区", "县区", "地区", "区域", "单位", "名称", "地方")
CITY_ROWS = {"全市", "合计", "总计", "市本级合计"}


def _metric_of(header: Any) -> str | None:
    text = _norm_header(header).upper()
    for metric, words in METRIC_HEADERS:
        if any(w.upper() in text for w in words):
            return metric
    return None


def _county_header(value: Any) -> str | None:
    text = re.sub(r"\s+", "", str(value or ""))
    return "county" if text in COUNTY_HEADERS else None


@dataclass
class ValueRow:
    row: int
    place: str
    target: Target
    value: float


def read_target_values(source: Source, *, plan: Plan) -> list[ValueRow]:
    """The values of a 附件 1 / 附件 3 style table, matched to the plan's per-county targets."""
    wb = _open(source)
    ws, header_row, columns = _find_header(wb, {"county"}, _county_header)
    header = next(ws.iter_rows(min_row=header_row, max_row=header_row, values_only=True))
    metrics = {i: m for i, v in enumerate(header) if (m := _metric_of(v))}
    problems: list[tuple[str, str]] = []
    if not metrics:
        message = _("没有可识别的指标列（COD、氨氮、氮氧化物、挥发性有机物、能耗强度）")
        problems.append((_at_row(header_row), message))
    county_col = next(iter(columns))
    counties = {c.name: c for c in db.session.scalars(db.select(County))}
    targets = db.session.scalars(db.select(Target).filter_by(plan_id=plan.id).where(Target.metric != "")).all()
    # A county row reads the county's allocation; a 全市 / 合计 row reads the city target of the metric.
    by_place = {(t.county_id, t.metric): t for t in targets if t.group == "city" or t.county_id is not None}
    out: list[ValueRow] = []
    for number, values in enumerate(ws.iter_rows(min_row=header_row + 1, values_only=True), start=header_row + 1):
        place = re.sub(r"\s+", "", _text(values[county_col] if county_col < len(values) else None))
        cells = {i: values[i] for i in metrics if i < len(values) and _text(values[i]) != ""}
        if not place and not cells:
            continue
        county_id: int | None
        if place in CITY_ROWS or place == plan.title[:3]:
            county_id = None
        else:
            name = place.removesuffix("人民政府")
            county = counties.get(name)
            if county is None:
                close = difflib.get_close_matches(name, list(counties), n=3, cutoff=0.5)
                if close:
                    message = _(
                        "没有名为“%(place)s”的县（市、区），是否为：%(close)s？", place=place, close=_join(close)
                    )
                else:
                    message = _("没有名为“%(place)s”的县（市、区）", place=place)
                problems.append((_("第%(n)s行 县（市、区）", n=number), message))
                continue
            county_id = county.id
        for i, raw in cells.items():
            column = _text(header[i])
            try:
                value = finite_number(raw if isinstance(raw, (int, float)) else _text(raw).rstrip("%％"))
            except NumberError as exc:
                problems.append((_at_row(number, column), str(exc)))
                continue
            target = by_place.get((county_id, metrics[i]))
            if target is None:
                problems.append((_at_row(number, column), _("计划中没有 %(place)s 的这项目标", place=place)))
                continue
            out.append(ValueRow(number, place, target, value))
    if problems:
        raise PlanFileError(problems)
    if not out:
        raise PlanFileError([(_("文件"), _("没有任何数值"))])
    return out


def import_target_values(
    source: Source,
    *,
    plan: Plan,
    period: str,
    now: datetime,
    reporter_id: int | None,
    source_name: str,
) -> list[TargetValue]:
    """Append one TargetValue per filled cell, all in one transaction; nothing on any error."""
    ensure_open(plan)
    try:
        p = parse_period(period.strip())
    except ValueError as exc:
        raise PlanFileError([(_("报送期"), str(exc))]) from None
    if p.end < plan.start or p.start > plan.end:
        message = _(
            "报送期 %(key)s 不在计划期 %(start)s 至 %(end)s 之内。",
            key=p.key,
            start=plan.start.isoformat(),
            end=plan.end.isoformat(),
        )
        raise PlanFileError([(_("报送期"), message)])
    rows = read_target_values(source, plan=plan)
    reporter = db.session.get(User, reporter_id) if reporter_id else None
    created = []
    try:
        for r in rows:
            tv = TargetValue(
                target_id=r.target.id,
                period=p.key,
                period_end=p.end,
                value=r.value,
                source=f"{source_name} 第{r.row}行",
                department_id=reporter.department_id if reporter else None,
                reporter_id=reporter_id,
                created_at=now,
                # a county row is that county's figure; a 全市 / 合计 row is the city's
                unit_kind="county" if r.target.county_id is not None else "city",
                county_id=r.target.county_id,
            )
            db.session.add(tv)
            created.append(tv)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return created
