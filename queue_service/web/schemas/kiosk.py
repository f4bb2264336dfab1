"""Schemas of the kiosk API (SPEC §3 "Kiosk"): check-ins and walk-in tickets."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from queue_service.web.schemas.base import StrictSchema, identifier, text


class CheckInRequestSchema(StrictSchema):
    code = text(validate=validate.Length(max=32, error="too_long"))


class WalkInRequestSchema(StrictSchema):
    service_id = identifier()
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
