"""Closures of days in the admin console (issue 22): the form "Tutup beberapa hari" for a
branch (its admins, on the dates page and its own page) and for every branch (national admins,
on the national page and its own page); the closure's page with how many bookings it cancelled
and how far their SMS have got, refreshed on request or every 10 seconds while SMS wait; and
reopening. Every rule is ``domain.closures``' (who may, through ``authz``); this module reads
forms and renders pages.
"""

from __future__ import annotations

from flask import Response, g, redirect, request, url_for

from queue_service.domain import catalog
from queue_service.domain.accounts import Account
from queue_service.domain.audit import Actor
from queue_service.domain.authz import Action, may, require
from queue_service.domain.closures import NOTE_MAX_LENGTH, Closure
from queue_service.domain.errors import ValidationFailedError
from queue_service.web.extensions import services
from queue_service.web.limits import client_address
from queue_service.web.pages import staff_auth
from queue_service.web.pages.page_blueprints import make_page_blueprint
from queue_service.web.pages.rendering import field_texts, render
from queue_service.web.requests import parse_date

bp = make_page_blueprint("closures", __name__)
# The form is also on the console's dates and national pages (``admin/closure_form.html``).
bp.app_context_processor(lambda: {"closure_note_max": NOTE_MAX_LENGTH})
signed_in = staff_auth.signed_in("admin", "admin.sign_in_form")


def _account() -> Account:
    return g.account


def _page(template: str, status: int = 200, **context) -> Response:
    return render(f"admin/{template}", status=status, personal=True, account=g.get("account"), **context)


@bp.route("/admin/cabang/<branch_id>/tutup", methods=["GET", "POST"])
@signed_in
def close_branch(branch_id: str):
    """The branch's closures of days, and the form that closes it for some (its admins)."""
    require(_account(), Action.READ_BRANCH, branch_id)
    branch = catalog.get_branch(services().redis, branch_id)
    may_close = may(_account(), Action.TUNE_BRANCH, branch_id)
    return _closing(branch, lambda: services().closures.of_branch(branch_id), may_close)


@bp.route("/admin/nasional/tutup", methods=["GET", "POST"])
@signed_in
def close_every_branch():
    """The closures of every branch, and the form that closes every branch for some days
    (national admins)."""
    require(_account(), Action.CLOSE_NATIONALLY)
    return _closing(None, services().closures.of_every_branch, True)


@bp.get("/admin/penutupan/<closure_id>")
@signed_in
def show(closure_id: str):
    """A closure: its range and note, how many bookings it cancelled, how many of their SMS
    were sent, delivered, failed or still wait; ``?segarkan=1`` refreshes every 10 seconds."""
    closure = services().closures.get(_account(), closure_id)
    return _closure_page(closure, reopened=request.args.get("dibuka") == "1")


@bp.post("/admin/penutupan/<closure_id>/buka")
@signed_in
def reopen(closure_id: str):
    """Reopen the closure's days from today on; the bookings it cancelled stay cancelled."""
    actor = Actor(_account().username, _account().role, client_address())
    services().closures.reopen(_account(), closure_id, actor, services().clock())
    return redirect(url_for("closures.show", closure_id=closure_id, dibuka=1), 303)


def _closing(branch: catalog.Branch | None, listed, may_close: bool) -> Response:
    """The closures page of ``branch`` (None: every branch): a posted form closes (the domain
    judging who may) and leads to the closure's page, or comes back naming what is wrong."""
    values: dict[str, str] = {}
    problems: dict[str, list[str]] = {}
    if request.method == "POST":
        closed = _close(branch.id if branch else None)
        if isinstance(closed, Closure):
            return redirect(url_for("closures.show", closure_id=closed.id), 303)
        values, problems = closed
    return _page(
        "closures.html",
        status=422 if problems else 200,
        branch=branch,
        closures=listed(),
        may_close=may_close,
        values=values,
        errors=field_texts(problems),
    )


def _close(branch_id: str | None) -> Closure | tuple[dict[str, str], dict[str, list[str]]]:
    """Close from the posted form: the closure, or what was typed with what is wrong."""
    values = request.form.to_dict()
    first, last = parse_date(values.get("from", "")), parse_date(values.get("to", ""))
    problems = {field: ["invalid_date"] for field, day in (("from", first), ("to", last)) if day is None}
    if values.get("confirm") != "1":
        problems["confirm"] = ["required"]
    if problems:
        return values, problems
    actor = Actor(_account().username, _account().role, client_address())
    try:
        return services().closures.close_range(
            _account(), branch_id, first, last, values.get("note"), actor, services().clock()
        )
    except ValidationFailedError as refused:
        return values, refused.fields


def _closure_page(closure: Closure, reopened: bool) -> Response:
    cancelled = services().closures.cancelled(closure)
    sms = services().outbox.progress(cancelled, "closed")
    branch = None if closure.all_branches else catalog.get_branch(services().redis, closure.branch_ids[0])
    may_reopen = (
        may(_account(), Action.CLOSE_NATIONALLY)
        if closure.all_branches
        else all(may(_account(), Action.TUNE_BRANCH, b) for b in closure.branch_ids)
    )
    return _page(
        "closure.html",
        branch=branch,
        closure=closure,
        cancelled=sum(len(codes) for codes in cancelled.values()),
        sms=sms,
        may_reopen=may_reopen and not closure.reopened,
        reopened=reopened,
        refresh=request.args.get("segarkan") == "1",
    )
