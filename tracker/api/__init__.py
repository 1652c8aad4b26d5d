"""The JSON API for other systems (read side): personal tokens, rate limits, the read queries and the
OpenAPI description. The blueprint that serves it is ``tracker.web.api``.

Messages for people (an error's ``message`` and ``fields``, the description's texts) speak the
caller's language: the token owner's saved choice, else Accept-Language, else the site's. Codes,
JSON keys and the plan's own words stay as they are."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import get_locale


def listing(items: Iterable[str]) -> str:
    """Names listed in a message: ``GET、POST`` in Chinese, ``GET, POST`` in English."""
    locale = get_locale()
    return ("、" if locale is None or locale.language == "zh" else ", ").join(items)
