"""Helpers shared by the blueprints' views: permission checks, form parsing, conflict rows, and which
plan a request is about.

The plan: ``?plan=KEY`` names it in any page's address (and so in every form's action), else the
plan running today (``tracker.tasks.queries.current_plan``). :func:`request_plan` is the one place
a view asks; :func:`init_plan_routing` checks the key before the view runs (an unknown key is a
404 that names it) and adds ``plan=KEY`` to every address the page builds while the request is
about another plan than today's, so links and forms stay on that plan.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, flash, has_request_context, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from .. import clock
from ..errors import PermissionDenied, TrackerError
from ..extensions import db
from ..i18n import N_
from ..models import Plan, Task
from ..numbers import int_or_none
from ..plans.compare import PHASES, plan_phase
from ..reports.service import ASSIGNMENT_FIELDS, CHECKIN_FIELDS, TASK_EDIT_FIELDS, ReportError, StaleEdit
from ..tasks.queries import current_plan, get_plan, get_task

# Field name -> label, in Chinese; conflict_rows translates them.
FIELD_LABELS = {
    **CHECKIN_FIELDS,
    **TASK_EDIT_FIELDS,
    **ASSIGNMENT_FIELDS,
    "state": N_("状态"),
    "contact_emails": N_("联系邮箱"),
}


def choices(labels: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, _l(label)) for value, label in labels.items()]


def require(allowed: bool, message: str = _l("您没有权限执行此操作。")) -> None:
    if not allowed:
        raise PermissionDenied(message)


# Addresses that never carry the plan: files, the API (its plans are in its paths), signing in and
# out, the public links (their own tokens say what they open).
_NO_PLAN_ENDPOINTS = {"static", "reminders.follow_link", "feeds.feed"}
_NO_PLAN_BLUEPRINTS = {"api", "auth", "passwords"}


def _per_request(name: str, make: Any) -> Any:
    """``make()`` once per request. Kept with the request, not in ``g``: tests run many requests in
    one application context, which ``g`` belongs to."""
    store = request.environ.setdefault("tracker.plans", {})
    if name not in store:
        store[name] = make()
    return store[name]


def loaded_plans() -> list[Plan]:
    """Every loaded plan, oldest first (read once per request)."""
    return _per_request("loaded", lambda: list(db.session.scalars(db.select(Plan).order_by(Plan.start, Plan.id))))


def default_plan() -> Plan:
    """The plan an address without ``plan`` is about: the one running today."""
    return _per_request("default", lambda: current_plan(clock.today()))


def request_plan() -> Plan:
    """The plan this request is about: ``?plan=KEY``, else today's; ``NotFound`` for an unknown key."""

    def resolve() -> Plan:
        key = request.args.get("plan", "").strip()
        return get_plan(key) if key else default_plan()

    return _per_request("plan", resolve)


def plan_arg(plan_id: int | None) -> str | None:
    """The ``plan`` value an address to something of plan ``plan_id`` needs: None for today's plan
    (the address stays as it always was), else the plan's key."""
    if plan_id is None or plan_id == default_plan().id:
        return None
    return next((p.key for p in loaded_plans() if p.id == plan_id), None)


def task_by_code(code: str) -> Task:
    """Task ``code`` of the request's plan."""
    return get_task(request_plan(), code)


@dataclass
class SwitchEntry:
    """One plan in the header's switcher: where choosing it leads, and how it stands today."""

    plan: Plan
    url: str
    phase: str  # the label: 进行中 / 已结束 / 未开始
    active: bool  # the plan this page shows


def _switch_url(plan: Plan) -> str:
    """The same page for ``plan`` where that makes sense (a plain GET page of no particular record),
    else ``plan``'s task list (a task page, a record's page, a form just posted)."""
    endpoint = request.endpoint or ""
    param = plan_arg(plan.id)
    keep = (
        request.method == "GET"
        and not request.view_args
        and endpoint not in _NO_PLAN_ENDPOINTS
        and endpoint.partition(".")[0] not in _NO_PLAN_BLUEPRINTS
    )
    return url_for(endpoint if keep else "tasks.index", plan=param)


