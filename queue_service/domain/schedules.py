"""Service hours, slots, holidays, closures and quotas of a branch.

Every rule takes ``now`` (timezone-aware) from the caller and works in the
branch's own time zone: "today" is always the branch's local day.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from zoneinfo import ZoneInfo

from redis import Redis

from queue_service.domain import calendar
from queue_service.domain.errors import NotFoundError
from queue_service.store import keys

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Today's behaviour: the newest day of the booking window opens as that day begins.
DEFAULT_RELEASE_TIME = "00:00"
TIMEZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


@dataclass
class BranchSettings:
    """What a branch admin tunes (SPEC §3 admin settings)."""

    online_booking: bool
    daily_quota: int
    slot_minutes: int
    slot_capacity: int
    booking_window_days: int
    booking_cutoff_minutes: int
    service_hours: dict[str, list[list[str]]]
    # Optional per-service daily caps, shared slot capacity notwithstanding.
    service_quotas: dict[str, int] = field(default_factory=dict)
    # The check-in window around a slot's start (SPEC §2: 60 before, 30 after by default).
    checkin_early_minutes: int = 60
    checkin_grace_minutes: int = 30
    # The live queue: at most this percent of the recent calls may take a priority participant
    # while others wait, so priority goes first without starving the rest.
    priority_share: int = 50
    # Walk-ins (people without a booking) get this percent of the day's capacity: the online
    # quota is the rest, so 20 with a quota of 160 keeps 40 places for walk-ins.
    walk_in_share: int = 20
    # A checked-in participant gets one SMS when this many places from being called (0: none).
    call_ahead_places: int = 3
    # A called participant recalled this many times is a no-show at the next recall.
    recalls_before_no_show: int = 2
    # The newest day of the booking window becomes bookable at this branch-local time
    # ("HH:MM"), not at midnight (SPEC §6 "Fair opening"); "00:00" opens it as the day begins.
    release_time: str = DEFAULT_RELEASE_TIME
    # The waiting room around each release (SPEC §6): enabled, opens_minutes_before,
    # admit_per_minute, lasts_minutes, tickets_per_address; see domain.waiting_room (which
    # gives the defaults of fields left out). None: no room.
    waiting_room: dict | None = None


@dataclass
class DateOverride:
    """A branch's own closure or quota for one date."""

    closed: bool = False
    daily_quota: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Slot:
    start: dt.time
    end: dt.time

    @property
    def label(self) -> str:
        """``HH:MM`` of the start (formatted by hand: strftime showed in availability's profile)."""
        return f"{self.start.hour:02d}:{self.start.minute:02d}"

    @property
    def end_label(self) -> str:
        """``HH:MM`` of the end."""
        return f"{self.end.hour:02d}:{self.end.minute:02d}"


@dataclass(frozen=True)
class DayStatus:
    """Whether a date takes bookings, and if not, why (``reason``) with a human ``note``."""

    open: bool
    reason: str | None = None
    note: str | None = None
    # When a day closed only for the time being (``beyond_window``, ``not_yet_open``) comes
    # into the window, branch-local; known only when the status was judged at a moment.
    opens_at: dt.datetime | None = None


def timezone_label(timezone: str) -> str:
    """WIB, WITA or WIT."""
    return TIMEZONE_LABELS.get(timezone, timezone)


def local_now(now: dt.datetime, timezone: str) -> dt.datetime:
    """``now`` on the branch's wall clock."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(timezone))


def load_settings(redis: Redis, branch_id: str) -> BranchSettings:
    """The branch's schedule settings.

    Raises:
        NotFoundError: the branch has no settings (it does not exist).
    """
    raw = redis.get(keys.branch_settings(branch_id))
    if raw is None:
        raise NotFoundError("branch")
    return BranchSettings(**json.loads(raw))


def store_settings(redis: Redis, branch_id: str, settings: BranchSettings, overwrite: bool = True) -> bool:
    """Write the settings; with ``overwrite=False`` only where none exist. Returns whether written."""
    raw = json.dumps(asdict(settings))
    return bool(redis.set(keys.branch_settings(branch_id), raw, nx=not overwrite))


def load_override(redis: Redis, branch_id: str, day: dt.date) -> DateOverride | None:
    """The branch's closure or quota override for ``day``, if it has one."""
    raw = redis.hget(keys.branch_dates(branch_id), day.isoformat())
    return DateOverride(**json.loads(raw)) if raw else None


def slots_of_day(settings: BranchSettings, day: dt.date) -> list[Slot]:
    """The arrival slots of ``day``: each service interval cut into whole slots."""
    slots = []
    step = dt.timedelta(minutes=settings.slot_minutes)
    for start_text, end_text in settings.service_hours.get(WEEKDAYS[day.weekday()], []):
        start, end = _on(day, start_text), _on(day, end_text)
        while start + step <= end:
            slots.append(Slot(start.time(), (start + step).time()))
            start += step
    return slots


def _on(day: dt.date, clock: str) -> dt.datetime:
    """``HH:MM`` on ``day``; ``24:00`` is the midnight that ends it."""
    if clock == "24:00":
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    return dt.datetime.combine(day, dt.time.fromisoformat(clock))


