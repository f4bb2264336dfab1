"""The public JSON API: catalog, availability and bookings, with a booking's code as a QR
(SPEC §3). Views stay thin."""

from __future__ import annotations

import functools
import io
from zoneinfo import ZoneInfo

import segno
from flask import Blueprint, Response, current_app, request, url_for

from queue_service.domain import catalog, schedules
from queue_service.domain.availability import Availability
from queue_service.domain.codes import normalise_code
from queue_service.domain.errors import NotFoundError
from queue_service.domain.reservations import PENDING, Booking
from queue_service.domain.reservations.holds import deadline_text
from queue_service.web import booking as web_booking
from queue_service.web import limits
from queue_service.web.extensions import services
from queue_service.web.requests import json_object, load
from queue_service.web.schemas import public as schemas

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# One instance of each schema per process: a marshmallow schema holds no state of a call, and
# building one (its fields deep-copied) cost more per request than the validation itself.
_AREAS = schemas.AreasSchema()
_AVAILABILITY_QUERY = schemas.AvailabilityQuerySchema()
_AVAILABILITY = schemas.AvailabilitySchema()
_BOOKING = schemas.BookingSchema()
_BRANCH = schemas.BranchSchema()
_CANCEL_REQUEST = schemas.CancelRequestSchema()
_CANCELLED = schemas.CancelledSchema()
_CAPTCHA = schemas.CaptchaSchema()
_ERASE_REQUEST = schemas.EraseRequestSchema()
_ERASED = schemas.ErasedSchema()
_LOOKUP_REQUEST = schemas.LookupRequestSchema()
_RESCHEDULE_REQUEST = schemas.RescheduleRequestSchema()
_RESEND_REQUEST = schemas.ResendRequestSchema()
_VERIFY_REQUEST = schemas.VerifyRequestSchema()
_SERVICES = schemas.ServicesSchema()


@bp.get("/areas")
@limits.read
def list_areas():
    """Every area with its branches that take bookings (a retired branch is not listed; its
    own document still answers)."""
    redis = services().redis
    branches = catalog.list_branches(redis, retired=False)
    areas = [
        {
            "id": area.id,
            "name": area.name,
            "branches": [{"id": b.id, "name": b.name} for b in branches if b.area_id == area.id],
        }
        for area in catalog.list_areas(redis)
    ]
    return _AREAS.dump({"areas": areas})


@bp.get("/services")
@limits.read
def list_services():
    """Every service with its queue prefix."""
    return _SERVICES.dump({"services": catalog.list_services(services().redis)})


@bp.get("/branches/<branch_id>")
@limits.read
def show_branch(branch_id: str):
    """One branch: address, time zone, whether it takes online bookings, its services, and
    whether it is retired (it then takes no new bookings; its existing ones stand)."""
    redis = services().redis
    branch = catalog.get_branch(redis, branch_id)
    settings = schedules.load_settings(redis, branch.id)
    offered = catalog.offered_services(redis, branch)
    document = {**vars(branch), "online_booking": settings.online_booking and not branch.retired}
    if not branch.retired:  # said only of a retired branch: SPEC §3's document otherwise
        del document["retired"]
    return _BRANCH.dump({**document, "services": offered})


@bp.get("/branches/<branch_id>/availability")
@limits.read
def show_availability(branch_id: str):
    """Places left on a date, per slot, for a service."""
    query = _availability_query(request.query_string)
    result = services().availability.day(branch_id, query["date"], query.get("service"), services().clock())
    return Response(_availability_body(result), mimetype="application/json")


# Keyed by the query string, of which ``request.args`` is a function; a refused query
# raises, and is not kept.
@functools.lru_cache(maxsize=2048)
def _availability_query(_query_string: bytes) -> dict:
    return load(_AVAILABILITY_QUERY, request.args.to_dict())


# ``availability`` gives one object for unchanged inputs, so its JSON is made once; keyed by
# identity: this cache holds each key, so no id is reused while it is cached here.
@functools.lru_cache(maxsize=2048)
def _availability_body(result: Availability) -> bytes:
    return f"{current_app.json.dumps(_AVAILABILITY.dump(result))}\n".encode()