def plan_switcher() -> list[SwitchEntry]:
    """The loaded plans for the header, today's first then the newest; empty when there is only one."""
    try:
        plans, today_plan = loaded_plans(), default_plan()
    except TrackerError:  # no plan loaded yet
        return []
    if len(plans) < 2:
        return []
    try:
        shown = request_plan()
    except TrackerError:  # the page is the 404 for an unknown ?plan=
        shown = today_plan
    others = sorted((p for p in plans if p.id != today_plan.id), key=lambda p: p.start, reverse=True)
    ordered = [today_plan, *others]
    today = clock.today()
    return [SwitchEntry(p, _switch_url(p), _(PHASES[plan_phase(p, today)]), p.id == shown.id) for p in ordered]


def init_plan_routing(app: Flask) -> None:
    """Resolve ``?plan=KEY`` before each page and keep it in the addresses the page builds."""

    @app.before_request
    def resolve_plan() -> None:
        if request.blueprint in _NO_PLAN_BLUEPRINTS or request.endpoint in _NO_PLAN_ENDPOINTS:
            return
        if request.args.get("plan", "").strip():
            plan = request_plan()  # an unknown key stops here, with a 404 naming it
            if plan.id != default_plan().id:
                request.environ["tracker.plan_param"] = plan.key

    @app.url_defaults
    def keep_plan(endpoint: str, values: dict[str, Any]) -> None:
        key = request.environ.get("tracker.plan_param") if has_request_context() else None
        if not key or "plan" in values or endpoint in _NO_PLAN_ENDPOINTS:
            return
        if endpoint.partition(".")[0] in _NO_PLAN_BLUEPRINTS:
            return
        values["plan"] = key

    app.jinja_env.globals.update(plan_arg=plan_arg, plan_switcher=plan_switcher)


def conflict_rows(original: str | None, current: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """What changed meanwhile: (field label, value when the form was opened, value now)."""
    try:
        before = json.loads(original or "{}")
    except ValueError:
        before = {}
    return [
        (_(FIELD_LABELS[name]) if name in FIELD_LABELS else name, before.get(name), now)
        for name, now in current.items()
        if before.get(name) != now
    ]


class DateInput(DateField):
    """A date field whose parse error speaks Chinese (WTForms' own message is English)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("日期格式应为 2025-06-30。")) from None


def attachment(data: bytes, filename: str, mimetype: str, fallback: str | None = None) -> Response:
    """A download named ``filename``: Chinese names travel as RFC 6266 ``filename*``, beside an ASCII
    ``fallback`` for old clients (by default the name with everything but ASCII letters and digits dropped)."""
    response = Response(data, mimetype=mimetype)
    fallback = fallback or re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("_") or "download"
    response.headers["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    return response


def review_decision(form: Any, decide: Any) -> Response | int:
    """A coordinator's decision posted on a review form (a report's or a county's consolidated report's):
    ``decide(decision=…, comment=…, now=…, user_id=…, version_id=…)`` is the service; a redirect to the
    review queue when it went through, else the status to render the form with, its error on the comment."""
    if not form.validate_on_submit():
        return 400
    try:
        decide(
            decision=form.decision.data or "",
            comment=form.comment.data or "",
            now=clock.now(),
            user_id=current_user.id,
            version_id=int_or_none(form.version_id.data),
        )
    except StaleEdit as exc:
        db.session.rollback()
        form.comment.errors = [str(exc)]
        return 409
    except ReportError as exc:
        db.session.rollback()
        form.comment.errors = [str(exc)]
        return 400
    flash(_("已通过。") if form.decision.data == "approve" else _("已退回，并通知报送单位修改。"))
    return redirect(url_for("reports.queue"))


class ReviewForm(FlaskForm):
    """A coordinator's decision on a report or a county's consolidated report: approve or return.

    No default: nothing is checked until the reviewer chooses (submitting without a choice says so)."""

    decision = RadioField(
        _l("审核结果"),
        choices=choices({"approve": N_("通过"), "return": N_("退回")}),
        validators=[InputRequired(_l("请选择通过或退回。"))],
        validate_choice=False,  # the service says why
    )
    comment = TextAreaField(_l("审核意见（退回时必填）"), validators=[Length(max=5000)])
    version_id = HiddenField()
