"""Figures for the admins' dashboards: bookings against quota per day, cancellations,
check-in and no-show rates, the busiest slots; per branch, and summed nationally."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass

from redis import Redis

from queue_service.domain import calendar, schedules
from queue_service.domain.privacy import mask_kpj, mask_nik, mask_phone
from queue_service.domain.reservations import Booking
from queue_service.domain.spreadsheet import csv_text
from queue_service.store import keys

# Statuses of a booking that came, and of one that did not (the kiosk issue brings them).
_ARRIVED = frozenset({"checked_in", "called", "served"})


@dataclass(frozen=True)
class DayFigures:
    """One branch-local day: whether it is open, its quota, and what became of its bookings."""

    date: dt.date
    open: bool
    reason: str | None
    quota: int
    booked: int  # active bookings (booked, checked in, served, no-show)
    cancelled: int
    arrived: int
    no_show: int
    walk_ins: int = 0  # walk-in tickets issued, beside the online bookings
    walk_in_places: int = 0


def days(
    redis: Redis,
    branch_id: str,
    first: dt.date,
    count: int,
    today: dt.date,
    collective_leave_closed: bool = True,
    with_outcomes: bool = False,
) -> list[DayFigures]:
    """Figures of ``count`` days from ``first`` at one branch, read in two round trips.

    ``with_outcomes`` also reads each booking's status (arrivals and no-shows), which only
    past days need.

    Raises:
        NotFoundError: no such branch.
    """
    settings = schedules.load_settings(redis, branch_id)
    dates = [first + dt.timedelta(days=n) for n in range(count)]
    pipe = redis.pipeline(transaction=False)
    for day in dates:
        pipe.hget(keys.branch_dates(branch_id), day.isoformat())
        pipe.hget(keys.branch_national_closures(branch_id), day.isoformat())
        pipe.hget(keys.day_counts(branch_id, day.isoformat()), "total")
        pipe.lrange(keys.day_bookings(branch_id, day.isoformat()), 0, -1)
        pipe.hget(keys.walk_in_counts(branch_id, day.isoformat()), "total")
    replies = pipe.execute()
    statuses = _statuses(redis, branch_id, dates, replies[3::5]) if with_outcomes else {}
    figures = []
    for index, day in enumerate(dates):
        override_raw, closure_raw, total, codes, walk_ins = replies[5 * index : 5 * index + 5]
        override = schedules.DateOverride(**json.loads(override_raw)) if override_raw else None
        status = schedules.day_status(
            settings,
            override,
            day,
            min(day, today),
            calendar.closure_note(closure_raw),
            collective_leave_closed,
        )
        booked = int(total or 0)
        outcome = statuses.get(day, Counter())
        figures.append(
            DayFigures(
                date=day,
                open=status.open,
                reason=status.reason,
                quota=schedules.effective_quota(settings, override),
                booked=booked,
                cancelled=len(codes) - booked,
                arrived=sum(outcome[s] for s in _ARRIVED),
                no_show=outcome["no_show"],
                walk_ins=int(walk_ins or 0),
                walk_in_places=schedules.walk_in_places(settings, override) if status.open else 0,
            )
        )
    return figures


@dataclass(frozen=True)
class BranchReport:
    """A branch's figures over a run of days, and its busiest slots over the same days."""

    days: list[DayFigures]
    busiest_slots: list[tuple[str, int]]


def branch_report(
    redis: Redis,
    branch_id: str,
    first: dt.date,
    count: int,
    today: dt.date,
    collective_leave_closed: bool = True,
) -> BranchReport:
    """The report of ``count`` days from ``first`` at one branch, for the console's dashboard
    and the admin API alike. Arrivals and no-shows are read only when the days start before
    ``today``: later days have none yet.

    Raises:
        NotFoundError: no such branch.
    """
    figures = days(
        redis, branch_id, first, count, today, collective_leave_closed, with_outcomes=first < today
    )
    return BranchReport(figures, busiest_slots(redis, branch_id, [f.date for f in figures]))


def busiest_slots(redis: Redis, branch_id: str, dates: list[dt.date], top: int = 5) -> list[tuple[str, int]]:
    """The slot starts with the most active bookings over ``dates``, most first."""
    pipe = redis.pipeline(transaction=False)
    for day in dates:
        pipe.hgetall(keys.slot_counts(branch_id, day.isoformat()))
    totals: Counter[str] = Counter()
    for counts in pipe.execute():
        totals.update({slot: int(used) for slot, used in counts.items()})
    return [(slot, used) for slot, used in totals.most_common(top) if used > 0]


def national(per_branch: list[list[DayFigures]]) -> list[DayFigures]:
    """Day by day sums over branches (a day is open if any branch is)."""
    summed = []
    for same_day in zip(*per_branch, strict=True):
        summed.append(
            DayFigures(
                date=same_day[0].date,
                open=any(f.open for f in same_day),
                reason=None,
                quota=sum(f.quota for f in same_day if f.open),
                booked=sum(f.booked for f in same_day),
                cancelled=sum(f.cancelled for f in same_day),
                arrived=sum(f.arrived for f in same_day),
                no_show=sum(f.no_show for f in same_day),
                walk_ins=sum(f.walk_ins for f in same_day),
                walk_in_places=sum(f.walk_in_places for f in same_day),
            )
        )
    return summed


def _statuses(
    redis: Redis, branch_id: str, dates: list[dt.date], codes_per_day: list[list[str]]
) -> dict[dt.date, Counter]:
    pipe = redis.pipeline(transaction=False)
    for codes in codes_per_day:
        for code in codes:
            pipe.hget(keys.booking(branch_id, code), "status")
    replies = iter(pipe.execute())
    return {
        day: Counter(next(replies) for _ in codes) for day, codes in zip(dates, codes_per_day, strict=True)
    }


BOOKING_COLUMNS = (
    "code",
    "queue_number",
    "status",
    "service_id",
    "date",
    "slot",
    "slot_end",
    "name",
    "nik",
    "kpj",
    "phone",
    "email",
    # "unchecked": booked while the participant registry gave no verdict; empty otherwise.
    "registry",
)


def bookings_csv(bookings: list[Booking], full: bool = False) -> str:
    """A day's bookings as CSV; NIK, KPJ, phone and email masked unless ``full`` (which the
    caller audits)."""
    return csv_text(
        BOOKING_COLUMNS,
        (
            [
                b.code,
                b.queue_number,
                b.status,
                b.service_id,
                b.date.isoformat(),
                f"{b.slot_start:%H:%M}",
                f"{b.slot_end:%H:%M}",
                b.name,
                b.nik if full else mask_nik(b.nik),
                b.kpj if full else mask_kpj(b.kpj),
                b.phone if full else mask_phone(b.phone),
                (b.email or "") if full else "",
                b.registry or "",
            ]
            for b in bookings
        ),
    )
