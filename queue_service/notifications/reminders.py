"""SMS reminders: when a visit's reminder is due, and the eve's planning that puts them on.

Reminders are planned a day at a time: at the eve of a visit day (``SMS_REMINDER_TIME``,
branch-local) a sweep puts each of the day's bookings whose confirmation went out on the
branch's reminders, due at once, so a booking keeps nothing for its reminder until then. The
workers deliver them like any other event (``delivery.Deliveries``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from redis import Redis

from queue_service.domain import catalog
from queue_service.domain.reservations import Booking
from queue_service.store import keys
from queue_service.store.scripts import Scripts

log = logging.getLogger(__name__)

# Bookings per plan_reminders.lua call: a busy day is planned in steps, not in one long one.
_PLAN_BATCH = 500
# How long the days whose reminders were planned are remembered.
_PLANNED_DAYS_KEPT = dt.timedelta(days=7)
_PLANNING = "0"


class Reminders:
    """The reminder the day before each visit, over the data store.

    Args:
        redis: the data store (``decode_responses=True``).
        reminder_time: branch-local time of the reminder the day before; None for none.
    """

    def __init__(self, redis: Redis, reminder_time: dt.time | None = dt.time(15, 0)):
        self.redis = redis
        self.scripts = Scripts(redis)
        self.reminder_time = reminder_time

    def due(self, booking: Booking, timezone: str) -> dt.datetime | None:
        """When the reminder of ``booking`` is due: ``reminder_time`` the day before, local."""
        if self.reminder_time is None:
            return None
        return self._due(booking.date, timezone)

    def plan(self, now: dt.datetime, branch_ids: Sequence[str]) -> int:
        """Put the reminders of each branch's next day on its reminders, once its eve (the
        reminder time, branch-local) has come and unless done already; returns how many.

        A booking gets one if it stands for that day and its confirmation went out before the
        reminder was due: one booked later was just told it all.
        """
        if self.reminder_time is None or not branch_ids:
            return 0
        zones = {branch.id: branch.timezone for branch in catalog.list_branches(self.redis)}
        eves = {}
        for branch_id in branch_ids:
            if branch_id not in zones:
                continue
            try:
                local = now.astimezone(ZoneInfo(zones[branch_id]))
            except (ValueError, KeyError) as error:  # a time zone this machine lacks
                log.error(
                    "SMS reminders of %s not planned: time zone %r: %s",
                    branch_id,
                    zones[branch_id],
                    type(error).__name__,
                )
                continue
            if local.time() >= self.reminder_time:
                eves[branch_id] = local.date() + dt.timedelta(days=1)
        with self.redis.pipeline(transaction=False) as pipe:
            for branch_id, day in eves.items():
                pipe.hget(keys.sms_reminders_planned(branch_id), day.isoformat())
            done = pipe.execute()
        # "0": a planning began and did not end (its worker died, or it is still going):
        # walking the day again is harmless.
        walked = [
            (branch_id, day, self._plan_day(branch_id, day, self._due(day, zones[branch_id])))
            for (branch_id, day), planned in zip(eves.items(), done, strict=True)
            if planned in (None, _PLANNING)
        ]
        total = sum(planned for _, _, planned in walked)
        # One line for the whole sweep, and only when it planned something: a worker's start
        # walks every branch, and a line per branch buried what a developer looks for.
        if total:
            branches = sum(1 for _, _, planned in walked if planned)
            log.info("SMS reminders planned: %d, at %d branch(es)", total, branches)
        return total

    def _plan_day(self, branch_id: str, day: dt.date, due: dt.datetime) -> int:
        # The day counts as planned from before its list is read: a booking moved into it
        # from now on gets its reminder from the move (reschedule.lua).
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hsetnx(keys.sms_reminders_planned(branch_id), day.isoformat(), _PLANNING)
            pipe.lrange(keys.day_bookings(branch_id, day.isoformat()), 0, -1)
            codes = pipe.execute()[1]
        batches = [codes[start : start + _PLAN_BATCH] for start in range(0, len(codes), _PLAN_BATCH)] or [[]]
        planned = 0
        for number, batch in enumerate(batches, start=1):
            planned += self.scripts.plan_reminders(
                keys=[
                    keys.sms_reminders(branch_id),
                    keys.sms_reminders_planned(branch_id),
                    *(keys.booking(branch_id, code) for code in batch),
                ],
                args=[
                    day.isoformat(),
                    int(due.timestamp() * 1000),
                    "1" if number == len(batches) else "",
                    (day - _PLANNED_DAYS_KEPT).isoformat(),
                    *batch,
                ],
            )
        log.debug("SMS reminders of %s at %s: %d planned", day.isoformat(), branch_id, planned)
        return planned

    def _due(self, day: dt.date, timezone: str) -> dt.datetime:
        return dt.datetime.combine(day - dt.timedelta(days=1), self.reminder_time, tzinfo=ZoneInfo(timezone))
