"""Schemas of the waitlist's API (SPEC §6 "WhatsApp and the waitlist")."""

from __future__ import annotations

from marshmallow import Schema, fields, post_load, validate

from queue_service.domain.reservations import BookingRequest
from queue_service.web.schemas.base import StrictSchema, clock, text
from queue_service.web.schemas.public import BookingRequestSchema


class WaitlistRequestSchema(BookingRequestSchema):
    """A booking's fields, the branch from the path and ``slot`` optional: without one the entry
    waits for any slot of the day."""

    # The slot waited for; none (or null): any slot of the day.
    slot = clock(required=False, load_default=None, allow_none=True)

    @post_load
    def to_request(self, data: dict, **kwargs) -> BookingRequest:
        """As a booking's, ``slot`` None for any."""
        return super().to_request(data, **kwargs)


class WaitlistNikSchema(StrictSchema):
    nik = text(validate=validate.Length(max=32, error="too_long"))


class WaitlistEntrySchema(Schema):
    """An entry as the API shows it (201 of a join, 200 of a leave)."""

    waitlist_id = fields.String(required=True)
    position = fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "Its place in line while it waits (1: next); null once offered or left"},
    )
    status = fields.String(
        metadata={
            "enum": ["pending", "waiting", "offered", "booked", "expired", "left"],
            "description": "Beyond SPEC §6",
        }
    )
    verify_by = fields.String(
        metadata={
            "format": "date-time",
            "description": "While `pending` (PHONE_VERIFICATION): until when the code sent to its "
            "phone puts it in line (`POST /api/v1/waitlist/<id>/verify`)",
        }
    )
    offer_by = fields.String(
        metadata={"format": "date-time", "description": "The offer's deadline, while `offered`"}
    )
