"""The session cookie as Flask signs it (itsdangerous, ``SECRET_KEY``), read at less cost per request.

- **Verified once per cookie.** Checking a cookie's signature and decoding it costs every logged-in
  request about as much as the rest of its hooks together, and a browser sends the same cookie until
  the session changes. A cookie whose signature was found good is kept here (this process, the last
  ``KEEP`` cookies) with its content and the time it was signed; the same string, byte for byte,
  under the same key, is good again for as long as Flask would take it (``PERMANENT_SESSION_LIFETIME``
  from its signing). Anything else is checked as Flask checks it. A request gets its own copy of the
  content: what it changes is written to a new cookie, as before.
- **Not read for static files** (``/static/…``): none of them uses the session. Such a request gets an
  empty session that is never saved, so even an error page rendered for one (it asks for a CSRF
  token) cannot replace the person's session cookie.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Flask, Request, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature
from werkzeug.wrappers import Response

__all__ = ["KEEP", "SessionInterface"]

KEEP = 1024


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session with the two savings above."""

    def __init__(self, static_prefix: str) -> None:
        self.static_prefix = static_prefix
        self._lock = threading.Lock()
        # (key, cookie) -> (content, signed at, as itsdangerous counts: whole seconds)
        self._verified: OrderedDict[tuple[Any, str], tuple[dict[str, Any], int]] = OrderedDict()

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(self.static_prefix):
            return self.session_class()
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie or not app.secret_key:
            return super().open_session(app, request)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        key = (app.secret_key, cookie)
        known = self._verified.get(key)
        if known is not None:
            content, signed_at = known
            if 0 <= int(time.time()) - signed_at <= max_age:  # itsdangerous's own test of age
                return self.session_class(copy.deepcopy(content))
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        try:
            content, signed = serializer.loads(cookie, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        with self._lock:
            self._verified[key] = (copy.deepcopy(content), int(signed.timestamp()))
            while len(self._verified) > KEEP:
                self._verified.popitem(last=False)
        return self.session_class(content)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if request.path.startswith(self.static_prefix):
            return
        super().save_session(app, session, response)
