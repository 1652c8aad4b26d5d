"""The security headers every response carries, set by Flask-Talisman.

- Content-Security-Policy: scripts, styles, images, fonts and form targets only from this site, no
  inline script or style (the templates have none: styles live in ``static/css``), no plugins, and
  no framing by any page (``frame-ancestors 'none'``, with ``X-Frame-Options: DENY`` for old browsers);
- ``X-Content-Type-Options: nosniff``; ``Referrer-Policy: same-origin`` (an intranet address is never
  sent to another site); HSTS when the request came over HTTPS (directly or through the proxy).

The session cookie's flags (HttpOnly, SameSite=Lax, Secure from ``SESSION_COOKIE_SECURE``) are
settings in ``tracker/config.py``; Talisman is told to leave them as configured. Redirecting HTTP
to HTTPS is the proxy's job (docs/deploy.md), so Talisman does not.
"""

from __future__ import annotations

from flask import Flask

from ..extensions import talisman

__all__ = ["CSP", "EMAIL_PREVIEW_CSP", "init_app"]

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
