"""The JSON error format of SPEC §3, for every error the app can give."""

from __future__ import annotations

import logging

import redis
import redis.exceptions as redis_errors
from flask import Flask, Response, jsonify, request
from limits.errors import StorageError
from werkzeug.exceptions import HTTPException, InternalServerError

from queue_service import messages
from queue_service.errors import DomainError

log = logging.getLogger(__name__)

STATUS_OF_CODE = {
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "captcha_failed": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "slot_full": 409,
    "day_full": 409,
    "already_booked": 409,
    "not_bookable": 409,
    "wrong_branch": 409,
    "wrong_date": 409,
    "too_early": 409,
    "too_late": 409,
    "cancelled": 409,
    "validation_failed": 422,
    "rate_limited": 429,
    "unavailable": 503,
    "internal_error": 500,
}
_CODE_OF_HTTP_STATUS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                        405: "method_not_allowed", 429: "rate_limited", 503: "unavailable"}
# Werkzeug's other client errors (413 too large, 415, 416 bad range) are bad requests
# in the SPEC's table: answered 400, so the status always matches the code.
_AS_BAD_REQUEST = frozenset({411, 413, 414, 415, 416, 431})
# The data store (or the rate limiter's view of it) cannot serve us now: unreachable, or
# refusing writes (a replica just after a failover, out of memory, a cluster slot down).
STORE_ERRORS = (redis.ConnectionError, redis.TimeoutError, StorageError,
                redis_errors.ReadOnlyError, redis_errors.OutOfMemoryError,
                redis_errors.MasterDownError, redis_errors.ClusterDownError,
                redis_errors.TryAgainError, redis_errors.SlotNotCoveredError)


def locale() -> str:
    """The caller's language: Indonesian unless they prefer English."""
    return request.accept_languages.best_match(messages.LOCALES) or messages.DEFAULT_LOCALE


def error_response(code: str, status: int | None = None,
                   fields: dict[str, list[str]] | None = None) -> Response:
    """The JSON error body for ``code``; field message keys are translated."""
    lang = locale()
    body: dict = {"code": code, "message": messages.error_message(code, lang)}
    if fields:
        body["fields"] = {name: [messages.field_message(key, lang) for key in keys]
                          for name, keys in sorted(fields.items())}
    response = jsonify(error=body)
    response.status_code = status or STATUS_OF_CODE.get(code, 500)
    return response


def field_errors(messages_by_field: dict) -> dict[str, list[str]]:
    """Marshmallow's error dict flattened to ``{field: [keys]}`` (``_schema`` becomes ``body``)."""
    flat = {}
    for name, value in messages_by_field.items():
        keys = value if isinstance(value, list) else [str(value)]
        flat["body" if name == "_schema" else name] = [str(key) for key in keys]
    return flat


def register(app: Flask) -> None:
    """Make every error of ``app`` answer in the SPEC's JSON format."""

    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        return error_response(error.code, fields=getattr(error, "fields", None))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        status = 400 if error.code in _AS_BAD_REQUEST else error.code or 500
        code = _CODE_OF_HTTP_STATUS.get(status, "internal_error")
        response = error_response(code, status=status)
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    def _store_down(error: Exception):
        log.warning("data store unreachable: %s", error)
        response = error_response("unavailable")
        response.headers["Retry-After"] = "5"
        return response

    for store_error in STORE_ERRORS:
        app.register_error_handler(store_error, _store_down)

    @app.errorhandler(InternalServerError)
    def _failed(error: InternalServerError):
        # Errors raised after the view (in after_request hooks, e.g. flask-limiter's
        # headers when the store drops mid-request) reach Flask as a 500 wrapping them.
        if isinstance(error.original_exception, STORE_ERRORS):
            return _store_down(error.original_exception)
        return error_response("internal_error")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response("internal_error")
