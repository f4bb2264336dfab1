"""What is left to book at a branch on a date: the day, the service and each slot."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from redis import Redis

from queue_service import catalog, keys, schedules


@dataclass(frozen=True)
class SlotAvailability:
    start: str
    end: str
    capacity: int
    remaining: int


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


def availability(redis: Redis, branch: catalog.Branch, day: dt.date, service_id: str | None,
                 now: dt.datetime) -> Availability:
    """The places left at ``branch`` on ``day`` (for ``service_id`` if given), seen at ``now``.

    A slot that can no longer be booked (started, or past the cutoff) is listed with
    ``remaining`` 0; a closed day lists no slots.
    """
    settings = schedules.load_settings(redis, branch.id)
    override = schedules.load_override(redis, branch.id, day)
    now_local = schedules.local_now(now, branch.timezone)
    status = schedules.day_status(settings, override, day, now_local.date())
    quota = schedules.effective_quota(settings, override)
    if not status.open:
        return Availability(branch.id, day, False, status.reason, status.note, quota, 0, [])

    used_by_slot = redis.hgetall(keys.slot_counts(branch.id, day.isoformat()))
    total, service_used = redis.hmget(keys.day_counts(branch.id, day.isoformat()),
                                      "total", f"svc:{service_id}")
    remaining = max(0, quota - int(total or 0))
    service_quota = settings.service_quotas.get(service_id) if service_id else None
    if service_quota is not None:
        remaining = min(remaining, max(0, service_quota - int(service_used or 0)))

    slots = []
    for slot in schedules.slots_of_day(settings, day):
        left = max(0, settings.slot_capacity - int(used_by_slot.get(slot.label, 0)))
        if not schedules.slot_open(settings, day, slot, now_local):
            left = 0
        slots.append(SlotAvailability(slot.label, slot.end.strftime("%H:%M"),
                                      settings.slot_capacity, min(left, remaining)))
    return Availability(branch.id, day, True, None, None, quota, remaining, slots)