@bp.post("/captcha")
@limits.captcha_creation
def create_captcha():
    """A new captcha challenge, with the URLs of its image and its audio."""
    challenge = services().captcha.create()
    return _CAPTCHA.dump(
        {
            "captcha_id": challenge.id,
            "image_url": url_for("api.show_captcha_image", captcha_id=challenge.id),
            "audio_url": url_for("api.show_captcha_audio", captcha_id=challenge.id),
            "expires_in": challenge.expires_in,
        }
    ), 201


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
    return _uncached(response.make_conditional(request, accept_ranges=True, complete_length=len(clip)))


def _uncached(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/bookings")
@limits.booking
def create_booking():
    """Book a place. The captcha is checked (and consumed) before any other field."""
    booking = web_booking.book(json_object())
    return booking_answer(booking), 201


def booking_answer(booking: Booking) -> dict:
    """The booking as the API shows it; a hold with its deadline (``verify_by``) in its
    branch's offset."""
    answer = _BOOKING.dump(booking)
    answer.pop("verify_by", None)
    if booking.status == PENDING:
        zone = ZoneInfo(catalog.get_branch(services().redis, booking.branch_id).timezone)
        answer["verify_by"] = deadline_text(booking, zone)
    return answer


@bp.post("/bookings/<code>/verify")
@limits.lookup
@limits.failed_lookup
def verify_booking(code: str):
    """Confirm a held place with the one-time code sent to its phone."""
    query = load(_VERIFY_REQUEST, json_object())
    return booking_answer(services().reservations.verify(code, query["nik"], query["otp"]))


@bp.post("/bookings/<code>/verify/resend")
@limits.lookup
@limits.failed_lookup
def resend_verification(code: str):
    """Send a held place's phone a new one-time code (one a minute, a few a hold)."""
    query = load(_RESEND_REQUEST, json_object())
    return booking_answer(services().reservations.resend_code(code, query["nik"])), 202


@bp.post("/bookings/lookup")
@limits.lookup
@limits.failed_lookup
def lookup_booking():
    """The booking with this code and NIK (a POST, so the NIK never lands in a URL)."""
    query = load(_LOOKUP_REQUEST, json_object())
    booking = services().reservations.lookup(query["code"], query["nik"])
    answer = booking_answer(booking)
    if booking.status == "checked_in":
        place = services().live_queue.place_of(booking.branch_id, booking.queue_number, services().clock())
        if place is not None:
            answer |= {"people_ahead": place.ahead, "estimated_wait_seconds": place.estimated_wait_seconds}
    return answer


@bp.post("/bookings/<code>/cancel")
@limits.lookup
@limits.failed_lookup
def cancel_booking(code: str):
    """Cancel the booking with this code and NIK."""
    query = load(_CANCEL_REQUEST, json_object())
    booking = services().reservations.cancel(code, query["nik"], services().clock())
    return _CANCELLED.dump(booking)


@bp.post("/bookings/<code>/erase")
@limits.lookup
@limits.failed_lookup
def erase_booking(code: str):
    """Erase the personal data of the cancelled or past booking with this code and NIK."""
    query = load(_ERASE_REQUEST, json_object())
    return _ERASED.dump(services().reservations.erase(code, query["nik"], services().clock()))


@bp.post("/bookings/<code>/reschedule")
@limits.lookup
@limits.failed_lookup
def reschedule_booking(code: str):
    """Move the booking with this code and NIK to another slot or date of its branch."""
    query = load(_RESCHEDULE_REQUEST, json_object())
    web_booking.admit_move(services().reservations.lookup(code, query["nik"]).branch_id, query["nik"])
    booking = services().reservations.reschedule(
        code, query["nik"], query["date"], query["slot"], services().clock()
    )
    return booking_answer(booking)


@bp.get("/bookings/<code>/qr.svg", defaults={"kind": "svg"})
@bp.get("/bookings/<code>/qr.png", defaults={"kind": "png"})
@limits.read
def booking_qr(code: str, kind: str):
    """The booking code as a QR (``svg`` or ``png``). It encodes only the code it is given,
    and says nothing of whether a booking has it."""
    normal = normalise_code(code)
    if normal is None:
        raise NotFoundError("qr")
    # A full QR, never a Micro QR (which segno picks for short texts): scanners read it.
    qr = segno.make_qr(normal, error="m")
    out = io.BytesIO()
    if kind == "svg":
        qr.save(out, kind="svg", scale=8, border=2, title=normal)
        mimetype = "image/svg+xml"
    else:
        qr.save(out, kind="png", scale=8, border=2)
        mimetype = "image/png"
    response = Response(out.getvalue(), mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
