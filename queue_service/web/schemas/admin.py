"""Schemas of the admin API (SPEC §3 "Admin"): strict JSON types, so a quota sent as a string
or a flag sent as ``"yes"`` is a 400 naming the field, never silently converted. The settings'
value rules live in ``domain.tuning``: these schemas declare the ones a JSON Schema can carry
(ranges, weekdays, the spelling of an hour) from there, for the document; the rules between
values (an interval's order, overlaps, a slot length fitting the hours) stay the domain's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from queue_service.domain import identity
from queue_service.domain.hoarding import MAX_SELECTION
from queue_service.domain.schedules import WEEKDAYS
from queue_service.domain.staff_cancellation import REASON_MAX_LENGTH
from queue_service.domain.tuning import BOUNDS, DAY_CLOCK, HOURS_CLOCK, ROOM_BOUNDS, Bounds
from queue_service.web.schemas.base import ID, Pattern, StrictSchema, day, text

_TYPE = {"required": "required", "null": "required"}


def _integer(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, error_messages={**_TYPE, "invalid": "not_integer"}, **kwargs)


def _boolean(**kwargs) -> fields.Boolean:
    return fields.Boolean(
        truthy={True}, falsy={False}, error_messages={**_TYPE, "invalid": "not_boolean"}, **kwargs
    )


def _bounded(name: str, table: dict[str, Bounds] = BOUNDS, **kwargs) -> fields.Integer:
    """An integer within the setting's ``domain.tuning.BOUNDS`` (or ``table``'s, such as the
    waiting room's ``ROOM_BOUNDS``; two validators, so each end keeps the domain's own
    refusal)."""
    bounds = table[name]
    rules = [validate.Range(min=bounds.floor, error=bounds.below)]
    if bounds.ceiling is not None:
        rules.append(validate.Range(max=bounds.ceiling, error=bounds.above))
    return _integer(validate=rules, **kwargs)


_INTERVAL = fields.List(
    fields.String(
        validate=Pattern(HOURS_CLOCK, error="invalid_time"), error_messages={**_TYPE, "invalid": "not_string"}
    ),
    validate=validate.Length(equal=2, error="invalid_interval"),
    error_messages={"invalid": "not_list"},
)


class _Weekdays(StrictSchema):
    error_messages = {"unknown": "unknown_weekday"}


# Each weekday's intervals, a property of its own so that the document lists the weekdays (and
# no others); a weekday left out is closed.
ServiceHoursSchema = _Weekdays.from_dict(
    {weekday: fields.List(_INTERVAL, error_messages={"invalid": "not_list"}) for weekday in WEEKDAYS},
    name="ServiceHoursSchema",
)


class _Object(fields.Nested):
    """A nested object whose wrong type is refused under the field's own name, as any other
    field's (``Nested`` names it ``field._schema``)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, Mapping):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class WaitingRoomSettingsSchema(StrictSchema):
    """A branch's waiting room around each release (SPEC §6 "Fair opening"). A PUT of the
    settings may name some of these only: they are merged into the room's current ones."""

    enabled = _boolean(required=True, metadata={"description": "default false"})
    opens_minutes_before = _bounded(
        "opens_minutes_before",
        ROOM_BOUNDS,
        required=True,
        metadata={"description": "the room opens this long before the release (default 15)"},
    )
    admit_per_minute = _bounded(
        "admit_per_minute",
        ROOM_BOUNDS,
        required=True,
        metadata={"description": "places let in a minute from the release (default 300)"},
    )
    lasts_minutes = _bounded(
        "lasts_minutes",
        ROOM_BOUNDS,
        required=True,
        metadata={"description": "the room stays open this long after the release (default 60)"},
    )
    tickets_per_address = _bounded(
        "tickets_per_address",
        ROOM_BOUNDS,
        required=True,
        metadata={
            "description": "tickets one client address may hold in a room (default 20); "
            "one more is 429 `rate_limited`"
        },
    )


