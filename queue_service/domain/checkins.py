"""Check-in at a branch's kiosk (SPEC §2 "Check-in").

A booked participant checks in on the day of the booking, in the branch's own time zone,
from ``checkin_early_minutes`` before the slot to ``checkin_grace_minutes`` after its start
(per branch; 60 and 30 by default). The change is one Lua step, so two kiosks scanning the
same code at once check it in once; a repeat answers with the same queue number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from redis import Redis

from queue_service.domain import catalog, schedules
from queue_service.domain.codes import normalise_code
from queue_service.domain.errors import (
    CancelledError,
    HoldExpiredError,
    NotFoundError,
    TooEarlyError,
    TooLateError,
    WrongBranchError,
    WrongDateError,
)
from queue_service.domain.kiosks import Kiosk
from queue_service.domain.live_queue.lines import place_in_line
from queue_service.domain.reservations import PENDING, Booking
from queue_service.store import keys
from queue_service.store.outcomes import CheckInOutcome
from queue_service.store.scripts import Scripts

_ATTEMPTS = 3


@dataclass(frozen=True)
class CheckIn:
    code: str
    queue_number: str
    already_checked_in: bool


class CheckIns:
    """Check-ins over the data store (``decode_responses=True``)."""

    def __init__(self, redis: Redis):
        self.redis = redis
        self.scripts = Scripts(redis)

    def check_in(self, kiosk: Kiosk, typed_code: str, now: dt.datetime) -> CheckIn:
        """Check in the booking ``typed_code`` (any case, spaces and dashes ignored) at ``kiosk``.

        Raises:
            NotFoundError: no booking has this code.
            WrongBranchError: it is another branch's booking.
            WrongDateError: it is not for today, branch-local.
            TooEarlyError: before the early window (``opens_at``: when it opens, local).
            TooLateError: past the grace period, or marked no-show.
            CancelledError: it was cancelled.
        """
        code = normalise_code(typed_code or "")
        if code is None:
            raise NotFoundError("booking")
        branch = catalog.get_branch(self.redis, kiosk.branch_id)
        zone = ZoneInfo(branch.timezone)
        for _attempt in range(_ATTEMPTS):
            data = self.redis.hgetall(keys.booking(kiosk.branch_id, code))
            if data.get("walk_in"):  # a walk-in ticket is in line already, and no booking
                raise NotFoundError("booking")
            if not data:
                elsewhere = self.redis.get(keys.code_branch(code))
                if (
                    elsewhere
                    and elsewhere != kiosk.branch_id
                    and self.redis.exists(keys.booking(elsewhere, code))
                ):
                    raise WrongBranchError()
                raise NotFoundError("booking")
            booking = Booking.from_hash(kiosk.branch_id, code, data)
            if booking.status in ("checked_in", "called", "served"):
                return CheckIn(code, booking.queue_number, already_checked_in=True)
            if booking.status == "cancelled":
                raise CancelledError()
            if booking.status == "no_show":
                raise TooLateError("no_show")
            if booking.status == PENDING:
                # Not a booking until its phone confirmed it: the kiosk knows no such code.
                raise NotFoundError("booking")
            if booking.status == "expired":
                raise HoldExpiredError()
            local = now.astimezone(zone)
            if booking.date != local.date():
                raise WrongDateError()
            settings = schedules.load_settings(self.redis, kiosk.branch_id)
            starts = dt.datetime.combine(booking.date, booking.slot_start, tzinfo=zone)
            opens = starts - dt.timedelta(minutes=settings.checkin_early_minutes)
            if local < opens:
                raise TooEarlyError(f"{opens:%H:%M} {schedules.timezone_label(branch.timezone)}")
            if local > starts + dt.timedelta(minutes=settings.checkin_grace_minutes):
                raise TooLateError("grace_over")
            day = booking.date.isoformat()
            outcome = CheckInOutcome.read(
                self.scripts.check_in(
                    keys=[
                        keys.booking(kiosk.branch_id, code),
                        keys.day_checkins(kiosk.branch_id, day),
                        keys.queue_waiting(kiosk.branch_id, day, booking.service_id),
                        keys.queue_numbers(kiosk.branch_id, day),
                    ],
                    args=[
                        day,
                        f"{booking.slot_start:%H:%M}",
                        kiosk.id,
                        int(now.timestamp() * 1000),
                        now.isoformat(timespec="seconds"),
                        code,
                        place_in_line(booking.date, booking.slot_start, now, zone),
                    ],
                )
            )
            if outcome.done:
                return CheckIn(code, outcome.queue_number, already_checked_in=outcome.verdict == "repeat")
            # 'moved' (rescheduled meanwhile), 'status' (cancelled or marked meanwhile),
            # 'missing' (purged meanwhile): read it again and answer for what it is now.
        raise NotFoundError("booking")
