"""The holds' sweep: places held for a one-time code that never came back are released once
their time runs out, so they are free again even when no booking at their branch does it.
Safe to run twice (and by every worker at once): a hold is released once."""

from __future__ import annotations

from workers.runtime import current


def release_expired_holds() -> int:
    """Release every branch's holds whose time ran out; returns how many."""
    runtime = current()
    return runtime.reservations.release_expired_holds(runtime.outbox.branch_ids())
