"""What is left to book at a branch on a date: the day, the service and each slot."""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis

from queue_service.domain import calendar, catalog, schedules
from queue_service.domain.errors import NotFoundError, ValidationFailedError
from queue_service.store import keys, scripts


@dataclass(frozen=True)
class SlotAvailability:
    start: str
    end: str
    capacity: int
    remaining: int
    # False once booking for the slot has closed (started, or past the cutoff), so a page
    # can tell "closed" from "full"; the API shows both as ``remaining`` 0.
    open: bool = True


# Compared by identity (eq=False): equal answers of ``availability`` are one object, which
# callers may key a cache of their own on.
@dataclass(frozen=True, eq=False)
class Availability:
    branch_id: str
    date: dt.date
    open: bool
    reason: str | None
    note: str | None
    daily_quota: int
    remaining: int
    slots: tuple[SlotAvailability, ...]
    # When a day closed for the time being (``beyond_window``, ``not_yet_open``: the
    # newest day before its ``release_time``) becomes bookable, branch-local: the pages
    # say it, and no cached answer outlives it.
    opens_at: dt.datetime | None = None

    def bookable_slots(self, besides: str | None = None) -> tuple[SlotAvailability, ...]:
        """The slots a booking can still take, leaving out the one starting at ``besides``
        (a booking's own slot, when it is moved)."""
        if not self.open or self.remaining <= 0:
            return ()
        return tuple(s for s in self.slots if s.open and s.remaining and s.start != besides)

    def bookable(self, besides: str | None = None) -> bool:
        """Whether the day is offered: open, with quota left, and a slot still taking a
        booking (today's slots close one by one at the cutoff while its quota may be left).
        The booking pages and the reschedule form both ask this, so they offer the same days."""
        return bool(self.bookable_slots(besides))

    @property
    def opens_at_zone(self) -> str | None:
        """WIB, WITA or WIT: the zone of ``opens_at``, the branch's (pages say "07:00 WITA")."""
        return schedules.timezone_label(str(self.opens_at.tzinfo)) if self.opens_at else None

    @property
    def booking_closed(self) -> bool:
        """An open day whose every slot has closed for booking (today, late in the day)."""
        return self.open and not any(s.open for s in self.slots)


def availability(
    redis: Redis,
    branch_id: str,
    day: dt.date,
    service_id: str | None,
    now: dt.datetime,
    collective_leave_closed: bool = True,
) -> Availability:
    """The places left at branch ``branch_id`` on ``day`` (for ``service_id`` if given), at ``now``.

    A slot that can no longer be booked (started, or past the cutoff) is listed with
    ``remaining`` 0; a closed day lists no slots. Everything is read by one script, as one
    string (on a cluster the catalog's entry, in another slot, is a second call).

    The answer is a pure function of what was read and of the minute of ``now`` (cutoffs
    and time zones fall on whole minutes), so it is memoized on exactly those: an unchanged
    day is not parsed and worked out again, and a changed one is never answered from the
    memo. Equal inputs give the same (immutable) object, so a caller may keep what it made
    of it, too.

    A retired branch, or a service it no longer offers, is closed every day (``reason``
    ``branch_retired`` or ``service_withdrawn``).

    Raises:
        NotFoundError: no such branch.
        ValidationFailedError: the branch never offered ``service_id``.
    """
    date = day.isoformat()
    day_keys = [
        keys.branch_settings(branch_id),
        keys.branch_dates(branch_id),
        keys.branch_national_closures(branch_id),
        keys.slot_counts(branch_id, date),
        keys.day_counts(branch_id, date),
    ]
    args = [date, f"svc:{service_id}"]
    script = scripts.for_client(redis).availability_inputs
    read = script(keys=[*day_keys, keys.branch_catalog(branch_id), keys.waiters(branch_id, date)], args=args)
    inputs, _, branch_raw = read.rpartition(_SEPARATOR)
    if not branch_raw:  # no copy yet (a store from before the copies), or no such branch
        branch_raw = redis.hget(keys.BRANCHES, branch_id) or ""
    return _worked_out(
        branch_raw, inputs, day, service_id, int(now.timestamp()) // 60, collective_leave_closed
    )


_SEPARATOR = "\x1f"  # availability_inputs.lua's


