"""Whether the installed ``holidays`` package knows every year that a branch takes bookings
for: in a year it has no data for, the government's collective leave (*cuti bersama*) does not
close the branches, so the service says so at start and on the admin console's home page."""

from __future__ import annotations

import datetime as dt

import holidays
from redis import Redis, RedisError

from queue_service.domain import calendar, catalog, schedules
from queue_service.domain.errors import NotFoundError


def installed_version() -> str:
    """The installed ``holidays`` package's version."""
    return holidays.__version__


def booking_window(redis: Redis, now: dt.datetime) -> tuple[dt.date, dt.date] | None:
    """The first and last day that any branch takes bookings for, each on its own local
    calendar (today to today plus its ``booking_window_days``); None without branches."""
    first = last = None
    for branch in catalog.list_branches(redis):
        try:
            settings = schedules.load_settings(redis, branch.id)
        except NotFoundError:  # a branch being created: its settings come next
            continue
        today = schedules.local_now(now, branch.timezone).date()
        end = today + dt.timedelta(days=settings.booking_window_days)
        first = today if first is None else min(first, today)
        last = end if last is None else max(last, end)
    return None if first is None else (first, last)


def years_without_data(redis: Redis, now: dt.datetime) -> list[int]:
    """The years inside any branch's booking window that the installed ``holidays`` has no
    data for (see ``calendar.years_without_data``)."""
    window = booking_window(redis, now)
    return [] if window is None else calendar.years_without_data(*window)


def start_warning(redis: Redis, now: dt.datetime) -> str | None:
    """The line ``serve`` and the worker print at start (for operators, so in English), or
    None when the package knows every year of every booking window."""
    try:
        years = years_without_data(redis, now)
    except RedisError as error:
        # Not worth refusing to start over: the pages and the worker meet the outage anyway.
        return f"holidays coverage not checked: {type(error).__name__}: {error}"
    if not years:
        return None
    listed = ", ".join(str(year) for year in years)
    return (
        f"the installed holidays package ({installed_version()}) has no data for {listed}, "
        "inside a branch's booking window: that year's collective leave (cuti bersama) does "
        "not close the branches; upgrade holidays, or close those days as national closures"
    )
