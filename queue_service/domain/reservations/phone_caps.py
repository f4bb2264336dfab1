"""At most ``BOOKINGS_PER_PHONE`` active bookings per phone number, across all branches and
dates: a count kept in the phone's own cluster slot (``{p:…}``), apart from any branch.

A booking is counted after the NIK's date is claimed and before the place is reserved, and
taken off again if the reservation is refused; on a single Redis both are parts of
``book.lua``. An entry lasts until the end of its visit day (branch-local midnight after
it), so a past day, served or missed, no longer counts; a cancellation removes its booking's
entry at once; a move to another date gives the entry the new day.

An entry whose booking is gone can be left behind: a maker that died between the count and
the reservation, or a cancellation whose second call (on a cluster) failed. When the cap
refuses, the entries counted are checked: one older than the claim window whose booking is
missing (its reservation can no longer commit: the NIK's claim it stands on has expired),
cancelled, served or a no-show is taken off, and the count is tried again.
"""

from __future__ import annotations

import datetime as dt

from redis import Redis

from queue_service.domain.errors import TooManyBookingsError
from queue_service.domain.privacy import keyed_digest
from queue_service.domain.reservations.expired_holds import release_expired
from queue_service.domain.reservations.records import HELD_STATUSES, MIN_KEEP_MS, PENDING, expire_at_ms
from queue_service.store import keys
from queue_service.store.outcomes import PhoneOutcome
from queue_service.store.scripts import Scripts

# A booking in one of these still counts against its phone (until its day is over); so does
# a hold waiting for its one-time code, and a waitlist entry waiting or offered a place.
ACTIVE_STATUSES = frozenset({PENDING, "booked", "checked_in", "called", "waiting", "offered"})


def day_ends_ms(day: dt.date, timezone: str) -> int:
    """When a visit on ``day`` stops counting: the branch-local midnight after it (ms)."""
    return expire_at_ms(day, timezone, dt.timedelta(0))


class PhoneCaps:
    """The per-phone cap over the data store (``decode_responses=True``).

    Args:
        redis: the data store.
        scripts: its scripts.
        secret: key of the HMAC that turns a phone number into its key name (``NIK_HASH_KEY``,
            as the NIK's: while it is replaced, a phone's bookings made under the old key are
            not counted again; the cap is a brake on hoarding, the NIK's one date the rule).
        cap: active bookings allowed per phone (``BOOKINGS_PER_PHONE``, at least 1); None
            counts nothing (a store driven by hand: benchmarks, tools).
        claim_ms: the NIK claim window: an entry older than this whose booking is missing
            can no longer become a booking.
        previous_secret: the key ``secret`` replaces (``NIK_HASH_KEY_PREVIOUS``): its counts
            are not added to the cap, only read to find a phone's bookings (``keys_of``).
    """

    def __init__(
        self,
        redis: Redis,
        scripts: Scripts,
        secret: bytes,
        cap: int | None,
        claim_ms: int,
        previous_secret: bytes | None = None,
    ):
        if cap is not None and cap < 1:
            raise ValueError(f"BOOKINGS_PER_PHONE must be at least 1, not {cap}")
        self.redis = redis
        self.scripts = scripts
        self._secret = secret
        self._previous_secret = previous_secret if previous_secret != secret else None
        self.cap = cap
        self._claim_ms = claim_ms

    def key(self, phone: str) -> str:
        """The key of ``phone``'s count (E.164); the number itself never names a key."""
        return keys.phone_bookings(keyed_digest(self._secret, "phone", phone))

    def keys_of(self, phone: str) -> list[str]:
        """Every key that lists ``phone``'s bookings: its count's, and while ``NIK_HASH_KEY`` is
        being replaced the one under the previous key, where the bookings made before lie."""
        found = [self.key(phone)]
        if self._previous_secret:
            found.append(keys.phone_bookings(keyed_digest(self._previous_secret, "phone", phone)))
        return found

    def count_args(self, code: str, branch_id: str, day_ends: int, now: dt.datetime) -> list:
        """count_phone.lua's ARGV (also book.lua's last six)."""
        return [code, branch_id, day_ends, self.cap, int(now.timestamp() * 1000), MIN_KEEP_MS]

    def count(self, phone_key: str, count_args: list) -> None:
        """Count a booking against the phone (``count_args`` as ``count_args`` makes them:
        its code is counted once, however often this runs for it).

        Raises:
            TooManyBookingsError: the phone holds its cap of active bookings.
        """
        while True:
            outcome = PhoneOutcome.read(self.scripts.count_phone(keys=[phone_key], args=count_args))
            if outcome.verdict == "counted":
                return
            self.free_stale(phone_key, outcome)

    def free_stale(self, phone_key: str, refused: PhoneOutcome) -> None:
        """Take off the entries of a ``too_many`` answer whose bookings are gone or over.

        Returns when one was taken off (count again).

        Raises:
            TooManyBookingsError: every entry still stands for an active booking (or one in
                the making).
        """
        freed = False
        for holder in refused.holders:
            status = self.redis.hget(keys.booking(holder.branch, holder.code), "status")
            if status in HELD_STATUSES:
                # A hold whose time may have run out with no sweep yet: let its branch judge.
                release_expired(self.scripts, holder.branch)
                status = self.redis.hget(keys.booking(holder.branch, holder.code), "status")
            in_the_making = status is None and refused.now_ms - holder.at_ms <= self._claim_ms
            if status in ACTIVE_STATUSES or in_the_making:
                continue
            self.release(phone_key, holder.code)
            freed = True
        if not freed:
            raise TooManyBookingsError()

    def release(self, phone_key: str, code: str) -> None:
        """Take ``code`` off the phone's count (cancelled, or its reservation refused)."""
        if self.cap is not None:
            self.scripts.release_phone(keys=[phone_key], args=[code])

    def move(self, phone_key: str, code: str, day_ends: int) -> None:
        """``code`` moved to another date, whose day ends at ``day_ends`` (ms)."""
        if self.cap is not None:
            self.scripts.move_phone(keys=[phone_key], args=[code, day_ends, MIN_KEEP_MS])
