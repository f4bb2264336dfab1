"""A freed place goes to the waitlist first: the offer step.

Whatever frees a place on a day (a cancellation, a released hold or offer, a move away, a
raised quota or slot capacity, a declined offer) runs ``WaitlistOffers.offer`` for that day
right after, and the worker's sweep runs it for every day with a waitlist, which makes any
offer a failure in between missed. The step itself is one Lua step in the branch's slot
(``waitlist_offer.lua``): it walks the day's waitlist in order and holds each free place for
the first entry it fits, so two places freed at once make two offers and none is made twice.
Until then nobody else can book a place someone waits for (``place_refusal.lua``), and public
availability does not show it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable

from redis import Redis

from queue_service.domain import calendar, catalog, schedules
from queue_service.domain.errors import NotFoundError
from queue_service.store import keys
from queue_service.store.scripts import Scripts

log = logging.getLogger(__name__)

# Entries the offer step reads at a time as it walks the whole line (waitlist_offer.lua).
ENTRIES_PER_STEP = 200
# Offer steps tried while an admin's changes keep landing between the read and the step.
_ATTEMPTS = 3


def place_keys(branch_id: str, date: str) -> list[str]:
    """The keys ``place_refusal.lua`` judges a place of ``date`` by, in its order (the first
    six of every waitlist script's): settings, date overrides, national closures, day counts,
    slot counts, the day's waiters."""
    return [
        keys.branch_settings(branch_id),
        keys.branch_dates(branch_id),
        keys.branch_national_closures(branch_id),
        keys.day_counts(branch_id, date),
        keys.slot_counts(branch_id, date),
        keys.waiters(branch_id, date),
    ]


class WaitlistOffers:
    """Offering freed places to the waitlist, over the data store (``decode_responses=True``).

    Args:
        offer_minutes: how long an offer holds its place (``WAITLIST_OFFER_MINUTES``).
        collective_leave_closed: whether *cuti bersama* closes every branch.
    """

    def __init__(
        self, redis: Redis, scripts: Scripts, offer_minutes: float = 30, collective_leave_closed: bool = True
    ):
        self.redis = redis
        self.scripts = scripts
        self.offer_ms = round(offer_minutes * 60_000)
        self.collective_leave_closed = collective_leave_closed

    def offer(self, branch_id: str, day: dt.date, now: dt.datetime) -> list[str]:
        """Offer the free places of ``branch_id``'s ``day`` to its waitlist, in order.

        Returns:
            The codes of the entries offered a place now (their messages are on the outbox).
        """
        date = day.isoformat()
        if not self.redis.zscore(keys.waitlist_days(branch_id), date):
            return []  # nobody waits that day: the common case, one read
        for _attempt in range(_ATTEMPTS):
            settings_sha1, slots = self._open_slots(branch_id, day, now)
            args: list = [date, self.offer_ms, keys.booking(branch_id, ""), ENTRIES_PER_STEP, settings_sha1]
            for slot, ms_left in slots:
                args += [slot.label, slot.end_label, ms_left]
            offered = self.scripts.waitlist_offer(
                keys=[
                    *place_keys(branch_id, date),
                    keys.waitlist(branch_id, date),
                    keys.branch_holds(branch_id),
                    keys.sms_outbox(branch_id),
                    keys.waitlist_days(branch_id),
                ],
                args=args,
            )
            if offered is not None:
                return list(offered)
            # The settings changed since they were read (slots, hours, cutoff): read them again.
        log.info(
            "waitlist of %s on %s not offered now: its settings kept changing; the sweep will", branch_id, day
        )
        return []

    def offer_safely(self, branch_id: str, day: dt.date, now: dt.datetime) -> list[str]:
        """``offer``, after a change that is committed already: a failure is logged, not
        raised (the worker's sweep makes the offer)."""
        try:
            return self.offer(branch_id, day, now)
        except Exception:
            log.exception("waitlist of %s on %s not offered now; the sweep will", branch_id, day)
            return []

    def days(self, branch_id: str) -> list[dt.date]:
        """The branch's days with someone on the waitlist."""
        return [dt.date.fromisoformat(d) for d in self.redis.zrange(keys.waitlist_days(branch_id), 0, -1)]

    def offer_every_day(self, branch_id: str, now: dt.datetime) -> int:
        """``offer`` for each of the branch's days with a waitlist (after a change of its
        settings, which may free places on any day); a day that has passed leaves the list.
        Returns how many offers were made."""
        made = 0
        today = None
        for day in self.days(branch_id):
            if today is None:
                today = schedules.local_now(now, catalog.get_branch(self.redis, branch_id).timezone).date()
            if day < today:
                self.redis.zrem(keys.waitlist_days(branch_id), day.isoformat())
                continue
            made += len(self.offer(branch_id, day, now))
        return made

    def sweep(self, branch_ids: Iterable[str], now: dt.datetime) -> int:
        """``offer_every_day`` for every branch (the worker's sweep, which makes any offer
        missed); a branch that fails is logged and left to the next sweep. Returns how many
        offers were made."""
        made = 0
        for branch_id in branch_ids:
            try:
                made += self.offer_every_day(branch_id, now)
            except Exception:
                log.exception("waitlist offers of branch %s not made this sweep", branch_id)
        return made

    def _open_slots(
        self, branch_id: str, day: dt.date, now: dt.datetime
    ) -> tuple[str, list[tuple[schedules.Slot, int]]]:
        """The SHA-1 of the branch's settings as read (the offer step offers nothing once they
        changed: the slots were worked out from them), and the day's slots still open for
        booking at ``now``, each with the ms left before its booking cutoff (none when the day
        takes no bookings)."""
        raw = self.redis.get(keys.branch_settings(branch_id))
        if raw is None:
            return "", []
        settings_sha1 = hashlib.sha1(raw.encode()).hexdigest()
        try:
            branch = catalog.get_branch(self.redis, branch_id)
        except NotFoundError:
            return settings_sha1, []
        settings = schedules.BranchSettings(**json.loads(raw))
        now_local = schedules.local_now(now, branch.timezone)
        status = schedules.day_status(
            settings,
            schedules.load_override(self.redis, branch_id, day),
            day,
            now_local,
            national_closure=calendar.closure_note(
                self.redis.hget(keys.branch_national_closures(branch_id), day.isoformat())
            ),
            collective_leave_closed=self.collective_leave_closed,
        )
        if not status.open or branch.retired:
            return settings_sha1, []
        cutoff = dt.timedelta(minutes=settings.booking_cutoff_minutes)
        open_slots = []
        for slot in schedules.slots_of_day(settings, day):
            closes = dt.datetime.combine(day, slot.start, tzinfo=now_local.tzinfo) - cutoff
            if now_local < closes:
                open_slots.append((slot, int((closes - now_local).total_seconds() * 1000)))
        return settings_sha1, open_slots
