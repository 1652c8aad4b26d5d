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

The words are rendered per digest and language by a ``Words``: each phrase is translated once per
digest, not once per line (flask-babel's ``gettext`` looks the translations up on every call, and a
sweep at five times province scale writes ~170,000 lines).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import groupby
from typing import Any

from flask_babel import get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from ..extensions import db
from ..i18n import N_
from ..i18n import day as day_label
from ..i18n import label as label_words
from ..i18n import period as period_label
from ..models import OutboxMessage, ReminderSent
from ..tasks.periods import parse_period
from . import policy

__all__ = [
    "Item",
    "Line",
    "LineInfo",
    "Shown",
    "TaskRef",
    "Text",
    "Words",
    "chase_counts",
    "lines_of",
    "owed_words",
    "render",
    "sent_chasers",
]

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


class Words:
    """The current language's words for one digest: each message translated once, each date, period
    and stage phrase rendered once.

    flask-babel's ``gettext`` finds the translations through the request context on every call (tens
    of microseconds); a digest says several phrases on each of its lines, in two templates, and a sweep
    writes thousands of digests. A ``Words`` takes the translations of the language chosen when it is
    made (``force_locale``) and formats as flask-babel does (``msgstr % values``); ``template_context``
    gives the templates' ``{% trans %}`` blocks the same, with Jinja's escaping.
    """

    def __init__(self) -> None:
        self._translations = get_translations()
        self._messages: dict[str, str] = {}
        self._plurals: dict[tuple[str, str, int], str] = {}
        self._days: dict[date, str] = {}
        self._periods: dict[str, str] = {}
        self._stages: dict[tuple[str, str, int | None], str] = {}
        self._labels: dict[str, str] = {}

    def message(self, message: str) -> str:
        """``message`` translated, unformatted."""
        try:
            return self._messages[message]
        except KeyError:
            translated = self._messages[message] = self._translations.ugettext(message)
            return translated

    def plural(self, singular: str, plural: str, num: int) -> str:
        """The plural form for ``num``, translated, unformatted."""
        key = (singular, plural, num)
        try:
            return self._plurals[key]
        except KeyError:
            translated = self._plurals[key] = self._translations.ungettext(singular, plural, num)
            return translated

    def gettext(self, message: str, **values: Any) -> str:
        """As ``flask_babel.gettext``."""
        translated = self.message(message)
        return translated % values if values else translated

    def ngettext(self, singular: str, plural: str, num: int, **values: Any) -> str:
        """As ``flask_babel.ngettext`` (``num`` is among the values)."""
        values.setdefault("num", num)
        return self.plural(singular, plural, num) % values

    def day(self, value: date) -> str:
        if value not in self._days:
            self._days[value] = day_label(value)
        return self._days[value]

    def label(self, text: str) -> str:
        """A constant label (a task's status) in this language: the ``label`` filter's words."""
        if text not in self._labels:
            self._labels[text] = label_words(text)
        return self._labels[text]

    def period(self, key: str) -> str:
        """A period key (2024Q1) as the language writes periods (2024年第一季度, Q1 2024)."""
        if key not in self._periods:
            self._periods[key] = _period_words(key)
        return self._periods[key]

    def stage(self, kind: str, stage: str, count: int | None) -> str:
        key = (kind, stage, count)
        if key not in self._stages:
            self._stages[key] = policy.stage_label(kind, stage, count)
        return self._stages[key]

    def render(self, text: Text | None) -> str:
        """A ``Text`` in this language; a ``period`` key (2024Q1) is shown as the language writes
        periods (2024年第一季度, Q1 2024), a ``due`` date as it writes dates."""
        if text is None:
            return ""
        message, values = text
        words = {k: self.period(v) if k == "period" else v for k, v in values.items()}
        for k, v in words.items():
            if isinstance(v, tuple):  # several names (the measures a county implements), joined as the language does
                words[k] = self.message("、").join(v)
        if isinstance(words.get("due"), date):
            words["due"] = self.day(words["due"])
        return self.gettext(message, **words)

    def owed(self, periods: list[str]) -> str:
        """The report periods owed, on one line (the count is every period owed, gaps included)."""
        if not periods:
            return ""
        return self.ngettext(
            "%(first)s未报",
            "%(first)s至%(last)s共 %(num)s 期未报",
            len(periods),
            first=self.period(periods[0]),
            last=self.period(periods[-1]),
        )

    def entry(self, item: Item) -> str:
        """What an item says on its line: its kind, then its words."""
        label = self.message(policy.STAGE_LABELS[item.kind])
        if item.kind in {"deadline", "chase"}:
            stage = self.stage(item.kind, item.stage, item.count)
            words = self.render((item.body[0], {**item.body[1], "stage": stage})) if item.body else ""
        elif item.kind in CHECKIN_KINDS:
            words = self.render(item.body) if item.body else self.owed(item.line.owed)
        else:
            words = self.render(item.body)
        return self.gettext("【%(label)s】%(text)s", label=label, text=words)

    def line(self, line: Line, link_days: int) -> Shown:
        """A line as the templates print it, in this language: its sentences said here, once per line
        and language, not by a ``{% trans %}`` per line in each template (a sweep at scale prints
        ~170,000 lines twice); ``link_days``: how long a signed link stays valid."""
        info = line.info
        role = self.message(info.duty) if info.duty else ""
        role_sentence = self.message(LINE_WORDS["role"]) if role else ""
        link = line.link
        if not link:
            link_text = ""
        elif info.consolidated:  # a page behind the login, not a signed link
            link_text = self.gettext(LINE_WORDS["consolidated_link"], link=link)
        else:
            link_text = self.ngettext(
                "填报链接（%(count)s 天内有效）：%(link)s",
                "填报链接（%(count)s 天内有效）：%(link)s",
                link_days,
                count=link_days,
                link=link,
            )
        return Shown(
            title=self.render(info.title),
            role=role,
            entries=[Entry(self.entry(item)) for item in line.entries],
            link=link,
            consolidated=info.consolidated,
            role_text=role_sentence % {"role": role} if role else "",
            # as ``{% trans %}`` says it where the template escapes: the sentence is trusted, the role escaped
            role_html=Markup(role_sentence % {"role": escape(role)}) if role else Markup(""),
            link_text=link_text,
        )

    def template_context(self) -> dict[str, Callable[..., str]]:
        """``gettext``, ``_`` and ``ngettext`` for a template: they shadow the app's (flask-babel's, which
        look the translations up per call), with the same behaviour as Jinja's ``{% trans %}`` (the
        translation is trusted markup, the values are escaped where the template autoescapes)."""

        @pass_context
        def gettext(context: Context, message: str, **values: Any) -> str:
            translated = self.message(message)
            return (Markup(translated) if context.eval_ctx.autoescape else translated) % values

        @pass_context
        def ngettext(context: Context, singular: str, plural: str, num: int, **values: Any) -> str:
            values.setdefault("num", num)
            translated = self.plural(singular, plural, num)
            return (Markup(translated) if context.eval_ctx.autoescape else translated) % values

        return {"gettext": gettext, "_": gettext, "ngettext": ngettext}


