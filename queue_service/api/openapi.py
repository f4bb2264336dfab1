"""The OpenAPI document of the JSON API, built from the schemas that validate requests."""

from __future__ import annotations

import functools

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint

from queue_service.api import schemas

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

_ERROR_STATUSES = {
    "400": "Not JSON, or wrong types (`bad_request`)",
    "403": "`captcha_failed`",
    "404": "`not_found`",
    "409": "`slot_full`, `day_full`, `already_booked`, `not_bookable`, `wrong_branch`, "
           "`wrong_date`, `too_early`, `too_late`, `cancelled`",
    "422": "`validation_failed`, with `fields`",
    "429": "`rate_limited`, with `Retry-After`",
    "503": "`unavailable`: the data store cannot be reached",
}


def _json(schema: str) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _operation(summary: str, ok_status: str, ok_schema: str, body: str | None = None,
               parameters: list | None = None, errors: tuple[str, ...] = ()) -> dict:
    operation: dict = {"summary": summary,
                       "responses": {ok_status: {"description": "OK", **_json(ok_schema)}}}
    for status in errors + ("503",):
        operation["responses"][status] = {"description": _ERROR_STATUSES[status], **_json("Error")}
    if body:
        operation["requestBody"] = {"required": True, **_json(body)}
    if parameters:
        operation["parameters"] = parameters
    return operation


def _path_param(name: str) -> dict:
    return {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}


@functools.cache
def build_spec() -> dict:
    """The OpenAPI 3 document as a dict."""
    spec = APISpec(title="Antrian API", version="1", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()])
    for name, schema in (
        ("Areas", schemas.AreasSchema), ("Services", schemas.ServicesSchema),
        ("Branch", schemas.BranchSchema), ("Availability", schemas.AvailabilitySchema),
        ("BookingRequest", schemas.BookingRequestSchema), ("Booking", schemas.BookingSchema),
        ("LookupRequest", schemas.LookupRequestSchema),
        ("CancelRequest", schemas.CancelRequestSchema), ("Cancelled", schemas.CancelledSchema),
        ("Captcha", schemas.CaptchaSchema), ("Error", schemas.ErrorSchema),
    ):
        spec.components.schema(name, schema=schema)
    spec.path("/api/v1/areas", operations={"get": _operation("Areas and their branches", "200",
                                                             "Areas")})
    spec.path("/api/v1/services", operations={"get": _operation("Services", "200", "Services")})
    spec.path("/api/v1/branches/{branch_id}", operations={"get": _operation(
        "One branch", "200", "Branch", parameters=[_path_param("branch_id")], errors=("404",))})
    spec.path("/api/v1/branches/{branch_id}/availability", operations={"get": _operation(
        "Places left on a date", "200", "Availability",
        parameters=[_path_param("branch_id"), {"in": "query", "schema": schemas.AvailabilityQuerySchema}],
        errors=("404", "422"))})
    spec.path("/api/v1/captcha", operations={"post": _operation(
        "A new captcha challenge", "201", "Captcha", errors=("429",))})
    for media, content_type in (("image.png", "image/png"), ("audio.wav", "audio/wav")):
        spec.path(f"/api/v1/captcha/{{captcha_id}}/{media}", operations={"get": {
            "summary": f"The challenge as {content_type}",
            "parameters": [_path_param("captcha_id")],
            "responses": {
                "200": {"description": "OK", "content": {
                    content_type: {"schema": {"type": "string", "format": "binary"}}}},
                "404": {"description": _ERROR_STATUSES["404"], **_json("Error")},
                "429": {"description": _ERROR_STATUSES["429"], **_json("Error")}}}})
    spec.path("/api/v1/bookings", operations={"post": _operation(
        "Book a place (captcha first)", "201", "Booking", body="BookingRequest",
        errors=("400", "403", "409", "422", "429"))})
    spec.path("/api/v1/bookings/lookup", operations={"post": _operation(
        "Look a booking up by code and NIK", "200", "Booking", body="LookupRequest",
        errors=("400", "404", "422", "429"))})
    spec.path("/api/v1/bookings/{code}/cancel", operations={"post": _operation(
        "Cancel a booking", "200", "Cancelled", body="CancelRequest",
        parameters=[_path_param("code")], errors=("400", "404", "409", "422", "429"))})
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI document."""
    return build_spec()