# Bounded: a key per branch, date and service seen with unchanged counts; a few KB each.
@functools.lru_cache(maxsize=2048)
def _worked_out(
    branch_raw: str,
    inputs: str,
    day: dt.date,
    service_id: str | None,
    minute: int,
    collective_leave_closed: bool,
) -> Availability:
    settings_raw, override_raw, closure_raw, counts, total, service_used, kept = inputs.split(_SEPARATOR)
    if not branch_raw or not settings_raw:
        raise NotFoundError("branch")
    branch = catalog.Branch.from_json(branch_raw)
    refusal = branch.refusal(service_id)
    if refusal == "service_not_offered":
        raise ValidationFailedError({"service": ["service_not_offered"]})
    settings = schedules.BranchSettings(**json.loads(settings_raw))
    override = schedules.DateOverride(**json.loads(override_raw)) if override_raw else None
    if refusal is not None:  # retired, or the service withdrawn: closed, whatever the day
        return Availability(
            branch.id, day, False, refusal, None, schedules.effective_quota(settings, override), 0, ()
        )

    now = dt.datetime.fromtimestamp(minute * 60, dt.UTC)
    now_local = schedules.local_now(now, branch.timezone)
    status = schedules.day_status(
        settings,
        override,
        day,
        now_local,
        national_closure=calendar.closure_note(closure_raw or None),
        collective_leave_closed=collective_leave_closed,
    )
    quota = schedules.effective_quota(settings, override)
    if not status.open:
        return Availability(branch.id, day, False, status.reason, status.note, quota, 0, (), status.opens_at)

    remaining = max(0, quota - int(total or 0))
    service_quota = settings.service_quotas.get(service_id) if service_id else None
    if service_quota is not None:
        remaining = min(remaining, max(0, service_quota - int(service_used or 0)))

    pairs = counts.split(",") if counts else []
    used_by_slot = dict(zip(pairs[::2], pairs[1::2], strict=True))
    # The places the waitlist keeps for those who wait, by the very rule a booking is refused
    # by (store/lua/waiters_kept.lua): a place freed while anyone waits for it is theirs,
    # never shown free (domain.waitlist); "*" keeps every slot's.
    kept_slots = set(kept.split(",")) if kept else set()
    if "*" in kept_slots:
        remaining = 0
    slots = []
    for slot in schedules.slots_of_day(settings, day):
        label = slot.label
        left = max(0, settings.slot_capacity - int(used_by_slot.get(label, 0)))
        bookable = schedules.slot_open(settings, day, slot, now_local)
        if not bookable or label in kept_slots:
            left = 0
        slots.append(
            SlotAvailability(label, slot.end_label, settings.slot_capacity, min(left, remaining), bookable)
        )
    return Availability(branch.id, day, True, None, None, quota, remaining, tuple(slots))


class AvailabilityCache:
    """A cache of ``availability`` and ``booking_days``: each answer reused for ``fresh_ms``.

    When booking for a popular date opens, every participant's page asks for the same few
    days many times a second. Within the window an answer is given again without reading
    the store: a place shown free may have gone meanwhile, which the booking itself (one
    atomic step) then says, and a place freed shows up at most ``fresh_ms`` late. A day
    that opens (its release) is never answered closed from the cache past that moment: an
    answer with ``opens_at`` is kept only while ``now`` is before it. Zero reads the store
    every time.

    Args:
        redis: the data store (``decode_responses=True``).
        fresh_ms: how long an answer is given again.
        collective_leave_closed: whether *cuti bersama* closes every branch.
        monotonic: seconds of a clock that never goes back (tests pass their own).
    """

    # Answers kept at most; past it the oldest half goes (a rush asks for a few hundred).
    MAX_KEPT = 4096

    def __init__(
        self,
        redis: Redis,
        fresh_ms: int,
        collective_leave_closed: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.redis = redis
        self.fresh_seconds = fresh_ms / 1000
        self.collective_leave_closed = collective_leave_closed
        self._monotonic = monotonic
        self._kept: dict[tuple, tuple[float, Availability]] = {}

    def day(self, branch_id: str, day: dt.date, service_id: str | None, now: dt.datetime) -> Availability:
        """``availability`` of the day, at most ``fresh_ms`` old."""
        if not self.fresh_seconds:
            return availability(self.redis, branch_id, day, service_id, now, self.collective_leave_closed)
        key = (branch_id, day, service_id)
        at = self._monotonic()
        kept = self._kept.get(key)
        if kept is not None and at < kept[0] and (kept[1].opens_at is None or now < kept[1].opens_at):
            return kept[1]
        answer = availability(self.redis, branch_id, day, service_id, now, self.collective_leave_closed)
        if len(self._kept) >= self.MAX_KEPT:
            for old in list(self._kept)[: self.MAX_KEPT // 2]:
                self._kept.pop(old, None)
        self._kept[key] = (at + self.fresh_seconds, answer)
        return answer

    def forget(self, branch_id: str | None = None) -> None:
        """Drop the answers kept for ``branch_id`` (every branch's with None): the catalog
        changed, and this process shows it at once (others within ``fresh_ms``)."""
        for key in [key for key in self._kept if branch_id is None or key[0] == branch_id]:
            self._kept.pop(key, None)

    def days(self, branch_id: str, service_id: str, now: dt.datetime) -> list[Availability]:
        """``booking_days``, each day at most ``fresh_ms`` old."""
        return booking_days(
            self.redis, branch_id, service_id, now, self.collective_leave_closed, day_reader=self.day
        )


def booking_days(
    redis: Redis,
    branch_id: str,
    service_id: str,
    now: dt.datetime,
    collective_leave_closed: bool = True,
    day_reader: Callable[..., Availability] | None = None,
) -> list[Availability]:
    """Each day of the branch's booking window, from its local today, with what is left.

    Args:
        day_reader: reads one day, ``(branch_id, day, service_id, now)``; ``availability``
            by default.

    Raises:
        NotFoundError: no such branch.
        ValidationFailedError: the branch never offered ``service_id``.
    """
    branch = catalog.get_branch(redis, branch_id)
    settings = schedules.load_settings(redis, branch.id)
    today = schedules.local_now(now, branch.timezone).date()
    if day_reader is None:

        def day_reader(branch_id, day, service_id, now):
            return availability(redis, branch_id, day, service_id, now, collective_leave_closed)

    return [
        day_reader(branch.id, today + dt.timedelta(days=offset), service_id, now)
        for offset in range(settings.booking_window_days + 1)
    ]
