"""Releasing a branch's holds whose time ran out: one step of the branch's own, on Redis's
clock (``release_holds.lua``). Its own module because three others need it: the holds' sweep,
and the NIK claims and phone counts, which meet a hold's leftovers before any sweep has."""

from __future__ import annotations

from queue_service.store import keys
from queue_service.store.scripts import Scripts

# Holds released per step, so that one step stays short after an outage left many.
RELEASE_BATCH = 200


def release_expired(scripts: Scripts, branch_id: str) -> list[str]:
    """Release the branch's holds whose deadline has passed (at most ``RELEASE_BATCH``); their
    places are free at once. Returns their codes: freeing their NIKs' dates and their phones'
    counts, in other cluster slots, is the caller's."""
    return list(
        scripts.release_holds(
            keys=[keys.branch_holds(branch_id)],
            args=[*keys.hold_release_prefixes(branch_id), RELEASE_BATCH],
        )
    )
