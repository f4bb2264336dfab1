"""What the participant pages show of a place held for its phone's one-time code
(``PHONE_VERIFICATION``): the masked number the code went to, the deadline and the time
left, when a new code may be asked for, and how many wrong codes are still allowed.

How far the hold has got, and the time left, are the domain's (``HoldProgress``, read
against Redis's clock, on which its deadline and sends are written).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, session

from queue_service.domain import catalog, schedules
from queue_service.domain.reservations import Booking
from queue_service.domain.reservations.holds import SENDS_ALLOWED, WRONG_CODES_ALLOWED
from queue_service.web.extensions import services

# The session's entry naming the booking this browser made last: [branch_id, code]. The
# signed session is what lets this browser (and only it) confirm that hold.
LAST_BOOKING = "booking"


def own_booking(booking: Booking) -> bool:
    """Whether ``booking`` is the one this browser made last."""
    return session.get(LAST_BOOKING) == [booking.branch_id, booking.code]


def local_phone(phone: str) -> str:
    """``0812****7890``: the number as its owner writes it, masked (stored ``+62…``)."""
    local = "0" + phone[3:] if phone.startswith("+62") else phone
    if len(local) <= 8:
        return "*" * len(local)
    return local[:4] + "*" * (len(local) - 8) + local[-4:]


def hold_deadline(booking: Booking, timezone: str | None = None) -> str:
    """``10:25 WIB``: until when a hold waits for its code, on its branch's wall clock."""
    if booking.verify_by is None:
        return ""
    if timezone is None:
        timezone = catalog.get_branch(services().redis, booking.branch_id).timezone
    until = booking.verify_by.astimezone(ZoneInfo(timezone))
    return f"{until:%H:%M} {schedules.timezone_label(timezone)}"


def hold_context(booking: Booking) -> dict:
    """What the verification page shows of the hold ``booking``."""
    office = catalog.get_branch(services().redis, booking.branch_id)
    progress = services().reservations.hold_progress(booking)
    return {
        "booking": booking,
        "branch": office,
        "service": catalog.service_at(services().redis, booking.branch_id, booking.service_id),
        "phone": local_phone(booking.phone),
        "deadline": hold_deadline(booking, office.timezone),
        "seconds_left": progress.seconds_left(booking),
        "resends_left": progress.resends_left,
        "resends_allowed": SENDS_ALLOWED - 1,
        "tries_allowed": WRONG_CODES_ALLOWED,
        "resend_in": progress.resend_in_seconds,
        "tries_left": progress.tries_left,
        "printed_in_terminal": current_app.config.get("APP_ENV") == "development"
        and current_app.config.get("SMS_BACKEND") == "console",
    }


def release_reason(booking: Booking) -> str:
    """Why a hold was released: ``wrong`` (the last wrong code allowed) or ``deadline``."""
    return "wrong" if services().reservations.hold_progress(booking).released_by_wrong_codes else "deadline"