def minutes_of(clock: str) -> int:
    """``HH:MM`` (``00:00`` to ``24:00``) as minutes after midnight.

    Raises:
        ValueError: not such a time.
    """
    hours, sep, minutes = clock.partition(":")
    if not (
        sep
        and len(hours) == 2
        and len(minutes) == 2
        and hours.isdigit()
        and minutes.isdigit()
        and hours.isascii()
        and minutes.isascii()
    ):
        raise ValueError(clock)
    total = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or total > 24 * 60:
        raise ValueError(clock)
    return total


def find_slot(settings: BranchSettings, day: dt.date, start: dt.time) -> Slot | None:
    """The slot of ``day`` that starts at ``start``, if there is one."""
    return next((slot for slot in slots_of_day(settings, day) if slot.start == start), None)


def effective_quota(settings: BranchSettings, override: DateOverride | None) -> int:
    """The day's quota of online bookings, after any per-date override."""
    if override is not None and override.daily_quota is not None:
        return override.daily_quota
    return settings.daily_quota


def walk_in_places(settings: BranchSettings, override: DateOverride | None) -> int:
    """The day's places for walk-ins: ``walk_in_share`` percent of the day's capacity, the
    online quota being the rest of it."""
    share = min(max(settings.walk_in_share, 0), 90)
    return effective_quota(settings, override) * share // (100 - share)


def day_status(
    settings: BranchSettings,
    override: DateOverride | None,
    day: dt.date,
    at: dt.date | dt.datetime,
    national_closure: str | None = None,
    collective_leave_closed: bool = True,
) -> DayStatus:
    """Whether ``day`` takes online bookings, seen from the branch-local ``at``.

    The booking window runs from today through today plus ``booking_window_days``; its
    newest day opens at ``release_time`` (``not_yet_open`` before it, the time in ``note``).
    This is the one place that rule lives: availability, the pages and reservations all
    ask here.

    Args:
        at: the branch-local moment (aware), which judges the newest day's release; or only
            the branch-local day, which judges each day as a whole, its release come
            (reports, and the walk-ins' "is the branch serving today").
        national_closure: the note of a national closure of ``day``, if there is one.
        collective_leave_closed: whether *cuti bersama* closes the branch.
    """
    now_local = at if isinstance(at, dt.datetime) else None
    today = now_local.date() if now_local is not None else at
    if not settings.online_booking:
        return DayStatus(False, "online_booking_off")
    if day < today:
        return DayStatus(False, "past")
    newest = today + dt.timedelta(days=settings.booking_window_days)
    if day > newest:
        opens = release_of(settings, day, now_local.tzinfo) if now_local is not None else None
        return DayStatus(False, "beyond_window", opens_at=opens)
    holiday = calendar.public_holiday(day)
    if holiday:
        return DayStatus(False, "holiday", holiday)
    leave = calendar.collective_leave(day) if collective_leave_closed else None
    if leave:
        return DayStatus(False, "collective_leave", leave)
    if national_closure is not None:
        return DayStatus(False, "national_closure", national_closure or None)
    if override is not None and override.closed:
        return DayStatus(False, "closed", override.note or None)
    if not slots_of_day(settings, day):
        return DayStatus(False, "no_service")
    if now_local is not None and day == newest:
        opens = release_of(settings, day, now_local.tzinfo)
        if now_local < opens:
            return DayStatus(False, "not_yet_open", settings.release_time, opens)
    return DayStatus(True)


def release_of(settings: BranchSettings, day: dt.date, zone: dt.tzinfo | None) -> dt.datetime:
    """The moment ``day`` becomes bookable as the window's newest day: ``release_time`` on
    the day ``booking_window_days`` before it, in the branch's ``zone``."""
    first = day - dt.timedelta(days=settings.booking_window_days)
    return dt.datetime.combine(first, release_clock(settings.release_time), tzinfo=zone)


def todays_release(settings: BranchSettings, now_local: dt.datetime) -> dt.datetime:
    """Today's release, branch-local: when the day ``booking_window_days`` after
    ``now_local``'s becomes bookable (the moment a waiting room opens around)."""
    newest = now_local.date() + dt.timedelta(days=settings.booking_window_days)
    return release_of(settings, newest, now_local.tzinfo)


def release_clock(clock: str) -> dt.time:
    """A ``release_time`` (``HH:MM``, ``00:00`` to ``23:59``) as a time of day.

    Raises:
        ValueError: not such a time.
    """
    minutes = minutes_of(clock)
    if minutes >= 24 * 60:
        raise ValueError(clock)
    return dt.time(minutes // 60, minutes % 60)


def slot_open(settings: BranchSettings, day: dt.date, slot: Slot, now_local: dt.datetime) -> bool:
    """Whether booking for ``slot`` is still open: before its start less the cutoff."""
    starts = dt.datetime.combine(day, slot.start, tzinfo=now_local.tzinfo)
    return now_local < starts - dt.timedelta(minutes=settings.booking_cutoff_minutes)
