"""The per-person allowance of booking attempts (SPEC §2 "Rate limits": per NIK and per
phone), counted per client address.

Each booking attempt counts against its NIK and its phone *from the address it came
from* (``RATELIMIT_PER_PERSON``, e.g. ``5/hour;20/day``). Counting per person alone,
whatever the address, let a stranger who knows a NIK spend its allowance with refused
attempts and lock its owner out for an hour; per person and address, the stranger locks
out only themselves, and hoarding or probing NIKs from one address stays bounded by this
allowance and the address's own booking limit, each attempt also costing a solved captcha.
The booking counts it with the captcha, and takes it back when the answer was wrong, so a
caller without a solved captcha spends nothing.

Every part of the limit has its own counters, named by its window and by keyed hashes
(never the personal data, nor the address, itself); one script counts them all. Where the
counters live in the data store, the count rides on the booking's first round trip
(``Reservations.reserve``) and is judged before anything that read says but the captcha.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable

from limits import RateLimitItem, parse_many
from redis import Redis
from redis.exceptions import NoScriptError

from queue_service.domain.errors import DomainError
from queue_service.domain.privacy import keyed_digest
from queue_service.store import keys, scripts


class AttemptsUsedUpError(DomainError):
    """A NIK or a phone has used up a part of its allowance from this address.

    Attributes:
        retry_after: seconds until the part's window ends.
        limit_amount: how many attempts that part allows.
        reset_at: when its window ends (epoch seconds).
    """

    code = "rate_limited"

    def __init__(self, limit_amount: int, retry_after: int):
        super().__init__("per_person")
        self.retry_after = retry_after
        self.limit_amount = limit_amount
        self.reset_at = int(time.time()) + retry_after


class PendingCount:
    """One attempt's count, still to be sent: every counter of every part of the limit, by
    one script."""

    def __init__(self, store: Redis, counters: list[str], windows: list[int], parts: list[RateLimitItem]):
        self._store = store
        self._script = scripts.for_client(store).count_attempts
        self._counters, self._windows, self._parts = counters, windows, parts

    def queue(self, pipe) -> None:
        """Add the count to ``pipe`` as a bare EVALSHA: a script given to a pipeline makes
        redis-py ask the server whether it knows it, a round trip of its own each time."""
        pipe.evalsha(self._script.sha, len(self._counters), *self._counters, *self._windows)

    def count(self) -> None:
        """Count now, in a round trip of its own; raises as ``settle``."""
        self.settle([self._script(keys=self._counters, args=self._windows)])

    def take_back(self, replies: list) -> None:
        """Take the count back, if its reply (the first of ``replies``) says it was made: the
        attempt's captcha, which rode beside it, proved wrong, and a wrong answer spends
        nobody's allowance."""
        if not isinstance(replies[0], Exception):
            scripts.for_client(self._store).take_back_attempts(keys=self._counters)

    def settle(self, replies: list) -> None:
        """Judge the count's reply (the first of ``replies``; an error as an exception object).

        Raises:
            AttemptsUsedUpError: the NIK or the phone has used up a part of the limit from
                this address (the part whose window ends last is the one named).
        """
        counted = replies[0]
        if isinstance(counted, NoScriptError):  # a server that restarted: load it, count
            counted = self._script(keys=self._counters, args=self._windows)
        elif isinstance(counted, Exception):
            raise counted
        spent = [
            (left, part)
            for count, left, part in zip(counted[::2], counted[1::2], self._parts, strict=True)
            if count > part.amount
        ]
        if spent:
            left, part = max(spent, key=lambda refusal: refusal[0])
            raise AttemptsUsedUpError(part.amount, max(1, math.ceil(left / 1000)))


class PersonAllowance:
    """Counts booking attempts per NIK and per phone from one address.

    Args:
        limit: the allowance, in the ``limits`` library's notation (``5/hour;20/day``).
        secret: key of the hashes that name the counters.
        counter_store: returns the Redis the counters live in.
        rides_on_booking: the counter store is the data store, so the count can ride on the
            booking's first round trip instead of taking one of its own.
        enabled: False counts nothing (rate limiting off).
    """

    def __init__(
        self,
        limit: str,
        secret: bytes,
        counter_store: Callable[[], Redis],
        rides_on_booking: bool,
        enabled: bool = True,
    ):
        self.parts = _parsed(limit)
        self._secret = secret
        self._counter_store = counter_store
        self.rides_on_booking = rides_on_booking
        self.enabled = enabled

    def count(self, nik: str, phone: str, address: str) -> PendingCount | None:
        """Count an attempt for ``nik`` and ``phone`` (both as stored) from ``address``.

        Returns:
            The count still to send, where it rides on the booking's first round trip
            (which must then be given it); None once counted, or when the allowance is off.

        Raises:
            AttemptsUsedUpError: counted now, and either has used up a part of the limit.
        """
        if not self.enabled:
            return None  # nothing would be counted: spare the keyed hashes
        address_digest = keyed_digest(self._secret, "address", address)
        people = [
            (kind, keyed_digest(self._secret, f"{kind}@{address}", value))
            for kind, value in (("nik", nik), ("phone", phone))
        ]
        counters, windows, parts = [], [], []
        for part in self.parts:
            for kind, person in people:
                counters.append(keys.attempts_from_address(address_digest, kind, part.get_expiry(), person))
                windows.append(part.get_expiry() * 1000)
                parts.append(part)
        pending = PendingCount(self._counter_store(), counters, windows, parts)
        if self.rides_on_booking:
            return pending
        pending.count()
        return None


@functools.lru_cache(maxsize=8)
def _parsed(limit: str) -> list[RateLimitItem]:
    return parse_many(limit)
