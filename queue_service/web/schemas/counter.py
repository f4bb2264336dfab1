"""Schemas of the counter-staff API (SPEC §3 "Counter staff"): strict JSON types, so a wrong
type is a 400 naming the field."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from queue_service.web.schemas.base import ID, StrictSchema, counter_name

_TYPE = {"required": "required", "null": "required"}


def _string(**kwargs) -> fields.String:
    return fields.String(error_messages={**_TYPE, "invalid": "not_string"}, **kwargs)


def _branch() -> fields.String:
    """Which branch: needed only from an admin of several branches (staff have one)."""
    return _string(
        validate=ID,
        metadata={"description": "Only for an admin of several branches; counter staff have one."},
    )


class CallRequestSchema(StrictSchema):
    counter = counter_name()
    services = fields.List(
        _string(validate=ID), validate=validate.Length(min=1, max=20), error_messages={"invalid": "not_list"}
    )
    branch_id = _branch()


class StepRequestSchema(StrictSchema):
    """The body of recall, served, no-show and resume/pause: optional."""

    branch_id = _branch()


class CounterRequestSchema(StrictSchema):
    """A counter's services (none: all the branch's)."""

    services = fields.List(
        _string(validate=ID),
        validate=validate.Length(min=1, max=20),
        allow_none=True,
        error_messages={"invalid": "not_list"},
    )
    branch_id = _branch()


class TransferRequestSchema(StrictSchema):
    service_id = _string(required=True, validate=ID)
    branch_id = _branch()


class PriorityRequestSchema(StrictSchema):
    priority = fields.Boolean(
        truthy={True}, falsy={False}, required=True, error_messages={**_TYPE, "invalid": "not_boolean"}
    )
    branch_id = _branch()


class CallSchema(Schema):
    queue_number = fields.String()
    service_id = fields.String()
    counter = fields.String()
    priority = fields.Boolean()


class StepSchema(Schema):
    queue_number = fields.String()
    status = fields.String()


class CounterStateSchema(Schema):
    counter = fields.String()
    paused = fields.Boolean()


class CounterSchema(Schema):
    counter = fields.String(attribute="name")
    services = fields.List(fields.String())
    paused = fields.Boolean()


class CountersSchema(Schema):
    branch_id = fields.String()
    counters = fields.List(fields.Nested(CounterSchema))
