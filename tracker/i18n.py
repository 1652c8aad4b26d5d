"""The interface language: Chinese by default, English switchable.

Source strings are the Chinese text (the msgids); ``tracker/translations/en`` holds the English.
The language is, in order: the logged-in user's saved choice, the session's choice (the switch in
the header), the browser's Accept-Language (best match), Chinese. The plan's own content (titles,
department names, targets) is data and is never translated.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime

from babel import Locale, support
from flask import Flask, current_app, g, has_app_context, has_request_context, request, session
from flask_babel import Babel, Domain, format_date, get_locale, gettext, refresh
from flask_login import current_user

DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")
# What <html lang> says for each locale.
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


class _RequestDomain(Domain):
    """Flask-Babel's domain, finding the translations once per request and language.

    Flask-Babel finds them again at every call (the request's locale, the domain, the cache's key: a
    dozen context lookups), and a page asks hundreds of times (every ``_()`` and label). They are kept
    next to Flask-Babel's own per-request state with the locale they were found for: ``refresh()`` and
    ``force_locale()`` set another locale, and the next call finds them afresh. The same catalogue,
    the same text: only the lookups are fewer.
    """

    def get_translations(self) -> support.NullTranslations:
        ctx = g.get("_flask_babel") if has_app_context() else None
        locale = getattr(ctx, "babel_locale", None)
        if locale is not None:
            kept = getattr(ctx, "tracker_translations", None)
            if kept is not None and kept[0] is locale:
                return kept[1]  # type: ignore[no-any-return]
        found = super().get_translations()
        ctx = g.get("_flask_babel") if has_app_context() else None
        locale = getattr(ctx, "babel_locale", None)
        if locale is not None:
            ctx.tracker_translations = (locale, found)
        return found  # type: ignore[no-any-return]


class _Babel(Babel):
    @functools.cached_property
    def domain_instance(self) -> Domain:
        return _RequestDomain(domain=self.domain)


babel = _Babel()


def site_locale() -> str:
    """The site's language (``TRACKER_LANGUAGE``): the CLI's, the scheduler's, a browser's fallback."""
    return current_app.config.get("LANGUAGE", DEFAULT_LOCALE) if has_app_context() else DEFAULT_LOCALE


def select_locale() -> str:
    if not has_request_context():
        return site_locale()  # the CLI and the scheduler; emails choose per recipient (force_locale)
    user_locale = getattr(current_user, "locale", None) if current_user.is_authenticated else None
    if user_locale in LOCALES:
        return user_locale
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES, default=site_locale()) or site_locale()


@functools.cache
def _parsed(name: str) -> Locale:
    return Locale.parse(name)


def _selected_locale() -> Locale:
    """:func:`select_locale` as the parsed ``Locale`` Flask-Babel wants: parsed once per language, not
    on every request (Flask-Babel parses a name again for each)."""
    return _parsed(select_locale())


def init_app(app: Flask) -> None:
    language = app.config.setdefault("LANGUAGE", DEFAULT_LOCALE)
    if language not in LOCALES:
        raise ValueError(f"TRACKER_LANGUAGE must be one of {', '.join(LOCALES)}, not {language!r}")
    app.config.setdefault("BABEL_DEFAULT_LOCALE", language)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    babel.init_app(app, locale_selector=_selected_locale)

    # Flask-Babel caches the locale on ``g``, which outlives a request wherever an app context is
    # held open around several (the scheduler, the tests): choose afresh for every request, and
    # let what runs after it (emails) fall back to Chinese.
    @app.before_request
    def choose_locale() -> None:
        refresh()

    @app.teardown_request
    def forget_locale(exc: BaseException | None) -> None:
        refresh()

    @app.context_processor
    def language() -> dict[str, object]:
        locale = select_locale()
        return {"current_locale": locale, "html_lang": HTML_LANG.get(locale, "zh-CN")}

    app.jinja_env.filters.update(label=label, reason=reason, period=period, day=day, moment=moment)


def N_(message: str) -> str:  # noqa: N802  (the conventional name pybabel extracts)
    """Mark a constant for extraction; it is translated where it is shown (``|label`` in templates)."""
    return message


class Labels(Mapping[str, str]):
    """A label dict (``ROLES``, ``TASK_STATUSES`` …) seen through the current language, for templates.

    The dicts themselves stay Chinese: services, exports and the API use them as they are.
    """

    def __init__(self, labels: Mapping[str, str]) -> None:
        self._labels = labels

    def __getitem__(self, key: str) -> str:
        return gettext(self._labels[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)


def label(text: object) -> str:
    """A constant label (a role, a status, a kind) in the current language; anything else unchanged."""
    if not isinstance(text, str) or not text:
        return text  # type: ignore[return-value]
    for pattern, message in _PATTERNS:
        if m := pattern.match(text):
            return gettext(message, **m.groupdict())
    for prefix in _PREFIXES:
        if text.startswith(prefix) and text != prefix:
            return gettext(prefix) + text[len(prefix) :]
    return gettext(text)


# The warning-light reasons are computed in Chinese (tracker/lights.py, and matched there);
# they are translated only when shown.
_REASONS = [
    (re.compile(r"^已逾期 (\d+) 天$"), N_("已逾期 %(n)s 天")),
    (re.compile(r"^进度落后时序 (\d+) 个百分点$"), N_("进度落后时序 %(n)s 个百分点")),
    (re.compile(r"^距截止还有 (-?\d+) 天$"), N_("距截止还有 %(n)s 天")),
]
_FIXED_REASONS = [N_("报送状态为滞后"), N_("报送状态为受阻"), N_("本期进展未报送")]
# Messages raised in Chinese by modules that match on their text; translated where shown.
_LINK_ERRORS = [N_("链接已过期，请登录系统填报。"), N_("链接无效。")]


_PERIODS = [
    (re.compile(r"^(\d{4})年第([一二三四])季度$"), N_("%(year)s年第%(n)s季度")),
    (re.compile(r"^(\d{4})年(\d{1,2})月$"), N_("%(year)s年%(n)s月")),
    (re.compile(r"^(\d{4})年度$"), N_("%(year)s年度")),
]
_QUARTERS = {"一": "1", "二": "2", "三": "3", "四": "4"}
# Label-like texts that carry data after a fixed prefix (a scheduled job's name, for one).
_PREFIXES = [N_("进展报送通知："), N_("无法连接邮件服务器："), N_("无法生成邮件（收件地址或标题有误，不再重试）：")]
# Labels built with numbers in them (assessment windows, their details).
_PATTERNS = [
    (re.compile(r"^(?P<year>\d{4}) 年度考核$"), N_("%(year)s 年度考核")),
    (re.compile(r"^中期评估（(?P<start>\d{4})—(?P<end>\d{4})）$"), N_("中期评估（%(start)s—%(end)s）")),
    (re.compile(r"^五年总体考核（(?P<start>\d{4})—(?P<end>\d{4})）$"), N_("五年总体考核（%(start)s—%(end)s）")),
    (re.compile(r"^(?P<n>\d+) 项目标$"), N_("%(n)s 项目标")),
]


def _chinese() -> bool:
    locale = get_locale()  # Babel spells zh_CN as zh_Hans_CN
    return locale is None or locale.language == "zh"


def period(text: str) -> str:
    """A period's label (``2024年第二季度``) in the current language."""
    if _chinese():
        return text
    for pattern, message in _PERIODS:
        m = pattern.match(text or "")
        if m:
            return gettext(message, year=m.group(1), n=_QUARTERS.get(m.group(2), m.group(2)))
    return text


def day(value: date | None) -> str:
    """A date as the interface shows it: ``2025-06-30`` in Chinese (as the plan writes dates), the
    locale's medium format in English (``Jun 30, 2025``)."""
    if value is None:
        return "—"
    if _chinese():
        return value.isoformat()
    return format_date(value, "medium")


def moment(value: datetime | None) -> str:
    """A time of day as the interface shows it: ``2025-06-30 09:00`` in Chinese, ``Jun 30, 2025 09:00``
    in English. The value is shown in the zone it carries (callers convert to the city's time)."""
    if value is None:
        return ""
    return f"{day(value.date())} {value:%H:%M}"


def reason(text: str) -> str:
    for pattern, message in _REASONS:
        m = pattern.match(text)
        if m:
            return gettext(message, n=m.group(1))
    return gettext(text)