class BranchSettingsSchema(StrictSchema):
    """The whole settings (GET, and the answer of PUT); PUT takes any subset (``partial``)."""

    online_booking = _boolean(required=True)
    daily_quota = _bounded("daily_quota", required=True)
    slot_minutes = _bounded("slot_minutes", required=True)
    slot_capacity = _bounded("slot_capacity", required=True)
    booking_window_days = _bounded("booking_window_days", required=True)
    booking_cutoff_minutes = _bounded("booking_cutoff_minutes", required=True)
    service_hours = _Object(
        ServiceHoursSchema, required=True, error_messages={**_TYPE, "invalid": "not_object"}
    )
    service_quotas = fields.Dict(
        keys=fields.String(), values=_bounded("service_quotas"), error_messages={"invalid": "not_object"}
    )
    checkin_early_minutes = _bounded("checkin_early_minutes")
    checkin_grace_minutes = _bounded("checkin_grace_minutes")
    priority_share = _bounded("priority_share")
    walk_in_share = _bounded("walk_in_share")
    call_ahead_places = _bounded("call_ahead_places")
    recalls_before_no_show = _bounded("recalls_before_no_show")
    # When the window's newest day opens, branch-local (SPEC §6 "Fair opening").
    release_time = fields.String(
        validate=Pattern(DAY_CLOCK, error="invalid_time"), error_messages={**_TYPE, "invalid": "not_string"}
    )
    # The waiting room around each release; a PUT may name some of its fields only (merged).
    waiting_room = _Object(WaitingRoomSettingsSchema, error_messages={**_TYPE, "invalid": "not_object"})


class RoomChangeSchema(StrictSchema):
    """A change of the open room's admission: its rate, or a pause or resume (either or both;
    what is left out is kept)."""

    admit_per_minute = _bounded("admit_per_minute", ROOM_BOUNDS)
    paused = _boolean()


class RoomTimesSchema(Schema):
    id = fields.String(metadata={"description": "the release's branch-local date, YYYYMMDD"})
    opens_at = fields.String(metadata={"description": "branch-local, ISO 8601"})
    release_at = fields.String()
    closes_at = fields.String()


class WaitingRoomViewSchema(Schema):
    """A branch's waiting room now, as the console shows it."""

    branch_id = fields.String()
    enabled = fields.Boolean()
    open = fields.Nested(RoomTimesSchema, allow_none=True, metadata={"description": "the room open now"})
    next = fields.Nested(RoomTimesSchema, allow_none=True, metadata={"description": "the next room to open"})
    unplaced = fields.Integer(
        metadata={"description": "arrivals waiting for the lottery (before the release)"}
    )
    waiting = fields.Integer(metadata={"description": "placed in the line, not yet let in"})
    admitted = fields.Integer(metadata={"description": "let in so far"})
    admit_per_minute = fields.Integer(
        metadata={"description": "the open room's rate (the settings' until it has begun)"}
    )
    paused = fields.Boolean()
    seed = fields.String(allow_none=True, metadata={"description": "the lottery's seed, once drawn"})
    drawn = fields.Integer(allow_none=True, metadata={"description": "how many the lottery placed"})


class DateOverrideSchema(StrictSchema):
    closed = _boolean(load_default=False)
    # The same range as the branch's own quota.
    daily_quota = _bounded("daily_quota", load_default=None, allow_none=True)
    note = fields.String(
        load_default="",
        validate=validate.Length(max=200, error="too_long"),
        error_messages={"invalid": "not_string"},
    )


class NewKioskSchema(StrictSchema):
    branch_id = fields.String(required=True, validate=ID, error_messages={**_TYPE, "invalid": "not_string"})
    # The kiosk keeps the name with its runs of spaces made one, which must leave 1-64
    # characters: something besides spaces, and at most 64 as sent.
    name = fields.String(
        required=True,
        validate=[
            validate.Length(max=64, error="too_long"),
            Pattern(r"[\s\S]*\S[\s\S]*", error="required"),
        ],
        error_messages={**_TYPE, "invalid": "not_string"},
    )


class DayQuerySchema(StrictSchema):
    date = day()


class BookingsQuerySchema(DayQuerySchema):
    format = fields.String(
        load_default="json", validate=validate.OneOf(("json", "csv"), error="invalid_format")
    )
    full = fields.Boolean(
        truthy={"1", "true"},
        falsy={"0", "false"},
        load_default=False,
        error_messages={"invalid": "not_boolean"},
    )
    reason = fields.String(
        metadata={
            "description": "Required with format=csv&full=1 (422 naming `reason` otherwise): why "
            f"the unmasked data is needed, at most {REASON_MAX_LENGTH} characters; audited"
        }
    )


