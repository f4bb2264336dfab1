"""Marshmallow schemas: they validate the API's input and describe it in the OpenAPI document.

Field errors are message keys (see ``messages.FIELDS``), turned into text in the
caller's language by ``api.errors``.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from queue_service.domain import identity
from queue_service.domain.reservations import BookingRequest

# Marshmallow's own messages, as keys. The keys marked as type errors make a 400.
TYPE_ERROR_KEYS = frozenset({"not_string", "not_boolean", "not_integer", "not_object", "not_list"})


class _Checked(fields.String):
    """A string that ``check`` (of ``domain.identity``) accepts, loaded in the form it
    returns: checked and normalised in one go (a phone number is parsed once, not twice)."""

    def __init__(self, check, **kwargs):
        super().__init__(**kwargs)
        self.check = check

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        try:
            return self.check(super()._deserialize(value, attr, data, **kwargs))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def _text(invalid: str = "not_string", check=None, **kwargs) -> fields.String:
    kwargs.setdefault("required", True)
    error_messages = {"required": "required", "null": "required", "invalid": invalid}
    if check is not None:
        return _Checked(check, error_messages=error_messages, **kwargs)
    return fields.String(error_messages=error_messages, **kwargs)


def _identifier(**kwargs) -> fields.String:
    return _text(validate=validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$", error="invalid_id"), **kwargs)


class StrictSchema(Schema):
    """Unknown fields are an error, so a typo in a field name is never silently ignored."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": "unknown_field", "type": "not_object"}


class AvailabilityQuerySchema(StrictSchema):
    date = fields.Date(
        required=True, format="%Y-%m-%d", error_messages={"required": "required", "invalid": "invalid_date"}
    )
    service = _identifier(required=False)


class BookingRequestSchema(StrictSchema):
    branch_id = _identifier()
    service_id = _identifier()
    date = fields.Date(
        required=True,
        format="%Y-%m-%d",
        error_messages={"required": "required", "null": "required", "invalid": "invalid_date"},
    )
    slot = fields.Time(
        required=True,
        format="%H:%M",
        error_messages={"required": "required", "null": "required", "invalid": "invalid_time"},
    )
    name = _text(check=identity.check_name)
    nik = _text(check=identity.check_nik)
    kpj = _text(check=identity.check_kpj)
    phone = _text(check=identity.check_phone)
    email = fields.Email(
        required=False,
        allow_none=True,
        validate=validate.Length(max=254, error="too_long"),
        error_messages={"invalid": "invalid_email"},
    )
    captcha_id = _text(validate=validate.Length(max=64, error="too_long"))
    captcha_answer = _text(validate=validate.Length(max=16, error="too_long"))

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
            email=data.get("email") or None,
        )


class LookupRequestSchema(StrictSchema):
    code = _text(validate=validate.Length(max=32, error="too_long"))
    nik = _text(validate=validate.Length(max=32, error="too_long"))


class CheckInRequestSchema(StrictSchema):
    code = _text(validate=validate.Length(max=32, error="too_long"))


class WalkInRequestSchema(StrictSchema):
    service_id = _text(validate=validate.Length(max=64, error="too_long"))
    priority = fields.Boolean(load_default=False)


class WalkInSchema(Schema):
    queue_number = fields.String()
    service_id = fields.String()
    places_left = fields.Integer()


class CheckInSchema(Schema):
    code = fields.String()
    queue_number = fields.String()
    status = fields.String()
    already_checked_in = fields.Boolean()


class CancelRequestSchema(StrictSchema):
    nik = _text(validate=validate.Length(max=32, error="too_long"))


class RescheduleRequestSchema(StrictSchema):
    nik = _text(validate=validate.Length(max=32, error="too_long"))
    date = fields.Date(
        required=True,
        format="%Y-%m-%d",
        error_messages={"required": "required", "null": "required", "invalid": "invalid_date"},
    )
    slot = fields.Time(
        required=True,
        format="%H:%M",
        error_messages={"required": "required", "null": "required", "invalid": "invalid_time"},
    )


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
    # The code as a QR for the kiosk's scanner (relative URLs; beyond SPEC's fields).
    qr = fields.Function(
        lambda booking: {kind: f"/api/v1/bookings/{booking.code}/qr.{kind}" for kind in ("svg", "png")},
        metadata={"type": "object"},
    )


class CaptchaSchema(Schema):
    captcha_id = fields.String()
    image_url = fields.String()
    audio_url = fields.String()
    expires_in = fields.Integer()


class CancelledSchema(Schema):
    code = fields.String()
    status = fields.String()


class ErrorBodySchema(Schema):
    code = fields.String()
    message = fields.String()
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema)
