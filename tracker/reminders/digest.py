"""A department's digest as a person reads it: one line per task, what is due nested under it.

The sweep (``service``) claims *items* — one unique key per reminder, so each goes out once — and
this module turns the fresh items of one department into *lines*:

- one line per task (its code and title, the department's role, one link to its report form), with
  the task's deadline, its targets, its escalation and returned reports nested under it, and the
  report periods the department owes on the same line ("2024年第一季度至2025年第三季度共 7 期未报");
- one line per plan for a county's consolidated 落实 report (its owed periods, and the deadlines of
  the measures it implements);
- one line per kind of plan-level target (city, county), and one for the final assessment;
- lines in due order (the earliest thing due on them first), entries in due order within a line.

A chaser's number is how many times this department was chased for this deadline: the earlier chasers
of the same task or target and due date that went into a message not held (``chase_counts``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from flask_babel import gettext, ngettext

from ..extensions import db
from ..i18n import N_
from ..i18n import day as day_label
from ..i18n import period as period_label
from ..models import OutboxMessage, ReminderSent
from ..tasks.periods import parse_period
from . import policy

__all__ = ["Item", "Line", "LineInfo", "TaskRef", "Text", "chase_counts", "lines_of", "owed_words", "render"]

# A message id (marked with N_) and its values: rendered in the reader's language when the email is
# written, so one item can go into a Chinese and an English digest alike.
Text = tuple[str, dict[str, Any]]

# Within a line, at equal dates: what is most pressing first.
KIND_ORDER = [
    "escalation",
    "chase",
    "deadline",
    "checkin_chase",
    "checkin",
    "returned",
    "awaiting_head",
    "instruction",
    "final",
]
CHECKIN_KINDS = frozenset({"checkin", "checkin_chase"})


def render(text: Text | None) -> str:
    """A ``Text`` in the current language; a ``period`` key (2024Q1) is shown as that language writes
    periods (2024年第一季度, Q1 2024), a ``due`` date as it writes dates."""
    if text is None:
        return ""
    message, values = text
    words = {k: _period_words(v) if k == "period" else v for k, v in values.items()}
    for k, v in words.items():
        if isinstance(v, tuple):  # several names (the measures a county implements), joined as the language does
            words[k] = gettext("、").join(v)
    if isinstance(words.get("due"), date):
        words["due"] = day_label(words["due"])
    return gettext(message, **words)


def _period_words(key: str) -> str:
    try:
        return period_label(parse_period(key).label)
    except ValueError:
        return key


def owed_words(periods: list[str]) -> str:
    """The report periods owed, on one line (the count is every period owed, gaps included).

    >>> owed_words(["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3"])
    '2024年第一季度至2025年第三季度共 7 期未报'
    >>> owed_words(["2025Q4"])
    '2025年第四季度未报'
    """
    if not periods:
        return ""
    return ngettext(
        "%(first)s未报",
        "%(first)s至%(last)s共 %(num)s 期未报",
        len(periods),
        first=_period_words(periods[0]),
        last=_period_words(periods[-1]),
    )


@dataclass(frozen=True)
class TaskRef:
    """What a link needs of a task, read once: the sweep commits per department and must not reload."""

    code: str
    plan_key: str
    cycle: str
    position: int


@dataclass
class LineInfo:
    """What a line says before its entries: shared by every item of one department on one line."""

    key: tuple[Any, ...]
    title: Text
    duty: str = ""  # the department's part in it: a role label (N_), in Chinese
    task: TaskRef | None = None  # the report form the link opens (a signed link)
    consolidated: bool = False  # or the county's consolidated report (``/consolidated/<period>``)
    figures: bool = False  # or the figure entry form (``/figures``): the city's or the county's figures
    period: str = ""  # the period the link opens
    owed: list[str] = field(default_factory=list)  # report periods owed, oldest first
    position: int = 0


@dataclass
class Item:
    """One reminder: a unique key claimed once, and what it adds to its line."""

    key: str
    kind: str
    department_id: int
    stage: str
    line: LineInfo
    body: Text | None = None  # the entry's words (the stage phrase is added for deadlines and chasers)
    due: date | None = None
    period: str = ""
    count: int | None = None  # for a chaser: how many times this department has now been chased for it

    @property
    def stage_text(self) -> str:
        return policy.stage_label(self.kind, self.stage, self.count)

    @property
    def text(self) -> str:
        label = gettext(policy.STAGE_LABELS[self.kind])
        if self.kind in {"deadline", "chase"}:
            words = render((self.body[0], {**self.body[1], "stage": self.stage_text})) if self.body else ""
        elif self.kind in CHECKIN_KINDS:
            words = render(self.body) if self.body else owed_words(self.line.owed)
        else:
            words = render(self.body)
        return gettext("【%(label)s】%(text)s", label=label, text=words)


@dataclass
class Line:
    """One line of a digest, as the templates show it."""

    info: LineInfo
    entries: list[Item]
    link: str = ""

    @property
    def title(self) -> str:
        return render(self.info.title)

    @property
    def role(self) -> str:
        return gettext(self.info.duty) if self.info.duty else ""

    @property
    def consolidated(self) -> bool:
        """A county's consolidated line: its link opens a page behind the login, not a signed link."""
        return self.info.consolidated

    @property
    def due(self) -> date | None:
        dated = [i.due for i in self.entries if i.due is not None]
        return min(dated) if dated else None

    @property
    def deadline(self) -> date | None:
        dated = [i.due for i in self.entries if i.due is not None and i.kind not in CHECKIN_KINDS]
        return min(dated) if dated else None