class AuditQuerySchema(StrictSchema):
    actor = fields.String(validate=validate.Length(max=64, error="too_long"))
    action = fields.String(validate=validate.Length(max=64, error="too_long"))
    format = fields.String(
        load_default="json", validate=validate.OneOf(("json", "csv"), error="invalid_format")
    )
    before = fields.String(
        validate=Pattern(r"[0-9]{1,20}-[0-9]{1,20}", error="not_entry_id"),
        metadata={"description": "An entry id: only older entries (the last page's `older`)"},
    )
    limit = fields.Integer(
        load_default=100,
        validate=validate.Range(min=1, max=500, error="limit_range"),
        error_messages={"invalid": "not_integer"},
    )


class ReportQuerySchema(StrictSchema):
    start = day(required=False)
    days = fields.Integer(
        load_default=14,
        validate=validate.Range(min=1, max=92, error="days_range"),
        error_messages={"invalid": "not_integer"},
    )

    @validates_schema
    def _within_the_calendar(self, data, **_kwargs):
        start = data.get("start")
        if start is not None and (dt.date.max - start).days < data.get("days", 1) - 1:
            raise ValidationError({"start": ["report_past_calendar"]})


class AdminBookingSchema(Schema):
    """A booking as an admin's list shows it: NIK and phone masked."""

    code = fields.String()
    queue_number = fields.String()
    status = fields.String()
    service_id = fields.String()
    slot = fields.Dict()
    name = fields.String()
    nik = fields.String()
    phone = fields.String()
    # "unchecked": booked while the participant registry gave no verdict (failure open).
    registry = fields.String(allow_none=True)


class AdminBookingsSchema(Schema):
    bookings = fields.List(fields.Nested(AdminBookingSchema))


class NationalClosureSchema(StrictSchema):
    note = fields.String(
        load_default="",
        validate=validate.Length(max=200, error="too_long"),
        error_messages={"invalid": "not_string"},
    )


def _reason() -> fields.String:
    """Why staff cancel (recorded in the audit log): something besides spaces, at most
    ``REASON_MAX_LENGTH`` characters (``staff_cancellation``'s rule)."""
    return fields.String(
        required=True,
        validate=[
            validate.Length(max=REASON_MAX_LENGTH, error="too_long"),
            Pattern(r"[\s\S]*\S[\s\S]*", error="required"),
        ],
        error_messages={**_TYPE, "invalid": "not_string"},
    )


class StaffCancelRequestSchema(StrictSchema):
    """Why a branch's staff or admin cancels a booking (recorded in the audit log): something
    besides spaces, at most ``REASON_MAX_LENGTH`` characters (``staff_cancellation``'s rule)."""

    reason = _reason()


class NikReleaseRequestSchema(StrictSchema):
    """A NIK to release, the phone its owner books with (both checked as a booking checks
    them), why, and where the owner stands (needed only from an account of no or several
    branches)."""

    nik = text(check=identity.check_nik, metadata={"pattern": "^[0-9]{16}$"})
    phone = text(
        check=identity.check_phone,
        metadata={"description": "The owner's own mobile number, as a booking takes it: kept"},
    )
    reason = _reason()
    branch_id = fields.String(
        validate=ID,
        error_messages={**_TYPE, "invalid": "not_string"},
        metadata={
            "description": "Where the release is made: only for an account of no or several "
            "branches (a national admin, an admin of several); counter staff have one"
        },
    )


class BulkCancelRequestSchema(StrictSchema):
    """A selection of bookings to cancel at once (codes as typed or scanned, any case, spaces
    and dashes ignored), and why (recorded in each one's audit entry)."""

    codes = fields.List(
        fields.String(
            validate=validate.Length(min=1, max=32, error="invalid_id"),
            error_messages={**_TYPE, "invalid": "not_string"},
        ),
        required=True,
        validate=[
            validate.Length(min=1, error="required"),
            # A list too long: the field message there is for one.
            validate.Length(max=MAX_SELECTION, error="too_long"),
        ],
        error_messages={**_TYPE, "invalid": "not_list"},
    )
    reason = _reason()


# Responses, for the OpenAPI document.


class BulkCancelResultSchema(Schema):
    code = fields.String()
    outcome = fields.String(
        metadata={
            "description": "`cancelled`, or why it was skipped: `already_cancelled`, `too_late` "
            "(its slot has started, or it was checked in), `not_found`"
        }
    )
    status = fields.String(allow_none=True, metadata={"description": "the booking's status now"})


