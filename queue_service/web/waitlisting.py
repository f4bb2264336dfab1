"""Joining a waitlist from the web, the same for the JSON API and the booking form: a booking
attempt in every check (``bookings.book``, the booking's own request reader and waiting-room
gate), whose place is a place in line (``Waitlist.join``)."""

from __future__ import annotations

from collections.abc import Mapping

from queue_service.domain import bookings
from queue_service.domain.waitlist import Entry
from queue_service.web import booking as web_booking
from queue_service.web import limits
from queue_service.web.extensions import services
from queue_service.web.schemas.waitlist import WaitlistRequestSchema

_WAITLIST_REQUEST = WaitlistRequestSchema()


def join(body: Mapping, branch_id: str) -> Entry:
    """Put what ``body`` asks for (a booking's fields, ``slot`` optional) on ``branch_id``'s
    waitlist: the captcha, then the fields, the person's allowance, the participant registry,
    the NIK's date and the phone's cap, as a booking; then the entry, if the day or slot is full.

    Raises:
        NotFullError: a place it asks for is free (book it).
        DomainError: as a booking (``bookings.book``).
    """
    now = services().clock()
    asked = {**body, "branch_id": branch_id}
    return bookings.book(
        services().captcha,
        services().reservations,
        asked.get("captcha_id"),
        asked.get("captcha_answer"),
        read_request=lambda: web_booking.reachable(web_booking.booking_request(asked, _WAITLIST_REQUEST)),
        address=limits.client_address(),
        now=now,
        registry=services().registry,
        admit=web_booking.room_gate(now),
        place=services().waitlist.join,
    )
