"""Who calls the admin API: the bearer authentication every admin blueprint shares.

A blueprint under ``/api/v1/admin`` runs ``authenticate`` before each of its views
(``bp.before_request(admin_auth.authenticate)``); its views then read the caller with
``account()`` and name it in the audit log with ``actor()``.
"""

from __future__ import annotations

from flask import g

from queue_service.domain.accounts import Account
from queue_service.domain.audit import Actor
from queue_service.domain.errors import ForbiddenError, UnauthorizedError
from queue_service.web.extensions import services
from queue_service.web.limits import client_address
from queue_service.web.requests import bearer_token


def authenticate() -> None:
    """Every admin call names its account by ``Authorization: Bearer <token>`` (else 401; a
    live kiosk's token is a token of another role: 403, SPEC §3)."""
    token = bearer_token()
    try:
        g.account = services().accounts.authenticate(token, services().clock())
    except UnauthorizedError:
        try:
            services().kiosks.authenticate(token)
        except UnauthorizedError:
            raise
        raise ForbiddenError("kiosk") from None


def account() -> Account:
    """The account the request's token belongs to."""
    return g.account


def actor() -> Actor:
    """The caller as the audit log names it."""
    return Actor(account().username, account().role, client_address())
