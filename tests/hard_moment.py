"""The clock offset of `make test`'s second pass: a hard moment at least 400 days ahead.

Printed as seconds for `faketime -f +N`, computed at run time so the pass stands at the same
kind of moment whatever hour CI runs: a working weekday (Tuesday to Thursday, no holiday or
collective leave) at 07:40 UTC, which is 14:40 WIB, 15:40 WITA and 16:40 WIT: after the
midday break, every slot of the day closed for booking, the next days open. Keys that Redis
expires by its own clock must neither outlive nor undercut the dates the tests stand on a
year ahead either.

A relative offset rather than faketime's absolute `@` start: with `@` each process starts
its clock at that moment when it starts, so a redis-server or a worker started a minute
into the run would stand a minute behind the tests; an offset shifts every process alike.
"""

from __future__ import annotations

import datetime as dt
import sys

from queue_service.domain import calendar

AHEAD = dt.timedelta(days=400)
AT_UTC = dt.time(7, 40)


def hard_moment(now: dt.datetime) -> dt.datetime:
    """The first working Tuesday, Wednesday or Thursday at least ``AHEAD`` after ``now``,
    at ``AT_UTC``."""
    day = (now + AHEAD).date() + dt.timedelta(days=1)
    while not (
        day.weekday() in (1, 2, 3) and not calendar.public_holiday(day) and not calendar.collective_leave(day)
    ):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, AT_UTC, tzinfo=dt.UTC)


def main() -> None:
    now = dt.datetime.now(dt.UTC)
    moment = hard_moment(now)
    print(f"+{int((moment - now).total_seconds())}")
    print(f"the second pass stands at {moment.isoformat()} (14:40 WIB)", file=sys.stderr)


if __name__ == "__main__":
    main()
