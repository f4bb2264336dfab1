"""Sealing every live booking's person again under the first data key (``queue-service
rotate-data-key``), after a new key was put first in ``DATA_KEYS``.

Bookings are the only records that hold a person (holds are bookings; SMS records and the
NIK's and phone's indexes hold keyed hashes and codes, never the person). They are read in
batches by ``SCAN``, so a run never blocks Redis, and each is sealed again in one step that
first checks it still holds what was read (``reseal.lua``: an erasure or a rotation meanwhile
wins). A run can stop anywhere: the next one skips what is under the first key already. A
record written before sealing (its person in clear fields) is sealed by the same run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis

from queue_service.domain.reservations.records import (
    SEALED_FIELD,
    SEALED_NAMES,
    personal_fields,
    sealed_fields,
    sealed_pieces,
)
from queue_service.store import keys, sealing
from queue_service.store.outcomes import ScriptOutcome
from queue_service.store.scripts import Scripts

BATCH = 500


@dataclass
class ResealProgress:
    """How far a run has got: bookings ``scanned``, ``resealed`` under the first key now,
    ``current`` (under it already), ``skipped`` (erased, walk-in tickets, gone or changed
    meanwhile: nothing of a person to seal)."""

    key_id: str
    scanned: int = 0
    resealed: int = 0
    current: int = 0
    skipped: int = 0

    def line(self) -> str:
        """One line of progress, as the command prints it after each batch."""
        return (
            f"bookings: {self.scanned} scanned, {self.resealed} sealed again with {self.key_id}, "
            f"{self.current} already with it, {self.skipped} with nothing to seal"
        )


def reseal_bookings(
    redis: Redis, batch: int = BATCH, on_batch: Callable[[ResealProgress], None] | None = None
) -> ResealProgress:
    """Seal every booking's person under the first key of this process's keyring, ``batch``
    bookings at a time, calling ``on_batch`` after each.

    Raises:
        SealError: a booking is sealed under a key the keyring no longer holds (put it back
            after the first, and run again).
    """
    keyring = sealing.keyring()
    scripts = Scripts(redis)
    progress = ResealProgress(keyring.sealing_id)
    names: list[str] = []
    for name in redis.scan_iter(match=keys.BOOKINGS_PATTERN, count=batch, _type="hash"):
        names.append(name)
        if len(names) >= batch:
            _reseal(redis, scripts, keyring, names, progress)
            names = []
            if on_batch is not None:
                on_batch(progress)
    if names:
        _reseal(redis, scripts, keyring, names, progress)
    if on_batch is not None:
        on_batch(progress)
    return progress


def _reseal(
    redis: Redis, scripts: Scripts, keyring: sealing.Keyring, names: list[str], progress: ResealProgress
) -> None:
    """Seal again each of the bookings ``names`` that is not under the first key."""
    with redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.hgetall(name)
        records = pipe.execute()
    for name, data in zip(names, records, strict=True):
        progress.scanned += 1
        booking = keys.booking_of(name)
        pieces = sealed_pieces(data)
        clear = [field for field in SEALED_NAMES if field in data]
        if booking is None or "erased_at" in data or not (pieces or clear):
            progress.skipped += 1
            continue
        # Current: sealed with the first key, nothing in clear (an address kept in clear before
        # it was sealed with the rest goes into the seal now).
        if pieces and not clear and keyring.sealed_with_first("".join(pieces)):
            progress.current += 1
            continue
        branch_id, code = booking
        fresh = sealed_fields(branch_id, code, personal_fields(branch_id, code, data))
        outcome = ScriptOutcome.read(
            scripts.reseal(
                keys=[name],
                args=[
                    f"{SEALED_FIELD}:",
                    "".join(pieces),
                    len(clear),
                    *clear,
                    *(part for pair in fresh.items() for part in pair),
                ],
            )
        )
        if outcome.ok:
            progress.resealed += 1
        else:
            progress.skipped += 1
