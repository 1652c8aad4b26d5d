"""What a bulletin says, gathered from the dashboard and the assessment: pure, no database, no clock.

The figures are the dashboard's own (``tracker.leadership.dashboard.Dashboard``) and the ranking is the
assessment's (``tracker.leadership.assessment``): nothing is recomputed here, only copied into a plain,
JSON-ready dict. The dict is what an issued bulletin freezes. Texts that the interface translates where
shown (warning reasons, period and window labels) are kept in their stored Chinese form; statuses and
lights are kept as codes; the document translates both when it is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..leadership.assessment import Ranking
from ..leadership.dashboard import Dashboard
from ..tasks.periods import Period

__all__ = ["FORMAT", "Extension", "gather", "ranking_window"]

FORMAT = 1  # the layout of the frozen dict; a document writer reads every version it has ever written


@dataclass(frozen=True)
class Extension:
    """A deadline extension granted in the period (延期)."""

    task_label: str
    task_title: str
    department: str
    old_due: date
    new_due: date
    reason: str
    decided_on: date


def ranking_window(rankings: list[Ranking], period: Period) -> Ranking | None:
    """The annual assessment of the period's year if it has started, else the latest one that has."""
    started = [r for r in rankings if r.state != "future"]
    for r in started:
        if r.window.key == str(period.end.year):
            return r
    years = [r for r in started if r.window.key.isdigit()]
    return years[-1] if years else None


def _units(units: list) -> list[dict[str, Any]]:  # type: ignore[type-arg]
    return [{"rank": u.rank, "name": u.department.name, "score": u.score} for u in units if u.rank is not None]


def gather(
    d: Dashboard,
    rankings: list[Ranking],
    extensions: list[Extension],
    *,
    period: Period,
    number: int,
    office: str,
    reply_days: int = 10,
) -> dict[str, Any]:
    """The bulletin's content as a JSON-ready dict (see the module docstring)."""
    snap = d.state
    plan = snap.plan
    at_risk = [
        {
            "label": st.task.label,
            "code": st.task.code,
            "title": st.task.title,
            "light": st.light,
            "reasons": list(st.reasons),
            "leads": [dep.name for dep in st.leads],
            "due": st.task.due.isoformat(),
            "status": st.task.status,
            "progress": st.task.progress,
        }
        for st in d.at_risk
    ]
    not_reported = [
        {
            "department": r.department.name,
            "reported": r.reported,
            "expected": r.expected,
            "missing": [t.label for t in r.missing],
            # a county's consolidated 落实 report of the period is missing (shown as the dashboard shows it)
            "consolidated": r.consolidated_missing,
        }
        for r in d.not_reported
    ]
    # What is asked of whom next: each department's missing reports, and the red and yellow tasks it answers for.
    asks: dict[str, dict[str, Any]] = {}
    for r in not_reported:
        ask = asks.setdefault(r["department"], {"missing": [], "red": [], "yellow": []})
        ask["missing"], ask["consolidated"] = r["missing"], r["consolidated"]
    for t in at_risk:
        for name in t["leads"]:
            asks.setdefault(name, {"missing": [], "red": [], "yellow": []})[t["light"]].append(t["label"])
    order = {dep.name: dep.position for dep in snap.departments}
    window = ranking_window(rankings, period)
    return {
        "format": FORMAT,
        "number": number,
        "office": office,
        "plan": {"key": plan.key, "title": plan.title, "start": plan.start.isoformat(), "end": plan.end.isoformat()},
        "period": {
            "key": period.key,
            "cycle": period.cycle,
            "label": period.label,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
        },
        "as_of": snap.today.isoformat(),
        "reply_by": (snap.today + timedelta(days=reply_days)).isoformat(),
        "phase": d.phase,
        "days_left": d.days_left,
        "progress": d.progress,
        "tasks": len(snap.states),
        "top_level": d.top_level,
        "status_counts": dict(d.status_counts),
        "light_counts": dict(d.light_counts),
        "expected": d.expected,
        "reported": d.reported,
        "rate": d.rate,
        "pending": len(d.pending),
        "at_risk": at_risk,
        "not_reported": not_reported,
        "extensions": [
            {
                "task": e.task_label,
                "title": e.task_title,
                "department": e.department,
                "old_due": e.old_due.isoformat(),
                "new_due": e.new_due.isoformat(),
                "reason": e.reason,
                "decided_on": e.decided_on.isoformat(),
            }
            for e in extensions
        ],
        "ranking": None
        if window is None
        else {
            "window": window.window.label,
            "counties": _units(window.counties),
            "departments": _units(window.departments),
        },
        "asks": [
            {"department": name, **items}
            for name, items in sorted(asks.items(), key=lambda kv: (order.get(kv[0], 1 << 30), kv[0]))
        ],
    }
