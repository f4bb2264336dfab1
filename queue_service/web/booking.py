"""A booking attempt from the web, the same for the JSON API and the booking form."""

from __future__ import annotations

from collections.abc import Mapping

from flask import request

from queue_service.domain import bookings
from queue_service.domain.bookings import IDEMPOTENCY_KEY_FIELD
from queue_service.domain.reservations import Booking, BookingRequest
from queue_service.domain.reservations.bookable import BookingContext
from queue_service.web import limits
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
    admission_pass = admission_pass_of_request()

    def admit(asked: BookingRequest, context: BookingContext) -> None:
        services().waiting_rooms.let_in(
            context.branch.id, context.settings, context.branch.timezone, admission_pass, asked.nik, now
        )

    return bookings.book(
        services().captcha,
        services().reservations,
        body.get("captcha_id"),
        body.get("captcha_answer"),
        read_request=lambda: load(_BOOKING_REQUEST, body),
        address=limits.client_address(),
        now=now,
        registry=services().registry,
        admit=admit,
        idempotency_key=key,
    )


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
