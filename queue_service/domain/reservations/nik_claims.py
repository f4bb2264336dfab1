"""One booking per NIK per date, across all branches: a claim of the NIK's date.

The claim lives in the NIK's own cluster slot (``{n:…}``), apart from any branch: it is
made before the booking, confirmed once the booking is committed, and released when the
booking is cancelled or moved off the date. A claim whose maker died before booking, or
whose booking now stands on another date, may be taken over once the claim window has
passed, so a stale claim can never lead to two bookings.

The NIK's digest is keyed by ``NIK_HASH_KEY``. While that key is being replaced
(``NIK_HASH_KEY_PREVIOUS`` set to the old one), claims are made under the new digest only,
and a NIK's date is also refused when the claim under the old digest names a booking that
still holds that date (``refuse_if_held_before``). That look-up is a step of its own, not
part of the claim's script: the two digests are two hash tags, two slots on a cluster (a
script naming both would be a CROSSSLOT error). It is safe all the same, because once every
process runs with the new key nothing writes a claim under the old digest any more: the old
claims can only stop holding (their bookings cancelled or moved), never start, so a claim
under the new digest cannot race one under the old.
"""

from __future__ import annotations

from redis import Redis

from queue_service.domain.errors import AlreadyBookedError
from queue_service.domain.privacy import keyed_digest
from queue_service.domain.reservations.expired_holds import release_expired
from queue_service.domain.reservations.records import HELD_STATUSES, HOLDING_STATUSES, MIN_KEEP_MS
from queue_service.store import keys
from queue_service.store.outcomes import ClaimOutcome
from queue_service.store.scripts import Scripts


class NikClaims:
    """Claims of NIKs' dates over the data store (``decode_responses=True``).

    Args:
        redis: the data store.
        scripts: its scripts.
        nik_secret: key of the HMAC that turns a NIK into its key name (``NIK_HASH_KEY``).
        claim_seconds: after how long an abandoned claim may be taken over.
        previous_secret: the key it replaces (``NIK_HASH_KEY_PREVIOUS``), whose claims are
            still read; None outside a change of key.
    """

    def __init__(
        self,
        redis: Redis,
        scripts: Scripts,
        nik_secret: bytes,
        claim_seconds: int = 30,
        previous_secret: bytes | None = None,
    ):
        self.redis = redis
        self.scripts = scripts
        self._nik_secret = nik_secret
        self._previous_secret = previous_secret if previous_secret != nik_secret else None
        self.claim_ms = claim_seconds * 1000

    def digest(self, nik: str) -> str:
        """The keyed hash that stands for a NIK in key names."""
        return keyed_digest(self._nik_secret, "nik", nik)

    def key(self, nik: str, day: str) -> str:
        """The key of the claim of ``nik``'s ``day`` (ISO date)."""
        return keys.nik_day_claim(self.digest(nik), day)

    @property
    def reads_previous_key(self) -> bool:
        """Whether claims are also looked for under the previous key (``NIK_HASH_KEY`` being
        replaced): a step of its own before a booking's first read."""
        return self._previous_secret is not None

    def keys_read(self, nik: str, day: str) -> list[str]:
        """The keys a claim of ``nik``'s ``day`` may be found under: the current digest's, then
        the previous key's while one is set."""
        if self._previous_secret is None:
            return [self.key(nik, day)]
        previous = keys.nik_day_claim(keyed_digest(self._previous_secret, "nik", nik), day)
        return [self.key(nik, day), previous]

    def refuse_if_held_before(self, nik: str, day: str, own_code: str = "") -> None:
        """While the NIK's key is being replaced: refuse ``day`` if the claim made under the
        previous key names a booking (other than ``own_code``) that still holds that date.

        Raises:
            AlreadyBookedError: such a booking holds the date.
        """
        for claim_key in self.keys_read(nik, day)[1:]:
            held_code, held_branch = self.redis.hmget(claim_key, "code", "branch")
            if not held_code or not held_branch or held_code == own_code:
                continue
            booking_key = keys.booking(held_branch, held_code)
            if self.redis.hget(booking_key, "status") in HELD_STATUSES:
                release_expired(self.scripts, held_branch)  # a hold whose time ran out
            holder, holder_day = self.redis.hmget(booking_key, "status", "date")
            if holder in HOLDING_STATUSES and holder_day == day:
                raise AlreadyBookedError()

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
        if holder in HELD_STATUSES:
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
