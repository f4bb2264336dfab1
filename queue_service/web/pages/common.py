"""What every page shares: rendering, compression, errors as HTML, messages, and the
signed-in sessions of the staff surfaces (the admin console, the counter page)."""

from __future__ import annotations

import functools
import gzip
import logging
import time
from collections.abc import Callable

import segno
from flask import Blueprint, Response, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from redis import Redis
from werkzeug.exceptions import HTTPException

from queue_service.domain import catalog, schedules
from queue_service.domain.accounts import Account
from queue_service.domain.errors import DomainError, UnauthorizedError
from queue_service.domain.requirements import requirements_for
from queue_service.domain.reservations import Booking
from queue_service.domain.sign_in import LockedOutError
from queue_service.domain.staff_sessions import StaffSessions
from queue_service.extensions import services
from queue_service.web import i18n, limits, messages
from queue_service.web.errors import STATUS_OF_CODE, STORE_ERRORS
from queue_service.web.pages.assets import asset_url

log = logging.getLogger(__name__)

# Compressing a page smaller than this costs more than it saves.
_MIN_GZIP_BYTES = 512
# Everything a page loads comes from this service (no third-party host can slow or track a
# participant); no inline script; forms post only here; no page can frame ours.
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; media-src 'self'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    # /kelola?kode=… must not travel to another site in a Referer.
    "Referrer-Policy": "same-origin",
}


def error_text(code: str, args: dict | None = None) -> str:
    """The API's message for an error code, in the page's language (one copy of the texts)."""
    return messages.error_message(code, i18n.page_locale(), args)


