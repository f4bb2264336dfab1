"""The waitlist: a full day (or slot) of a branch gives its freed places to those who wait for
it, in the order they joined, not to whoever refreshes first.

An entry is a record under the booking's key, its waitlist id its code. Joining makes the
checks of a booking (the caller's captcha, the fields, the person's allowance, the participant
registry, the NIK's one date, the phone's cap, each by the booking path's own functions) and is
refused while a place it asks for is free (``NotFullError``: book it). The entry holds the NIK's
date and counts against the phone from then on, as a booking does: a person waits for one place
a date, and a phone cannot fill a waitlist. A freed place is offered by ``offers`` (a hold with
a deadline, in the branch's holds; its message goes by the entry's channel); accepting makes it
a booking with the next queue number; an offer not accepted in time is released by the holds'
sweep and offered to the next. Leaving frees the NIK's date and the phone, and a declined
offer's place goes to the next.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import math
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from queue_service.domain import schedules
from queue_service.domain.codes import new_code, normalise_code
from queue_service.domain.errors import (
    AlreadyAcceptedError,
    CancelledError,
    HoldExpiredError,
    NotBookableError,
    NotFoundError,
    NotFullError,
    NotOfferedError,
    OfferExpiredError,
    StoreUnavailableError,
    VerificationFailedError,
)
from queue_service.domain.reservations import Booking, BookingRequest, Reservations
from queue_service.domain.reservations.bookable import REFUSALS, BookingContext, bookable_slot, load_context
from queue_service.domain.reservations.holds import WRONG_CODES_ALLOWED, new_one_time_code, store_now_ms
from queue_service.domain.reservations.offers import place_keys
from queue_service.domain.reservations.phone_caps import day_ends_ms
from queue_service.domain.reservations.records import (
    MIN_KEEP_MS,
    expire_at_ms,
    personal_fields,
    stored_record,
)
from queue_service.store import keys
from queue_service.store.outcomes import BookingOutcome, HoldOutcome

_ATTEMPTS = 3
# What an entry's record says of the figures the console shows, per day (the day's counts).
FIGURES = ("joined", "offered", "accepted", "expired", "left")


@dataclass(frozen=True)
class Entry:
    """A waitlist entry as stored: ``slot`` None while it waits for any slot of the day (an
    offer names the slot it holds); ``offer_by_ms`` the offer's deadline; ``position`` its
    place in line while it waits (1 is next)."""

    code: str
    branch_id: str
    service_id: str
    date: dt.date
    slot: dt.time | None
    slot_end: dt.time | None
    # pending (its phone's code awaited), waiting, offered, expired, left; once accepted, its
    # booking's (booked, or pending for the booking's code)
    status: str
    name: str
    nik: str
    phone: str
    channel: str
    created_ms: int
    offer_by_ms: int | None = None  # the offer's deadline, or the phone's code's while pending
    position: int | None = None
    accepted: bool = False
    offered: bool = False  # a place was offered to it (since, it may have run out)

    @property
    def waitlist_id(self) -> str:
        return self.code

    @property
    def offer_by(self) -> dt.datetime | None:
        """The offer's deadline (UTC), while offered."""
        if self.offer_by_ms is None:
            return None
        return dt.datetime.fromtimestamp(self.offer_by_ms / 1000, dt.UTC)


@dataclass(frozen=True)
class DayFigures:
    """A day's waitlist for the console: how many wait now, and how many joined, were offered
    a place, accepted it, let it expire, or left."""

    waiting: int
    joined: int = 0
    offered: int = 0
    accepted: int = 0
    expired: int = 0
    left: int = 0


