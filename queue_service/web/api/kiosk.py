"""Kiosk check-in (SPEC §3 "Kiosk") and walk-in tickets."""

from __future__ import annotations

from flask import Blueprint

from queue_service.domain import catalog, schedules
from queue_service.metrics import count_check_in
from queue_service.web.extensions import services
from queue_service.web.requests import bearer_token, idempotency_key, json_object, load
from queue_service.web.schemas import kiosk as schemas

bp = Blueprint("kiosk_api", __name__, url_prefix="/api/v1")


def _kiosk():
    return services().kiosks.authenticate(bearer_token())


_CHECK_IN = schemas.CheckInSchema()


@bp.post("/kiosk/checkins")
def check_in():
    """Check a booking in at this kiosk's branch, by its code (as typed or scanned)."""
    kiosk = _kiosk()
    code = load(schemas.CheckInRequestSchema(), json_object())["code"]
    done = services().checkins.check_in(kiosk, code, services().clock())
    count_check_in(done.already_checked_in)
    # Written through the schema the OpenAPI document shows, so the two cannot drift.
    return _CHECK_IN.dump(
        {
            "code": done.code,
            "queue_number": done.queue_number,
            "status": "checked_in",
            "already_checked_in": done.already_checked_in,
        }
    )


@bp.post("/kiosk/walk-ins")
def walk_in():
    """Issue a walk-in ticket for a service; an ``Idempotency-Key`` re-sent answers the same
    ticket."""
    kiosk = _kiosk()
    data = load(schemas.WalkInRequestSchema(), json_object())
    now = services().clock()
    ticket = services().walk_ins.issue(
        kiosk, data["service_id"], now, priority=data["priority"], token=idempotency_key()
    )
    branch = catalog.get_branch(services().redis, kiosk.branch_id)
    use = services().walk_ins.use(kiosk.branch_id, schedules.local_now(now, branch.timezone).date())
    return schemas.WalkInSchema().dump(
        {"queue_number": ticket.queue_number, "service_id": ticket.service_id, "places_left": use.remaining}
    ), 201
