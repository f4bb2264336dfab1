"""A place held until the phone that will receive the booking confirms it (``PHONE_VERIFICATION``).

A new booking is written ``pending`` with a deadline and a six-digit one-time code, whose SMS
goes out through the outbox like every other; it counts against the slot, the day's quota,
the NIK's date and the phone's cap while it waits. The code typed back in time makes it
``booked`` (and only then is the booking's SMS written); the last wrong code allowed, or the
deadline, releases it: ``expired``, its place free again, its queue number never issued twice.

Releases happen on Redis's clock, in the branch's own step (``release_holds.lua``): the next
reservation at the branch releases the holds that ran out, a late verification releases its
own, and the worker sweeps every branch. The NIK's date and the phone's count live in other
cluster slots: a release here frees them right after; one missed (a failure between the two)
is found stale by the next claim or count, as an expired hold holds neither.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from redis import Redis

from queue_service.domain.errors import (
    CancelledError,
    HoldExpiredError,
    NotFoundError,
    ResendLimitError,
    VerificationFailedError,
)
from queue_service.domain.reservations.expired_holds import RELEASE_BATCH, release_expired
from queue_service.domain.reservations.lookup import BookingLookup
from queue_service.domain.reservations.nik_claims import NikClaims
from queue_service.domain.reservations.phone_caps import PhoneCaps
from queue_service.domain.reservations.records import Booking
from queue_service.store import keys
from queue_service.store.outcomes import HoldOutcome
from queue_service.store.scripts import Scripts

log = logging.getLogger(__name__)

# Wrong codes a hold survives: the third releases it (a six-digit code guessed in three tries:
# 3 in a million).
WRONG_CODES_ALLOWED = 3
# Codes sent per hold: the first and three more on request, one a minute.
SENDS_ALLOWED = 4
RESEND_INTERVAL_MS = 60_000


@dataclass(frozen=True)
class HoldProgress:
    """How far a hold has got, as its scripts wrote it, read against Redis's clock (the one
    its deadline and sends are written on)."""

    sends: int  # codes sent so far, the first included
    sent_ms: int  # when the last went (ms)
    failures: int  # wrong codes typed
    now_ms: int  # Redis's clock as it was read

    @property
    def resends_left(self) -> int:
        return max(0, SENDS_ALLOWED - self.sends)

    @property
    def resend_in_seconds(self) -> int:
        """Seconds until a new code may be asked for (0: now)."""
        return max(0, math.ceil((self.sent_ms + RESEND_INTERVAL_MS - self.now_ms) / 1000))

    @property
    def tries_left(self) -> int:
        return max(0, WRONG_CODES_ALLOWED - self.failures)

    @property
    def released_by_wrong_codes(self) -> bool:
        """Whether its wrong codes (not its deadline) let it go, once it is released."""
        return self.failures >= WRONG_CODES_ALLOWED

    def seconds_left(self, booking: Booking) -> int:
        """Seconds until ``booking``'s deadline (0 once past)."""
        return max(0, math.ceil(((booking.verify_by_ms or self.now_ms) - self.now_ms) / 1000))


def new_one_time_code() -> str:
    """Six random digits (``secrets``: not to be guessed from earlier ones)."""
    return f"{secrets.randbelow(10**6):06d}"


