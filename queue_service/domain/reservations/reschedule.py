"""Moving a booking to another slot or date of its branch.

A move to another date follows the booking's order with the booking's own code: claim the
new date, move the booking in the branch (one script), then release the old date's claim.
Until the move commits, the booking still holds its old date and the new claim is pending;
a claim whose booking now stands on another date is stale and may be taken over, like any
abandoned claim, after the claim window.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from redis import Redis

from queue_service.domain import schedules
from queue_service.domain.errors import (
    CancelledError,
    HoldExpiredError,
    NotFoundError,
    StoreUnavailableError,
    TooLateError,
)
from queue_service.domain.reservations.bookable import REFUSALS, bookable_slot, load_context
from queue_service.domain.reservations.lookup import BookingLookup
from queue_service.domain.reservations.nik_claims import NikClaims
from queue_service.domain.reservations.phone_caps import PhoneCaps, day_ends_ms
from queue_service.domain.reservations.records import MIN_KEEP_MS, Booking, BookingRequest, expire_at_ms
from queue_service.store import keys
from queue_service.store.outcomes import BookingOutcome
from queue_service.store.scripts import Scripts

log = logging.getLogger(__name__)

_ATTEMPTS = 3


class Rescheduling:
    """Moving bookings over the data store (``decode_responses=True``).

    Args:
        retention: how long after the visit day a booking's keys are kept.
        collective_leave_closed: whether *cuti bersama* closes every branch.
    """

    def __init__(
        self,
        redis: Redis,
        scripts: Scripts,
        claims: NikClaims,
        lookup: BookingLookup,
        retention: dt.timedelta,
        collective_leave_closed: bool = True,
        phones: PhoneCaps | None = None,
    ):
        self.redis = redis
        self.scripts = scripts
        self.claims = claims
        self.lookup = lookup
        self.phones = phones
        self._retention = retention
        self.collective_leave_closed = collective_leave_closed

    def reschedule(
        self, typed_code: str, nik: str, day: dt.date, slot_start: dt.time, now: dt.datetime
    ) -> Booking:
        """Move the booking with this code and NIK to another slot or date of its branch.

        One atomic step in the branch takes the new place and frees the old one, so the
        participant never holds none or two; on another date the NIK's new date is claimed
        first and the old one released after. The code stays; the queue number is the new
        day's next one (on the same day it stays). A move to the place the booking holds
        changes nothing and returns it as it stands.

        Returns:
            The booking as it now stands.

        Raises:
            NotFoundError: no booking has this code with this NIK.
            CancelledError: it was cancelled; TooLateError: its slot has started, or it was
                checked in.
            NotBookableError: the new day or slot does not take bookings, or the branch is
                retired or no longer offers the booking's service (it moves no booking).
            AlreadyBookedError: the NIK holds another booking on the new date.
            DayFullError, SlotFullError: no place left there.
            StoreUnavailableError: the attempts kept stalling or meeting a settings change.
        """
        booking = self.lookup.lookup(typed_code, nik)
        token = secrets.token_hex(8)
        for _attempt in range(_ATTEMPTS):
            moved = self._try_reschedule(booking, day, slot_start, now, token)
            if moved is not None:
                # No SMS yet for a reschedule: the page shows the new place at once.
                return moved
            booking = self.lookup.get(booking.branch_id, booking.code)
        raise StoreUnavailableError("reschedule kept stalling")

    def _try_reschedule(
        self, booking: Booking, day: dt.date, slot_start: dt.time, now: dt.datetime, token: str
    ) -> Booking | None:
        """One attempt of ``reschedule``; None when it must start over with fresh reads."""
        if booking.status == "cancelled":
            raise CancelledError()
        if booking.status == "expired":  # a hold released unverified: nothing to move
            raise HoldExpiredError()
        if booking.status != "booked":
            raise TooLateError(booking.status)
        request = BookingRequest(
            booking.branch_id,
            booking.service_id,
            day,
            slot_start,
            booking.name,
            booking.nik,
            booking.kpj,
            booking.phone,
        )
        context = load_context(self.redis, request)
        branch = context.branch
        now_local = schedules.local_now(now, branch.timezone)
        if now_local >= dt.datetime.combine(booking.date, booking.slot_start, tzinfo=now_local.tzinfo):
            raise TooLateError("slot_started")
        if day == booking.date and slot_start == booking.slot_start:
            # Nothing to move: a client re-sending a move whose answer it lost is answered
            # as the first time, not refused.
            return booking
        slot = bookable_slot(context, day, slot_start, now_local, self.collective_leave_closed)

        old_day, new_day = booking.date.isoformat(), day.isoformat()
        digest = self.claims.digest(booking.nik)
        expire_at = expire_at_ms(day, branch.timezone, self._retention)
        new_claim = keys.nik_day_claim(digest, new_day)
        claim_at = ""
        if new_day != old_day:
            # Kept for the new date before the move, so that no moment finds the moved booking
            # without its entry (it is only ever extended).
            self.claims.refuse_if_held_before(booking.nik, new_day, own_code=booking.code)
            self.scripts.keep_until(keys=[keys.code_branch(booking.code)], args=[expire_at, MIN_KEEP_MS])
            claim_at = self.claims.claim(new_claim, booking.code, branch.id, expire_at)
        b = branch.id
        reply = self.scripts.reschedule(
            keys=[
                keys.branch_settings(b),
                keys.branch_dates(b),
                keys.branch_national_closures(b),
                keys.booking(b, booking.code),
                keys.slot_counts(b, old_day),
                keys.day_counts(b, old_day),
                keys.day_bookings(b, old_day),
                keys.slot_counts(b, new_day),
                keys.day_counts(b, new_day),
                keys.queue_sequence(b, new_day),
                keys.day_bookings(b, new_day),
                keys.sms_reminders(b),
                keys.sms_reminders_planned(b),
                keys.waiters(b, new_day),
            ],
            args=[
                booking.code,
                old_day,
                booking.slot_start.strftime("%H:%M"),
                new_day,
                slot.label,
                slot.end.strftime("%H:%M"),
                context.service.prefix,
                claim_at,
                self.claims.claim_ms // 2,
                expire_at,
                token,
                context.settings_sha1,
                MIN_KEEP_MS,
            ],
        )
        outcome = BookingOutcome.read(reply)
        if not outcome.ok:
            if claim_at != "":
                # Only the claim: the code's look-up index still serves the old date.
                self.claims.release(new_claim, booking.code)
            if outcome.verdict == "missing":
                raise NotFoundError("booking")
            if outcome.verdict == "status":
                status = outcome.current_status
                raise CancelledError() if status == "cancelled" else TooLateError(status)
            if outcome.verdict in REFUSALS:
                raise REFUSALS[outcome.verdict](outcome.verdict)
            log.info("reschedule attempt starts over: %s", outcome.verdict)
            return None
        if claim_at != "":
            self.claims.confirm(new_claim, booking.code, b, expire_at)
            self.claims.release(keys.nik_day_claim(digest, old_day), booking.code)
            if self.phones is not None:
                # The phone's count follows the booking to its new day (a move that fails
                # here leaves the entry ending with the old day).
                self.phones.move(
                    self.phones.key(booking.phone), booking.code, day_ends_ms(day, branch.timezone)
                )
        return self.lookup.get(b, booking.code)
