"""Schemas of the catalog's admin API (SPEC §6 "Catalog and accounts"): areas, branches and
services as the national admin creates (POST) and replaces (PUT) them. Strict JSON types (a
flag sent as ``"yes"`` is a 400 naming the field); the value rules are the domain's
(``domain.catalog_changes``), declared here from there for the document. What only the data
can refuse (an id taken, an area or service that does not exist, a prefix another service
has, a time zone or prefix under bookings) stays the domain's."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from queue_service.domain import catalog_changes as rules
from queue_service.web.schemas.base import Pattern, StrictSchema

_TYPE = {"required": "required", "null": "required", "invalid": "not_string"}


def _id(**kwargs) -> fields.String:
    kwargs.setdefault("required", True)
    return fields.String(
        validate=[
            validate.Length(max=rules.ID_MAX, error="invalid_slug"),
            Pattern(rules.ID, error="invalid_slug"),
        ],
        error_messages=_TYPE,
        **kwargs,
    )


def _text(limit: int, **kwargs) -> fields.String:
    kwargs.setdefault("required", True)
    return fields.String(
        validate=[validate.Length(max=limit, error="too_long"), Pattern(rules.TEXT, error="text_format")],
        error_messages=_TYPE,
        **kwargs,
    )


def _texts(limit: int, most: int, **kwargs) -> fields.List:
    return fields.List(
        _text(limit),
        validate=validate.Length(max=most, error="too_many"),
        error_messages={"invalid": "not_list", "null": "not_list"},
        **kwargs,
    )


class _Object(fields.Nested):
    """A nested object refused under its own name when it is not one."""

    def __init__(self, nested, **kwargs):
        super().__init__(nested, error_messages={"invalid": "not_object", "null": "not_object"}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class ReasonSchema(StrictSchema):
    """A reason for a claim, with the documents it adds."""

    id = _id()
    name = _text(rules.NAME_MAX)
    documents = _texts(rules.DOCUMENT_MAX, rules.DOCUMENTS_MAX, required=False)
    note = _text(rules.NOTE_MAX, required=False, allow_none=True)


class RequirementsSchema(StrictSchema):
    """What a participant brings: the documents of every visit, the reasons of a claim (each
    with its own documents and note; ids unique within the service), and a note."""

    documents = _texts(rules.DOCUMENT_MAX, rules.DOCUMENTS_MAX, required=False)
    reasons = fields.List(
        _Object(ReasonSchema),
        required=False,
        validate=validate.Length(max=rules.REASONS_MAX, error="too_many"),
        error_messages={"invalid": "not_list", "null": "not_list"},
    )
    note = _text(rules.NOTE_MAX, required=False, allow_none=True)


class AreaDocumentSchema(StrictSchema):
    """An area (POST: every field)."""

    id = _id()
    name = _text(rules.NAME_MAX)


class AreaChangeSchema(AreaDocumentSchema):
    """An area replaced (PUT): its id is the path's, and may be left out."""

    id = _id(required=False, metadata={"description": "the path's id, if given: an id never changes"})


class BranchDocumentSchema(StrictSchema):
    """A branch (POST); a new one starts with online booking off and no hours."""

    id = _id()
    name = _text(rules.NAME_MAX)
    area_id = _id(metadata={"description": "an area that exists"})
    address = _text(rules.ADDRESS_MAX)
    timezone = fields.String(
        required=True,
        validate=validate.OneOf(rules.TIMEZONES, error="unknown_timezone"),
        error_messages=_TYPE,
        metadata={
            "description": "WIB, WITA or WIT; does not change while the branch has bookings from today on"
        },
    )
    services = fields.List(
        _id(),
        required=True,
        validate=validate.Length(max=rules.SERVICES_MAX, error="too_many"),
        error_messages={"invalid": "not_list", "required": "required", "null": "required"},
        metadata={"description": "services that exist; one dropped keeps its bookings and takes no new ones"},
    )
    retired = fields.Boolean(
        truthy={True},
        falsy={False},
        required=False,
        error_messages={"invalid": "not_boolean", "null": "not_boolean"},
        metadata={"description": "default false; a retired branch takes no new bookings and keeps its own"},
    )


class BranchChangeSchema(BranchDocumentSchema):
    """A branch replaced (PUT, the whole branch): its id is the path's."""

    id = _id(required=False, metadata={"description": "the path's id, if given: an id never changes"})


class ServiceDocumentSchema(StrictSchema):
    """A service (POST)."""

    id = _id()
    name = _text(rules.NAME_MAX)
    prefix = fields.String(
        required=True,
        validate=Pattern(rules.PREFIX, error="prefix_format"),
        error_messages=_TYPE,
        metadata={
            "description": "the queue numbers' letter (A-007), no other service's; does not change "
            "while numbers of it exist from today on"
        },
    )
    requirements = _Object(RequirementsSchema, required=False)


class ServiceChangeSchema(ServiceDocumentSchema):
    """A service replaced (PUT, the whole service): its id is the path's."""

    id = _id(required=False, metadata={"description": "the path's id, if given: an id never changes"})


class CatalogPathSchema(Schema):
    """The path parameters of the catalog's operations."""

    area_id = _id()
    branch_id = _id()
    service_id = _id()


# Answers.


class ReasonViewSchema(Schema):
    id = fields.String()
    name = fields.String()
    documents = fields.List(fields.String())
    note = fields.String(allow_none=True)


class RequirementsViewSchema(Schema):
    documents = fields.List(fields.String())
    reasons = fields.List(fields.Nested(ReasonViewSchema))
    note = fields.String(allow_none=True)


class AreaViewSchema(Schema):
    id = fields.String()
    name = fields.String()


class BranchViewSchema(Schema):
    id = fields.String()
    name = fields.String()
    area_id = fields.String()
    address = fields.String()
    timezone = fields.String()
    services = fields.List(fields.String())
    retired = fields.Boolean()


class ServiceViewSchema(Schema):
    id = fields.String()
    name = fields.String()
    prefix = fields.String()
    requirements = fields.Nested(RequirementsViewSchema)
