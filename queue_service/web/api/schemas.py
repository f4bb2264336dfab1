"""Marshmallow schemas: they validate the API's input and describe it in the OpenAPI document.

Field errors are message keys (see ``messages.FIELDS``), turned into text in the
caller's language by ``api.errors``.
"""

from __future__ import annotations

import re

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from queue_service.domain import identity
from queue_service.domain.accounts import USERNAME
from queue_service.domain.captcha.gate import ID as CAPTCHA_ID
from queue_service.domain.live_queue import COUNTER_NAME
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


class Pattern(validate.Regexp):
    """A regular expression the whole value must match, written so that the OpenAPI document
    can carry it as its ``pattern`` (apispec reads ``regex.pattern``): anchored, since a JSON
    Schema pattern only has to occur somewhere, and checked with ``fullmatch``, since Python's
    ``$`` also matches before a trailing newline. Keep to the syntax Python and ECMA-262 read
    alike: ``[0-9]``, not ``\\d`` (Python's takes any script's digits)."""

    def __init__(self, regex: str | re.Pattern, error: str):
        source = regex.pattern if isinstance(regex, re.Pattern) else regex
        super().__init__(f"^(?:{source.removeprefix('^').removesuffix('$')})$", error=error)

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


# Ids of branches, services and the like: slugs. That a branch with the id exists is data,
# not something a schema can say: an unknown one is a 404 where the id is in the path.
ID = Pattern(r"[a-z0-9][a-z0-9_-]{0,63}", error="invalid_id")
DATE = Pattern(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", error="invalid_date")
CLOCK = Pattern(r"([01][0-9]|2[0-3]):[0-5][0-9]", error="invalid_time")


class _Shaped:
    """A date or time field that takes only the one spelling its pattern allows (``strptime``
    alone also reads ``2026-1-1`` and ``9:5``), and shows that pattern in the document."""

    shape: Pattern
    spelling: str

    def __init__(self, **kwargs):
        super().__init__(format=self.spelling, metadata={"pattern": self.shape.regex.pattern}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or self.shape.regex.fullmatch(value) is None:
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Day(_Shaped, fields.Date):
    """A date, ``YYYY-MM-DD`` (SPEC §3)."""

    shape = DATE
    spelling = "%Y-%m-%d"


class Clock(_Shaped, fields.Time):
    """A time of day, ``HH:MM`` (SPEC §3)."""

    shape = CLOCK
    spelling = "%H:%M"


def day(**kwargs) -> Day:
    kwargs.setdefault("required", True)
    return Day(
        error_messages={"required": "required", "null": "required", "invalid": "invalid_date"}, **kwargs
    )


def clock(**kwargs) -> Clock:
    kwargs.setdefault("required", True)
    return Clock(
        error_messages={"required": "required", "null": "required", "invalid": "invalid_time"}, **kwargs
    )


def _text(invalid: str = "not_string", check=None, **kwargs) -> fields.String:
    kwargs.setdefault("required", True)
    error_messages = {"required": "required", "null": "required", "invalid": invalid}
    if check is not None:
        return _Checked(check, error_messages=error_messages, **kwargs)
    return fields.String(error_messages=error_messages, **kwargs)


def _identifier(**kwargs) -> fields.String:
    return _text(validate=ID, **kwargs)


class StrictSchema(Schema):
    """Unknown fields are an error, so a typo in a field name is never silently ignored."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": "unknown_field", "type": "not_object"}


class AvailabilityQuerySchema(StrictSchema):
    date = day()
    service = _identifier(required=False)


class BookingRequestSchema(StrictSchema):
    branch_id = _identifier()
    service_id = _identifier()
    date = day()
    slot = clock()
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
    service_id = _identifier()
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
    date = day()
    slot = clock()


def counter_name(**kwargs) -> fields.String:
    """A counter's name, as the live queue takes it."""
    return _text(validate=Pattern(COUNTER_NAME, error="invalid_id"), **kwargs)


class PathSchema(Schema):
    """The path parameters, by name: the OpenAPI document describes each from its field, and a
    view that does more with one than look it up checks it here (``load`` with ``partial``).
    An id that is well formed but names nothing is a 404, not something a schema can say."""

    branch_id = _identifier()
    date = day()
    code = _text()
    captcha_id = _text(validate=Pattern(CAPTCHA_ID, error="invalid_id"))
    queue_number = _text()
    counter = counter_name()
    username = _text(validate=Pattern(USERNAME, error="invalid_username"))
    token_id = _text()
    kiosk_id = _text()


class IdempotencyKeySchema(Schema):
    """The ``Idempotency-Key`` header of the steps that may be re-sent: the same key answers as
    the first request did. Visible ASCII, no space at either end (HTTP would strip it)."""

    key = fields.String(
        data_key="Idempotency-Key",
        validate=[
            validate.Length(max=64, error="too_long"),
            Pattern(r"[!-~]([ -~]*[!-~])?", error="invalid_id"),
        ],
        metadata={"description": "The same key answers as the first request with it did"},
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
