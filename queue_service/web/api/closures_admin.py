"""Closures of days in the admin API (issue 22): close a branch, or every branch, from one date
to another with a note, every booking there cancelled with an SMS each; read how far the SMS
have got while the worker sends; reopen the days (the bookings stay cancelled). Who may is
``domain.closures``' (through ``authz``), the bearer token ``admin_auth``'s.

A range is a resource of its own, ``/closure-ranges``: ``/closures/<date>`` is the SPEC's
one-date national closure (``web.api.admin``), and one path cannot name both.
"""

from __future__ import annotations

from flask import Blueprint

from queue_service.domain.closures import Closure
from queue_service.web.api import admin_auth
from queue_service.web.extensions import services
from queue_service.web.requests import json_object, load
from queue_service.web.schemas import closures as schemas

bp = Blueprint("closures_api", __name__, url_prefix="/api/v1/admin")
bp.before_request(admin_auth.authenticate)


@bp.post("/closure-ranges")
def close_days():
    """Close a branch (or every branch) from ``from`` to ``to``, cancelling its bookings there
    with an SMS each; answers the closure, its SMS still queued."""
    data = load(schemas.ClosureRequestSchema(), json_object())
    closure = services().closures.close_range(
        admin_auth.account(),
        data.get("branch_id"),
        data["first"],
        data["last"],
        data["note"],
        admin_auth.actor(),
        services().clock(),
    )
    return _view(closure), 201


@bp.get("/closure-ranges/<closure_id>")
def show_closure(closure_id: str):
    """A closure with how many it cancelled and how far their SMS have got."""
    return _view(services().closures.get(admin_auth.account(), closure_id))


@bp.delete("/closure-ranges/<closure_id>")
def reopen_days(closure_id: str):
    """Reopen the closure's days from today on (bookings stay cancelled)."""
    closure = services().closures.reopen(
        admin_auth.account(), closure_id, admin_auth.actor(), services().clock()
    )
    return _view(closure)


def _view(closure: Closure) -> dict:
    cancelled = services().closures.cancelled(closure)
    sms = services().outbox.progress(cancelled, "closed")
    view = {
        "closure_id": closure.id,
        "all_branches": closure.all_branches,
        "first": closure.first.isoformat(),
        "last": closure.last.isoformat(),
        "note": closure.note,
        "created_by": closure.actor,
        "created_at": closure.created_at.isoformat(timespec="seconds"),
        "reopened_at": closure.reopened_at.isoformat(timespec="seconds") if closure.reopened_at else None,
        "reopened_by": closure.reopened_by,
        "cancelled": sum(len(codes) for codes in cancelled.values()),
        "sms": vars(sms),
    }
    if not closure.all_branches:
        view["branch_ids"] = list(closure.branch_ids)
    return schemas.ClosureSchema().dump(view)
