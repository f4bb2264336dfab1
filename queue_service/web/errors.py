"""The JSON error format of SPEC §3, for every error the app can give."""

from __future__ import annotations

import logging

import redis
import redis.exceptions as redis_errors
from flask import Flask, Response, jsonify, request
from gunicorn.http.errors import NoMoreData, ParseException
from limits.errors import StorageError
from werkzeug.exceptions import HTTPException, InternalServerError

from queue_service.domain.errors import DomainError
from queue_service.domain.person_allowance import AttemptsUsedUpError
from queue_service.metrics import instruments
from queue_service.web import limits, messages

log = logging.getLogger(__name__)

STATUS_OF_CODE = {
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "captcha_failed": 403,
    "verification_failed": 403,
    "not_admitted": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "slot_full": 409,
    "day_full": 409,
    "already_booked": 409,
    "too_many_bookings": 409,
    "not_bookable": 409,
    "wrong_branch": 409,
    "wrong_date": 409,
    "too_early": 409,
    "too_late": 409,
    "cancelled": 409,
    "hold_expired": 409,
    "offer_expired": 409,  # waitlist
    "not_full": 409,  # waitlist
    "not_offered": 409,  # waitlist
    "already_accepted": 409,  # waitlist
    "walk_ins_full": 409,
    "closed_now": 409,
    "unsupported_media_type": 415,
    "validation_failed": 422,
    "rate_limited": 429,
    "unavailable": 503,
    "internal_error": 500,
}
_CODE_OF_HTTP_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}
# Werkzeug's other client errors (413 too large, 416 bad range) are bad requests in the
# SPEC's table: answered 400, so the status always matches the code.
_AS_BAD_REQUEST = frozenset({411, 413, 414, 416, 431})
# The data store (or the rate limiter's view of it) cannot serve us now: unreachable, or
# refusing writes (a replica just after a failover, out of memory, a cluster slot down).
STORE_ERRORS = (
    redis.ConnectionError,
    redis.TimeoutError,
    StorageError,
    redis_errors.ReadOnlyError,
    redis_errors.OutOfMemoryError,
    redis_errors.MasterDownError,
    redis_errors.ClusterDownError,
    redis_errors.TryAgainError,
    redis_errors.SlotNotCoveredError,
)


def locale() -> str:
    """The caller's language: Indonesian unless they prefer English."""
    return request.accept_languages.best_match(messages.LOCALES) or messages.DEFAULT_LOCALE


def error_response(
    code: str,
    status: int | None = None,
    fields: dict[str, list[str]] | None = None,
    message_args: dict | None = None,
) -> Response:
    """The JSON error body for ``code``; field message keys are translated."""
    lang = locale()
    body: dict = {"code": code, "message": messages.error_message(code, lang, message_args)}
    if fields:
        body["fields"] = {
            name: [messages.field_message(key, lang) for key in keys] for name, keys in sorted(fields.items())
        }
    response = jsonify(error=body)
    response.status_code = status or STATUS_OF_CODE.get(code, 500)
    instruments().refusals.labels(code).inc()
    return response


def field_errors(messages_by_field: dict, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's error dict flattened to ``{field: [keys]}`` (``_schema`` becomes ``body``).

    Errors inside a dict or list field are named by their path (``service_hours.mon.0``);
    marshmallow's ``value`` and ``key`` levels of a dict field are left out of the path.
    """
    flat: dict[str, list[str]] = {}
    for name, value in messages_by_field.items():
        name = "body" if name == "_schema" else str(name)
        path = prefix if name in ("value", "key") and prefix else f"{prefix}.{name}" if prefix else name
        if isinstance(value, dict):
            for inner, keys in field_errors(value, path).items():
                flat.setdefault(inner, []).extend(keys)
        else:
            keys = value if isinstance(value, list) else [value]
            flat.setdefault(path, []).extend(str(key) for key in keys)
    return flat


def domain_error_headers(error: DomainError) -> dict[str, str]:
    """The headers a refusal carries whether the API or a page answers it: ``Retry-After``
    when the error says when to come back, and ``X-RateLimit-*`` when it is a spent
    allowance (the person's, ``AttemptsUsedUpError``)."""
    headers = {}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if isinstance(error, AttemptsUsedUpError):
        headers.update(limits.spent_headers(error.limit_amount, error.reset_at))
    return headers


def register(app: Flask) -> None:
    """Make every error of ``app`` answer in the SPEC's JSON format."""

    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        response = error_response(
            error.code,
            fields=getattr(error, "fields", None),
            message_args=getattr(error, "message_args", None),
        )
        if response.status_code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        response.headers.update(domain_error_headers(error))
        return response

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        status = 400 if error.code in _AS_BAD_REQUEST else error.code or 500
        code = _CODE_OF_HTTP_STATUS.get(status, "internal_error")
        response = error_response(code, status=status)
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        if error.code == 429:
            response.headers.update(limits.refusal_headers())
        return response

    def _store_down(error: Exception):
        log.warning("data store unreachable: %s", error)
        response = error_response("unavailable")
        response.headers["Retry-After"] = "5"
        return response

    for store_error in STORE_ERRORS:
        app.register_error_handler(store_error, _store_down)

    def _unreadable_body(error: Exception):
        # gunicorn checks a chunked body only as the app reads it, and its message quotes the
        # bytes it choked on: a name or a phone. The class says enough.
        log.warning("request body refused: %s", type(error).__name__)
        return error_response("bad_request")

    for body_error in (ParseException, NoMoreData):
        app.register_error_handler(body_error, _unreadable_body)

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