class BulkCancelSchema(Schema):
    cancelled = fields.Integer()
    results = fields.List(fields.Nested(BulkCancelResultSchema))


class HoardingBookingSchema(AdminBookingSchema):
    address = fields.String(
        allow_none=True, metadata={"description": "the client address it was booked from"}
    )
    created_at = fields.String(metadata={"description": "when it was booked, branch-local, ISO 8601"})


class HoardingGroupSchema(Schema):
    label = fields.String(metadata={"description": "the phone (masked), the client address, or the minute"})
    niks = fields.Integer(metadata={"description": "distinct NIKs among the bookings"})
    active = fields.Integer(metadata={"description": "bookings neither cancelled nor expired"})
    bookings = fields.List(fields.Nested(HoardingBookingSchema))


class HoardingThresholdsSchema(Schema):
    phone_niks = fields.Integer()
    address_niks = fields.Integer()
    rate_factor = fields.Float()
    rate_floor = fields.Integer()
    usual_days = fields.Integer()


class HoardingRateSchema(Schema):
    peak = fields.Integer(metadata={"description": "bookings for the day made in its busiest minute"})
    usual = fields.Float(
        allow_none=True,
        metadata={"description": "the median busiest minute of the branch's recent days with bookings"},
    )
    threshold = fields.Integer()
    flagged = fields.Boolean()
    minutes = fields.List(fields.Nested(HoardingGroupSchema))


class HoardingSchema(Schema):
    """What looks like hoarding at a branch on a day."""

    branch_id = fields.String()
    date = fields.String()
    total = fields.Integer()
    statuses = fields.Dict(keys=fields.String(), values=fields.Integer())
    thresholds = fields.Nested(HoardingThresholdsSchema)
    phones = fields.List(fields.Nested(HoardingGroupSchema))
    addresses = fields.List(fields.Nested(HoardingGroupSchema))
    rate = fields.Nested(HoardingRateSchema)
    pending = fields.List(fields.Nested(HoardingBookingSchema))
    expired = fields.List(fields.Nested(HoardingBookingSchema))


class ReleasedBookingSchema(Schema):
    code = fields.String()
    branch_id = fields.String()
    date = fields.String()


class NikReleaseSchema(Schema):
    """What a release did: the bookings cancelled, and the owner's own, kept."""

    released = fields.List(fields.Nested(ReleasedBookingSchema))
    kept = fields.List(fields.Nested(ReleasedBookingSchema))


class ClosedDaySchema(Schema):
    date = fields.String()
    note = fields.String()


class AuditEntrySchema(Schema):
    id = fields.String()
    at = fields.String()
    actor = fields.String()
    role = fields.String()
    address = fields.String()
    action = fields.String()
    target = fields.String()
    before = fields.String(metadata={"description": "JSON"})
    after = fields.String(metadata={"description": "JSON"})


class AuditEntriesSchema(Schema):
    entries = fields.List(fields.Nested(AuditEntrySchema))
    older = fields.String(
        allow_none=True,
        metadata={"description": "Pass as `before` for the next (older) page; null at the end"},
    )


class ReportDaySchema(Schema):
    date = fields.String()
    open = fields.Boolean()
    reason = fields.String(allow_none=True)
    quota = fields.Integer()
    booked = fields.Integer()
    cancelled = fields.Integer()
    arrived = fields.Integer()
    no_show = fields.Integer()


class BusySlotSchema(Schema):
    slot = fields.String()
    bookings = fields.Integer()


class ReportSchema(Schema):
    branch_id = fields.String()
    days = fields.List(fields.Nested(ReportDaySchema))
    busiest_slots = fields.List(fields.Nested(BusySlotSchema))


class ImpactDaySchema(Schema):
    date = fields.String()
    bookings = fields.Integer()
    outside_hours = fields.Integer()
    over_quota = fields.Integer()


class ImpactSchema(Schema):
    days = fields.List(fields.Nested(ImpactDaySchema))


class KioskViewSchema(Schema):
    id = fields.String()
    branch_id = fields.String()
    name = fields.String()
    created_at = fields.String()
    revoked_at = fields.String(allow_none=True)


class KiosksSchema(Schema):
    kiosks = fields.List(fields.Nested(KioskViewSchema))


class CreatedKioskSchema(Schema):
    kiosk_id = fields.String()
    token = fields.String(metadata={"description": "shown once"})
