"""The holds' sweep: places held for a one-time code that never came back are released once
their time runs out, so they are free again even when no booking at their branch does it.
Safe to run twice (and by every worker at once): a hold is released once."""

from __future__ import annotations

from workers.runtime import current


def release_expired_holds() -> int:
    """Release every branch's holds (and waitlist offers) whose time ran out, and offer the
    places free on days with a waitlist to it, as of the worker's clock; returns how many holds
    were released."""
    runtime = current()
    return runtime.reservations.release_expired_holds(runtime.outbox.branch_ids(), runtime.clock())
