"""The end-of-day job: bookings still ``booked`` once their branch's local day is over become
``no_show``, and audit entries older than ``AUDIT_RETENTION_DAYS`` are dropped. Safe to run
twice (and by every worker at once)."""

from __future__ import annotations

from queue_service.domain import audit
from queue_service.domain.end_of_day import close_past_days
from workers.runtime import current


def close_days() -> dict[str, int]:
    """Close every branch's past days not closed yet, on the runtime's clock, then trim the
    audit streams to their retention.

    Returns:
        Branch id -> how many bookings became ``no_show``.
    """
    runtime = current()
    now = runtime.clock()
    marked = close_past_days(runtime.redis, now)
    audit.trim(runtime.redis, now, runtime.settings["AUDIT_RETENTION_DAYS"])
    return marked
