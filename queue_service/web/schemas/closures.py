"""Schemas of the closures of days in the admin API (``web.api.closures_admin``): a branch, or
every branch, closed from one date to another with a note. The rules between values (the
range's order and length, a day already past) are ``domain.closures``'; the document names
them in words."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from queue_service.domain.closures import ID as CLOSURE_ID
from queue_service.domain.closures import NOTE_MAX_LENGTH
from queue_service.web.schemas.base import ID, Pattern, StrictSchema, day

_TYPE = {"required": "required", "null": "required"}


class ClosureRequestSchema(StrictSchema):
    """Close a branch (or, without ``branch_id``, every branch: national admins only) from
    ``from`` to ``to`` (branch-local dates, both included) with a note for the participants."""

    branch_id = fields.String(
        validate=ID,
        error_messages={**_TYPE, "invalid": "not_string"},
        metadata={"description": "Left out: every branch (national admins only)"},
    )
    # The first and last days closed: 366 days in all at most.
    first = day(data_key="from")
    last = day(data_key="to")
    note = fields.String(
        required=True,
        validate=[
            validate.Length(max=NOTE_MAX_LENGTH, error="too_long"),
            Pattern(r"[\s\S]*\S[\s\S]*", error="required"),
        ],
        error_messages={**_TYPE, "invalid": "not_string"},
        metadata={
            "description": "Why, as each participant's SMS says it (spaces and line breaks run together)"
        },
    )


class ClosureSmsSchema(Schema):
    queued = fields.Integer(metadata={"description": "Not sent yet: waiting for the worker, or being sent"})
    sent = fields.Integer(metadata={"description": "Handed to the SMS provider and not reported lost"})
    delivered = fields.Integer(
        metadata={"description": "Of those sent, confirmed on the phone by the provider"}
    )
    failed = fields.Integer(metadata={"description": "Refused, undelivered, or not sent (its day over)"})


class ClosureSchema(Schema):
    """A closure of days and how far it has got. ``all_branches`` closures have no
    ``branch_ids``; bookings it cancelled stay cancelled when it is reopened."""

    closure_id = fields.String()
    branch_ids = fields.List(fields.String())
    all_branches = fields.Boolean()
    first = fields.String(data_key="from")
    last = fields.String(data_key="to")
    note = fields.String()
    created_by = fields.String()
    created_at = fields.String()
    reopened_at = fields.String(allow_none=True)
    reopened_by = fields.String(allow_none=True)
    cancelled = fields.Integer(metadata={"description": "Bookings it cancelled"})
    sms = fields.Nested(ClosureSmsSchema)


class ClosurePathSchema(Schema):
    """The closure's id in the path, as the document spells it."""

    closure_id = fields.String(required=True, validate=Pattern(CLOSURE_ID, error="invalid_id"))