class Waitlist:
    """Joining, leaving and accepting offers, over the reservations' data store and parts.

    Args:
        reservations: the booking operations whose parts (NIK claims, phone caps, allowance,
            offers) the waitlist shares, so that every rule of a booking holds for it.
    """

    def __init__(self, reservations: Reservations):
        self.reservations = reservations
        self.redis = reservations.redis
        self.scripts = reservations.scripts

    def join(
        self,
        request: BookingRequest,
        now: dt.datetime,
        address: str | None = None,
        screen: Callable[[BookingRequest], Mapping[str, str]] | None = None,
        admit: Callable[[BookingRequest, BookingContext], None] | None = None,
    ) -> Entry:
        """Put ``request`` on its day's waitlist (for ``request.slot``, or any slot when it is
        None), as seen at ``now``; its arguments are ``Reservations.reserve``'s, so that
        ``bookings.book`` runs the booking's checks in the booking's order for it.

        Returns:
            The entry, ``waiting``, with its position.

        Raises:
            NotFullError: a place it asks for is free (book it instead).
            NotBookableError: the day or slot takes no bookings.
            AlreadyBookedError: the NIK holds a booking or a waitlist entry that date.
            TooManyBookingsError: the phone holds its cap.
            AttemptsUsedUpError, ValidationFailedError, StoreUnavailableError: as a booking.
            Whatever ``screen`` or ``admit`` raise.
        """
        reservations = self.reservations
        person_count = reservations.count_attempt(request, address)
        marks: dict[str, str] | None = None
        for _attempt in range(_ATTEMPTS):
            context = load_context(self.redis, request, person_count)
            person_count = None  # counted once, whatever the attempts
            if admit is not None:
                admit(request, context)
                admit = None
            slots = self._slots_asked(context, request, now)
            if marks is None:
                marks = {**(dict(screen(request)) if screen is not None else {})}
                if address:
                    marks["address"] = address
            outcome, code, claim_key, expire_at = self._try_join(context, request, slots, marks, now)
            if outcome.ok:
                reservations.claims.confirm(claim_key, code, context.branch.id, expire_at)
                return self.entry(context.branch.id, code)
            if outcome.verdict == "not_full":
                raise NotFullError()
            if outcome.verdict in REFUSALS:
                raise REFUSALS[outcome.verdict](outcome.verdict)
            # code_taken, claim_expired, settings_changed: start over, as a booking does.
        raise StoreUnavailableError("waitlist join kept stalling")

    def _slots_asked(
        self, context: BookingContext, request: BookingRequest, now: dt.datetime
    ) -> list[schedules.Slot]:
        """The slot asked for, or every slot of the day still open for booking.

        Raises:
            NotBookableError: the day takes no bookings, or the slot asked for does not.
        """
        now_local = schedules.local_now(now, context.branch.timezone)
        collective = self.reservations.collective_leave_closed
        if request.slot is not None:
            return [bookable_slot(context, request.date, request.slot, now_local, collective)]
        open_slots = [
            slot
            for slot in schedules.slots_of_day(context.settings, request.date)
            if schedules.slot_open(context.settings, request.date, slot, now_local)
        ]
        if not open_slots:
            raise NotBookableError("slot_closed")
        # The day itself (closures, window): judged as for the first open slot.
        bookable_slot(context, request.date, open_slots[0].start, now_local, collective)
        return open_slots

    def _try_join(
        self,
        context: BookingContext,
        request: BookingRequest,
        slots: list[schedules.Slot],
        marks: dict[str, str],
        now: dt.datetime,
    ) -> tuple[BookingOutcome, str, str, int]:
        """One attempt: claim the NIK's date, count the phone, join (``waitlist_join.lua``),
        each as a booking's step by step (``Reserving._book_step_by_step``), which takes back
        what a refused join held."""
        reservations = self.reservations
        branch = context.branch
        day = request.date.isoformat()
        code = new_code()
        record = {**stored_record(request, slots[0], code, marks), "waitlist": "1"}
        # Which slot it waits for is the script's to write ('' for any); an offer names one.
        record.pop("slot")
        record.pop("slot_end")
        expire_at = expire_at_ms(request.date, branch.timezone, reservations.reserving._retention)
        claim_key = reservations.claims.key(request.nik, day)
        join_keys = [
            *place_keys(branch.id, day),
            keys.booking(branch.id, code),
            keys.waitlist(branch.id, day),
            keys.waitlist_days(branch.id),
            keys.branch_holds(branch.id),
            keys.sms_outbox(branch.id),
        ]
        hold_ms = reservations.reserving.hold_ms
        one_time_code = new_one_time_code() if hold_ms else ""

        def join_args(claim_at: int) -> list:
            return [
                code,
                day,
                request.service_id,
                context.settings_sha1,
                json.dumps(record),
                secrets.token_hex(4),
                claim_at,
                reservations.claims.claim_ms // 2,
                expire_at,
                MIN_KEEP_MS,
                request.date.toordinal(),
                request.slot.strftime("%H:%M") if request.slot is not None else "",
                hold_ms,
                one_time_code,
                *(slot.label for slot in slots),
            ]

        phones = reservations.reserving.phones
        phone_key, phone_args = None, []
        if phones is not None:
            phone_key = phones.key(request.phone)
            phone_args = phones.count_args(code, branch.id, day_ends_ms(request.date, branch.timezone), now)
        outcome = reservations.reserving._book_step_by_step(
            code,
            branch.id,
            claim_key,
            join_keys,
            join_args,
            expire_at,
            phone_key,
            phone_args,
            step=self.scripts.waitlist_join,
        )
        return outcome, code, claim_key, expire_at

    def entry(self, branch_id: str, code: str) -> Entry:
        """Entry ``code`` of ``branch_id`` as stored, with its position while it waits.

        Raises:
            NotFoundError: there is none (or it is a booking that never was an entry).
        """
        data = self.redis.hgetall(keys.booking(branch_id, code))
        if not data or not data.get("waitlist") or "erased_at" in data:
            raise NotFoundError("waitlist")
        position = None
        if data["status"] == "waiting":
            rank = self.redis.zrank(keys.waitlist(branch_id, data["date"]), code)
            position = rank + 1 if rank is not None else None
        person = personal_fields(branch_id, code, data)
        return Entry(
            code=code,
            branch_id=branch_id,
            service_id=data["service_id"],
            date=dt.date.fromisoformat(data["date"]),
            slot=dt.time.fromisoformat(data["slot"]) if data.get("slot") else None,
            slot_end=dt.time.fromisoformat(data["slot_end"]) if data.get("slot_end") else None,
            status=data["status"],
            name=person.get("name", ""),
            nik=person.get("nik", ""),
            phone=person.get("phone", ""),
            channel=data.get("channel") or "sms",
            created_ms=int(data["created_ms"]),
            offer_by_ms=int(data["verify_by_ms"]) if data.get("verify_by_ms") else None,
            position=position,
            accepted=bool(data.get("accepted_ms")),
            offered=bool(data.get("offered_ms")),
        )

    def find(self, typed_id: str, nik: str | None = None) -> Entry:
        """The entry with this waitlist id (and this NIK, when given; a wrong pair is refused
        like an unknown id).

        Raises:
            NotFoundError: no entry has this id (with this NIK).
        """
        code = normalise_code(typed_id)
        branch_id = self.redis.get(keys.code_branch(code)) if code is not None else None
        if branch_id is None:
            raise NotFoundError("waitlist")
        entry = self.entry(branch_id, code)
        if nik is not None and not hmac.compare_digest(entry.nik.encode(), nik.strip().encode()):
            raise NotFoundError("waitlist")
        return entry

    def resend_code(self, typed_id: str, nik: str) -> Entry:
        """Send the entry with this id and NIK, still held for its phone's code, a new one (the
        old one no longer works), as a booking's hold gets one.

        Returns:
            The entry (also when it is in line already: no code needed).

        Raises:
            NotFoundError: no entry has this id with this NIK.
            ResendLimitError: one a minute, a few an entry.
            HoldExpiredError: its time ran out (or it was released already).
            CancelledError: it left.
        """
        entry = self.find(typed_id, nik)
        if self.reservations.verification.send_again(entry.branch_id, entry.code) in ("left", "cancelled"):
            raise CancelledError()
        return self.entry(entry.branch_id, entry.code)

    def verify(self, typed_id: str, nik: str, one_time_code: str, now: dt.datetime) -> Entry:
        """Put the entry with this id and NIK in line by the one-time code sent to its phone
        (``PHONE_VERIFICATION``), as a booking's hold is confirmed; then offer the day's free
        places, in case one freed meanwhile.

        Returns:
            The entry, ``waiting`` with its position (also when it was in line already).

        Raises:
            NotFoundError: no entry has this id with this NIK.
            VerificationFailedError: a wrong code (``left`` 0: the last allowed; released).
            HoldExpiredError: its time ran out (or it was released already).
            CancelledError: it left.
        """
        entry = self.find(typed_id, nik)
        outcome = HoldOutcome.read(
            self.scripts.waitlist_verify(
                keys=[
                    keys.booking(entry.branch_id, entry.code),
                    keys.branch_holds(entry.branch_id),
                    keys.waitlist(entry.branch_id, entry.date.isoformat()),
                    keys.day_counts(entry.branch_id, entry.date.isoformat()),
                    keys.waiters(entry.branch_id, entry.date.isoformat()),
                    keys.waitlist_days(entry.branch_id),
                ],
                args=[
                    one_time_code,
                    WRONG_CODES_ALLOWED,
                    entry.code,
                    *keys.hold_release_prefixes(entry.branch_id),
                    entry.date.toordinal(),
                ],
            )
        )
        if outcome.verdict == "missing":
            raise NotFoundError("waitlist")
        if outcome.verdict == "released":
            self._free_person(entry)
            if outcome.reason == "deadline":
                raise HoldExpiredError("deadline")
            raise VerificationFailedError(0)
        if outcome.verdict == "status":
            raise CancelledError("left") if outcome.current_status == "left" else HoldExpiredError()
        if outcome.verdict == "wrong":
            raise VerificationFailedError(int(outcome.left))
        self.reservations.offers.offer_safely(entry.branch_id, entry.date, now)
        return self.entry(entry.branch_id, entry.code)

    def leave(self, typed_id: str, nik: str, now: dt.datetime) -> Entry:
        """Take the entry with this id and NIK off the waitlist (an offer it holds is declined
        and goes to the next), freeing its NIK's date and its place under the phone's cap.

        Returns:
            The entry, ``left`` (also when it had left already).

        Raises:
            NotFoundError: no entry has this id with this NIK.
            AlreadyAcceptedError: its offer was accepted: it is a booking, cancelled as one.
            OfferExpiredError: its offer ran out.
            CancelledError: a closure of its day cancelled it, or its booking was cancelled.
        """
        entry = self.find(typed_id, nik)
        day = entry.date.isoformat()
        outcome = BookingOutcome.read(
            self.scripts.waitlist_leave(
                keys=[
                    keys.booking(entry.branch_id, entry.code),
                    keys.waitlist(entry.branch_id, day),
                    keys.day_counts(entry.branch_id, day),
                    keys.slot_counts(entry.branch_id, day),
                    keys.branch_holds(entry.branch_id),
                    keys.waiters(entry.branch_id, day),
                ],
                args=[entry.code, now.isoformat()],
            )
        )
        if outcome.verdict == "missing":
            raise NotFoundError("waitlist")
        if outcome.verdict == "status":
            if outcome.current_status == "expired":
                raise OfferExpiredError()
            if outcome.current_status == "accepted":
                # A booking now: cancel it, unless that was done already.
                raise CancelledError("cancelled") if entry.status == "cancelled" else AlreadyAcceptedError()
            raise CancelledError(outcome.current_status)
        self._free_person(entry)
        # A declined offer frees its place; a waiter's leaving may let the next one fit.
        self.reservations.offers.offer_safely(entry.branch_id, entry.date, now)
        return self.entry(entry.branch_id, entry.code)

    def accept(self, typed_id: str, nik: str, now: dt.datetime) -> Booking:
        """Accept the offer of the entry with this id and NIK: it becomes a booking, with the
        next queue number of its service and its booking message. The NIK's date and the
        phone's count are made sure of first, by the booking's own steps; its phone was
        verified when it joined (``verify``).

        Returns:
            The booking (also when it was accepted already: a re-sent call).

        Raises:
            NotFoundError: no entry has this id with this NIK.
            NotOfferedError: no place is offered to it yet.
            OfferExpiredError: the offer ran out (its place goes to the next).
            CancelledError: the entry left the waitlist, or was cancelled by a closure of its day,
                or its booking was cancelled since it was accepted.
            NotBookableError: the day no longer takes bookings (closed since).
            AlreadyBookedError, TooManyBookingsError: as a booking.
        """
        reservations = self.reservations
        for _attempt in range(_ATTEMPTS):
            entry = self.find(typed_id, nik)
            if entry.accepted:  # a re-sent call, unless its booking was cancelled since
                booking = reservations.get(entry.branch_id, entry.code)
                if booking.status == "cancelled":
                    raise CancelledError("cancelled")
                return booking
            if entry.status in ("pending", "waiting"):
                raise NotOfferedError()
            if entry.status == "expired":
                raise OfferExpiredError()
            if entry.status in ("left", "cancelled"):  # cancelled: its day closed (domain.closures)
                raise CancelledError(entry.status)
            outcome = self._try_accept(entry, now)
            if outcome.ok:
                booking = reservations.get(entry.branch_id, entry.code)
                reservations.tell("booked", booking)
                return booking
            if outcome.verdict == "released":
                self._free_person(entry)
                reservations.offers.offer_safely(entry.branch_id, entry.date, now)
                raise OfferExpiredError()
            if outcome.verdict == "status":
                continue  # changed meanwhile: read it again
            if outcome.verdict in REFUSALS:
                raise REFUSALS[outcome.verdict](outcome.verdict)
            if outcome.verdict == "missing":
                raise NotFoundError("waitlist")
            # settings_changed: judge again with the settings as they are now.
        raise StoreUnavailableError("waitlist accept kept stalling")

    def _try_accept(self, entry: Entry, now: dt.datetime) -> BookingOutcome:
        reservations = self.reservations
        request = BookingRequest(
            entry.branch_id, entry.service_id, entry.date, entry.slot, entry.name, entry.nik, "", entry.phone
        )
        context = load_context(self.redis, request)
        now_local = schedules.local_now(now, context.branch.timezone)
        try:
            bookable_slot(context, entry.date, entry.slot, now_local, reservations.collective_leave_closed)
        except NotBookableError as refused:
            if refused.detail == "slot_closed":
                raise OfferExpiredError() from refused  # its cutoff came: the offer's deadline with it
            raise
        day = entry.date.isoformat()
        expire_at = expire_at_ms(entry.date, context.branch.timezone, reservations.reserving._retention)
        # Held since the entry joined; claimed and counted again (each answers at once for its
        # own code), so that the booking's rules hold even for a claim or count lost meanwhile.
        reservations.claims.claim(
            reservations.claims.key(entry.nik, day), entry.code, entry.branch_id, expire_at
        )
        phones = reservations.reserving.phones
        if phones is not None:
            phones.count(
                phones.key(entry.phone),
                phones.count_args(
                    entry.code, entry.branch_id, day_ends_ms(entry.date, context.branch.timezone), now
                ),
            )
        outcome = BookingOutcome.read(
            self.scripts.waitlist_accept(
                keys=[
                    *place_keys(entry.branch_id, day),
                    keys.booking(entry.branch_id, entry.code),
                    keys.branch_holds(entry.branch_id),
                    keys.sms_outbox(entry.branch_id),
                    keys.queue_sequence(entry.branch_id, day),
                    keys.day_bookings(entry.branch_id, day),
                ],
                args=[
                    entry.code,
                    context.settings_sha1,
                    day,
                    context.service.prefix,
                    *keys.hold_release_prefixes(entry.branch_id),
                    expire_at,
                    MIN_KEEP_MS,
                ],
            )
        )
        if outcome.ok:
            reservations.claims.confirm(
                reservations.claims.key(entry.nik, day), entry.code, entry.branch_id, expire_at
            )
        return outcome

    def figures(self, branch_id: str, days: Iterable[dt.date]) -> dict[dt.date, DayFigures]:
        """Each day's waitlist figures for the console, read in one round trip."""
        days = list(days)
        pipe = self.redis.pipeline(transaction=False)
        for day in days:
            pipe.zcard(keys.waitlist(branch_id, day.isoformat()))
            pipe.hmget(keys.day_counts(branch_id, day.isoformat()), *(f"wl:{name}" for name in FIGURES))
        replies = pipe.execute()
        return {
            day: DayFigures(
                waiting, **{name: int(value or 0) for name, value in zip(FIGURES, counts, strict=True)}
            )
            for day, waiting, counts in zip(days, replies[::2], replies[1::2], strict=True)
        }

    def seconds_left(self, entry: Entry) -> int:
        """Seconds until the offer's deadline on Redis's clock, the one it was set on (0 once
        past, or not offered)."""
        if entry.offer_by_ms is None:
            return 0
        return max(0, math.ceil((entry.offer_by_ms - store_now_ms(self.redis)) / 1000))

    def _free_person(self, entry: Entry) -> None:
        claims, phones = self.reservations.claims, self.reservations.phones
        claims.release(claims.key(entry.nik, entry.date.isoformat()), entry.code)
        phones.release(phones.key(entry.phone), entry.code)