def field_texts(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """Field message keys (as the API's schemas and the domain give them) as text."""
    locale = i18n.page_locale()
    return {name: [messages.field_message(key, locale) for key in keys] for name, keys in fields.items()}


def slot_label(start: str, end: str, timezone: str) -> str:
    """ "09:00–09:30 WIB"."""
    return f"{start}–{end} {schedules.timezone_label(timezone)}"


def wait_minutes(seconds: int | None) -> str:
    """An estimated wait as people read it: "± 12 menit", "< 1 menit", or "—" (not known yet)."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return _("< 1 menit")
    return _("± %(minutes)d menit", minutes=round(seconds / 60))


def group_code(code: str) -> str:
    """A booking code in groups of five for reading aloud: "7K3QX 9MZ2W"."""
    return " ".join(code[i : i + 5] for i in range(0, len(code), 5))


def booking_context(redis: Redis, booking: Booking) -> dict:
    """What the confirmation and the manage pages show of a booking."""
    office = catalog.get_branch(redis, booking.branch_id)
    service = next(s for s in catalog.list_services(redis) if s.id == booking.service_id)
    # A full QR, never a Micro QR (which segno.make picks for short texts): kiosk scanners
    # and phone cameras read the first. It holds the code alone, as a scanner types it.
    qr = segno.make_qr(booking.code, error="m").svg_inline(
        scale=4, border=4, dark="#111", light="#fff", omitsize=True, title=_("Kode QR antrian")
    )
    return {
        "booking": booking,
        "branch": office,
        "service": service,
        "qr": qr,
        "requirements": requirements_for(booking.service_id),
    }


def render(template: str, status: int = 200, personal: bool = False, **context) -> Response:
    """The page ``template``; ``personal`` pages (NIK, phone, booking) are never cached."""
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store" if personal else "no-cache"
    return response


def _finish(response: Response) -> Response:
    """Security headers on every page, then compression."""
    if response.mimetype == "text/html":
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
    return _compress(response)


def _compress(response: Response) -> Response:
    """gzip an HTML page for a browser that takes it: most participants are on slow data."""
    if (
        response.mimetype != "text/html"
        or response.direct_passthrough
        or "gzip" not in request.headers.get("Accept-Encoding", "")
        or "Content-Encoding" in response.headers
    ):
        return response
    body = response.get_data()
    if len(body) >= _MIN_GZIP_BYTES:
        response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


def _error_page(code: str, status: int) -> Response:
    return render("participant/error.html", status=status, message=error_text(code))


def make_page_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint whose errors are HTML pages in the page's language, and whose pages are
    sent compressed."""
    bp = Blueprint(name, import_name)
    bp.after_request(_finish)

    @bp.errorhandler(DomainError)
    def _domain(error: DomainError):
        return _error_page(error.code, STATUS_OF_CODE.get(error.code, 500))

    @bp.errorhandler(CSRFError)
    def _csrf(_error: CSRFError):
        # An expired or missing form token: the form is simply sent again.
        return render(
            "participant/error.html", status=400, message=error_text("bad_request"), csrf_expired=True
        )

    @bp.errorhandler(HTTPException)
    def _http(error: HTTPException):
        code = {404: "not_found", 405: "method_not_allowed", 429: "rate_limited"}.get(
            error.code or 500, "bad_request"
        )
        response = _error_page(code, error.code or 500)
        if error.code == 429:
            response.headers.update(limits.refusal_headers())
        return response

    def _store_down(error: Exception):
        log.warning("data store unreachable: %s", error)
        response = _error_page("unavailable", 503)
        response.headers["Retry-After"] = "5"
        return response

    for store_error in STORE_ERRORS:
        bp.register_error_handler(store_error, _store_down)
    return bp


def template_helpers() -> dict:
    """Functions every page template may call."""
    return {
        "asset_url": asset_url,
        "slot_label": slot_label,
        "group_code": group_code,
        "timezone_label": schedules.timezone_label,
        "page_locale": i18n.page_locale,
        "wait_minutes": wait_minutes,
        "switch_url": i18n.switch_url,
    }


# Staff sessions. Flask's signed cookie (HttpOnly, SameSite, Secure in production) holds the
# username under the surface's key and the time of its last request under ``<key>_seen``; it
# ends after ``ADMIN_SESSION_IDLE_MINUTES`` without one.


def session_account(key: str, touch: bool = True) -> Account | None:
    """The account signed in under ``session[key]``, or None (never, signed out, or idle too
    long).

    Args:
        touch: count this request as activity; a page's own background polling does not,
            so an unattended screen still signs out.
    """
    username, seen = session.get(key), session.get(f"{key}_seen", 0)
    idle = current_app.config["ADMIN_SESSION_IDLE_MINUTES"] * 60
    live = (
        username
        and time.time() - seen <= idle
        and _staff_sessions().holder(session.get(f"{key}_id"), touch) == username
    )
    account = services().accounts.get(username) if live else None
    if account is None:
        session.pop(key, None)
        return None
    if touch:
        session[f"{key}_seen"] = int(time.time())
    return account


def sign_out(key: str) -> None:
    """End the session under ``key`` in the data store too: its cookie is dead everywhere."""
    _staff_sessions().end(session.get(f"{key}_id"))
    session.clear()


def _staff_sessions() -> StaffSessions:
    return StaffSessions(services().redis, current_app.config["ADMIN_SESSION_IDLE_MINUTES"] * 60)


def signed_in(key: str, sign_in_endpoint: str):
    """A view decorator: the view needs a session under ``key`` (its account in
    ``g.account``); without one the browser goes to ``sign_in_endpoint``."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            account = session_account(key)
            if account is None:
                # Back to this page after the sign-in; a form's post is not repeated.
                back = request.path if request.method == "GET" else None
                return redirect(url_for(sign_in_endpoint, next=back))
            g.account = account
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
    except UnauthorizedError:
        # One answer for a wrong name and a wrong password: the form tells nobody who exists.
        return refuse(401, username, _("Nama pengguna atau kata sandi salah."))
    session.clear()  # a fresh session: nothing from before the sign-in carries over
    session[key] = account.username
    session[f"{key}_id"] = _staff_sessions().start(account.username)
    session[f"{key}_seen"] = int(time.time())
    return account


def safe_next(prefix: str, default: str) -> str:
    """The ``next`` page after a sign-in, if it is one of this surface's (never another site)."""
    target = request.args.get("next", "")
    return target if target.startswith(prefix) else default
