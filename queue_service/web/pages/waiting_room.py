"""The waiting room's page (issue 21, SPEC §6 "Fair opening"): while a branch's room is open,
the booking pages of that branch send a participant without a valid admission pass here.

The page joins the room (the browser's ticket kept in a cookie, so a reload or a return
keeps its place), says when the release is, where the ticket stands and about how long it
waits, and asks again by itself: without JavaScript a ``<meta http-equiv="refresh">``
(inside ``<noscript>``), with it ``static/waiting_room.js``, which puts the new standing in
the page's live region instead of reloading it. Once admitted, the pass goes into the
pages' cookie and the participant on to where they were going (a local ``next`` only).
The kiosk and the counter never come here.
"""

from __future__ import annotations

import datetime as dt
import secrets
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Response, redirect, request, url_for

from queue_service.domain import catalog, schedules
from queue_service.domain.errors import NotAdmittedError, NotFoundError, RoomFullError
from queue_service.domain.waiting_room import ADMITTED, PASS_SECONDS, Room, Standing, WaitingRooms
from queue_service.web import limits
from queue_service.web.booking import ADMISSION_PASS_COOKIE
from queue_service.web.errors import domain_error_headers
from queue_service.web.extensions import services
from queue_service.web.pages.page_blueprints import make_page_blueprint
from queue_service.web.pages.rendering import render

bp = make_page_blueprint("waiting_room_page", __name__)

# The browser's ticket in a branch's room: a reload or a return keeps its place.
TICKET_COOKIE = "antrian_ticket"
# How often the page asks again (seconds): as a rule, and once the turn is near.
_REFRESH_SECONDS = 15
_NEAR_REFRESH_SECONDS = 5
_NEAR_SECONDS = 30


def send_to_room(branch_id: str, goto: str | None = None) -> Response | None:
    """A redirect to the branch's waiting page while its room is open and this browser holds
    no valid pass for it; None when the booking pages may go on (no room, or a pass).

    ``goto``: where to come back to once admitted (this request's own page by default).
    """
    rooms = services().waiting_rooms
    room = rooms.room_of(branch_id, services().clock())
    if room is None or _holds_pass(rooms, room):
        return None
    if goto is None:
        goto = request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
    return redirect(url_for("waiting_room_page.wait", branch_id=branch_id, next=goto), 303)


@bp.get("/ruang-tunggu/<branch_id>")
@limits.read
def wait(branch_id: str):
    """Join the branch's room (or keep this browser's place in it) and say where it stands;
    go on once admitted, or at once when no room is open."""
    office = catalog.get_branch(services().redis, branch_id)
    goto = local_url(request.args.get("next"), url_for("participant.branch", branch_id=office.id))
    now = services().clock()
    rooms = services().waiting_rooms
    room = rooms.room_of(office.id, now)
    if room is None or _holds_pass(rooms, room):
        return redirect(goto, 303)
    release = _clock_time(room.release_at, office.timezone)
    try:
        standing = _join(rooms, room, now)
    except RoomFullError as error:
        page = render(
            "participant/waiting_room.html",
            status=429,
            branch=office,
            full=True,
            allowed=room.settings.tickets_per_address,
            closes=_clock_time(room.closes_at, office.timezone),
        )
        page.headers.update(domain_error_headers(error))
        return page
    if standing.state == ADMITTED:
        response = redirect(goto, 303)
        _set_cookie(response, ADMISSION_PASS_COOKIE, standing.admission_pass or "", PASS_SECONDS)
    else:
        refresh = _refresh_seconds(room, standing, now)
        response = render(
            "participant/waiting_room.html",
            branch=office,
            standing=standing,
            release=release,
            released=now >= room.release_at,
            refresh=refresh,
            here=request.full_path.rstrip("?"),
        )
        # Each refresh asks again: never served from a cache.
        response.headers["Cache-Control"] = "no-store"
    seconds_left = int((room.closes_at - now).total_seconds())
    _set_cookie(response, TICKET_COOKIE, standing.ticket or "", max(60, seconds_left))
    return response


def local_url(candidate: str | None, fallback: str) -> str:
    """``candidate`` if it is a path on this site (``/cabang/…?…``), else ``fallback``: the
    page never sends a participant to another site (no open redirect)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return fallback
    if any(ord(char) < 0x20 or char == "\\" for char in candidate):
        return fallback
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return fallback
    return candidate


def _holds_pass(rooms: WaitingRooms, room: Room) -> bool:
    try:
        rooms.check_pass(room, request.cookies.get(ADMISSION_PASS_COOKIE))
    except NotAdmittedError:
        return False
    return True


def _join(rooms: WaitingRooms, room: Room, now: dt.datetime) -> Standing:
    """This browser's ticket (its own back if it holds one), or a new one at the end of the
    line if its own lost its place (an admission not taken up in time)."""
    address = limits.client_address()
    try:
        return rooms.join(room, address, request.cookies.get(TICKET_COOKIE), now)
    except NotFoundError:
        return rooms.join(room, address, None, now)


def _refresh_seconds(room: Room, standing: Standing, now: dt.datetime) -> int:
    """When the page asks again: just after the release while it is near (a few seconds'
    spread, so the room's browsers do not all ask in the same second), sooner when the turn
    is near, else every 15 seconds."""
    if now < room.release_at:
        until = (room.release_at - now).total_seconds()
        return int(max(2, min(_REFRESH_SECONDS, until + 1 + secrets.randbelow(4))))
    wait = standing.estimated_wait_seconds
    if wait is not None and wait <= _NEAR_SECONDS:
        return _NEAR_REFRESH_SECONDS
    return _REFRESH_SECONDS


def _clock_time(moment: dt.datetime, timezone: str) -> str:
    """ "07:00 WIB": a moment on the branch's wall clock."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%H:%M} {schedules.timezone_label(timezone)}"


def _set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="Lax", secure=request.is_secure, path="/"
    )
