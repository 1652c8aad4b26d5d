"""The security headers every response carries, set by Flask-Talisman.

- Content-Security-Policy: scripts, styles, images, fonts and form targets only from this site, no
  inline script or style (the templates have none: styles live in ``static/css``), no plugins, and
  no framing by any page (``frame-ancestors 'none'``, with ``X-Frame-Options: DENY`` for old browsers);
- ``X-Content-Type-Options: nosniff``; ``Referrer-Policy: same-origin`` (an intranet address is never
  sent to another site); HSTS when the request came over HTTPS (directly or through the proxy).

The session cookie's flags (HttpOnly, SameSite=Lax, Secure from ``SESSION_COOKIE_SECURE``) are
settings in ``tracker/config.py``; Talisman is told to leave them as configured. Redirecting HTTP
to HTTPS is the proxy's job (docs/deploy.md), so Talisman does not.

Talisman works every header out again on every response (the policy joined into a string, the view's
options looked up four times); :class:`Talisman` here works them out once per view and per scheme
(HSTS only over HTTPS) and then copies them, unless a policy carries a nonce (different per response:
none does here).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import flask_talisman
from flask import Flask, current_app, request
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response

__all__ = ["CSP", "EMAIL_PREVIEW_CSP", "Talisman", "init_app", "talisman"]

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# The outbox shows an email's HTML in a sandboxed iframe (no script can run there); the iframe's
# document inherits the page's policy, and our mail templates style their elements inline.
EMAIL_PREVIEW_CSP = {**CSP, "style-src": "'self' 'unsafe-inline'"}


class Talisman(flask_talisman.Talisman):
    """Flask-Talisman with each view's options and headers worked out once, not on every response."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._options: dict[object, dict[str, Any]] = {}
        self._headers: dict[tuple[object, bool], list[tuple[str, str]]] = {}
        super().__init__(*args, **kwargs)

    def _get_local_options(self) -> dict[str, Any]:
        # The view's own options (set by the decorator when the view was defined) over the app's:
        # the same for every request to that view.
        view = current_app.view_functions.get(request.endpoint)  # type: ignore[arg-type]
        options = self._options.get(view)
        if options is None:
            options = self._options[view] = super()._get_local_options()
        return options

    def _force_https(self) -> Response | None:
        if self.session_cookie_secure or self._get_local_options()["force_https"]:
            return super()._force_https()  # type: ignore[no-any-return]
        return None  # neither redirects nor marks the cookie secure: nothing to do

    def _set_response_headers(self, response: Response) -> Response:
        options = self._get_local_options()
        if options["content_security_policy"] and options["content_security_policy_nonce_in"]:
            return super()._set_response_headers(response)  # type: ignore[no-any-return]
        secure = request.is_secure or request.headers.get("X-Forwarded-Proto", "http") == "https"
        key = (current_app.view_functions.get(request.endpoint), secure)  # type: ignore[arg-type]
        headers = self._headers.get(key)
        if headers is None:
            probe = SimpleNamespace(headers=Headers())  # Talisman writes to response.headers only
            super()._set_response_headers(probe)
            headers = self._headers[key] = list(probe.headers.items())
        for name, value in headers:
            response.headers[name] = value
        return response

    def init_app(self, app: Flask, **kwargs: Any) -> None:
        self._options.clear()  # another app, other views (the tests make many)
        self._headers.clear()
        super().init_app(app, **kwargs)


talisman = Talisman()


def init_app(app: Flask) -> None:
    talisman.init_app(
        app,
        force_https=False,
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="same-origin",
        session_cookie_secure=False,  # leave SESSION_COOKIE_SECURE as configured
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        session_cookie_http_only=app.config["SESSION_COOKIE_HTTPONLY"],
        strict_transport_security=True,
        strict_transport_security_max_age=31536000,
        strict_transport_security_include_subdomains=False,
    )
