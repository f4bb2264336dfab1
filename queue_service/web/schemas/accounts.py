"""Schemas of the admin API's accounts: accounts, their changes, API tokens and sessions.
Strict JSON types as the rest of the admin API (``schemas.admin``); the rules that need the
data (a role's branches, the last national admin, the password list) are the domain's."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from queue_service.domain.accounts import ROLES, USERNAME
from queue_service.domain.api_tokens import MAX_TOKEN_DAYS
from queue_service.domain.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from queue_service.web.schemas.admin import _TYPE, _boolean, _integer
from queue_service.web.schemas.base import ID, Pattern, StrictSchema

_ROLE_TEXT = "national_admin (no branches), branch_admin (one or more), counter_staff (exactly one)"


def _role(**kwargs) -> fields.String:
    return fields.String(
        validate=validate.OneOf(ROLES, error="unknown_role"),
        error_messages={**_TYPE, "invalid": "not_string"},
        metadata={"description": _ROLE_TEXT},
        **kwargs,
    )


def _branches(**kwargs) -> fields.List:
    return fields.List(
        fields.String(validate=ID, error_messages={"invalid": "not_string"}),
        error_messages={**_TYPE, "invalid": "not_list"},
        **kwargs,
    )


class NewAccountSchema(StrictSchema):
    username = fields.String(
        required=True,
        validate=Pattern(USERNAME, error="invalid_username"),
        error_messages={**_TYPE, "invalid": "not_string"},
    )
    role = _role(required=True)
    branches = _branches(load_default=list)
    password = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH, error="password_length"),
        error_messages={"invalid": "not_string"},
        metadata={
            "description": "a console password: not a common one, not containing the username "
            "(`password_common`, `password_contains_username`); none for an API-only account"
        },
    )


class AccountChangeSchema(StrictSchema):
    """Any subset; what is left out is kept. A new role without ``branches`` keeps the
    account's branches (a national admin has none)."""

    disabled = _boolean(
        metadata={"description": "true: the account's tokens are refused and its sessions end at once"}
    )
    role = _role()
    branches = _branches()


class NewTokenSchema(StrictSchema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64, error="too_long"),
        error_messages={**_TYPE, "invalid": "not_string"},
    )
    expires_in_days = _integer(
        load_default=None,
        allow_none=True,
        validate=[
            validate.Range(min=1, error="at_least_1"),
            validate.Range(max=MAX_TOKEN_DAYS, error=f"at_most_{MAX_TOKEN_DAYS}"),
        ],
        metadata={"description": "the token is refused after this many days; none: it never expires"},
    )


class AccountViewSchema(Schema):
    username = fields.String()
    role = fields.String()
    branches = fields.List(fields.String())
    password = fields.Boolean(metadata={"description": "whether a console password is set"})
    disabled = fields.Boolean()
    must_change_password = fields.Boolean(
        metadata={"description": "an admin reset the password: the next sign-in must change it"}
    )
    created_at = fields.String()


class AccountsSchema(Schema):
    accounts = fields.List(fields.Nested(AccountViewSchema))


class CreatedAccountSchema(AccountViewSchema):
    token = fields.String(metadata={"description": "shown once"})


class TemporaryPasswordSchema(Schema):
    temporary_password = fields.String(
        metadata={"description": "shown once; the account must change it at its next sign-in"}
    )


class TokenViewSchema(Schema):
    id = fields.String()
    username = fields.String()
    name = fields.String()
    created_at = fields.String()
    expires_at = fields.String(allow_none=True, metadata={"description": "none: never"})
    expired = fields.Boolean()
    last_used_at = fields.String(allow_none=True, metadata={"description": "to the minute"})


class TokensSchema(Schema):
    tokens = fields.List(fields.Nested(TokenViewSchema))


class CreatedTokenSchema(Schema):
    name = fields.String()
    token = fields.String(metadata={"description": "shown once"})
    expires_at = fields.String(allow_none=True)


class SessionViewSchema(Schema):
    id = fields.String(metadata={"description": "names the session to end it; never usable as a cookie"})
    surface = fields.String(metadata={"description": "admin (the console) or counter"})
    address = fields.String()
    started_at = fields.String()
    last_used_at = fields.String(metadata={"description": "to the minute"})


class SessionsSchema(Schema):
    sessions = fields.List(fields.Nested(SessionViewSchema))
