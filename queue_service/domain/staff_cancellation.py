"""A branch's staff or admin cancels one booking by its code, with a reason (SPEC §6): the
participant's own cancellation (slot, quota and the NIK's date freed at once, the SMS on the
outbox), with an audit entry written by the same step. Who may is ``authz``'s rule
(``Action.CANCEL_BOOKING``); what a reason must be is this module's, for every surface.
"""

from __future__ import annotations

import datetime as dt

from queue_service.domain import audit
from queue_service.domain.accounts import COUNTER_STAFF, Account
from queue_service.domain.audit import Actor
from queue_service.domain.authz import Action, require
from queue_service.domain.errors import ValidationFailedError
from queue_service.domain.reservations import Booking, Reservations

REASON_MAX_LENGTH = 200
ACTION = "booking_cancelled"


def checked_reason(reason: str | None) -> str:
    """The reason as it is recorded (trimmed).

    Raises:
        ValidationFailedError: ``reason``: missing or blank (``required``), or longer than
            ``REASON_MAX_LENGTH`` characters (``too_long``).
    """
    text = (reason or "").strip()
    if not text:
        raise ValidationFailedError({"reason": ["required"]})
    if len(reason or "") > REASON_MAX_LENGTH:
        raise ValidationFailedError({"reason": ["too_long"]})
    return text


def cancellable(reservations: Reservations, account: Account, typed_code: str) -> Booking:
    """The booking with this code, if ``account`` may cancel it.

    Raises:
        NotFoundError: the code is malformed, or no booking has it.
        ForbiddenError: the booking is of a branch the account may not cancel at.
    """
    booking = reservations.find(typed_code)
    require(account, Action.CANCEL_BOOKING, booking.branch_id)
    return booking


def cancel(
    reservations: Reservations,
    account: Account,
    typed_code: str,
    reason: str | None,
    actor: Actor,
    now: dt.datetime,
) -> Booking:
    """Cancel the booking with this code for ``reason``, as ``account`` (from ``actor``'s
    address), audited in the booking's branch: who, when, the booking before (its queue
    number, date, slot and service, never the participant's NIK or phone) and after (with the
    reason).

    Returns:
        The booking as it now stands.

    Raises:
        ValidationFailedError: the reason (see ``checked_reason``), judged first.
        NotFoundError, ForbiddenError: as ``cancellable``.
        CancelledError: it was cancelled already.
        TooLateError: its slot has started, or it was checked in (or served, or missed).
    """
    text = checked_reason(reason)
    booking = cancellable(reservations, account, typed_code)
    before = audited(booking)
    after = {**before, "status": "cancelled", "reason": text}
    entry = audit.fields_of(actor, ACTION, f"{booking.branch_id}/{booking.code}", before, after, now)
    return reservations.cancel_booking(booking, now, cancelled_by(account), audit_entry=entry)


def cancelled_by(account: Account) -> str:
    """Who cancelled, as the booking records it: ``staff:<username>`` or ``admin:<username>``."""
    return f"{'staff' if account.role == COUNTER_STAFF else 'admin'}:{account.username}"


def audited(booking: Booking) -> dict[str, str]:
    """What an audit entry records of a booking a staff member cancels: never the
    participant's NIK or phone."""
    return {
        "status": booking.status,
        "queue_number": booking.queue_number,
        "date": booking.date.isoformat(),
        "slot": f"{booking.slot_start:%H:%M}",
        "service_id": booking.service_id,
    }
