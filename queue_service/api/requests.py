"""Reading a request's JSON body through a schema, with the SPEC's 400/422 split."""

from __future__ import annotations

import json

from flask import request
from marshmallow import Schema, ValidationError

from queue_service.api.errors import field_errors
from queue_service.api.schemas import TYPE_ERROR_KEYS
from queue_service.errors import BadRequestError, ValidationFailedError


def json_object() -> dict:
    """The body as a JSON object.

    Raises:
        BadRequestError: the body is not JSON, or not an object.
    """
    try:
        body = request.get_json(force=True, silent=True)
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
