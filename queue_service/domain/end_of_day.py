"""End of day: once a branch's local day is over, its bookings still ``booked`` become
``no_show``.

Each branch's day is closed on its own wall clock (WIB, WITA or WIT): at 22:30 WIB on a
Tuesday it is already Wednesday in Jayapura (WIT), so only Jayapura's Tuesday is over;
Makassar's (WITA) ends an hour later, Jakarta's two. A closed day is recorded under the
branch's tag in the same step as its last bookings are marked, so the worker may run
``close_past_days`` every few minutes and only pays for a day once. A no-show still holds
its place in the day's figures (it was booked) and is counted apart from cancellations.
"""

from __future__ import annotations

import datetime as dt
import logging

from redis import Redis

from queue_service.domain import catalog, schedules
from queue_service.domain.errors import StoreUnavailableError
from queue_service.store import keys
from queue_service.store.outcomes import NoShowsOutcome
from queue_service.store.scripts import Scripts

log = logging.getLogger(__name__)

# Bookings marked per script call: a branch's whole day fits in one or two, and no call
# holds the server for long.
BATCH = 200
# Closed days are remembered this long (in days), far more than any look-back.
REMEMBER_DAYS = 400
_READ_AGAIN = 3


def close_day(redis: Redis, branch_id: str, day: dt.date, now: dt.datetime) -> int:
    """Mark the bookings of ``branch_id`` on ``day`` still ``booked`` as ``no_show``.

    Safe to run twice: only ``booked`` bookings change, and each records ``no_show_at``.

    Args:
        redis: the data store.
        branch_id: the branch.
        day: a branch-local date that is over at ``now``.
        now: the current time (timezone-aware).

    Returns:
        How many bookings became ``no_show``.

    Raises:
        NotFoundError: no such branch.
        ValueError: ``day`` is not over yet in the branch's time zone.
        StoreUnavailableError: bookings kept moving in or out of the day while it was marked.
    """
    branch = catalog.get_branch(redis, branch_id)
    if day >= schedules.local_now(now, branch.timezone).date():
        raise ValueError(f"{day} is not over yet at {branch_id}")
    return _close(Scripts(redis), redis, branch_id, day, now)


def close_past_days(redis: Redis, now: dt.datetime, lookback_days: int = 7) -> dict[str, int]:
    """Close every branch's days before its local today, back ``lookback_days``, not yet closed.

    Args:
        redis: the data store.
        now: the current time (timezone-aware).
        lookback_days: how many past days of each branch to look at.

    Returns:
        Branch id -> how many bookings became ``no_show``, for the branches that had a day to
        close.

    Raises:
        StoreUnavailableError: as ``close_day``; the days not reached are closed next time.
    """
    branches = catalog.list_branches(redis)
    todays = [schedules.local_now(now, branch.timezone).date() for branch in branches]
    pipe = redis.pipeline(transaction=False)
    for branch, today in zip(branches, todays, strict=True):
        pipe.zrangebyscore(
            keys.closed_days(branch.id), today.toordinal() - lookback_days, today.toordinal() - 1
        )
    scripts = Scripts(redis)
    marked: dict[str, int] = {}
    for branch, today, closed in zip(branches, todays, pipe.execute(), strict=True):
        closed = set(closed)
        for back in range(lookback_days, 0, -1):
            day = today - dt.timedelta(days=back)
            if day.isoformat() not in closed:
                marked[branch.id] = marked.get(branch.id, 0) + _close(scripts, redis, branch.id, day, now)
    if any(marked.values()):
        log.info("end of day: no-shows %s", {b: n for b, n in marked.items() if n})
    return marked


def _close(scripts: Scripts, redis: Redis, branch_id: str, day: dt.date, now: dt.datetime) -> int:
    index = keys.day_bookings(branch_id, day.isoformat())
    fixed = [day.isoformat(), day.toordinal(), now.isoformat()]
    forget_before = day.toordinal() - REMEMBER_DAYS
    marked = 0
    for _attempt in range(_READ_AGAIN):
        codes = redis.lrange(index, 0, -1)
        batches = [codes[i : i + BATCH] for i in range(0, len(codes), BATCH)] or [[]]
        for number, batch in enumerate(batches, start=1):
            last = number == len(batches)
            outcome = NoShowsOutcome.read(
                scripts.mark_no_shows(
                    keys=[
                        index,
                        keys.closed_days(branch_id),
                        *(keys.booking(branch_id, code) for code in batch),
                    ],
                    args=[*fixed, "1" if last else "0", forget_before, *(codes if last else [])],
                )
            )
            marked += outcome.marked
        if outcome.ok:
            return marked
        # A booking moved in or out of the day while we marked: read its index again.
    raise StoreUnavailableError(f"the bookings of {branch_id} on {day} kept changing")
