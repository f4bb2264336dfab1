"""What looks like hoarding at a branch on a day, and cancelling a selection of it at once.

Hoarding (issue 20): a script takes a day's places with made-up NIKs, a few phones and a few
client addresses, fast. Four signals show it, each computed from the day's bookings as the
console's day list reads them (``BranchTuning.bookings``):

- **phones behind several NIKs**: a phone number that booked for more than
  ``Thresholds.phone_niks`` distinct NIKs that day (a parent may book for a child: one is
  the default, and the admin judges);
- **addresses behind many NIKs**: a client address (``Booking.address``) behind more than
  ``Thresholds.address_niks`` distinct NIKs (an office or a carrier's NAT shares one, hence
  a higher default);
- **bursts**: the day's busiest minute (bookings for that day made in one clock minute)
  against the branch's usual: the median, over the last ``Thresholds.usual_days`` days before
  today that had bookings, of each day's busiest minute. A minute is flagged at
  ``max(rate_floor, rate_factor × usual)`` bookings or more (``rate_floor`` alone while the
  branch has no history). The median of daily peaks, not of every minute: a branch's opening
  rush comes every day, and is its usual;
- **holds**: places held for a phone's one-time code (``pending``) and holds released
  unverified (``expired``), the scripts' tell: they cannot answer the SMS.

Every status of a booking counts towards a group (a hoarder's cancelled or expired bookings
still say who they were), but only ``booked`` ones and holds (``pending``) can be selected
for cancelling: a hoarder's holds would keep their places until their codes' time ran out
(a hold cancelled sends no SMS: its phone never confirmed it), and what has started or been
served is past cancelling.

``cancel_selection`` cancels chosen bookings one by one through ``staff_cancellation`` (each
audited as ``booking_cancelled`` with the one reason, each with its cancellation SMS), after
checking that the account may cancel every one of them; what could not be cancelled is
reported per booking, never raised.

Nothing here knows the web: the console, the admin API and ``/metrics`` call it.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from redis import Redis

from queue_service.domain import catalog, schedules, staff_cancellation
from queue_service.domain.accounts import Account
from queue_service.domain.audit import Actor
from queue_service.domain.authz import Action, require
from queue_service.domain.errors import CancelledError, DomainError, NotFoundError, ValidationFailedError
from queue_service.domain.privacy import mask_phone
from queue_service.domain.reservations import Booking, Reservations
from queue_service.store import keys

# A booking's statuses, named once for this view (records.py's lifecycle; ``pending`` and
# ``expired`` are the phone verification's holds).
PENDING = "pending"
BOOKED = "booked"
CHECKED_IN = "checked_in"
CALLED = "called"
SERVED = "served"
NO_SHOW = "no_show"
CANCELLED = "cancelled"
EXPIRED = "expired"
STATUSES = (PENDING, BOOKED, CHECKED_IN, CALLED, SERVED, NO_SHOW, CANCELLED, EXPIRED)
# What a selection may cancel (see the module's docstring): a hoarder's holds too, which
# would otherwise keep their places until their codes' time runs out.
SELECTABLE = frozenset({PENDING, BOOKED})
# What no longer holds a place.
GONE = frozenset({CANCELLED, EXPIRED})

# Defaults of the thresholds. Settings they would become: HOARDING_PHONE_NIKS,
# HOARDING_ADDRESS_NIKS, HOARDING_RATE_FACTOR, HOARDING_RATE_FLOOR, HOARDING_USUAL_DAYS.
PHONE_NIKS = 1
ADDRESS_NIKS = 5
RATE_FACTOR = 3.0
# Ten a minute is what one address may attempt (RATELIMIT_BOOKING's default).
RATE_FLOOR = 10
USUAL_DAYS = 14
# The busiest minutes listed for a flagged day.
LISTED_MINUTES = 5
# The most bookings one selection may cancel (a few thousand a day is a big branch).
MAX_SELECTION = 1000
# How long /metrics keeps a day's figures of a branch whose bookings did not change
# (statuses still do: a hold expires, a participant cancels). Setting: HOARDING_METRICS_SECONDS.
METRICS_REFRESH_SECONDS = 300

# What became of each booking of a selection: cancelled, or why not (a refusal's code:
# ``too_late`` for one started or checked in, ``not_found``, or another refusal's).
CANCELLED_NOW = "cancelled"
ALREADY_CANCELLED = "already_cancelled"

BookingsOfDay = Callable[[str, dt.date], list[Booking]]


@dataclass(frozen=True)
class Thresholds:
    """When a group is flagged (see the module's docstring)."""

    phone_niks: int = PHONE_NIKS
    address_niks: int = ADDRESS_NIKS
    rate_factor: float = RATE_FACTOR
    rate_floor: int = RATE_FLOOR
    usual_days: int = USUAL_DAYS


@dataclass(frozen=True)
class Group:
    """Bookings of one day that share a phone, an address or a minute."""

    kind: str  # "phone", "address" or "minute"
    label: str  # the masked phone, the address, or the minute (branch-local "YYYY-MM-DD HH:MM")
    niks: int  # distinct NIKs among them
    bookings: tuple[Booking, ...]

    @property
    def active(self) -> int:
        """How many still hold a place."""
        return sum(1 for b in self.bookings if b.status not in GONE)

    @property
    def selectable(self) -> tuple[Booking, ...]:
        return tuple(b for b in self.bookings if b.status in SELECTABLE)


@dataclass(frozen=True)
class Rate:
    """The day's busiest minute against the branch's usual one."""

    peak: int
    usual: float | None  # None: no day with bookings in the branch's recent history
    threshold: int
    minutes: tuple[Group, ...]  # the busiest minutes at or over the threshold, busiest first

    @property
    def flagged(self) -> bool:
        return self.peak >= self.threshold


@dataclass(frozen=True)
class DaySignals:
    """What looks like hoarding at one branch on one day."""

    branch_id: str
    date: dt.date
    total: int
    statuses: dict[str, int]  # every status of STATUSES, zero or not
    phones: tuple[Group, ...]  # flagged phones, most NIKs first
    addresses: tuple[Group, ...]  # flagged addresses, most NIKs first
    rate: Rate
    pending: tuple[Booking, ...]
    expired: tuple[Booking, ...]
    thresholds: Thresholds

    def flagged_bookings(self, kind: str) -> int:
        """Bookings in flagged groups of ``kind`` (``phone``, ``address``, ``minute``)."""
        groups = {"phone": self.phones, "address": self.addresses, "minute": self.rate.minutes}[kind]
        return sum(len(g.bookings) for g in groups)


def signals(
    branch_id: str,
    day: dt.date,
    bookings: list[Booking],
    timezone: str,
    usual: float | None,
    thresholds: Thresholds = Thresholds(),
) -> DaySignals:
    """The signals of ``bookings`` (one branch's, on ``day``), ``usual`` being the branch's
    usual busiest minute (``usual_peak``)."""
    statuses = Counter(b.status for b in bookings)
    phones = _groups(bookings, "phone", lambda b: b.phone, thresholds.phone_niks, mask_phone)
    addresses = _groups(bookings, "address", lambda b: b.address, thresholds.address_niks, str)
    return DaySignals(
        branch_id=branch_id,
        date=day,
        total=len(bookings),
        statuses={
            status: statuses.get(status, 0) for status in (*STATUSES, *sorted(set(statuses) - set(STATUSES)))
        },
        phones=phones,
        addresses=addresses,
        rate=_rate(bookings, timezone, usual, thresholds),
        pending=tuple(b for b in bookings if b.status == PENDING),
        expired=tuple(b for b in bookings if b.status == EXPIRED),
        thresholds=thresholds,
    )


def peak_per_minute(bookings: Iterable[Booking]) -> int:
    """The most bookings made in one clock minute (0 for none)."""
    per_minute = Counter(b.created_ms // 60_000 for b in bookings)
    return max(per_minute.values(), default=0)


def usual_peak(peaks: Iterable[int]) -> float | None:
    """The median of the days' busiest minutes, days without bookings left out (None: none)."""
    busy = [peak for peak in peaks if peak > 0]
    return float(statistics.median(busy)) if busy else None


def rate_threshold(usual: float | None, thresholds: Thresholds) -> int:
    """Bookings in one minute from which a minute is flagged."""
    if usual is None:
        return thresholds.rate_floor
    return max(thresholds.rate_floor, math.ceil(thresholds.rate_factor * usual))


def _groups(
    bookings: list[Booking],
    kind: str,
    key: Callable[[Booking], str | None],
    over: int,
    label: Callable[[str], str],
) -> tuple[Group, ...]:
    grouped: dict[str, list[Booking]] = defaultdict(list)
    for booking in bookings:
        value = key(booking)
        if value:
            grouped[value].append(booking)
    flagged = []
    for value, members in grouped.items():
        niks = len({b.nik for b in members})
        if niks > over:
            flagged.append(Group(kind, label(value), niks, tuple(members)))
    return tuple(sorted(flagged, key=lambda g: (-g.niks, -len(g.bookings), g.label)))


def _rate(bookings: list[Booking], timezone: str, usual: float | None, thresholds: Thresholds) -> Rate:
    per_minute: dict[int, list[Booking]] = defaultdict(list)
    for booking in bookings:
        per_minute[booking.created_ms // 60_000].append(booking)
    threshold = rate_threshold(usual, thresholds)
    zone = ZoneInfo(timezone)
    busiest = sorted(per_minute.items(), key=lambda item: (-len(item[1]), item[0]))
    minutes = tuple(
        Group(
            "minute",
            f"{dt.datetime.fromtimestamp(minute * 60, zone):%Y-%m-%d %H:%M}",
            len({b.nik for b in members}),
            tuple(members),
        )
        for minute, members in busiest[:LISTED_MINUTES]
        if len(members) >= threshold
    )
    peak = len(busiest[0][1]) if busiest else 0
    return Rate(peak, usual, threshold, minutes)


@dataclass(frozen=True)
class DaySummary:
    """A day's signals as figures (what ``/metrics`` shows; no personal data)."""

    phone: int  # bookings in flagged phone groups
    address: int  # bookings in flagged address groups
    peak: int  # the busiest minute
    pending: int
    expired: int

    def burst(self, threshold: int) -> int:
        """1 when the day's busiest minute reaches ``threshold``."""
        return int(self.peak >= threshold)


@dataclass(frozen=True)
class BranchFigures:
    """One branch over the visit days from today through its booking window."""

    branch_id: str
    phone: int
    address: int
    burst_days: int  # days whose busiest minute reached the threshold
    peak: int  # the busiest minute of any of those days
    usual: float | None
    pending: int
    expired: int


class HoardingWatch:
    """Reads the signals, remembering what cannot change or changes slowly, per process:

    - a past day's busiest minute (no booking is made for a day that is over), for the usual;
    - for ``/metrics``, each day's figures, read again when the day's list of bookings grew or
      shrank, or after ``refresh_seconds`` (statuses change without that).

    One per app (``Services.hoarding``): the memory is the process's, so no key is added to
    the data store, and a scrape reads one round trip of list lengths when nothing changed.
    """

    def __init__(
        self,
        redis: Redis,
        bookings_of_day: BookingsOfDay,
        thresholds: Thresholds = Thresholds(),
        refresh_seconds: int = METRICS_REFRESH_SECONDS,
    ):
        self.redis = redis
        self.bookings_of_day = bookings_of_day
        self.thresholds = thresholds
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._peaks: dict[tuple[str, dt.date], int] = {}
        self._summaries: dict[tuple[str, dt.date], tuple[int, float, DaySummary]] = {}
        self._windows: dict[str, tuple[float, int]] = {}

    def day(self, branch_id: str, day: dt.date, now: dt.datetime) -> DaySignals:
        """The signals of ``branch_id`` on ``day``, as of ``now``.

        Raises:
            NotFoundError: no such branch.
        """
        branch = catalog.get_branch(self.redis, branch_id)
        today = schedules.local_now(now, branch.timezone).date()
        bookings = self.bookings_of_day(branch_id, day)
        usual = self.usual(branch_id, today)
        return signals(branch_id, day, bookings, branch.timezone, usual, self.thresholds)

    def usual(self, branch_id: str, today: dt.date) -> float | None:
        """The branch's usual busiest minute: the median over the ``usual_days`` days before
        ``today`` that had bookings (see the module's docstring)."""
        days = [today - dt.timedelta(days=n) for n in range(1, self.thresholds.usual_days + 1)]
        with self._lock:
            known = {day: self._peaks.get((branch_id, day)) for day in days}
        unknown = [day for day, peak in known.items() if peak is None]
        if unknown:
            # One round trip of list lengths first: a day without bookings needs no more.
            lengths = self._lengths([(branch_id, day) for day in unknown])
            for day in unknown:
                busy = lengths[(branch_id, day)] > 0
                known[day] = peak_per_minute(self.bookings_of_day(branch_id, day)) if busy else 0
            with self._lock:
                self._forget_old_peaks(days[-1])
                self._peaks.update({(branch_id, day): known[day] for day in unknown})
        return usual_peak(known.values())

    def branch_figures(self, now: dt.datetime) -> list[BranchFigures]:
        """Every branch's figures over the visit days from its today through its booking
        window, for ``/metrics``."""
        branches = catalog.list_branches(self.redis)
        days = {}
        for branch in branches:
            today = schedules.local_now(now, branch.timezone).date()
            window = self._window(branch.id, now)
            days[branch.id] = (today, [today + dt.timedelta(days=n) for n in range(window + 1)])
        lengths = self._lengths([(b, d) for b, (_t, ds) in days.items() for d in ds])
        figures = []
        for branch in branches:
            today, window_days = days[branch.id]
            usual = self.usual(branch.id, today)
            threshold = rate_threshold(usual, self.thresholds)
            summaries = [
                self._summary(branch.id, day, lengths[(branch.id, day)], now, branch.timezone)
                for day in window_days
            ]
            figures.append(
                BranchFigures(
                    branch_id=branch.id,
                    phone=sum(s.phone for s in summaries),
                    address=sum(s.address for s in summaries),
                    burst_days=sum(s.burst(threshold) for s in summaries),
                    peak=max((s.peak for s in summaries), default=0),
                    usual=usual,
                    pending=sum(s.pending for s in summaries),
                    expired=sum(s.expired for s in summaries),
                )
            )
        return figures

    def _window(self, branch_id: str, now: dt.datetime) -> int:
        at = now.timestamp()
        with self._lock:
            known = self._windows.get(branch_id)
        if known is not None and at - known[0] < self.refresh_seconds:
            return known[1]
        try:
            window = schedules.load_settings(self.redis, branch_id).booking_window_days
        except NotFoundError:  # a branch of the catalog without settings takes no bookings
            window = 0
        with self._lock:
            self._windows[branch_id] = (at, window)
        return window

    def _lengths(self, branch_days: list[tuple[str, dt.date]]) -> dict[tuple[str, dt.date], int]:
        pipe = self.redis.pipeline(transaction=False)
        for branch_id, day in branch_days:
            pipe.llen(keys.day_bookings(branch_id, day.isoformat()))
        return dict(zip(branch_days, (int(n) for n in pipe.execute()), strict=True))

    def _summary(
        self, branch_id: str, day: dt.date, length: int, now: dt.datetime, timezone: str
    ) -> DaySummary:
        at = now.timestamp()
        with self._lock:
            known = self._summaries.get((branch_id, day))
        if known is not None and known[0] == length and at - known[1] < self.refresh_seconds:
            return known[2]
        if length == 0:
            summary = DaySummary(0, 0, 0, 0, 0)
        else:
            day_signals = signals(
                branch_id, day, self.bookings_of_day(branch_id, day), timezone, None, self.thresholds
            )
            summary = DaySummary(
                phone=day_signals.flagged_bookings("phone"),
                address=day_signals.flagged_bookings("address"),
                peak=day_signals.rate.peak,
                pending=len(day_signals.pending),
                expired=len(day_signals.expired),
            )
        with self._lock:
            # Days gone by drop out of every window: forget them.
            for gone in [
                k for k in self._summaries if k[0] == branch_id and k[1] < now.date() - dt.timedelta(days=1)
            ]:
                del self._summaries[gone]
            self._summaries[(branch_id, day)] = (length, at, summary)
        return summary

    def _forget_old_peaks(self, oldest: dt.date) -> None:
        # Called under the lock. Kept bounded: a day older than every branch's history is
        # never asked for again (a day or two of slack for branches in other time zones).
        for gone in [k for k in self._peaks if k[1] < oldest - dt.timedelta(days=2)]:
            del self._peaks[gone]


@dataclass(frozen=True)
class SelectionOutcome:
    """What became of one booking of a selection: ``outcome`` is ``cancelled``,
    ``already_cancelled``, or a refusal's code (``too_late``: started or checked in;
    ``not_found``: no such booking at that branch); ``booking`` as it now stands, if found."""

    code: str
    outcome: str
    booking: Booking | None

    @property
    def cancelled(self) -> bool:
        return self.outcome == CANCELLED_NOW


def cancel_selection(
    reservations: Reservations,
    account: Account,
    codes: Iterable[str],
    reason: str | None,
    actor: Actor,
    now: dt.datetime,
    branch_id: str | None = None,
) -> list[SelectionOutcome]:
    """Cancel the bookings of ``codes`` for one ``reason``, each as a staff cancellation is
    (audited, its SMS sent), in the order given, once each.

    ``branch_id`` (the console's page) restricts the selection to that branch: a code of
    another is reported ``not_found``, as the single cancel's page does.

    Raises:
        ValidationFailedError: ``reason`` as ``staff_cancellation.checked_reason``; ``codes``
            empty (``required``) or more than ``MAX_SELECTION`` (``too_long``). Judged first.
        ForbiddenError: ``account`` may not cancel at ``branch_id``, or at the branch of one of
            the bookings: then nothing is cancelled.
    """
    text = staff_cancellation.checked_reason(reason)
    unique = list(dict.fromkeys(code.strip() for code in codes))
    if not unique:
        raise ValidationFailedError({"codes": ["required"]})
    if len(unique) > MAX_SELECTION:
        raise ValidationFailedError({"codes": ["too_long"]})
    if branch_id is not None:
        require(account, Action.CANCEL_BOOKING, branch_id)
    found: dict[str, Booking | None] = {}
    for code in unique:
        try:
            booking = reservations.find(code)
        except NotFoundError:
            booking = None
        if booking is not None and branch_id is not None and booking.branch_id != branch_id:
            booking = None
        found[code] = booking
    # All or nothing for who may: a selection is one decision, refused whole.
    for booking in found.values():
        if booking is not None:
            require(account, Action.CANCEL_BOOKING, booking.branch_id)
    outcomes = []
    for code, booking in found.items():
        if booking is None:
            outcomes.append(SelectionOutcome(code, NotFoundError.code, None))
            continue
        try:
            done = staff_cancellation.cancel(reservations, account, booking.code, text, actor, now)
        except CancelledError:
            outcomes.append(SelectionOutcome(booking.code, ALREADY_CANCELLED, booking))
        except DomainError as refused:  # too late, gone since, or a hold's own refusal
            outcomes.append(SelectionOutcome(booking.code, refused.code, _current(reservations, booking)))
        else:
            outcomes.append(SelectionOutcome(booking.code, CANCELLED_NOW, done))
    return outcomes


def _current(reservations: Reservations, booking: Booking) -> Booking | None:
    try:
        return reservations.get(booking.branch_id, booking.code)
    except NotFoundError:
        return None
