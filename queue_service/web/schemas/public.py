"""Schemas of the public API (SPEC §3 "Public", and "Public, for displays"): the catalog,
availability, captcha and bookings, and the queue a waiting-room display shows."""

from __future__ import annotations

from marshmallow import Schema, fields, post_load, validate

from queue_service.domain import identity
from queue_service.domain.reservations import BookingRequest
from queue_service.domain.reservations.records import CHANNELS, DEFAULT_CHANNEL
from queue_service.web.schemas.base import Pattern, StrictSchema, clock, day, identifier, text


class AvailabilityQuerySchema(StrictSchema):
    date = day()
    service = identifier(required=False)


class BookingRequestSchema(StrictSchema):
    branch_id = identifier()
    service_id = identifier()
    date = day()
    slot = clock()
    name = text(check=identity.check_name)
    nik = text(check=identity.check_nik)
    kpj = text(check=identity.check_kpj)
    phone = text(check=identity.check_phone)
    email = fields.Email(
        required=False,
        allow_none=True,
        validate=validate.Length(max=254, error="too_long"),
        error_messages={"invalid": "invalid_email"},
        metadata={
            "description": "Optional and checked, but not stored: nothing is sent by e-mail, so "
            "the service keeps no e-mail address (UU PDP: collect only what is used)"
        },
    )
    captcha_id = text(validate=validate.Length(max=64, error="too_long"))
    captcha_answer = text(validate=validate.Length(max=16, error="too_long"))
    channel = text(
        required=False,
        load_default=DEFAULT_CHANNEL,
        validate=validate.OneOf(CHANNELS, error="unknown_channel"),
        metadata={
            "enum": list(CHANNELS),
            "description": "How the participant's messages go (the one-time code, the "
            "confirmation, the reminder, the call-ahead, a cancellation): `whatsapp` only where "
            "the service offers it (else 422 naming `channel`); a WhatsApp message that cannot "
            "be delivered goes by SMS once",
        },
    )

    @post_load
    def to_request(self, data: dict, **_kwargs) -> BookingRequest:
        """The validated request, with name, NIK and phone in their stored form."""
        return BookingRequest(
            branch_id=data["branch_id"],
            service_id=data["service_id"],
            date=data["date"],
            slot=data["slot"],
            name=data["name"],
            nik=data["nik"],
            kpj=data["kpj"],
            phone=data["phone"],
            # Accepted for the clients SPEC §3 lets send it, never kept: nothing uses it.
            email=None,
            channel=data["channel"],
        )


class BookingIdempotencyKeySchema(Schema):
    """The ``Idempotency-Key`` header of a booking: 1 to 128 visible ASCII characters (spaces
    inside), checked before the captcha."""

    key = fields.String(
        data_key="Idempotency-Key",
        validate=[
            validate.Length(max=128, error="too_long"),
            Pattern(r"[!-~]([ -~]*[!-~])?", error="invalid_id"),
        ],
        metadata={
            "description": "Optional. A retry with the same key and body (the captcha aside) gets the "
            "first answer: 201 with the booking it made, without asking the captcha again; the "
            "same key with another body is 422 naming `Idempotency-Key`. Remembered as long as "
            "the booking, at least 24 hours"
        },
    )


class LookupRequestSchema(StrictSchema):
    code = text(validate=validate.Length(max=32, error="too_long"))
    nik = text(validate=validate.Length(max=32, error="too_long"))


class CancelRequestSchema(StrictSchema):
    nik = text(validate=validate.Length(max=32, error="too_long"))


class EraseRequestSchema(StrictSchema):
    nik = text(validate=validate.Length(max=32, error="too_long"))


class VerifyRequestSchema(StrictSchema):
    nik = text(validate=validate.Length(max=32, error="too_long"))
    otp = text(validate=validate.Regexp(r"^[0-9]{6}\Z", error="otp_format"))


class ResendRequestSchema(StrictSchema):
    nik = text(validate=validate.Length(max=32, error="too_long"))


class JoinRoomRequestSchema(StrictSchema):
    # The ticket this client holds in the room already, if any: it gets it back.
    ticket = fields.String(
        required=False, allow_none=True, validate=validate.Length(max=128, error="too_long")
    )


class RescheduleRequestSchema(StrictSchema):
    nik = text(validate=validate.Length(max=32, error="too_long"))
    date = day()
    slot = clock()


