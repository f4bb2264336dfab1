"""What is left to book at a branch on a date: the day, the service and each slot."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from redis import Redis

from queue_service.domain import calendar, catalog, schedules
from queue_service.domain.errors import NotFoundError, ValidationFailedError
from queue_service.store import keys


@dataclass(frozen=True)
class SlotAvailability:
    start: str
    end: str
    capacity: int
    remaining: int
    # False once booking for the slot has closed (started, or past the cutoff), so a page
    # can tell "closed" from "full"; the API shows both as ``remaining`` 0.
    open: bool = True


@dataclass(frozen=True)
class Availability:
    branch_id: str
    date: dt.date
    open: bool
    reason: str | None
    note: str | None
    daily_quota: int
    remaining: int
    slots: list[SlotAvailability]


def availability(redis: Redis, branch_id: str, day: dt.date, service_id: str | None,
                 now: dt.datetime, collective_leave_closed: bool = True) -> Availability:
    """The places left at branch ``branch_id`` on ``day`` (for ``service_id`` if given), at ``now``.

    A slot that can no longer be booked (started, or past the cutoff) is listed with
    ``remaining`` 0; a closed day lists no slots. Everything is read in one round trip.

    Raises:
        NotFoundError: no such branch.
        ValidationFailedError: the branch does not offer ``service_id``.
    """
    date = day.isoformat()
    pipe = redis.pipeline(transaction=False)
    pipe.hget(keys.BRANCHES, branch_id)
    pipe.get(keys.branch_settings(branch_id))
    pipe.hget(keys.branch_dates(branch_id), date)
    pipe.hget(keys.branch_national_closures(branch_id), date)
    pipe.hgetall(keys.slot_counts(branch_id, date))
    pipe.hmget(keys.day_counts(branch_id, date), "total", f"svc:{service_id}")
    branch_raw, settings_raw, override_raw, closure_raw, used_by_slot, (total, service_used) = \
        pipe.execute()
    if branch_raw is None or settings_raw is None:
        raise NotFoundError("branch")
    branch = catalog.Branch(**json.loads(branch_raw))
    if service_id is not None and service_id not in branch.services:
        raise ValidationFailedError({"service": ["service_not_offered"]})
    settings = schedules.BranchSettings(**json.loads(settings_raw))
    override = schedules.DateOverride(**json.loads(override_raw)) if override_raw else None

    now_local = schedules.local_now(now, branch.timezone)
    status = schedules.day_status(settings, override, day, now_local.date(),
                                  national_closure=calendar.closure_note(closure_raw),
                                  collective_leave_closed=collective_leave_closed)
    quota = schedules.effective_quota(settings, override)
    if not status.open:
        return Availability(branch.id, day, False, status.reason, status.note, quota, 0, [])

    remaining = max(0, quota - int(total or 0))
    service_quota = settings.service_quotas.get(service_id) if service_id else None
    if service_quota is not None:
        remaining = min(remaining, max(0, service_quota - int(service_used or 0)))

    slots = []
    for slot in schedules.slots_of_day(settings, day):
        label = slot.label
        left = max(0, settings.slot_capacity - int(used_by_slot.get(label, 0)))
        bookable = schedules.slot_open(settings, day, slot, now_local)
        if not bookable:
            left = 0
        slots.append(SlotAvailability(label, slot.end_label,
                                      settings.slot_capacity, min(left, remaining), bookable))
    return Availability(branch.id, day, True, None, None, quota, remaining, slots)


def booking_days(redis: Redis, branch_id: str, service_id: str, now: dt.datetime,
                 collective_leave_closed: bool = True) -> list[Availability]:
    """Each day of the branch's booking window, from its local today, with what is left.

    Raises:
        NotFoundError: no such branch.
        ValidationFailedError: the branch does not offer ``service_id``.
    """
    branch = catalog.get_branch(redis, branch_id)
    settings = schedules.load_settings(redis, branch.id)
    today = schedules.local_now(now, branch.timezone).date()
    return [availability(redis, branch.id, today + dt.timedelta(days=offset), service_id, now,
                         collective_leave_closed)
            for offset in range(settings.booking_window_days + 1)]
