"""A booking attempt from the web, the same for the JSON API and the booking form."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from flask import current_app, request

from queue_service.domain import bookings
from queue_service.domain.bookings import IDEMPOTENCY_KEY_FIELD
from queue_service.domain.errors import ValidationFailedError
from queue_service.domain.opt_outs import OptOuts
from queue_service.domain.reservations import Booking, BookingRequest
from queue_service.domain.reservations.bookable import BookingContext
from queue_service.web import i18n, limits
from queue_service.web.errors import locale
from queue_service.web.extensions import services
from queue_service.web.requests import load
from queue_service.web.schemas.public import BookingIdempotencyKeySchema, BookingRequestSchema

_BOOKING_REQUEST = BookingRequestSchema()
_IDEMPOTENCY_KEY = BookingIdempotencyKeySchema()


def book(body: Mapping) -> Booking:
    """Book what ``body`` asks for (the API's JSON object or the form's fields): the captcha,
    then the fields, then the person's allowance from this client's address, then the
    participant registry, in the order ``bookings.book`` keeps.

    While the branch's waiting room is open, the admission pass (``X-Admission-Pass``, or
    the pages' cookie) must be valid for it and is bound to the booking's NIK, judged with the
    booking's first read of the branch's settings (no round trip of its own without a room).

    An ``Idempotency-Key`` header (the API's) is checked first; a key that booked already
    answers that booking (see ``bookings.book``).

    Raises:
        ValidationFailedError: ``Idempotency-Key`` is not 1 to 128 visible ASCII characters.
        NotAdmittedError: the room is open and the pass is missing or not valid.
        DomainError: as ``bookings.book``.
    """
    key = idempotency_key_of_request()
    now = services().clock()
    return bookings.book(
        services().captcha,
        services().reservations,
        body.get("captcha_id"),
        body.get("captcha_answer"),
        read_request=lambda: reachable(booking_request(body)),
        address=limits.client_address(),
        now=now,
        registry=services().registry,
        admit=room_gate(now),
        idempotency_key=key,
    )


def room_gate(now) -> Callable[[BookingRequest, BookingContext], None]:
    """The branch's waiting room's gate for an attempt at ``now`` (a booking, or joining the
    waitlist), judged with its first read of the branch's settings: this request's pass."""
    admission_pass = admission_pass_of_request()

    def admit(asked: BookingRequest, context: BookingContext) -> None:
        services().waiting_rooms.let_in(
            context.branch.id, context.settings, context.branch.timezone, admission_pass, asked.nik, now
        )

    return admit


def booking_request(body: Mapping, schema=_BOOKING_REQUEST) -> BookingRequest:
    """``body`` read as a booking request, in the language of this request (the pages' choice,
    the API's ``Accept-Language``), which the replies to its WhatsApp messages use.

    Raises:
        ValidationFailedError: a field is wrong, or ``channel`` is ``whatsapp`` where the service
            sends no WhatsApp (``TWILIO_WHATSAPP_FROM`` unset).
    """
    asked = load(schema, body)
    if asked.channel == "whatsapp" and not whatsapp_offered():
        raise ValidationFailedError({"channel": ["channel_unavailable"]})
    return dataclasses.replace(asked, language="en" if request_language() == "en" else "id")


def reachable(asked: BookingRequest) -> BookingRequest:
    """``asked``, unless it would be held for a one-time code its phone cannot get: the phone's
    owner sent BERHENTI/STOP, so nothing goes to it (``domain.opt_outs``) until MULAI. Refused
    at once, saying so, rather than held for a code that never comes.

    Raises:
        ValidationFailedError: naming ``phone`` (``phone_stopped``), with
            ``PHONE_VERIFICATION`` on.
    """
    config = current_app.config
    if config["PHONE_VERIFICATION"] and OptOuts.from_settings(services().redis, config).stopped(asked.phone):
        raise ValidationFailedError({"phone": ["phone_stopped"]})
    return asked


def whatsapp_offered() -> bool:
    """Whether participants may choose WhatsApp (``TWILIO_WHATSAPP_FROM`` is set)."""
    return bool(current_app.config.get("TWILIO_WHATSAPP_FROM"))


def request_language() -> str:
    """The pages' language (``?lang=``, its cookie), else the API caller's ``Accept-Language``."""
    if request.args.get("lang") or request.cookies.get(i18n.COOKIE):
        return i18n.page_locale()
    return locale()


def idempotency_key_of_request() -> str | None:
    """The booking's ``Idempotency-Key`` header, if it sent one.

    Raises:
        ValidationFailedError: not 1 to 128 visible ASCII characters; refused rather than
            ignored, lest a client take a retry for safe that is not.
    """
    if IDEMPOTENCY_KEY_FIELD not in request.headers:
        return None
    return load(_IDEMPOTENCY_KEY, {IDEMPOTENCY_KEY_FIELD: request.headers[IDEMPOTENCY_KEY_FIELD]})["key"]


def admit_move(branch_id: str, nik: str) -> None:
    """While the branch's waiting room is open, a move of a booking needs a pass as a new
    booking does: else a place taken earlier on a quiet day could be moved to the newly
    released one by whoever clicks fastest, past the lottery.

    Raises:
        NotAdmittedError: the room is open and the pass is missing, not valid, or another
            person's.
    """
    rooms = services().waiting_rooms
    room = rooms.room_of(branch_id, services().clock())
    if room is not None:
        rooms.admit(room, admission_pass_of_request(), nik)


# Where a booking carries its waiting room's pass: the API's header, the pages' cookie.
ADMISSION_PASS_HEADER = "X-Admission-Pass"
ADMISSION_PASS_COOKIE = "antrian_pass"


def admission_pass_of_request() -> str | None:
    """The admission pass this request carries, if any."""
    return request.headers.get(ADMISSION_PASS_HEADER) or request.cookies.get(ADMISSION_PASS_COOKIE)