# Responses (documentation and dumping).


class BranchRefSchema(Schema):
    id = fields.String()
    name = fields.String()


class AreaSchema(Schema):
    id = fields.String()
    name = fields.String()
    branches = fields.List(fields.Nested(BranchRefSchema))


class AreasSchema(Schema):
    areas = fields.List(fields.Nested(AreaSchema))


class ServiceSchema(Schema):
    id = fields.String()
    name = fields.String()
    prefix = fields.String()


class ServicesSchema(Schema):
    services = fields.List(fields.Nested(ServiceSchema))


class BranchSchema(Schema):
    id = fields.String()
    name = fields.String()
    area_id = fields.String()
    address = fields.String()
    timezone = fields.String()
    online_booking = fields.Boolean()
    services = fields.List(fields.Nested(BranchRefSchema))
    # Beyond SPEC §3's fields, only ``true``: a retired branch takes no new bookings, and keeps
    # its existing ones.
    retired = fields.Boolean()


class SlotAvailabilitySchema(Schema):
    start = fields.String()
    end = fields.String()
    capacity = fields.Integer()
    remaining = fields.Integer()


class AvailabilitySchema(Schema):
    branch_id = fields.String()
    date = fields.Date()
    open = fields.Boolean()
    reason = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    daily_quota = fields.Integer()
    remaining = fields.Integer()
    slots = fields.List(fields.Nested(SlotAvailabilitySchema))


class SlotSchema(Schema):
    start = fields.Time(format="%H:%M", attribute="slot_start")
    end = fields.Time(format="%H:%M", attribute="slot_end")


_SLOT = SlotSchema()  # one per process: building a schema costs more than using it


class BookingSchema(Schema):
    code = fields.String()
    queue_number = fields.String()
    status = fields.String()
    branch_id = fields.String()
    service_id = fields.String()
    date = fields.Date()
    slot = fields.Function(lambda booking: _SLOT.dump(booking), metadata={"type": "object"})
    # A hold's deadline for its one-time code (ISO 8601, the branch's offset); only while
    # ``status`` is ``pending``.
    verify_by = fields.String(metadata={"format": "date-time"})
    # How its messages go: "sms" or "whatsapp" (beyond SPEC §3's fields).
    channel = fields.String(metadata={"enum": list(CHANNELS)})
    # The code as a QR for the kiosk's scanner (relative URLs; beyond SPEC's fields).
    qr = fields.Function(
        lambda booking: {kind: f"/api/v1/bookings/{booking.code}/qr.{kind}" for kind in ("svg", "png")},
        metadata={"type": "object"},
    )


class WaitingRoomSchema(Schema):
    ticket = fields.String(allow_none=True)
    state = fields.String(metadata={"enum": ["waiting", "admitted", "not_needed"]})
    # Places up to and including this ticket's still to be admitted; null before the lottery.
    position = fields.Integer(allow_none=True)
    estimated_wait_seconds = fields.Integer(allow_none=True)
    admission_pass = fields.String(data_key="pass", allow_none=True)


class CaptchaSchema(Schema):
    captcha_id = fields.String()
    image_url = fields.String()
    audio_url = fields.String()
    expires_in = fields.Integer()


class CancelledSchema(Schema):
    code = fields.String()
    status = fields.String()


class ErasedSchema(Schema):
    code = fields.String()
    status = fields.Constant("erased")


# The queue for displays: queue numbers only, no personal data.


class NowServingSchema(Schema):
    counter = fields.String()
    queue_number = fields.String()


class WaitingSchema(Schema):
    """No priority mark: whether a number is an elderly, disabled or pregnant participant's
    is their own business (SPEC §3); the order already says it."""

    queue_number = fields.String()
    service_id = fields.String()
    estimated_wait_seconds = fields.Integer(allow_none=True)


class AnnouncementSchema(Schema):
    id = fields.String()
    queue_number = fields.String()
    counter = fields.String()
    service_id = fields.String()
    recall = fields.Boolean()


class QueueSchema(Schema):
    branch_id = fields.String()
    now_serving = fields.List(fields.Nested(NowServingSchema))
    waiting = fields.List(fields.Nested(WaitingSchema))
    average_service_seconds = fields.Integer(allow_none=True)
    announcements = fields.List(fields.Nested(AnnouncementSchema))
