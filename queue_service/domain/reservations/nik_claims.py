"""One booking per NIK per date, across all branches: a claim of the NIK's date.

The claim lives in the NIK's own cluster slot (``{n:…}``), apart from any branch: it is
made before the booking, confirmed once the booking is committed, and released when the
booking is cancelled or moved off the date. A claim whose maker died before booking, or
whose booking now stands on another date, may be taken over once the claim window has
passed, so a stale claim can never lead to two bookings.
"""

from __future__ import annotations

from redis import Redis

from queue_service.domain.errors import AlreadyBookedError
from queue_service.domain.privacy import keyed_digest
from queue_service.domain.reservations.expired_holds import release_expired
from queue_service.domain.reservations.records import HOLDING_STATUSES, MIN_KEEP_MS, PENDING
from queue_service.store import keys
from queue_service.store.outcomes import ClaimOutcome
from queue_service.store.scripts import Scripts


class NikClaims:
    """Claims of NIKs' dates over the data store (``decode_responses=True``).

    Args:
        redis: the data store.
        scripts: its scripts.
        nik_secret: key of the HMAC that turns a NIK into its key name.
        claim_seconds: after how long an abandoned claim may be taken over.
    """

    def __init__(self, redis: Redis, scripts: Scripts, nik_secret: bytes, claim_seconds: int = 30):
        self.redis = redis
        self.scripts = scripts
        self._nik_secret = nik_secret
        self.claim_ms = claim_seconds * 1000

    def digest(self, nik: str) -> str:
        """The keyed hash that stands for a NIK in key names."""
        return keyed_digest(self._nik_secret, "nik", nik)

    def key(self, nik: str, day: str) -> str:
        """The key of the claim of ``nik``'s ``day`` (ISO date)."""
        return keys.nik_day_claim(self.digest(nik), day)

    def claim(self, claim_key: str, code: str, branch_id: str, expire_at_ms: int) -> int:
        """Claim the NIK's date for ``code``; returns the claim's time (Redis clock, ms).

        Raises:
            AlreadyBookedError: the date is held by a booking, or another attempt is in flight.
        """
        replace = ""
        while True:
            result = ClaimOutcome.read(
                self.scripts.claim_nik(
                    keys=[claim_key],
                    args=[code, branch_id, self.claim_ms, replace, expire_at_ms, MIN_KEEP_MS],
                )
            )
            if result.verdict == "claimed":
                return int(result.at_ms)
            replace = self.take_over(result, claim_key, expire_at_ms)

    def take_over(self, refused: ClaimOutcome, claim_key: str, expire_at_ms: int) -> str:
        """Whether a refused claim (claim_nik.lua's ``busy`` or ``held``) may be taken over.

        Returns:
            The claim to take over, as ``<code>@<its time>``: its booking was cancelled or
            moved, or its maker died before booking. Named by its time too, so that a claim
            its code made again meanwhile (the booking moved back) is not taken over blind.

        Raises:
            AlreadyBookedError: the date is held by a booking, or another attempt is in flight.
        """
        if refused.verdict == "busy":
            raise AlreadyBookedError("in_flight")
        held_code, held_branch, held_at = refused.holder_code, refused.holder_branch, refused.held_at
        holder, holder_day = self.redis.hmget(keys.booking(held_branch, held_code), "status", "date")
        if holder == PENDING:
            # A hold whose time may have run out with no sweep yet: let its branch judge.
            release_expired(self.scripts, held_branch)
            holder = self.redis.hget(keys.booking(held_branch, held_code), "status")
        # A booking moved to another date (or a reschedule that died before moving it)
        # no longer holds this one.
        if holder in HOLDING_STATUSES and holder_day == claim_key.rsplit(":", 1)[1]:
            # Its maker may have died before confirming: finish that for it, so the
            # booking can be looked up.
            self.confirm(claim_key, held_code, held_branch, expire_at_ms)
            raise AlreadyBookedError()
        return f"{held_code}@{held_at}"

    def confirm(self, claim_key: str, code: str, branch_id: str, expire_at_ms: int, client=None):
        """Mark the claim as held by the committed booking ``code`` (on ``client``, a
        pipeline, if given)."""
        return self.scripts.confirm_nik(
            keys=[claim_key], args=[code, branch_id, expire_at_ms, MIN_KEEP_MS], client=client
        )

    def release(self, claim_key: str, code: str) -> None:
        """Free the claim, if ``code`` holds it."""
        self.scripts.release_nik(keys=[claim_key], args=[code])