def render(text: Text | None) -> str:
    """A ``Text`` in the current language (see ``Words.render``)."""
    return Words().render(text)


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
    return Words().owed(periods)


@dataclass(frozen=True, slots=True)
class TaskRef:
    """What a link needs of a task, read once: the sweep commits per department and must not reload."""

    code: str
    plan_key: str
    cycle: str
    position: int


@dataclass(slots=True)
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


@dataclass(slots=True)
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
        return Words().entry(self)


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
        return Words().message(self.info.duty) if self.info.duty else ""

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


@dataclass(slots=True)
class Entry:
    text: str


@dataclass(slots=True)
class Shown:
    """A line as the digest templates print it, its words in one language (``Words.line``)."""

    title: str
    role: str
    entries: list[Entry]
    link: str
    consolidated: bool
    role_text: str  # the department's part, as a sentence ("贵单位职责：牵头"), for the plain text
    role_html: Markup  # the same for the HTML, the role escaped
    link_text: str  # the link as a sentence (how long it is valid, or that the page asks for a login)


def lines_of(items: list[Item], words: Words | None = None) -> list[Line]:
    """The department's fresh items as lines, in due order (``words``: the language their titles are
    compared in, for lines due alike; the current one by default)."""
    words = words or Words()
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

    # the earliest thing due first; among lines that owe reports since the same period, the earliest
    # deadline; then the plan's order; then the title as the language writes it
    def rank(line: Line) -> tuple[date, date, int]:
        return (line.due or date.max, line.deadline or date.max, line.info.position)

    keyed = sorted(((rank(line), line) for line in lines), key=lambda pair: pair[0])
    # only lines alike so far are told apart by their titles (rendering every title to sort them was a
    # fifth of making the lines); the sort is the same as with the title in every key
    lines = []
    for _, alike in groupby(keyed, key=lambda pair: pair[0]):
        group = [line for _, line in alike]
        if len(group) > 1:
            group.sort(key=lambda line: words.render(line.info.title))
        lines += group
    return lines


