"""Walk-in tickets: people who come without a booking get a ticket at the kiosk.

Each branch keeps ``walk_in_share`` percent of a day's capacity for them (``schedules.
walk_in_places``). A ticket is numbered apart from booked queue numbers (``WA-001`` beside
``A-001``), so the two never collide, and joins its service's line by arrival time, in the same
Lua step that counts it against the day's places: two kiosks issuing the last place at once
issue it once. A ticket holds no personal data, so it is kept as long as the day's queue
keys it joins (``live_queue.lines.DAY_KEYS_MS``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from dataclasses import dataclass

from redis import Redis

from queue_service.domain import calendar, catalog, schedules
from queue_service.domain.codes import new_code
from queue_service.domain.errors import ClosedNowError, ValidationFailedError, WalkInsFullError
from queue_service.domain.kiosks import Kiosk
from queue_service.domain.live_queue.lines import DAY_KEYS_MS, place_in_line
from queue_service.store import keys
from queue_service.store.outcomes import QueueStepOutcome
from queue_service.store.scripts import Scripts


@dataclass(frozen=True)
class WalkInTicket:
    queue_number: str
    service_id: str
    code: str


@dataclass(frozen=True)
class WalkInUse:
    """A day's walk-in places and how many were issued."""

    places: int
    issued: int

    @property
    def remaining(self) -> int:
        return max(0, self.places - self.issued)


class WalkIns:
    """Walk-in tickets over the data store (``decode_responses=True``)."""

    def __init__(self, redis: Redis, collective_leave_closed: bool = True):
        self.redis = redis
        self.scripts = Scripts(redis)
        self.collective_leave_closed = collective_leave_closed

    def issue(
        self,
        kiosk: Kiosk,
        service_id: str,
        now: dt.datetime,
        priority: bool = False,
        token: str | None = None,
    ) -> WalkInTicket:
        """Issue a ticket for ``service_id`` at ``kiosk``'s branch, now.

        Args:
            priority: the person is elderly, disabled, pregnant or a child (UU 25/2009).
            token: the request's token: the same token answers the same ticket.

        Raises:
            ValidationFailedError: the branch does not offer that service.
            ClosedNowError: the branch is closed today, or outside its hours now.
            WalkInsFullError: the day's walk-in places are taken.
        """
        branch = catalog.get_branch(self.redis, kiosk.branch_id)
        if service_id not in branch.services:
            raise ValidationFailedError({"service_id": ["unknown_service"]})
        service = catalog.service_at(self.redis, branch.id, service_id)
        local = schedules.local_now(now, branch.timezone)
        day = local.date()
        settings = schedules.load_settings(self.redis, branch.id)
        override = schedules.load_override(self.redis, branch.id, day)
        if not self._serving(branch.id, settings, override, local):
            raise ClosedNowError()
        order = place_in_line(day, local.time().replace(second=0, microsecond=0), local, local.tzinfo)
        line = keys.queue_waiting(branch.id, day.isoformat(), service_id, priority=priority)
        outcome = QueueStepOutcome.read(
            self.scripts.walk_in(
                keys=[
                    keys.queue_requests(branch.id, day.isoformat()),
                    keys.walk_in_counts(branch.id, day.isoformat()),
                    keys.queue_numbers(branch.id, day.isoformat()),
                    line,
                    keys.booking(branch.id, code := new_code()),
                ],
                args=[
                    f"walk_in:{token or secrets.token_hex(16)}",
                    schedules.walk_in_places(settings, override),
                    service_id,
                    service.prefix,
                    code,
                    order,
                    now.isoformat(timespec="seconds"),
                    day.isoformat(),
                    branch.id,
                    "1" if priority else "0",
                    DAY_KEYS_MS,
                    kiosk.id,
                ],
            )
        )
        if outcome.verdict == "full":
            raise WalkInsFullError()
        answer = outcome.answer
        return WalkInTicket(answer["queue_number"], answer["service_id"], answer["code"])

    def use(self, branch_id: str, day: dt.date) -> WalkInUse:
        """The walk-in places of ``day`` at the branch and how many were issued."""
        settings = schedules.load_settings(self.redis, branch_id)
        override = schedules.load_override(self.redis, branch_id, day)
        issued = self.redis.hget(keys.walk_in_counts(branch_id, day.isoformat()), "total")
        return WalkInUse(schedules.walk_in_places(settings, override), int(issued or 0))

    def _serving(
        self,
        branch_id: str,
        settings: schedules.BranchSettings,
        override: schedules.DateOverride | None,
        local: dt.datetime,
    ) -> bool:
        """Whether the branch serves at ``local``: open today (whether or not it takes online
        bookings), from the check-in window before its first slot to its last slot's end."""
        day = local.date()
        status = schedules.day_status(
            dataclasses.replace(settings, online_booking=True),
            override,
            day,
            day,
            calendar.national_closure(self.redis, branch_id, day),
            self.collective_leave_closed,
        )
        slots = schedules.slots_of_day(settings, day)
        if not status.open or not slots:
            return False
        zone = local.tzinfo
        opens = dt.datetime.combine(day, slots[0].start, tzinfo=zone) - dt.timedelta(
            minutes=settings.checkin_early_minutes
        )
        last = slots[-1].end
        closes = (
            dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
            if last == dt.time(0)
            else dt.datetime.combine(day, last, tzinfo=zone)
        )
        return opens <= local < closes
