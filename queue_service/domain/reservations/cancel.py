"""Cancelling a booking: its slot, quota, the NIK's date and its place under the phone's cap
are freed."""

from __future__ import annotations

import datetime as dt
import secrets

from redis import Redis

from queue_service.domain import catalog
from queue_service.domain.errors import CancelledError, NotFoundError, TooLateError
from queue_service.domain.reservations.lookup import BookingLookup
from queue_service.domain.reservations.nik_claims import NikClaims
from queue_service.domain.reservations.phone_caps import PhoneCaps
from queue_service.domain.reservations.records import Booking
from queue_service.store import keys
from queue_service.store.outcomes import BookingOutcome
from queue_service.store.scripts import Scripts


class Cancellation:
    """Cancelling bookings over the data store (``decode_responses=True``)."""

    def __init__(
        self,
        redis: Redis,
        scripts: Scripts,
        claims: NikClaims,
        lookup: BookingLookup,
        phones: PhoneCaps | None = None,
    ):
        self.redis = redis
        self.scripts = scripts
        self.claims = claims
        self.lookup = lookup
        self.phones = phones

    def cancel_booking(
        self, booking: Booking, now: dt.datetime, by: str, audit_entry: list[str] | None = None
    ) -> Booking:
        """Cancel ``booking`` (already authorised by the caller), in one script with its SMS
        put on the outbox (and ``audit_entry``, as ``audit.fields_of`` makes it, appended to
        the branch's audit stream), then free the NIK's date and the booking's place under its
        phone's cap (each in its own slot; one left behind by a failure there is found stale
        when the cap next refuses: see ``phone_caps``).

        Returns:
            The booking as it now stands.

        Raises:
            NotFoundError: it is gone.
            CancelledError: it was cancelled already.
            TooLateError: the slot has started, or the booking was checked in.
        """
        if booking.status == "cancelled":
            raise CancelledError()
        branch = catalog.get_branch(self.redis, booking.branch_id)
        if now >= booking.starts_at(branch.timezone):
            raise TooLateError("slot_started")
        day = booking.date.isoformat()
        audited = [keys.branch_audit(booking.branch_id)] if audit_entry else []
        outcome = BookingOutcome.read(
            self.scripts.cancel(
                keys=[
                    keys.booking(booking.branch_id, booking.code),
                    keys.slot_counts(booking.branch_id, day),
                    keys.day_counts(booking.branch_id, day),
                    keys.sms_outbox(booking.branch_id),
                    *audited,
                ],
                args=[now.isoformat(), by, booking.code, secrets.token_hex(8), *(audit_entry or [])],
            )
        )
        if outcome.verdict == "missing":
            raise NotFoundError("booking")
        if outcome.verdict == "status":
            raise (
                CancelledError()
                if outcome.current_status == "cancelled"
                else TooLateError(outcome.current_status)
            )
        self.claims.release(self.claims.key(booking.nik, day), booking.code)
        if self.phones is not None:
            self.phones.release(self.phones.key(booking.phone), booking.code)
        return self.lookup.get(booking.branch_id, booking.code)