class PhoneVerification:
    """Confirming, re-sending the code of, and releasing held places, over the data store.

    Args:
        redis: the data store (``decode_responses=True``).
        scripts: its scripts.
        claims: the NIKs' date claims, freed as their holds are released.
        phones: the per-phone cap, likewise.
        lookup: finds a booking by code and NIK.
        on_booked: called with a hold once its code confirmed it; must not raise.
    """

    def __init__(
        self,
        redis: Redis,
        scripts: Scripts,
        claims: NikClaims,
        phones: PhoneCaps,
        lookup: BookingLookup,
        on_booked: Callable[[Booking], None] = lambda booking: None,
    ):
        self.redis = redis
        self.scripts = scripts
        self.claims = claims
        self.phones = phones
        self.lookup = lookup
        self._on_booked = on_booked

    def verify(self, typed_code: str, nik: str, one_time_code: str) -> Booking:
        """Confirm the hold with this code and NIK by the one-time code sent to its phone.

        Returns:
            The booking, ``booked`` (also when it was confirmed already: a re-sent call).

        Raises:
            NotFoundError: no booking has this code with this NIK.
            VerificationFailedError: a wrong code (``left`` 0: it was the last one allowed,
                and the hold is released).
            HoldExpiredError: the hold was released (time ran out, or too many wrong codes).
            CancelledError: it was cancelled.
        """
        booking = self.lookup.lookup(typed_code, nik)
        outcome = HoldOutcome.read(
            self.scripts.verify_hold(
                keys=[
                    keys.booking(booking.branch_id, booking.code),
                    keys.branch_holds(booking.branch_id),
                    keys.sms_outbox(booking.branch_id),
                ],
                args=[
                    one_time_code,
                    WRONG_CODES_ALLOWED,
                    booking.code,
                    *keys.hold_release_prefixes(booking.branch_id),
                ],
            )
        )
        if outcome.verdict == "missing":
            raise NotFoundError("booking")
        if outcome.verdict == "released":
            self._free_person(booking)
            if outcome.reason == "deadline":
                raise HoldExpiredError("deadline")
            raise VerificationFailedError(0)
        if outcome.verdict == "status":
            raise CancelledError() if outcome.current_status == "cancelled" else HoldExpiredError()
        if outcome.verdict == "wrong":
            raise VerificationFailedError(int(outcome.left))
        confirmed = self.lookup.get(booking.branch_id, booking.code)
        if booking.status == "pending":
            self._on_booked(confirmed)
        return confirmed

    def resend(self, typed_code: str, nik: str) -> Booking:
        """Send the hold with this code and NIK a new one-time code (the old one stops
        working).

        Returns:
            The booking, still ``pending``.

        Raises:
            NotFoundError: no booking has this code with this NIK.
            ResendLimitError: one a minute (``retry_after`` says when), a few a hold.
            HoldExpiredError: the hold ran out or was released.
            CancelledError: it was cancelled.
        """
        booking = self.lookup.lookup(typed_code, nik)
        current = self.send_again(booking.branch_id, booking.code)
        if current == "cancelled":
            raise CancelledError()
        if current is not None:
            return booking  # confirmed already: no code needed
        return self.lookup.get(booking.branch_id, booking.code)

    def send_again(self, branch_id: str, code: str) -> str | None:
        """Send the record held under ``code`` (a booking's hold, or a waitlist entry's) a new
        one-time code, the old one no longer working.

        Returns:
            None when a code went; else the record's status, no longer held (confirmed,
            cancelled, left), for the caller to answer.

        Raises:
            NotFoundError: no such record.
            ResendLimitError: one a minute (``retry_after`` says when), a few a hold.
            HoldExpiredError: the hold ran out or was released.
        """
        outcome = HoldOutcome.read(
            self.scripts.resend_otp(
                keys=[keys.booking(branch_id, code), keys.sms_outbox(branch_id)],
                args=[new_one_time_code(), SENDS_ALLOWED, RESEND_INTERVAL_MS, code],
            )
        )
        if outcome.verdict == "missing":
            raise NotFoundError("booking")
        if outcome.verdict == "too_soon":
            raise ResendLimitError(math.ceil(int(outcome.wait_ms) / 1000))
        if outcome.verdict == "too_many":
            # No more codes for this hold: what is left of its time is when a new booking
            # may be tried (the hold is released by then).
            raise ResendLimitError(max(1, math.ceil(int(outcome.wait_ms) / 1000)))
        if outcome.verdict == "expired":
            self.release_due(branch_id)
            raise HoldExpiredError("deadline")
        if outcome.verdict == "status":
            if outcome.current_status == "expired":
                raise HoldExpiredError()
            return outcome.current_status
        return None

    def progress(self, booking: Booking) -> HoldProgress:
        """How far the hold ``booking`` has got (sends, wrong codes), and Redis's clock."""
        sends, sent_ms, failures = self.redis.hmget(
            keys.booking(booking.branch_id, booking.code), "otp_sends", "otp_sent_ms", "otp_failures"
        )
        return HoldProgress(int(sends or 1), int(sent_ms or 0), int(failures or 0), store_now_ms(self.redis))

    def release_due(self, branch_id: str) -> list[str]:
        """Release the branch's holds whose time ran out (Redis's clock), and free their
        NIKs' dates and their phones' counts; returns their codes."""
        released = release_expired(self.scripts, branch_id)
        for code in released:
            try:
                self._free_person(self.lookup.get(branch_id, code))
            except NotFoundError:
                pass  # purged meanwhile: nothing of it left to free
        return released

    def sweep(self, branch_ids: Iterable[str]) -> int:
        """Release every branch's holds whose time ran out (the worker's sweep); returns how
        many. A branch that fails is logged and left to the next sweep."""
        released = 0
        for branch_id in branch_ids:
            try:
                while True:
                    batch = self.release_due(branch_id)
                    released += len(batch)
                    if len(batch) < RELEASE_BATCH:
                        break
            except Exception:
                log.exception("holds of branch %s not released this sweep", branch_id)
        return released

    def _free_person(self, booking: Booking) -> None:
        self.claims.release(self.claims.key(booking.nik, booking.date.isoformat()), booking.code)
        self.phones.release(self.phones.key(booking.phone), booking.code)


def store_now_ms(redis: Redis) -> int:
    """Now on Redis's clock (ms)."""
    try:
        seconds, micros = redis.time()
        return int(seconds) * 1000 + int(micros) // 1000
    except (TypeError, ValueError):  # a cluster client answering per node: the host's clock
        return int(time.time() * 1000)


def deadline_text(booking: Booking, zone: dt.tzinfo) -> str | None:
    """The hold's deadline as ISO 8601 with the branch's offset (``verify_by``), if held."""
    if booking.verify_by is None:
        return None
    return booking.verify_by.astimezone(zone).isoformat(timespec="seconds")
