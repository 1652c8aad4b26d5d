"""Server-side SVG charts (bars, donut, sparkline): strings of markup, no JavaScript, no library.

Labels are escaped; colours come from the callers' fixed palettes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

__all__ = ["bars", "donut", "sparkline"]


def bars(items: Sequence[tuple[str, float, str]], *, width: int = 360, row: int = 26, title: str = "") -> Markup:
    """Horizontal bars: one ``(label, value, colour)`` per row, the value printed after the bar."""
    label_w, value_w = 80, 40
    top = max((v for _, v, _ in items), default=0) or 1
    height = row * len(items) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
    ]
    span = width - label_w - value_w
    for i, (label, value, colour) in enumerate(items):
        y = i * row + 2
        w = round(span * value / top, 1)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + row * 0.65:.1f}" text-anchor="end" font-size="13">{escape(label)}</text>'
        )
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row - 8}" fill="{colour}"/>')
        parts.append(f'<text x="{label_w + w + 4}" y="{y + row * 0.65:.1f}" font-size="13">{value:g}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def donut(items: Sequence[tuple[str, float, str]], *, size: int = 160, title: str = "") -> Markup:
    """A donut of ``(label, value, colour)`` with the total in the middle."""
    total = sum(v for _, v, _ in items)
    r, stroke = size / 2 - 14, 22
    c = size / 2
    circumference = 2 * math.pi * r
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<circle cx="{c}" cy="{c}" r="{r:.1f}" fill="none" stroke="#e5e8ec" stroke-width="{stroke}"/>',
    ]
    offset = 0.0
    for label, value, colour in items:
        if not total or not value:
            continue
        length = circumference * value / total
        parts.append(
            f'<circle cx="{c}" cy="{c}" r="{r:.1f}" fill="none" stroke="{colour}" stroke-width="{stroke}" '
            f'stroke-dasharray="{length:.2f} {circumference - length:.2f}" stroke-dashoffset="{-offset:.2f}" '
            f'transform="rotate(-90 {c} {c})"><title>{escape(label)} {value:g}</title></circle>'
        )
        offset += length
    parts.append(f'<text x="{c}" y="{c + 7}" text-anchor="middle" font-size="22" font-weight="700">{total:g}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(
    values: Sequence[float], *, goal: float | None = None, width: int = 120, height: int = 28, title: str = ""
) -> Markup:
    """A line of ``values`` in order, with a dashed line at ``goal`` when given. Empty: a dash."""
    if not values:
        return Markup('<span class="empty">—</span>')
    lo = min([*values, goal] if goal is not None else values)
    hi = max([*values, goal] if goal is not None else values)
    span = (hi - lo) or 1.0
    pad = 3

    def y(v: float) -> float:
        return round(height - pad - (v - lo) / span * (height - 2 * pad), 1)

    step = (width - 2 * pad) / max(1, len(values) - 1)
    points = " ".join(f"{pad + i * step:.1f},{y(v)}" for i, v in enumerate(values))
    parts = [
        f'<svg class="sparkline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
    ]
    if goal is not None:
        parts.append(
            f'<line x1="0" x2="{width}" y1="{y(goal)}" y2="{y(goal)}" stroke="#2e7d32" stroke-dasharray="3 2"/>'
        )
    parts.append(f'<polyline points="{points}" fill="none" stroke="#0b5cad" stroke-width="1.5"/>')
    last = values[-1]
    parts.append(f'<circle cx="{pad + (len(values) - 1) * step:.1f}" cy="{y(last)}" r="2.5" fill="#0b5cad"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