def _merge_implemented(entries: list[Item]) -> list[Item]:
    """On a county's consolidated line, the measures due on one day at one stage are one entry."""
    out: list[Item] = []
    merged: dict[tuple[str, date | None, str, int | None], Item] = {}
    for item in entries:
        if item.body is None or item.body[0] != WORDS["implemented_deadline"]:
            out.append(item)
            continue
        # the same stage phrase (``stage_text``): one stage of one due date, the same chaser number
        same = (item.kind, item.due, item.stage, item.count)
        if same in merged:
            first = merged[same]
            tasks = (*first.body[1]["task"], *item.body[1]["task"])  # type: ignore[index]
            merged[same] = replace(first, body=(WORDS["implemented_deadline"], {**item.body[1], "task": tasks}))
        else:
            merged[same] = item
    return out + list(merged.values())


def sent_chasers(department_id: int | None = None) -> dict[int, Counter[tuple[str, ...]]]:
    """Department → the chasers it was actually sent (claimed in ``reminder_sent`` and put in a message
    that is not held), counted by what they chase (``_chased``); every department's at once unless
    ``department_id`` is given. A sweep reads them once: the key prefix is no index (LIKE), so a query
    per department read the whole table each time."""
    pattern = "chase:%" if department_id is None else f"chase:{department_id}:%"
    keys = db.session.scalars(
        db.select(ReminderSent.key)
        .join(OutboxMessage, OutboxMessage.id == ReminderSent.message_id)
        .where(ReminderSent.key.like(pattern), OutboxMessage.status != "held")
    )
    sent: dict[int, Counter[tuple[str, ...]]] = defaultdict(Counter)
    for key in keys:
        sent[int(key.split(":")[1])][_chased(key)] += 1
    return sent


def chase_counts(
    department_id: int, items: list[Item], sent: Mapping[int, Counter[tuple[str, ...]]] | None = None
) -> None:
    """Number each fresh chaser by the chasers this department was actually sent for the same task or
    target and deadline before (``sent_chasers``: read now unless ``sent`` has them, read for the sweep)."""
    chasers = [i for i in items if i.kind == "chase"]
    if not chasers:
        return
    mine = (sent_chasers(department_id) if sent is None else sent).get(department_id, Counter())
    for item in chasers:
        item.count = mine[_chased(item.key)] + 1


def _chased(key: str) -> tuple[str, ...]:
    """What a chaser's key chases: ``chase:dept:task:7:after-2:2025-12-31`` → (task, 7, 2025-12-31)."""
    parts = key.split(":")
    return (parts[2], parts[3], parts[-1])


# A line's sentences around its role and its link (``Words.line``): the message ids the digest
# templates' ``{% trans %}`` blocks had, so the catalogue keeps its translations.
LINE_WORDS = {
    "role": N_("贵单位职责：%(role)s"),
    "consolidated_link": N_("填报页面（登录后填报）：%(link)s"),
}

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