def lines_of(items: list[Item]) -> list[Line]:
    """The department's fresh items as lines, in due order."""
    grouped: dict[tuple[Any, ...], list[Item]] = defaultdict(list)
    infos: dict[tuple[Any, ...], LineInfo] = {}
    for item in items:
        grouped[item.line.key].append(item)
        infos[item.line.key] = item.line
    lines = []
    for key, entries in grouped.items():
        # the periods owed are one entry, however many of them were claimed: the chaser if any
        owed = sorted((i for i in entries if i.kind in CHECKIN_KINDS and i.body is None), key=lambda i: i.period)
        shown = [i for i in entries if not (i.kind in CHECKIN_KINDS and i.body is None)]
        if owed:
            first = next((i for i in owed if i.kind == "checkin_chase"), owed[0])
            shown.append(replace(first, due=min((i.due for i in owed if i.due is not None), default=first.due)))
        shown = _merge_implemented(shown)
        shown.sort(key=lambda i: (i.due or date.max, KIND_ORDER.index(i.kind), i.key))
        lines.append(Line(infos[key], shown))
    # the earliest thing due first; among lines that owe reports since the same period, the earliest deadline
    lines.sort(key=lambda ln: (ln.due or date.max, ln.deadline or date.max, ln.info.position, ln.title))
    return lines


def _merge_implemented(entries: list[Item]) -> list[Item]:
    """On a county's consolidated line, the measures due on one day at one stage are one entry."""
    out: list[Item] = []
    merged: dict[tuple[str, date | None, str], Item] = {}
    for item in entries:
        if item.body is None or item.body[0] != WORDS["implemented_deadline"]:
            out.append(item)
            continue
        same = (item.kind, item.due, item.stage_text)
        if same in merged:
            first = merged[same]
            tasks = (*first.body[1]["task"], *item.body[1]["task"])  # type: ignore[index]
            merged[same] = replace(first, body=(WORDS["implemented_deadline"], {**item.body[1], "task": tasks}))
        else:
            merged[same] = item
    return out + list(merged.values())


def chase_counts(department_id: int, items: list[Item]) -> None:
    """Number each fresh chaser by the chasers this department was actually sent for the same task or
    target and deadline before (claimed in ``reminder_sent`` and put in a message that is not held)."""
    chasers = [i for i in items if i.kind == "chase"]
    if not chasers:
        return
    earlier = db.session.scalars(
        db.select(ReminderSent.key)
        .join(OutboxMessage, OutboxMessage.id == ReminderSent.message_id)
        .where(ReminderSent.key.like(f"chase:{department_id}:%"), OutboxMessage.status != "held")
    ).all()
    sent: dict[tuple[str, ...], int] = defaultdict(int)
    for key in earlier:
        sent[_chased(key)] += 1
    for item in chasers:
        item.count = sent[_chased(item.key)] + 1


def _chased(key: str) -> tuple[str, ...]:
    """What a chaser's key chases: ``chase:dept:task:7:after-2:2025-12-31`` → (task, 7, 2025-12-31)."""
    parts = key.split(":")
    return (parts[2], parts[3], parts[-1])


# The words of entries and line titles, for the catalogue.
WORDS = {
    "task_deadline": N_("任务截止 %(due)s，%(stage)s"),
    "target_deadline": N_("指标：%(name)s，截止 %(due)s，%(stage)s"),
    "implemented_deadline": N_("所落实任务 %(task)s 截止 %(due)s，%(stage)s"),
    "consolidated": N_("%(plan)s：落实情况汇总报告（各项落实任务合并报送）"),
    "city_targets": N_("%(plan)s：全市规划指标"),
    "county_targets": N_("%(plan)s：本县（市、区）规划指标"),
    "final": N_("%(plan)s：终期考核"),
}
