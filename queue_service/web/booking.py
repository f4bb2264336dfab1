"""A booking attempt from the web, the same for the JSON API and the booking form."""

from __future__ import annotations

from collections.abc import Mapping

from queue_service.domain import bookings
from queue_service.domain.reservations import Booking
from queue_service.web import limits
from queue_service.web.extensions import services
from queue_service.web.requests import load
from queue_service.web.schemas.public import BookingRequestSchema

_BOOKING_REQUEST = BookingRequestSchema()


def book(body: Mapping) -> Booking:
    """Book what ``body`` asks for (the API's JSON object or the form's fields): the captcha,
    then the fields, then the person's allowance from this client's address, then the
    participant registry, in the order ``bookings.book`` keeps.

    Raises:
        DomainError: as ``bookings.book``.
    """
    return bookings.book(
        services().captcha,
        services().reservations,
        body.get("captcha_id"),
        body.get("captcha_answer"),
        read_request=lambda: load(_BOOKING_REQUEST, body),
        address=limits.client_address(),
        now=services().clock(),
        registry=services().registry,
    )
