"""What admins change: a branch's settings and its per-date closures and quotas.

Every change is one Lua step (``audited_set.lua``) that writes the value and its audit
entry together, and only if the value is still the one the change was computed from;
a change that raced another is recomputed. A change is in force the moment it is
acknowledged: the reserve script reads quotas and closures itself, and refuses a booking
whose slot was computed from settings that have changed since (their SHA-1), so no
booking slips past a lowered quota, into a closed day or into a slot that no longer
exists. No change drops a booking: a quota below what is booked, shorter hours or a
closed day keep every booking there is; ``close_day`` can cancel them on request, each
through the ordinary cancellation with its SMS.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from redis import Redis

from queue_service.domain import audit, catalog, reports, schedules, waiting_room
from queue_service.domain.audit import Actor
from queue_service.domain.errors import NotFoundError, StoreUnavailableError, ValidationFailedError
from queue_service.domain.reservations import Booking, Reservations
from queue_service.domain.staff_cancellation import checked_reason
from queue_service.store import keys
from queue_service.store.scripts import Scripts

_CHANGE_ATTEMPTS = 5
SETTINGS_FIELDS = tuple(field.name for field in dataclasses.fields(schedules.BranchSettings))


@dataclasses.dataclass(frozen=True)
class Bounds:
    """The range a numeric setting keeps to, and the message keys of its two refusals."""

    floor: int
    ceiling: int | None = None

    @property
    def below(self) -> str:
        return f"at_least_{self.floor}"

    @property
    def above(self) -> str:
        return f"at_most_{self.ceiling}"

    def problems(self, value: int) -> list[str]:
        if value < self.floor:
            return [self.below]
        if self.ceiling is not None and value > self.ceiling:
            return [self.above]
        return []


# Each numeric setting's range; ``service_quotas``'s holds for every service's quota. The
# API's schema declares these for its document, so a client knows them before it sends.
BOUNDS: dict[str, Bounds] = {
    "daily_quota": Bounds(0),
    "slot_capacity": Bounds(1),
    # A year at most: every page and check walks the window day by day, and a window of
    # millions of days runs past the calendar's end.
    "booking_window_days": Bounds(0, 366),
    "booking_cutoff_minutes": Bounds(0),
    "slot_minutes": Bounds(5),
    "checkin_early_minutes": Bounds(0),
    "checkin_grace_minutes": Bounds(0),
    # Percents; walk-ins may not take the whole day (the online quota is the rest).
    "priority_share": Bounds(0, 100),
    "walk_in_share": Bounds(0, 90),
    "call_ahead_places": Bounds(0),
    "recalls_before_no_show": Bounds(0),
    "service_quotas": Bounds(0),
}
# The waiting room's numbers (``waiting_room`` in the settings, SPEC §6 "Fair opening"), named
# ``waiting_room.<field>`` in a refusal. A room opens up to three hours before its release and
# lasts up to half a day; a rate of 100,000 a minute is no room at all, but it is the admin's to
# choose; one address may hold 1 to 1,000 tickets (mobile carriers put many phones behind one).
ROOM_BOUNDS: dict[str, Bounds] = {
    "opens_minutes_before": Bounds(0, 180),
    "admit_per_minute": Bounds(1, 100_000),
    "lasts_minutes": Bounds(1, 720),
    "tickets_per_address": Bounds(1, 1000),
}
ROOM_FIELDS = tuple(field.name for field in dataclasses.fields(waiting_room.RoomSettings))
# An end of a service interval as ``schedules.minutes_of`` reads it (midnight may end a day),
# for the API's document; a test holds the two to each other.
HOURS_CLOCK = r"([01][0-9]|2[0-3]):[0-5][0-9]|24:00"
# A time of day, ``00:00`` to ``23:59``, as ``schedules.release_clock`` reads it: the
# ``release_time`` at which the window's newest day opens.
DAY_CLOCK = r"([01][0-9]|2[0-3]):[0-5][0-9]"


def settings_problems(settings: dict[str, Any]) -> dict[str, list[str]]:
    """Every value rule a branch's settings break, by field (message keys of ``web.messages``)."""
    problems: dict[str, list[str]] = {}

    def refuse(field: str, key: str) -> None:
        problems.setdefault(field, []).append(key)

    for field, bounds in BOUNDS.items():
        values = settings[field].values() if field == "service_quotas" else (settings[field],)
        for key in dict.fromkeys(key for value in values for key in bounds.problems(value)):
            refuse(field, key)
    release = settings.get("release_time", schedules.DEFAULT_RELEASE_TIME)  # older stored ones lack it
    try:
        schedules.release_clock(release if isinstance(release, str) else "")
    except ValueError:
        refuse("release_time", "invalid_time")
    for field, found in room_problems(settings.get("waiting_room")).items():
        problems.setdefault(field, []).extend(found)
    hours = settings["service_hours"]
    unknown = set(hours) - set(schedules.WEEKDAYS)
    if unknown:
        refuse("service_hours", "unknown_weekday")
    step = settings["slot_minutes"]
    for weekday in schedules.WEEKDAYS:
        spans = []
        for interval in hours.get(weekday, []):
            try:
                start, end = (schedules.minutes_of(clock) for clock in interval)
            except ValueError:
                refuse(f"service_hours.{weekday}", "invalid_interval")
                continue
            if start >= end:
                refuse(f"service_hours.{weekday}", "interval_order")
            elif step >= BOUNDS["slot_minutes"].floor and (end - start) % step:
                refuse(f"service_hours.{weekday}", "slot_not_dividing")
            spans.append((start, end))
        spans.sort()
        if any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False)):
            refuse(f"service_hours.{weekday}", "interval_overlap")
    return problems


