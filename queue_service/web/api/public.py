"""The public JSON API: catalog, availability and bookings (SPEC §3). Views stay thin."""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from queue_service.domain import bookings, catalog, schedules
from queue_service.domain.availability import availability
from queue_service.extensions import services
from queue_service.web import limits
from queue_service.web.api import schemas
from queue_service.web.requests import json_object, load

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/areas")
@limits.read
def list_areas():
    """Every area with its branches."""
    redis = services().redis
    branches = catalog.list_branches(redis)
    areas = [
        {"id": area.id, "name": area.name,
         "branches": [{"id": b.id, "name": b.name} for b in branches if b.area_id == area.id]}
        for area in catalog.list_areas(redis)
    ]
    return schemas.AreasSchema().dump({"areas": areas})


@bp.get("/services")
@limits.read
def list_services():
    """Every service with its queue prefix."""
    return schemas.ServicesSchema().dump({"services": catalog.list_services(services().redis)})


@bp.get("/branches/<branch_id>")
@limits.read
def show_branch(branch_id: str):
    """One branch: address, time zone, whether it takes online bookings, its services."""
    redis = services().redis
    branch = catalog.get_branch(redis, branch_id)
    settings = schedules.load_settings(redis, branch.id)
    offered = [service for service in catalog.list_services(redis) if service.id in branch.services]
    return schemas.BranchSchema().dump({**vars(branch), "online_booking": settings.online_booking,
                                        "services": offered})


@bp.get("/branches/<branch_id>/availability")
@limits.read
def show_availability(branch_id: str):
    """Places left on a date, per slot, for a service."""
    query = load(schemas.AvailabilityQuerySchema(), request.args.to_dict())
    result = availability(services().redis, branch_id, query["date"], query.get("service"),
                          services().clock(), services().reservations.collective_leave_closed)
    return schemas.AvailabilitySchema().dump(result)


@bp.post("/captcha")
@limits.captcha_creation
def create_captcha():
    """A new captcha challenge, with the URLs of its image and its audio."""
    challenge = services().captcha.create()
    return schemas.CaptchaSchema().dump({
        "captcha_id": challenge.id,
        "image_url": url_for("api.show_captcha_image", captcha_id=challenge.id),
        "audio_url": url_for("api.show_captcha_audio", captcha_id=challenge.id),
        "expires_in": challenge.expires_in,
    }), 201


@bp.get("/captcha/<captcha_id>/image.png")
@limits.read
def show_captcha_image(captcha_id: str):
    """The challenge as a PNG image."""
    return _uncached(Response(services().captcha.image(captcha_id), mimetype="image/png"))


@bp.get("/captcha/<captcha_id>/audio.wav")
@limits.read
def show_captcha_audio(captcha_id: str):
    """The challenge as a WAV clip (range requests allowed: the clip stays the same)."""
    clip = services().captcha.audio(captcha_id)
    response = Response(clip, mimetype="audio/wav")
    return _uncached(response.make_conditional(request, accept_ranges=True,
                                               complete_length=len(clip)))


def _uncached(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/bookings")
@limits.booking
def create_booking():
    """Book a place. The captcha is checked (and consumed) before any other field."""
    body = json_object()
    booking = bookings.book(
        services().captcha, services().reservations,
        body.get("captcha_id"), body.get("captcha_answer"),
        read_request=lambda: load(schemas.BookingRequestSchema(), body),
        count_attempt=lambda request: limits.count_booking_attempt(request.nik, request.phone),
        now=services().clock())
    return schemas.BookingSchema().dump(booking), 201


@bp.post("/bookings/lookup")
@limits.lookup
@limits.failed_lookup
def lookup_booking():
    """The booking with this code and NIK (a POST, so the NIK never lands in a URL)."""
    query = load(schemas.LookupRequestSchema(), json_object())
    booking = services().reservations.lookup(query["code"], query["nik"])
    answer = schemas.BookingSchema().dump(booking)
    if booking.status == "checked_in":
        place = services().live_queue.place_of(booking.branch_id, booking.queue_number,
                                               services().clock())
        if place is not None:
            answer |= {"people_ahead": place.ahead,
                       "estimated_wait_seconds": place.estimated_wait_seconds}
    return answer


@bp.post("/bookings/<code>/cancel")
@limits.lookup
@limits.failed_lookup
def cancel_booking(code: str):
    """Cancel the booking with this code and NIK."""
    query = load(schemas.CancelRequestSchema(), json_object())
    booking = services().reservations.cancel(code, query["nik"], services().clock())
    return schemas.CancelledSchema().dump(booking)


@bp.post("/bookings/<code>/reschedule")
@limits.lookup
@limits.failed_lookup
def reschedule_booking(code: str):
    """Move the booking with this code and NIK to another slot or date of its branch."""
    query = load(schemas.RescheduleRequestSchema(), json_object())
    booking = services().reservations.reschedule(code, query["nik"], query["date"],
                                                 query["slot"], services().clock())
    return schemas.BookingSchema().dump(booking)
