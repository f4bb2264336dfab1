"""Staff authentication on the staff pages (the admin console, the counter page): signing
in from a form, the signed-in session, signing out.

Flask's signed cookie (HttpOnly, SameSite, Secure in production) holds the username under
the surface's key and the time of its last request under ``<key>_seen``; the session ends
after ``ADMIN_SESSION_IDLE_MINUTES`` without one, or when the data store's record of it
ends (signing out ends it there, so a copy of the cookie dies too).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from flask import Response, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _

from queue_service.domain.accounts import Account
from queue_service.domain.errors import UnauthorizedError
from queue_service.domain.sign_in import LockedOutError
from queue_service.domain.staff_sessions import StaffSessions
from queue_service.web import limits
from queue_service.web.extensions import services
from queue_service.web.pages.rendering import error_text


def session_account(key: str, touch: bool = True) -> Account | None:
    """The account signed in under ``session[key]``, or None (never, signed out, idle too
    long, or its account disabled or deleted since).

    Args:
        touch: count this request as activity; a page's own background polling does not,
            so an unattended screen still signs out.
    """
    username, seen = session.get(key), session.get(f"{key}_seen", 0)
    idle = current_app.config["ADMIN_SESSION_IDLE_MINUTES"] * 60
    account = None
    if username and time.time() - seen <= idle:
        account = staff_sessions().account(session.get(f"{key}_id"), touch, services().clock())
    if account is None or account.username != username:
        session.pop(key, None)
        return None
    if touch:
        session[f"{key}_seen"] = int(time.time())
    return account


def sign_out(key: str) -> None:
    """End the session under ``key`` in the data store too: its cookie is dead everywhere."""
    staff_sessions().end(session.get(f"{key}_id"))
    session.clear()


def staff_sessions() -> StaffSessions:
    """The staff sessions, with the idle time the settings give them."""
    return StaffSessions(services().redis, current_app.config["ADMIN_SESSION_IDLE_MINUTES"] * 60)


# Where each surface's signed-in account changes its password; an account an admin's reset
# left with a temporary password is led there from every other page of the surface.
PASSWORD_PAGES = {"admin": "accounts_console.admin_password", "counter": "accounts_console.counter_password"}


def signed_in(key: str, sign_in_endpoint: str):
    """A view decorator: the view needs a session under ``key`` (its account in
    ``g.account``); without one the browser goes to ``sign_in_endpoint``, and an account that
    must change its password goes to the surface's password page."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            account = session_account(key)
            if account is None:
                # Back to this page after the sign-in; a form's post is not repeated.
                back = request.path if request.method == "GET" else None
                return redirect(url_for(sign_in_endpoint, next=back))
            g.account = account
            password_page = PASSWORD_PAGES.get(key)
            if account.must_change_password and password_page and request.endpoint != password_page:
                return redirect(url_for(password_page), 303)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def sign_in_from_form(key: str, refuse: Callable[[int, str, str], Response]) -> Account | Response:
    """Check the posted username and password (throttled, locked out after repeated failures)
    and start a fresh session under ``key``; or the refusal ``refuse(status, username,
    summary)`` renders."""
    username = request.form.get("username", "")[:64]
    try:
        account = services().sign_in.attempt(
            username, request.form.get("password", ""), limits.client_address(), services().clock()
        )
    except LockedOutError as locked:
        response = refuse(429, username, error_text("rate_limited"))
        response.headers["Retry-After"] = str(locked.retry_after)
        return response
    except UnauthorizedError as refused:
        if refused.detail == "account_disabled":  # said only to who knows the password
            return refuse(403, username, _("Akun ini dinonaktifkan. Hubungi admin Anda."))
        if refused.detail == "temporary_password_expired":  # the same
            return refuse(
                403,
                username,
                _("Kata sandi sementara ini sudah kedaluwarsa. Minta admin Anda mengaturnya ulang."),
            )
        # One answer for a wrong name and a wrong password: the form tells nobody who exists.
        return refuse(401, username, _("Nama pengguna atau kata sandi salah."))
    session.clear()  # a fresh session: nothing from before the sign-in carries over
    session[key] = account.username
    session[f"{key}_id"] = staff_sessions().start(
        account.username, key, limits.client_address(), services().clock()
    )
    session[f"{key}_seen"] = int(time.time())
    return account


def safe_next(prefix: str, default: str) -> str:
    """The ``next`` page after a sign-in, if it is one of this surface's (never another site)."""
    target = request.args.get("next", "")
    return target if target.startswith(prefix) else default