def room_problems(room: object) -> dict[str, list[str]]:
    """The rules a stored ``waiting_room`` breaks, by ``waiting_room.<field>`` (None: the
    defaults, none)."""
    if room is None:
        return {}
    if not isinstance(room, dict):
        return {"waiting_room": ["not_object"]}
    problems: dict[str, list[str]] = {}
    for name, value in room.items():
        field = f"waiting_room.{name}"
        if name not in ROOM_FIELDS:
            problems[field] = ["unknown_field"]
        elif name == "enabled":
            if not isinstance(value, bool):
                problems[field] = ["not_boolean"]
        elif isinstance(value, bool) or not isinstance(value, int):
            problems[field] = ["not_integer"]
        elif refused := ROOM_BOUNDS[name].problems(value):
            problems[field] = refused
    return problems


def settings_document(settings: schedules.BranchSettings) -> dict[str, Any]:
    """The whole settings as admins read them: the waiting room with every field (its defaults
    where none, or not all, are stored)."""
    document = dataclasses.asdict(settings)
    document["waiting_room"] = dataclasses.asdict(
        waiting_room.RoomSettings.from_stored(settings.waiting_room)
    )
    return document


def merged(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` applied to ``current`` (both settings as stored). A ``waiting_room`` in
    ``changes`` may name some of its fields only: they are merged into the current room (its
    defaults where none is stored), and the room is stored whole."""
    after = {**current, **changes}
    room = changes.get("waiting_room")
    if isinstance(room, dict):
        stored = current.get("waiting_room")
        base = dataclasses.asdict(waiting_room.RoomSettings())
        if isinstance(stored, dict):
            base.update(stored)
        after["waiting_room"] = {**base, **room}
    return after


@dataclasses.dataclass(frozen=True)
class Impact:
    """Bookings of one day that a change would leave outside the hours or over the quota
    (they are kept; the admin decides)."""

    date: dt.date
    bookings: int
    outside_hours: int
    over_quota: int


class BranchTuning:
    """Admins' changes to a branch (its settings, its per-date closures and quotas), each
    with its audit entry, over the data store.

    Args:
        redis: the data store (``decode_responses=True``).
        reservations: for the bookings a change concerns, and cancelling them.
    """

    def __init__(self, redis: Redis, reservations: Reservations):
        self.redis = redis
        self.reservations = reservations
        self.scripts = Scripts(redis)

    def settings(self, branch_id: str) -> schedules.BranchSettings:
        """The branch's settings.

        Raises:
            NotFoundError: no such branch.
        """
        return schedules.load_settings(self.redis, branch_id)

    def update_settings(
        self, branch_id: str, changes: dict[str, Any], actor: Actor, now: dt.datetime
    ) -> schedules.BranchSettings:
        """Apply ``changes`` (any subset of the fields) and return the whole settings.

        Raises:
            NotFoundError: no such branch.
            ValidationFailedError: the result breaks a rule (every field at fault named).
        """
        key = keys.branch_settings(branch_id)
        for _attempt in range(_CHANGE_ATTEMPTS):
            raw = self.redis.get(key)
            if raw is None:
                raise NotFoundError("branch")
            before = json.loads(raw)
            after = merged(before, changes)
            after.setdefault("service_quotas", {})
            problems = settings_problems(after)
            if problems:
                raise ValidationFailedError(problems)
            change = _change_args(
                None, raw, json.dumps(after), actor, "settings", branch_id, before, after, now
            )
            outcome = self._audited_set(key, branch_id, change)
            if outcome != "conflict":
                # A raised quota or capacity frees places: the waitlist's first.
                self.reservations.offers.sweep([branch_id], now)
                return schedules.BranchSettings(**after)
        raise StoreUnavailableError("settings kept changing")

    def impact(
        self, branch_id: str, changes: dict[str, Any], today: dt.date, days: int | None = None
    ) -> list[Impact]:
        """What applying ``changes`` would do to the bookings there are, before it is saved.

        For each day from ``today`` through the booking window (or ``days``) that has
        bookings: how many would sit in a slot the new hours or slot length no longer
        have, and how far the active bookings would exceed the new quota. Nothing is
        dropped by a change; this is what the admin is told first.

        Raises:
            NotFoundError: no such branch.
            ValidationFailedError: the changed settings break a rule.
        """
        current = dataclasses.asdict(self.settings(branch_id))
        after = merged(current, changes)
        problems = settings_problems(after)
        if problems:
            raise ValidationFailedError(problems)
        new = schedules.BranchSettings(**after)
        horizon = (
            days if days is not None else max(current["booking_window_days"], new.booking_window_days) + 1
        )
        found = []
        for offset in range(horizon):
            day = today + dt.timedelta(days=offset)
            active = [b for b in self.bookings(branch_id, day) if b.status != "cancelled"]
            if not active:
                continue
            override = schedules.load_override(self.redis, branch_id, day)
            starts = {slot.start for slot in schedules.slots_of_day(new, day)}
            quota = schedules.effective_quota(new, override)
            found.append(
                Impact(
                    day,
                    len(active),
                    outside_hours=sum(b.slot_start not in starts for b in active),
                    over_quota=max(0, len(active) - quota),
                )
            )
        return [impact for impact in found if impact.outside_hours or impact.over_quota]

    def set_date(
        self, branch_id: str, day: dt.date, override: schedules.DateOverride, actor: Actor, now: dt.datetime
    ) -> schedules.DateOverride:
        """Close ``day`` or give it its own quota (a closure keeps its bookings).

        Raises:
            NotFoundError: no such branch.
            ValidationFailedError: a negative quota, or a day already over in the branch's
                time zone (its bookings are the end of day's to settle, and its reports
                stand as they were).
        """
        if override.daily_quota is not None and (
            refused := BOUNDS["daily_quota"].problems(override.daily_quota)
        ):
            raise ValidationFailedError({"daily_quota": refused})
        branch = catalog.get_branch(self.redis, branch_id)
        if day < schedules.local_now(now, branch.timezone).date():
            raise ValidationFailedError({"date": ["date_in_past"]})
        self._change_date(branch_id, day, dataclasses.asdict(override), actor, now)
        return override

    def clear_date(self, branch_id: str, day: dt.date, actor: Actor, now: dt.datetime) -> bool:
        """Remove ``day``'s closure or quota. Returns whether there was one."""
        return self._change_date(branch_id, day, None, actor, now)

    def close_day(
        self,
        branch_id: str,
        day: dt.date,
        note: str,
        actor: Actor,
        now: dt.datetime,
        cancel_bookings: bool = False,
    ) -> list[Booking]:
        """Close ``day``; with ``cancel_bookings``, cancel its bookings too, each with its SMS.

        Returns:
            The bookings cancelled.
        """
        self.set_date(branch_id, day, schedules.DateOverride(closed=True, note=note), actor, now)
        if not cancel_bookings:
            return []
        cancelled = []
        for booking in self.bookings(branch_id, day):
            if booking.status == "booked":
                cancelled.append(self.reservations.cancel_booking(booking, now, by=f"admin:{actor.username}"))
        return cancelled

    def close_days(
        self, branch_id: str, days: Sequence[dt.date], note: str, actor: Actor, now: dt.datetime
    ) -> dict[str, tuple[str | None, str]]:
        """Close each of ``days`` with ``note`` in one step (``audited_set_fields.lua``), each
        day audited as ``set_date`` audits one; a day's own quota is kept. Days already so are
        left alone. The caller judges the days (``set_date``'s rules).

        Returns:
            For each day this closed (ISO date): the stored override it replaced (None: none)
            and the one it wrote, for ``restore_days``.

        Raises:
            NotFoundError: no such branch.
            StoreUnavailableError: the days kept changing.
        """
        if not self.redis.exists(keys.branch_settings(branch_id)):
            raise NotFoundError("branch")
        key = keys.branch_dates(branch_id)
        written: dict[str, tuple[str | None, str]] = {}
        left = [day.isoformat() for day in days]
        for _attempt in range(_CHANGE_ATTEMPTS):
            if not left:
                return written
            wanted = {}
            for label, raw in zip(left, self.redis.hmget(key, left), strict=True):
                quota = json.loads(raw).get("daily_quota") if raw else None
                after = schedules.DateOverride(closed=True, daily_quota=quota, note=note)
                wanted[label] = (raw, json.dumps(dataclasses.asdict(after)))
            outcomes = self._set_dates(branch_id, wanted, actor, now)
            written.update(
                {label: wanted[label] for label, outcome in outcomes.items() if outcome == "changed"}
            )
            left = [label for label, outcome in outcomes.items() if outcome == "conflict"]
        if left:
            raise StoreUnavailableError("the dates kept changing")
        return written

    def restore_days(
        self, branch_id: str, written: dict[str, tuple[str | None, str]], actor: Actor, now: dt.datetime
    ) -> list[str]:
        """Put back what ``close_days`` replaced (its answer), in one step, each day audited;
        a day changed since it was closed is left as it is now.

        Returns:
            The days restored (ISO dates).
        """
        wanted = {label: (after, before) for label, (before, after) in written.items()}
        outcomes = self._set_dates(branch_id, wanted, actor, now)
        return [label for label, outcome in outcomes.items() if outcome == "changed"]

    def _set_dates(
        self,
        branch_id: str,
        wanted: dict[str, tuple[str | None, str | None]],
        actor: Actor,
        now: dt.datetime,
    ) -> dict[str, str]:
        """Each date's override from the value read to the new one (None: none), with its
        audit entry, in one step: the outcome of each (see ``audited_set_fields.lua``)."""
        if not wanted:
            return {}
        changes = []
        for label, (current, new) in wanted.items():
            changes.append(
                _change_args(
                    label,
                    current,
                    new,
                    actor,
                    "date" if new is not None else "date_cleared",
                    f"{branch_id}/{label}",
                    json.loads(current) if current else None,
                    json.loads(new) if new else None,
                    now,
                )
            )
        outcomes = self.scripts.audited_set_fields(
            keys=[keys.branch_dates(branch_id), keys.branch_audit(branch_id)],
            args=[len(changes[0]), *(arg for change in changes for arg in change)],
        )
        return dict(zip(wanted, outcomes, strict=True))

    def bookings(self, branch_id: str, day: dt.date) -> list[Booking]:
        """The day's bookings at the branch, in the order they were made."""
        codes = self.redis.lrange(keys.day_bookings(branch_id, day.isoformat()), 0, -1)
        pipe = self.redis.pipeline(transaction=False)
        for code in codes:
            pipe.hgetall(keys.booking(branch_id, code))
        return [
            Booking.from_hash(branch_id, code, data)
            for code, data in zip(codes, pipe.execute(), strict=True)
            if data
        ]

    def export_bookings(
        self,
        branch_id: str,
        day: dt.date,
        full: bool,
        actor: Actor,
        now: dt.datetime,
        reason: str | None = None,
    ) -> str:
        """The day's bookings as CSV, masked; unmasked only with ``full`` and a ``reason``,
        audited with it.

        Raises:
            ValidationFailedError: ``reason``, with ``full``: missing or blank, or too long.
        """
        why = checked_reason(reason) if full else None
        bookings = self.bookings(branch_id, day)
        if full:
            audit.record(
                self.redis,
                keys.branch_audit(branch_id),
                actor,
                "bookings_exported_full",
                f"{branch_id}/{day.isoformat()}",
                None,
                {"bookings": len(bookings), "reason": why},
                now,
            )
        return reports.bookings_csv(bookings, full=full)

    def _change_date(
        self, branch_id: str, day: dt.date, after: dict | None, actor: Actor, now: dt.datetime
    ) -> bool:
        if not self.redis.exists(keys.branch_settings(branch_id)):
            raise NotFoundError("branch")
        key = keys.branch_dates(branch_id)
        for _attempt in range(_CHANGE_ATTEMPTS):
            raw = self.redis.hget(key, day.isoformat())
            before = json.loads(raw) if raw else None
            change = _change_args(
                day.isoformat(),
                raw,
                json.dumps(after) if after is not None else None,
                actor,
                "date" if after is not None else "date_cleared",
                f"{branch_id}/{day.isoformat()}",
                before,
                after,
                now,
            )
            outcome = self._audited_set(key, branch_id, change)
            if outcome != "conflict":
                # A raised quota (or a closure lifted) frees places: the waitlist's first.
                self.reservations.offers.offer_safely(branch_id, day, now)
                return outcome == "changed"
        raise StoreUnavailableError("the date kept changing")

    def _audited_set(self, key: str, branch_id: str, change: list[str]) -> str:
        """One change (``_change_args``) with its entry in the branch's audit stream."""
        return self.scripts.audited_set(keys=[key, keys.branch_audit(branch_id)], args=change)


def _change_args(
    field: str | None,
    current: str | None,
    new: str | None,
    actor: Actor,
    action: str,
    target: str,
    before: object,
    after: object,
    now: dt.datetime,
) -> list[str]:
    """``audited_set.lua``'s ARGV for one change of ``field`` (None: a string key) from
    ``current`` to ``new`` (None: none), with its audit entry."""
    return [
        "field" if field is not None else "string",
        field or "",
        hashlib.sha1(current.encode()).hexdigest() if current is not None else "",
        new or "",
        *audit.fields_of(actor, action, target, before, after, now),
    ]
