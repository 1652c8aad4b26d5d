"""The user's own page for personal API tokens: create (the secret is shown once) and revoke."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import clock
from ..api.tokens import TokenError, create_token, revoke_token, user_tokens

bp = Blueprint("profile", __name__)


@bp.route("/profile/tokens", methods=["GET", "POST"])
def tokens() -> str | Response:
    secret = None
    error = None
    if request.method == "POST":
        try:
            _token, secret = create_token(current_user, request.form.get("name", ""), now=clock.now())
        except TokenError as exc:
            error = str(exc)
    status = 422 if error else 200
    page = render_template("profile/tokens.html", tokens=user_tokens(current_user), secret=secret, error=error)
    return page, status  # type: ignore[return-value]


@bp.post("/profile/tokens/<int:token_id>/revoke")
def revoke(token_id: int) -> Response:
    token = revoke_token(current_user, token_id, now=clock.now())
    flash(_("令牌“%(token_name)s”已撤销。", token_name=token.name))
    return redirect(url_for("profile.tokens"))
