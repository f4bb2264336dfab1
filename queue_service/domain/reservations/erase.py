"""Erasing a participant's personal data from a booking that no longer stands (UU PDP).

The booking's record keeps what the day's counts and reports need (status, date, slot,
service, queue number, times) and loses, in one step under its branch's hash tag, every field
that leads to its person (``records.PERSONAL_FIELDS``); the NIK's claim and the phone's
count, which live in other slots and are named by keyed hashes of the NIK and phone, are freed
just before, while the record still says which they are. Look-ups answer 404 from then on.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from redis import Redis

from queue_service.domain import audit, catalog
from queue_service.domain.errors import NotFoundError, StillActiveError
from queue_service.domain.reservations.lookup import BookingLookup
from queue_service.domain.reservations.nik_claims import NikClaims
from queue_service.domain.reservations.phone_caps import PhoneCaps
from queue_service.domain.reservations.records import PERSONAL_FIELDS, SEALED_FIELD, Booking
from queue_service.store import keys
from queue_service.store.outcomes import BookingOutcome
from queue_service.store.scripts import Scripts

ACTION = "booking_erased"
# Statuses in which a booking no longer stands, whatever its day; "left": a waitlist entry
# (domain.waitlist) that left, erased as a cancelled booking is.
ENDED = frozenset({"cancelled", "expired", "left"})
# The participant erases their own data: the audit entry names no address (that is personal
# data too) and nothing of the person; the booking's code and branch say which it was.
PARTICIPANT = audit.Actor("participant", "participant", "")


def erasable(booking: Booking, timezone: str, now: dt.datetime) -> bool:
    """Whether ``booking`` (of a branch in ``timezone``) no longer stands at ``now``: cancelled,
    a hold released unverified, a waitlist entry that left, or its day over."""
    return booking.status in ENDED or booking.date < now.astimezone(ZoneInfo(timezone)).date()


class Erasure:
    """Erasing bookings' personal data over the data store (``decode_responses=True``)."""

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

    def erase(self, typed_code: str, nik: str, now: dt.datetime) -> Booking:
        """Erase the personal data of the booking (or waitlist entry) with this code and NIK,
        audited in its branch's stream without any of it.

        Returns:
            The booking as it stood before.

        Raises:
            NotFoundError: no booking has this code with this NIK (or it was erased already).
            StillActiveError: it still stands (not cancelled, and its day not over).
        """
        booking = self.lookup.lookup(typed_code, nik, entries=True)
        branch = catalog.get_branch(self.redis, booking.branch_id)
        if not erasable(booking, branch.timezone, now):
            raise StillActiveError(booking.status)
        today = now.astimezone(ZoneInfo(branch.timezone)).date()
        # Other slots first, while the record still names the NIK and phone; each frees only
        # what this code holds, so running them for a booking that then stays is harmless.
        self.claims.release(self.claims.key(booking.nik, booking.date.isoformat()), booking.code)
        if self.phones is not None:
            self.phones.release(self.phones.key(booking.phone), booking.code)
        entry = audit.fields_of(
            PARTICIPANT,
            ACTION,
            f"{booking.branch_id}/{booking.code}",
            {"status": booking.status},
            {"erased": True},
            now,
        )
        outcome = BookingOutcome.read(
            self.scripts.erase(
                keys=[keys.booking(booking.branch_id, booking.code), keys.branch_audit(booking.branch_id)],
                args=[
                    today.isoformat(),
                    now.isoformat(),
                    len(PERSONAL_FIELDS),
                    *PERSONAL_FIELDS,
                    f"{SEALED_FIELD}:",
                    *entry,
                ],
            )
        )
        if outcome.verdict == "missing":
            raise NotFoundError("booking")
        if outcome.verdict == "status":
            raise StillActiveError(outcome.current_status)
        return booking
