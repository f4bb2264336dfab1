"""What every audience's schemas are made of: the strict schema, the field makers (ids,
dates, times, checked text), the path parameters, the ``Idempotency-Key`` header and the
error body.

Field errors are message keys (see ``messages.FIELDS``), turned into text in the
caller's language by ``web.errors``.
"""

from __future__ import annotations

import re

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from queue_service.domain.accounts import USERNAME
from queue_service.domain.captcha.gate import ID as CAPTCHA_ID
from queue_service.domain.live_queue import COUNTER_NAME

# Marshmallow's own messages, as keys. The keys marked as type errors make a 400.
TYPE_ERROR_KEYS = frozenset({"not_string", "not_boolean", "not_integer", "not_object", "not_list"})


class _Checked(fields.String):
    """A string that ``check`` (of ``domain.identity``) accepts, loaded in the form it
    returns: checked and normalised in one go (a phone number is parsed once, not twice)."""

    def __init__(self, check, **kwargs):
        super().__init__(**kwargs)
        self.check = check

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        try:
            return self.check(super()._deserialize(value, attr, data, **kwargs))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class Pattern(validate.Regexp):
    """A regular expression the whole value must match, written so that the OpenAPI document
    can carry it as its ``pattern`` (apispec reads ``regex.pattern``): anchored, since a JSON
    Schema pattern only has to occur somewhere, and checked with ``fullmatch``, since Python's
    ``$`` also matches before a trailing newline. Keep to the syntax Python and ECMA-262 read
    alike: ``[0-9]``, not ``\\d`` (Python's takes any script's digits)."""

    def __init__(self, regex: str | re.Pattern, error: str):
        source = regex.pattern if isinstance(regex, re.Pattern) else regex
        super().__init__(f"^(?:{source.removeprefix('^').removesuffix('$')})$", error=error)

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


# Ids of branches, services and the like: slugs. That a branch with the id exists is data,
# not something a schema can say: an unknown one is a 404 where the id is in the path.
ID = Pattern(r"[a-z0-9][a-z0-9_-]{0,63}", error="invalid_id")
DATE = Pattern(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", error="invalid_date")
CLOCK = Pattern(r"([01][0-9]|2[0-3]):[0-5][0-9]", error="invalid_time")


class _Shaped:
    """A date or time field that takes only the one spelling its pattern allows (``strptime``
    alone also reads ``2026-1-1`` and ``9:5``), and shows that pattern in the document."""

    shape: Pattern
    spelling: str

    def __init__(self, **kwargs):
        super().__init__(format=self.spelling, metadata={"pattern": self.shape.regex.pattern}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or self.shape.regex.fullmatch(value) is None:
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Day(_Shaped, fields.Date):
    """A date, ``YYYY-MM-DD`` (SPEC §3)."""

    shape = DATE
    spelling = "%Y-%m-%d"


class Clock(_Shaped, fields.Time):
    """A time of day, ``HH:MM`` (SPEC §3)."""

    shape = CLOCK
    spelling = "%H:%M"


def day(**kwargs) -> Day:
    kwargs.setdefault("required", True)
    return Day(
        error_messages={"required": "required", "null": "required", "invalid": "invalid_date"}, **kwargs
    )


def clock(**kwargs) -> Clock:
    kwargs.setdefault("required", True)
    return Clock(
        error_messages={"required": "required", "null": "required", "invalid": "invalid_time"}, **kwargs
    )


def text(invalid: str = "not_string", check=None, **kwargs) -> fields.String:
    """A required string field; ``check`` (of ``domain.identity``) also checks and normalises it."""
    kwargs.setdefault("required", True)
    error_messages = {"required": "required", "null": "required", "invalid": invalid}
    if check is not None:
        return _Checked(check, error_messages=error_messages, **kwargs)
    return fields.String(error_messages=error_messages, **kwargs)


def identifier(**kwargs) -> fields.String:
    """A slug id field (a branch, a service)."""
    return text(validate=ID, **kwargs)


class StrictSchema(Schema):
    """Unknown fields are an error, so a typo in a field name is never silently ignored."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": "unknown_field", "type": "not_object"}


def counter_name(**kwargs) -> fields.String:
    """A counter's name, as the live queue takes it."""
    return text(validate=Pattern(COUNTER_NAME, error="invalid_id"), **kwargs)


class PathSchema(Schema):
    """The path parameters, by name: the OpenAPI document describes each from its field, and a
    view that does more with one than look it up checks it here (``load`` with ``partial``).
    An id that is well formed but names nothing is a 404, not something a schema can say."""

    branch_id = identifier()
    date = day()
    code = text()
    captcha_id = text(validate=Pattern(CAPTCHA_ID, error="invalid_id"))
    queue_number = text()
    counter = counter_name()
    username = text(validate=Pattern(USERNAME, error="invalid_username"))
    token_id = text()
    # A session as an account's list names it: the start of its stored hash, never its cookie.
    session_id = text(validate=Pattern(r"[0-9a-f]{16}", error="invalid_id"))
    kiosk_id = text()
    # A waitlist entry's id: its booking code, as a booking's (domain.waitlist).
    waitlist_id = text()
    # A waiting room's ticket: <branch>.<release day YYYYMMDD>.<32 hex>.
    ticket = text(validate=Pattern(r"[a-z0-9-]{1,64}\.[0-9]{8}\.[0-9a-f]{32}", error="invalid_id"))


class IdempotencyKeySchema(Schema):
    """The ``Idempotency-Key`` header of the steps that may be re-sent: the same key answers as
    the first request did. Visible ASCII, no space at either end (HTTP would strip it)."""

    key = fields.String(
        data_key="Idempotency-Key",
        validate=[
            validate.Length(max=64, error="too_long"),
            Pattern(r"[!-~]([ -~]*[!-~])?", error="invalid_id"),
        ],
        metadata={"description": "The same key answers as the first request with it did"},
    )


class ErrorBodySchema(Schema):
    code = fields.String()
    message = fields.String()
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema)
