"""Static files (``/static/…``): addresses that name their content, kept a year by browsers, and served
without opening the session.

- Every address a page builds for a static file carries ``v=``, a digest of the file's content. Asked
  with the current ``v``, the file is sent with ``Cache-Control: public, max-age=31536000``: a browser
  keeps it and does not ask again on every page. A changed file gets a new address, so nobody keeps an
  old one. Asked without ``v`` (or with an old one), it is sent as before: ``no-cache`` with an ETag, so
  the browser asks each time and gets a 304.
- A static file is the same for everyone: its request does not read or sign the session cookie
  (tracker/web/session_cookie.py).

The security headers (tracker/web/headers.py) are set on static files as on every response.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any

from flask import Flask, current_app, request, send_from_directory
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from .session_cookie import SessionInterface

__all__ = ["YEAR", "init_app", "is_static_request", "static_version"]

YEAR = 365 * 24 * 3600

_lock = threading.Lock()
# path -> (mtime_ns, size, digest): a file's digest is worked out once, again only when it changes.
_digests: dict[str, tuple[int, int, str]] = {}


def static_version(filename: str) -> str | None:
    """The digest of static file ``filename`` (12 hex digits), or None when there is no such file."""
    folder = current_app.static_folder
    path = safe_join(folder, filename) if folder else None  # a request's filename may be crafted
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    known = _digests.get(path)
    if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
        return known[2]
    try:
        with open(path, "rb") as file:
            digest = hashlib.sha256(file.read()).hexdigest()[:12]
    except OSError:  # a directory, or gone since
        return None
    with _lock:
        _digests[path] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest


def _serve(filename: str) -> Response:
    """Flask's static view, with the year-long lifetime for an address naming the current content."""
    version = request.args.get("v")
    max_age = YEAR if version and version == static_version(filename) else None
    return send_from_directory(current_app.static_folder or "", filename, max_age=max_age)


def is_static_request() -> bool:
    """Is this request for a static file (by its path, whether or not such a file exists)?"""
    return request.path.startswith(_prefix(current_app))


def _prefix(app: Flask) -> str:
    # Never empty: with no static files, no path starts with it.
    return f"{app.static_url_path}/" if app.static_url_path else "\x00"


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface(_prefix(app))  # tracker/web/session_cookie.py
    app.view_functions["static"] = _serve

    @app.url_defaults
    def version_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            version = static_version(values["filename"])
            if version is not None:
                values["v"] = version
