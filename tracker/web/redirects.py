"""Where a redirect may go when the request names the target: this site only, never another host.

Every route that redirects to a target it was given (login's ``next``, the language switch's
``next``, the page a form was posted from) asks :func:`local_target` or :func:`safe_redirect`.
A browser reads ``//host``, ``/\\host``, ``https://host`` and a path with a tab or a line break
removed as another site, so all of those are refused; a CR or LF cannot go into a header at all,
and is a bad request (400) rather than an error (500).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, request
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

__all__ = ["local_target", "redirect_target", "safe_redirect"]


def local_target(target: str | None, host: str) -> str | None:
    """``target`` as a path on this site (``host`` as in the Host header), or None when it may lead elsewhere.

    A same-site absolute URL (a ``Referer``) becomes its path and query.

    >>> local_target("/tasks/3.1?period=2024Q2", "a.cn")
    '/tasks/3.1?period=2024Q2'
    >>> local_target("http://a.cn/my", "a.cn")
    '/my'
    >>> [local_target(t, "a.cn") for t in ("//b.cn/x", "/\\\\b.cn", "https://b.cn/", "/\\t/b.cn", "tasks", "")]
    [None, None, None, None, None, None]
    """
    if not target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return None
    if not target.startswith("/"):
        parts = urlsplit(target)
        if parts.scheme not in {"http", "https"} or parts.netloc.lower() != host.lower():
            return None
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/") or target.startswith("//"):
        return None
    return target


def redirect_target(target: str | None) -> str | None:
    """The request's ``target`` as a path on this site, or None; ``BadRequest`` (400) on a CR or LF.

    Ask it before acting (login asks before it logs anyone in), so a refused request changes nothing.
    """
    if target and ("\r" in target or "\n" in target):
        raise BadRequest("line break in a redirect target")
    return local_target(target, request.host)


def safe_redirect(target: str | None, fallback: str) -> Response:
    """A redirect to ``target`` when it stays on this site, else to ``fallback``; 400 on a CR or LF."""
    return redirect(redirect_target(target) or fallback)
