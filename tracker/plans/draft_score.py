"""How good a drafted plan is: precision and recall, by kind, against a plan file made by hand.

Pure: two plan files (dicts, as ``plan load`` reads them) in, counts out. The kinds are those of
docs/plan-drafting.md: measures (code and title), departments (the names given a role), roles
named in a measure's own parentheses, roles from scope clauses (``以下均需……落实``), open parties
(``各有关部门``), deadlines (of measures and of targets), targets (owner, county, value or range,
comparison, unit; a milestone without a number matches by its wording). Roles the hand-made file
expands from an open party ("各有关部门" written out as bureaus) are not expected of a draft, which
keeps the party open, and are left out of both sides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "Score", "score_draft"]

KINDS = ("measures", "departments", "roles_named", "roles_scope", "open_parties", "deadlines", "targets")


@dataclass
class Score:
    expected: int
    drafted: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.drafted if self.drafted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 1.0


def _flat(text: Any) -> str:
    return re.sub(r"[\s（）()〔〕“”\"，,。、：:]", "", str(text or ""))


def _is_scope(note: str | None) -> bool:
    return bool(note) and "以下" in str(note) and "均需" in str(note)


def _is_expanded(note: str | None) -> bool:
    return bool(note) and "各有关部门" in str(note)


def _set_score(expected: set[Any] | list[Any], drafted: set[Any] | list[Any]) -> Score:
    e, d = set(expected), set(drafted)
    return Score(len(e), len(d), len(e & d))


def _roles(plan: dict[str, Any], *, scope: bool) -> set[tuple[str, str, str]]:
    return {
        (str(t["code"]), a["name"], a["role"])
        for t in plan.get("tasks", [])
        for a in t.get("departments", [])
        if not _is_expanded(a.get("note")) and _is_scope(a.get("note")) == scope
    }


def _targets(plan: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for t in plan.get("tasks", []):
        for x in t.get("targets") or []:
            out.append({**x, "owner": str(t["code"])})
    for x in plan.get("targets", []):
        out.append({**x, "owner": x.get("group")})
    return out


def _num(v: Any) -> float | None:
    return None if v is None else round(float(v), 4)


def _same_target(e: dict[str, Any], d: dict[str, Any]) -> bool:
    if e["owner"] != d["owner"] or (e.get("county") or None) != (d.get("county") or None):
        return False
    milestone_e = e.get("comparison") is None and e.get("value") is None
    milestone_d = d.get("comparison") is None and d.get("value") is None
    if milestone_e or milestone_d:
        if not (milestone_e and milestone_d):
            return False
        es, ds = _flat(e.get("source")), _flat(d.get("source"))
        en, dn = _flat(e.get("name")), _flat(d.get("name"))
        return bool(es and ds and (es in ds or ds in es)) or bool(en and dn and (en in ds or dn in es))
    return (
        _num(e.get("value")) == _num(d.get("value"))
        and _num(e.get("value_min")) == _num(d.get("value_min"))
        and _num(e.get("value_max")) == _num(d.get("value_max"))
        and e.get("comparison") == d.get("comparison")
        and _flat(e.get("unit")) == _flat(d.get("unit"))
    )


def _due(x: dict[str, Any]) -> str:
    return str(x.get("due"))[:10]


def score_draft(expected: dict[str, Any], drafted: dict[str, Any]) -> dict[str, Score]:
    """Precision and recall of ``drafted`` against ``expected``, one ``Score`` per kind in ``KINDS``."""
    scores: dict[str, Score] = {}
    scores["measures"] = _set_score(
        {(str(t["code"]), _flat(t["title"])) for t in expected.get("tasks", [])},
        {(str(t["code"]), _flat(t["title"])) for t in drafted.get("tasks", [])},
    )
    scores["departments"] = _set_score(
        {n for _c, n, _r in _roles(expected, scope=False) | _roles(expected, scope=True)},
        {n for _c, n, _r in _roles(drafted, scope=False) | _roles(drafted, scope=True)},
    )
    scores["roles_named"] = _set_score(_roles(expected, scope=False), _roles(drafted, scope=False))
    scores["roles_scope"] = _set_score(_roles(expected, scope=True), _roles(drafted, scope=True))
    scores["open_parties"] = _set_score(
        {(str(t["code"]), p["text"]) for t in expected.get("tasks", []) for p in t.get("open_parties") or []},
        {(str(t["code"]), p["text"]) for t in drafted.get("tasks", []) for p in t.get("open_parties") or []},
    )

    exp_targets, dr_targets = _targets(expected), _targets(drafted)
    unmatched = list(range(len(dr_targets)))
    pairs = []
    for e in exp_targets:
        for i in unmatched:
            if _same_target(e, dr_targets[i]):
                pairs.append((e, dr_targets[i]))
                unmatched.remove(i)
                break
    scores["targets"] = Score(len(exp_targets), len(dr_targets), len(pairs))

    exp_tasks = {str(t["code"]): _due(t) for t in expected.get("tasks", [])}
    dr_tasks = {str(t["code"]): _due(t) for t in drafted.get("tasks", [])}
    task_ok = sum(1 for code, due in exp_tasks.items() if dr_tasks.get(code) == due)
    target_ok = sum(1 for e, d in pairs if _due(e) == _due(d))
    scores["deadlines"] = Score(len(exp_tasks) + len(exp_targets), len(dr_tasks) + len(dr_targets), task_ok + target_ok)
    return scores
