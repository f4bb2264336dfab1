"""A service's line on one branch-local day: the order in it, the day its keys belong to, and
how long those keys live."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from queue_service.domain import catalog, schedules

# A day's queue keys outlive the day (a late-night call in WIT is already tomorrow in UTC).
DAY_KEYS_MS = 3 * 24 * 3600 * 1000
# The moving average of service times is taken over this many served participants.
DURATIONS_KEPT = 20
# The place in line: the slot's minute of the day, then the arrival in ms since the local
# midnight before the visit day (check-in may open the evening before), below 10^9.
_SLOT_WEIGHT = 10**9
_DAY_MS = 24 * 3600 * 1000


def place_in_line(day: dt.date, slot: dt.time, arrived: dt.datetime, zone: ZoneInfo) -> int:
    """The order of a participant in their line: by slot, then by arrival (exact in a double)."""
    midnight_before = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    since = int((arrived - midnight_before).total_seconds() * 1000)
    return (slot.hour * 60 + slot.minute) * _SLOT_WEIGHT + min(max(since, 0), 2 * _DAY_MS)


def queue_day(branch: catalog.Branch, now: dt.datetime) -> str:
    """The branch-local date whose queue ``now`` falls in, as its keys name it."""
    return schedules.local_now(now, branch.timezone).date().isoformat()


def line_of(data: dict[str, str]) -> str:
    """The service whose line a participant is in (their booking's, unless transferred)."""
    return data.get("queue_service") or data["service_id"]
