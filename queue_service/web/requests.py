"""Reading a request: its JSON body through a schema (with the SPEC's 400/422 split), its
bearer token and ``Idempotency-Key``, and dates and times as the pages' forms and links
spell them."""

from __future__ import annotations

import datetime as dt
import json

from flask import request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import UnsupportedMediaType

from queue_service.domain.errors import BadRequestError, NotFoundError, ValidationFailedError
from queue_service.web.errors import field_errors
from queue_service.web.schemas.base import TYPE_ERROR_KEYS, IdempotencyKeySchema


def json_object() -> dict:
    """The body as a JSON object.

    Only a body sent as ``application/json`` is read: a page on another site can post
    ``text/plain``, form-encoded or multipart bodies without a CORS preflight, but not JSON.

    Raises:
        UnsupportedMediaType: the body is not sent as ``application/json`` (a 415).
        BadRequestError: the body is not JSON, or not an object.
    """
    if request.mimetype != "application/json":
        raise UnsupportedMediaType()
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # thousands of nested brackets fit in a small body
        raise BadRequestError() from None
    if not isinstance(body, dict) or not _encodable(body):
        raise BadRequestError()
    return body


def _encodable(body: dict) -> bool:
    """False if a string holds a lone surrogate (``"\\ud800"`` is valid JSON, not valid text)."""
    try:
        json.dumps(body, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


def load(schema: Schema, data: dict):
    """``data`` loaded through ``schema``.

    Raises:
        BadRequestError: a field has the wrong JSON type (the fields are named).
        ValidationFailedError: a field's value is wrong (the fields are named).
    """
    try:
        return schema.load(data)
    except ValidationError as error:
        fields = field_errors(error.messages)
        if any(key in TYPE_ERROR_KEYS for keys in fields.values() for key in keys):
            raise BadRequestError(fields) from None
        raise ValidationFailedError(fields) from None


_IDEMPOTENCY_KEY = IdempotencyKeySchema()


def idempotency_key() -> str | None:
    """The request's ``Idempotency-Key`` header, if it sent one: a client re-sending a step
    after a lost reply gets the first answer again.

    Raises:
        ValidationFailedError: the key is not one the document allows. Refused rather than
            ignored: a client whose key were dropped would take its re-sent step for a no-op.
    """
    if "Idempotency-Key" not in request.headers:
        return None
    return load(_IDEMPOTENCY_KEY, {"Idempotency-Key": request.headers["Idempotency-Key"]})["key"]


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None (no header, or
    another scheme)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme == "Bearer" else None


def parse_date(text: str) -> dt.date | None:
    """A date as the pages' forms and links give it (ISO 8601), or None if it is not one."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def chosen_date(text: str) -> dt.date:
    """The date a booking page's form or link chose.

    Raises:
        NotFoundError: ``text`` is not a date: no such date to book.
    """
    day = parse_date(text)
    if day is None:
        raise NotFoundError("date")
    return day


def chosen_slot(text: str) -> dt.time:
    """The start of the slot a booking page's form chose ("09:30").

    Raises:
        NotFoundError: ``text`` is not a time of day: no such slot.
    """
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise NotFoundError("slot") from None
