"""The signed link of a reminder email: verify it, store the grant, open the report form."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote, urlencode

from flask import Blueprint, current_app, redirect, render_template, session
from flask_babel import gettext
from werkzeug.wrappers import Response

from .. import clock
from ..reminders.links import LinkError, digest_of, read_token, store_grant

bp = Blueprint("reminders", __name__)

# How long the session keeps the grant once the link was followed: one working session.
GRANT_HOURS = 12


@bp.get("/r/<token>")
def follow_link(token: str) -> Response | tuple[str, int]:
    now = clock.now()
    max_age = int(current_app.config["REMINDERS"]["link_days"]) * 86400
    try:
        payload = read_token(current_app.config["SECRET_KEY"], token, max_age_seconds=max_age, now=now)
    except LinkError as exc:
        expired = "过期" in str(exc)
        return render_template("reminders/link_error.html", message=gettext(str(exc))), 410 if expired else 400
    # The grant is for this task, department and period only, and remembers the digest that carried it.
    store_grant(
        session,
        payload,
        expires=now + timedelta(hours=GRANT_HOURS),
        message_id=digest_of(token, payload["department_id"]),
    )
    # reports.form is another blueprint's page: build its path, not its endpoint. The plan is named
    # always: the link may be followed after another plan has become today's.
    query = urlencode({"period": payload["period"], "plan": payload["plan_key"]})
    return redirect(f"/tasks/{quote(payload['task_code'])}/report?{query}")
