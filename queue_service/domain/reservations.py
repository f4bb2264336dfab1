"""Reserve, look up, reschedule and cancel bookings.

A booking is made in three atomic steps, each a Lua script in one cluster slot:

1. claim the NIK's date (``{n:…}`` slot), which enforces one booking per NIK per date
   across all branches;
2. reserve in the branch (``{b:…}`` slot): quotas, capacity, queue number, the record;
3. confirm the claim and index the code for look-ups.

A claim whose reservation fails is released. A claim left behind by a crashed process
is taken over only after the reservation step would have refused it (the claim
window), so a stale claim can never lead to two bookings.

A reschedule to another date follows the same order with the booking's own code: claim
the new date, move the booking in the branch (one script), then release the old date's
claim. Until the move commits, the booking still holds its old date and the new claim
is pending; a claim whose booking now stands on another date is stale and may be taken
over, like any abandoned claim, after the claim window.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import redis.exceptions as redis_errors
from redis import Redis
from redis.cluster import RedisCluster

from queue_service.domain import calendar, catalog, schedules
from queue_service.domain.codes import new_code, normalise_code
from queue_service.domain.errors import (
    AlreadyBookedError,
    CancelledError,
    DayFullError,
    NotBookableError,
    NotFoundError,
    NotReplicatedError,
    SlotFullError,
    StoreUnavailableError,
    TooLateError,
    ValidationFailedError,
)
from queue_service.domain.privacy import keyed_digest
from queue_service.store import keys
from queue_service.store.scripts import Scripts

# Statuses that hold the NIK's date; a cancelled booking frees it.
HOLDING_STATUSES = frozenset({"booked", "checked_in", "called", "served", "no_show"})
_REFUSALS = {"slot_full": SlotFullError, "day_full": DayFullError, "not_bookable": NotBookableError}

log = logging.getLogger(__name__)

_RESERVE_ATTEMPTS = 3
# Keys of a booking live at least this long from the moment they are written (Redis's own
# clock), whatever the caller's clock says the visit day is.
MIN_KEEP_MS = 24 * 3600 * 1000

EventHook = Callable[[str, "Booking"], None]


@dataclass(frozen=True)
class BookingRequest:
    """What a participant asks for, already validated field by field."""

    branch_id: str
    service_id: str
    date: dt.date
    slot: dt.time
    name: str
    nik: str
    kpj: str
    phone: str
    email: str | None = None


@dataclass(frozen=True)
class Booking:
    """A booking as stored."""

    code: str
    queue_number: str
    status: str
    branch_id: str
    service_id: str
    date: dt.date
    slot_start: dt.time
    slot_end: dt.time
    name: str
    nik: str
    kpj: str
    phone: str
    email: str | None
    created_ms: int

    @classmethod
    def from_hash(cls, branch_id: str, code: str, data: dict[str, str]) -> Booking:
        """The booking ``code`` of ``branch_id`` from its stored record (which names neither:
        its key does)."""
        return cls(
            code=code,
            queue_number=data["queue_number"],
            status=data["status"],
            branch_id=branch_id,
            service_id=data["service_id"],
            date=dt.date.fromisoformat(data["date"]),
            slot_start=dt.time.fromisoformat(data["slot"]),
            slot_end=dt.time.fromisoformat(data["slot_end"]),
            name=data["name"],
            nik=data["nik"],
            kpj=data["kpj"],
            phone=data["phone"],
            email=data.get("email") or None,
            created_ms=int(data["created_ms"]),
        )


class RidingCheck(Protocol):
    """A check of the caller's, on the data store, that rides on a booking's first round trip
    (the per-person allowance): its commands join that read, and its verdict comes before
    anything the read says."""

    def queue(self, pipe: Any) -> None:
        """Add the check's commands to ``pipe``, after the read's own."""

    def settle(self, replies: list) -> None:
        """Judge the replies of those commands (an error among them as an exception object);
        raises to stop the booking."""


class Reservations:
    """The booking operations of the service, over one Redis data store.

    Args:
        redis: the data store (``decode_responses=True``).
        nik_secret: key of the HMAC that turns a NIK into its key name.
        claim_seconds: after how long an abandoned NIK claim may be taken over.
        retention_days: days after the visit that booking data is kept.
        collective_leave_closed: whether *cuti bersama* closes every branch.
        on_event: called with ``("booked" | "cancelled", booking)`` once the change is
            committed; it must not raise (the SMS outbox is one).
        wait_replicas: a booking is confirmed only once this many replicas acknowledge it
            (Redis ``WAIT``); 0 confirms it once the primary has it.
        wait_timeout_ms: how long to wait for them.
        one_step: book with ``book.lua``, one script, rather than four calls (None: where
            that can be, i.e. on a single Redis and without ``wait_replicas``, whose ``WAIT``
            rides on the step-by-step way's last call).
    """

    def __init__(
        self,
        redis: Redis,
        nik_secret: bytes,
        claim_seconds: int = 30,
        retention_days: int = 90,
        collective_leave_closed: bool = True,
        on_event: EventHook | None = None,
        wait_replicas: int = 0,
        wait_timeout_ms: int = 500,
        one_step: bool | None = None,
    ):
        self.redis = redis
        self._in_one_step = (
            not isinstance(redis, RedisCluster) and not wait_replicas if one_step is None else one_step
        )
        self.scripts = Scripts(redis)
        self._nik_secret = nik_secret
        self._claim_ms = claim_seconds * 1000
        self._retention = dt.timedelta(days=retention_days)
        self.collective_leave_closed = collective_leave_closed
        self._on_event = on_event or (lambda event, booking: None)
        self._wait_replicas = wait_replicas
        self._wait_timeout_ms = wait_timeout_ms

    @classmethod
    def from_settings(
        cls,
        redis: Redis,
        settings: Mapping[str, Any],
        on_event: EventHook | None = None,
        one_step: bool | None = None,
    ) -> Reservations:
        """The operations as the settings describe them."""
        return cls(
            redis,
            nik_secret=settings["SECRET_KEY"].encode(),
            claim_seconds=settings["RESERVATION_CLAIM_SECONDS"],
            retention_days=settings["PERSONAL_DATA_RETENTION_DAYS"],
            collective_leave_closed=settings["COLLECTIVE_LEAVE_CLOSED"],
            on_event=on_event,
            wait_replicas=settings["REDIS_WAIT_REPLICAS"],
            wait_timeout_ms=settings["REDIS_WAIT_TIMEOUT_MS"],
            one_step=one_step,
        )

    def nik_digest(self, nik: str) -> str:
        """The keyed hash that stands for a NIK in key names."""
        return keyed_digest(self._nik_secret, "nik", nik)

    def reserve(
        self, request: BookingRequest, now: dt.datetime, riding: RidingCheck | None = None
    ) -> Booking:
        """Book a place for ``request`` as seen at ``now``.

        ``riding``, if given, is run in the same round trip as the first read, once, and
        judged before anything else.

        Returns:
            The committed booking with its code and queue number.

        Raises:
            ValidationFailedError: unknown branch, or a service the branch does not offer.
            NotBookableError: the day or slot does not take bookings (``detail`` says why).
            AlreadyBookedError: the NIK holds a booking for that date.
            DayFullError, SlotFullError: no place left.
            StoreUnavailableError: the attempts kept stalling or kept meeting a settings change.
            NotReplicatedError: committed, but fewer than ``wait_replicas`` replicas
                acknowledged it in time (the booking is kept).
        """
        for _attempt in range(_RESERVE_ATTEMPTS):
            outcome = self._try_reserve(request, now, riding)
            riding = None
            if outcome is not None:
                break
        else:
            raise StoreUnavailableError("reservation kept stalling")
        booking, claim_key, expire_at_ms = outcome
        replicated = self._in_one_step or self._confirm(booking, claim_key, expire_at_ms)
        self._on_event("booked", booking)
        if not replicated:
            # Answered as a 503, not a 201: the booking is not yet as safe as promised, and a
            # failover now could lose it. It is kept, not undone: undoing would be one more
            # unreplicated write, and a replica may hold it already. If it survives, its SMS
            # brings the code and a second attempt is told the NIK holds a booking.
            raise NotReplicatedError("replicas did not confirm in time")
        return booking

    def _confirm(self, booking: Booking, claim_key: str, expire_at_ms: int) -> bool:
        """Mark the NIK's claim as held by the committed booking and, with ``wait_replicas``,
        wait for the replicas.

        Returns:
            Whether enough replicas acknowledged the booking (True when none are asked for).
        """
        confirm_keys = [claim_key]
        confirm_args = [booking.code, booking.branch_id, expire_at_ms, MIN_KEEP_MS]
        if not self._wait_replicas:
            try:
                self.scripts.confirm_nik(keys=confirm_keys, args=confirm_args)
            except redis_errors.RedisError as error:
                # The booking is committed and already findable by code and NIK; a pending
                # claim whose booking exists still holds the NIK's date (see _claim).
                log.warning("booking %s committed, claim not confirmed: %s", booking.code, error)
            return True
        # WAIT counts the writes of its own connection: sent down the same pipeline as the
        # claim's confirmation, it waits for everything written up to that point, which the
        # replication stream carries in order, the booking itself included. Only if the
        # confirmation wrote: otherwise WAIT would count from whatever that connection wrote
        # last (or nothing, on a new one, say after a failover to a replica that lacks the
        # booking) and could answer at once for a booking no replica holds.
        pipe = self.redis.pipeline(transaction=False)
        self.scripts.confirm_nik(keys=confirm_keys, args=confirm_args, client=pipe)
        pipe.wait(self._wait_replicas, self._wait_timeout_ms)
        try:
            results = pipe.execute(raise_on_error=False)
        except redis_errors.RedisError as error:
            results = [error, error]
        if results[0] != 1:
            log.warning("booking %s committed, claim not confirmed: %s", booking.code, results[0])
            return False
        acknowledged = results[1]
        if isinstance(acknowledged, Exception) or acknowledged < self._wait_replicas:
            log.warning(
                "booking %s committed, replicas acknowledged: %s of %d",
                booking.code,
                acknowledged,
                self._wait_replicas,
            )
            return False
        return True

    def _try_reserve(self, request: BookingRequest, now: dt.datetime, riding: RidingCheck | None = None):
        """One attempt: check the request against the settings, claim the NIK's date, reserve.

        Returns:
            ``(booking, claim_key, expire_at_ms)``, or None when the attempt must
            start over (a code collision, a stalled claim, settings changed meanwhile).
        """
        branch, service, settings, override, closure, settings_sha1 = self._load_context(request, riding)
        now_local = schedules.local_now(now, branch.timezone)
        status = schedules.day_status(
            settings,
            override,
            request.date,
            now_local.date(),
            national_closure=closure,
            collective_leave_closed=self.collective_leave_closed,
        )
        if not status.open:
            raise NotBookableError(status.reason)
        slot = schedules.find_slot(settings, request.date, request.slot)
        if slot is None:
            raise NotBookableError("no_such_slot")
        if not schedules.slot_open(settings, request.date, slot, now_local):
            raise NotBookableError("slot_closed")

        digest = self.nik_digest(request.nik)
        expire_at_ms = self._expire_at_ms(request.date, branch.timezone)
        claim_key = keys.nik_day_claim(digest, request.date.isoformat())
        code = new_code()
        record = self._record(request, branch.id, slot)
        day = request.date.isoformat()
        reserve_keys = [
            keys.branch_settings(branch.id),
            keys.branch_dates(branch.id),
            keys.slot_counts(branch.id, day),
            keys.day_counts(branch.id, day),
            keys.queue_sequence(branch.id, day),
            keys.day_bookings(branch.id, day),
            keys.booking(branch.id, code),
            keys.sms_outbox(branch.id),
            keys.branch_national_closures(branch.id),
        ]

        def reserve_args(claim_at: int) -> list:
            return [
                code,
                day,
                slot.label,
                service.id,
                service.prefix,
                claim_at,
                self._claim_ms // 2,
                expire_at_ms,
                json.dumps(record),
                secrets.token_hex(4),
                settings_sha1,
                MIN_KEEP_MS,
            ]

        if self._in_one_step:
            outcome = self._book_in_one_step(
                [keys.code_branch(code), claim_key, *reserve_keys],
                [code, branch.id, self._claim_ms, expire_at_ms, MIN_KEEP_MS],
                reserve_args(0),
            )
        else:
            outcome = self._book_step_by_step(
                code, branch.id, claim_key, reserve_keys, reserve_args, expire_at_ms
            )
        if outcome[0] == "ok":
            booking = Booking.from_hash(
                branch.id,
                code,
                {**record, "queue_number": outcome[1], "status": "booked", "created_ms": outcome[2]},
            )
            return booking, claim_key, expire_at_ms
        if outcome[0] in _REFUSALS:
            raise _REFUSALS[outcome[0]](outcome[0])
        # 'code_taken' (a 1-in-10^15 collision), 'claim_expired' (this process stalled past
        # the claim window) or 'settings_changed' (an admin changed hours, slot length,
        # window or cutoff since we read them): start over with fresh settings, code and claim.
        log.info("reservation attempt starts over: %s", outcome[0])
        return None

    def _book_step_by_step(
        self,
        code: str,
        branch_id: str,
        claim_key: str,
        reserve_keys: list[str],
        reserve_args: Callable[[int], list],
        expire_at_ms: int,
    ) -> list:
        """The code's branch entry, the claim, the place and (in ``reserve``) the claim's
        confirmation, one call each: on a cluster they live in three slots.

        Returns:
            reserve.lua's answer; the claim and the entry are taken back unless it is ``ok``.
        """
        # Which branch a code belongs to, for look-ups and for a kiosk of another branch to
        # say so; written first, so no committed booking lacks it.
        code_branch = keys.code_branch(code)
        if not self.scripts.keep_until(keys=[code_branch], args=[expire_at_ms, MIN_KEEP_MS, branch_id]):
            # Another booking's code (or this call's own, re-sent after a lost reply: left to
            # expire, as it names no booking).
            return ["code_taken"]
        try:
            claim_at = self._claim(claim_key, code, branch_id, expire_at_ms)
        except AlreadyBookedError:
            self.redis.delete(code_branch)
            raise
        outcome = self.scripts.reserve(keys=reserve_keys, args=reserve_args(claim_at))
        if outcome[0] != "ok":
            self.scripts.release_nik(keys=[claim_key], args=[code])
            self.redis.delete(code_branch)
        return outcome

    def _book_in_one_step(self, book_keys: list[str], claim: list, reserve_args: list) -> list:
        """``book.lua``: on a single Redis, the code's branch entry, the claim, the place and
        the claim's confirmation in one script (the parts are the scripts the other way runs).

        Returns:
            reserve.lua's answer; the claim is confirmed if it is ``ok``; the claim and the
            entry are taken back otherwise.
        """
        code, branch_id, stale_ms, expire_at_ms, keep_ms = claim
        claim_key = book_keys[1]
        replace = ""
        while True:
            outcome = self.scripts.book(
                keys=book_keys,
                args=[
                    code,
                    branch_id,
                    stale_ms,
                    replace,
                    expire_at_ms,
                    keep_ms,
                    *reserve_args,
                    code,
                    branch_id,
                    expire_at_ms,
                    keep_ms,
                ],
            )
            if outcome[0] != "claim":
                return outcome
            replace = self._claim_to_take_over(outcome[1:], claim_key, expire_at_ms)

    def _load_context(self, request: BookingRequest, riding: RidingCheck | None = None):
        """Branch, service, settings, the date's override and national closure, and the SHA-1
        of the settings' stored form, read in one round trip (``riding`` judged first)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(keys.BRANCHES, request.branch_id)
        pipe.hget(keys.SERVICES, request.service_id)
        pipe.get(keys.branch_settings(request.branch_id))
        pipe.hget(keys.branch_dates(request.branch_id), request.date.isoformat())
        pipe.hget(keys.branch_national_closures(request.branch_id), request.date.isoformat())
        if riding is not None:
            riding.queue(pipe)
        replies = pipe.execute(raise_on_error=riding is None)
        if riding is not None:
            riding.settle(replies[5:])
            for reply in replies[:5]:
                if isinstance(reply, Exception):
                    raise reply
        branch_raw, service_raw, settings_raw, override_raw, closure_raw = replies[:5]
        if branch_raw is None or settings_raw is None:
            raise ValidationFailedError({"branch_id": ["unknown_branch"]})
        branch = catalog.Branch(**json.loads(branch_raw))
        if request.service_id not in branch.services or service_raw is None:
            raise ValidationFailedError({"service_id": ["service_not_offered"]})
        override = schedules.DateOverride(**json.loads(override_raw)) if override_raw else None
        return (
            branch,
            catalog.Service(**json.loads(service_raw)),
            schedules.BranchSettings(**json.loads(settings_raw)),
            override,
            calendar.closure_note(closure_raw),
            hashlib.sha1(settings_raw.encode()).hexdigest(),
        )

    def _claim(self, claim_key: str, code: str, branch_id: str, expire_at_ms: int) -> int:
        """Claim the NIK's date for ``code``; returns the claim's time (Redis clock, ms)."""
        replace = ""
        while True:
            result = self.scripts.claim_nik(
                keys=[claim_key], args=[code, branch_id, self._claim_ms, replace, expire_at_ms, MIN_KEEP_MS]
            )
            if result[0] == "claimed":
                return int(result[1])
            replace = self._claim_to_take_over(result, claim_key, expire_at_ms)

    def _claim_to_take_over(self, refused: list, claim_key: str, expire_at_ms: int) -> str:
        """Whether a refused claim (claim_nik.lua's ``busy`` or ``held``) may be taken over.

        Returns:
            The claim to take over, as ``<code>@<its time>``: its booking was cancelled or
            moved, or its maker died before booking. Named by its time too, so that a claim
            its code made again meanwhile (the booking moved back) is not taken over blind.

        Raises:
            AlreadyBookedError: the date is held by a booking, or another attempt is in flight.
        """
        if refused[0] == "busy":
            raise AlreadyBookedError("in_flight")
        held_code, held_branch, held_at = refused[1], refused[2], refused[3]
        holder, holder_day = self.redis.hmget(keys.booking(held_branch, held_code), "status", "date")
        # A booking moved to another date (or a reschedule that died before moving it)
        # no longer holds this one.
        if holder in HOLDING_STATUSES and holder_day == claim_key.rsplit(":", 1)[1]:
            # Its maker may have died before confirming: finish that for it, so the
            # booking can be looked up.
            self.scripts.confirm_nik(
                keys=[claim_key], args=[held_code, held_branch, expire_at_ms, MIN_KEEP_MS]
            )
            raise AlreadyBookedError()
        return f"{held_code}@{held_at}"

    def _expire_at_ms(self, day: dt.date, timezone: str) -> int:
        end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(timezone))
        return int((end_of_day + self._retention).timestamp() * 1000)

    @staticmethod
    def _record(request: BookingRequest, branch_id: str, slot: schedules.Slot) -> dict[str, str]:
        record = {
            "service_id": request.service_id,
            "date": request.date.isoformat(),
            "slot": slot.label,
            "slot_end": slot.end_label,
            "name": request.name,
            "nik": request.nik,
            "kpj": request.kpj,
            "phone": request.phone,
        }
        if request.email:  # most have none: no empty field kept for months
            record["email"] = request.email
        return record

    def get(self, branch_id: str, code: str) -> Booking:
        """The booking ``code`` of ``branch_id``.

        Raises:
            NotFoundError: there is none.
        """
        data = self.redis.hgetall(keys.booking(branch_id, code))
        if not data or data.get("walk_in"):  # a walk-in ticket is no booking
            raise NotFoundError("booking")
        return Booking.from_hash(branch_id, code, data)

    def lookup(self, typed_code: str, nik: str) -> Booking:
        """The booking with this code and NIK; a wrong pair is refused like an unknown code.

        Raises:
            NotFoundError: no booking has this code with this NIK.
        """
        code = normalise_code(typed_code)
        nik = nik.strip()  # as booking does, so a stray space does not hide a booking
        if code is None:
            raise NotFoundError("booking")
        # The code names its branch; the booking there must carry the NIK as well.
        branch_id = self.redis.get(keys.code_branch(code))
        if branch_id is None:
            raise NotFoundError("booking")
        booking = self.get(branch_id, code)
        if not hmac.compare_digest(booking.nik.encode(), nik.encode()):
            raise NotFoundError("booking")
        return booking

    def reschedule(
        self, typed_code: str, nik: str, day: dt.date, slot_start: dt.time, now: dt.datetime
    ) -> Booking:
        """Move the booking with this code and NIK to another slot or date of its branch.

        One atomic step in the branch takes the new place and frees the old one, so the
        participant never holds none or two; on another date the NIK's new date is claimed
        first and the old one released after. The code stays; the queue number is the new
        day's next one (on the same day it stays). A move to the place the booking holds
        changes nothing and returns it as it stands.

        Returns:
            The booking as it now stands.

        Raises:
            NotFoundError: no booking has this code with this NIK.
            CancelledError: it was cancelled; TooLateError: its slot has started, or it was
                checked in.
            NotBookableError: the new day or slot does not take bookings.
            AlreadyBookedError: the NIK holds another booking on the new date.
            DayFullError, SlotFullError: no place left there.
            StoreUnavailableError: the attempts kept stalling or meeting a settings change.
        """
        booking = self.lookup(typed_code, nik)
        token = secrets.token_hex(8)
        for _attempt in range(_RESERVE_ATTEMPTS):
            moved = self._try_reschedule(booking, day, slot_start, now, token)
            if moved is not None:
                # No SMS yet for a reschedule: the page shows the new place at once.
                return moved
            booking = self.get(booking.branch_id, booking.code)
        raise StoreUnavailableError("reschedule kept stalling")

    def _try_reschedule(
        self, booking: Booking, day: dt.date, slot_start: dt.time, now: dt.datetime, token: str
    ) -> Booking | None:
        """One attempt of ``reschedule``; None when it must start over with fresh reads."""
        if booking.status == "cancelled":
            raise CancelledError()
        if booking.status != "booked":
            raise TooLateError(booking.status)
        request = BookingRequest(
            booking.branch_id,
            booking.service_id,
            day,
            slot_start,
            booking.name,
            booking.nik,
            booking.kpj,
            booking.phone,
        )
        branch, service, settings, override, closure, settings_sha1 = self._load_context(request)
        now_local = schedules.local_now(now, branch.timezone)
        if now_local >= dt.datetime.combine(booking.date, booking.slot_start, tzinfo=now_local.tzinfo):
            raise TooLateError("slot_started")
        if day == booking.date and slot_start == booking.slot_start:
            # Nothing to move: a client re-sending a move whose answer it lost is answered
            # as the first time, not refused.
            return booking
        status = schedules.day_status(
            settings,
            override,
            day,
            now_local.date(),
            national_closure=closure,
            collective_leave_closed=self.collective_leave_closed,
        )
        if not status.open:
            raise NotBookableError(status.reason)
        slot = schedules.find_slot(settings, day, slot_start)
        if slot is None:
            raise NotBookableError("no_such_slot")
        if not schedules.slot_open(settings, day, slot, now_local):
            raise NotBookableError("slot_closed")

        old_day, new_day = booking.date.isoformat(), day.isoformat()
        digest = self.nik_digest(booking.nik)
        expire_at_ms = self._expire_at_ms(day, branch.timezone)
        new_claim = keys.nik_day_claim(digest, new_day)
        claim_at = ""
        if new_day != old_day:
            # Kept for the new date before the move, so that no moment finds the moved booking
            # without its entry (it is only ever extended).
            self.scripts.keep_until(keys=[keys.code_branch(booking.code)], args=[expire_at_ms, MIN_KEEP_MS])
            claim_at = self._claim(new_claim, booking.code, branch.id, expire_at_ms)
        b = branch.id
        outcome = self.scripts.reschedule(
            keys=[
                keys.branch_settings(b),
                keys.branch_dates(b),
                keys.branch_national_closures(b),
                keys.booking(b, booking.code),
                keys.slot_counts(b, old_day),
                keys.day_counts(b, old_day),
                keys.day_bookings(b, old_day),
                keys.slot_counts(b, new_day),
                keys.day_counts(b, new_day),
                keys.queue_sequence(b, new_day),
                keys.day_bookings(b, new_day),
                keys.sms_reminders(b),
                keys.sms_reminders_planned(b),
            ],
            args=[
                booking.code,
                old_day,
                booking.slot_start.strftime("%H:%M"),
                new_day,
                slot.label,
                slot.end.strftime("%H:%M"),
                service.prefix,
                claim_at,
                self._claim_ms // 2,
                expire_at_ms,
                token,
                settings_sha1,
                MIN_KEEP_MS,
            ],
        )
        if outcome[0] != "ok":
            if claim_at != "":
                # Only the claim: the code's look-up index still serves the old date.
                self.scripts.release_nik(keys=[new_claim], args=[booking.code])
            if outcome[0] == "missing":
                raise NotFoundError("booking")
            if outcome[0] == "status":
                raise CancelledError() if outcome[1] == "cancelled" else TooLateError(outcome[1])
            if outcome[0] in _REFUSALS:
                raise _REFUSALS[outcome[0]](outcome[0])
            log.info("reschedule attempt starts over: %s", outcome[0])
            return None
        if claim_at != "":
            self.scripts.confirm_nik(keys=[new_claim], args=[booking.code, b, expire_at_ms, MIN_KEEP_MS])
            self.scripts.release_nik(keys=[keys.nik_day_claim(digest, old_day)], args=[booking.code])
        return self.get(b, booking.code)

    def cancel(self, typed_code: str, nik: str, now: dt.datetime, by: str = "participant") -> Booking:
        """Cancel the booking with this code and NIK, freeing its slot, quota and date.

        Raises:
            NotFoundError: no booking has this code with this NIK.
            CancelledError: it was cancelled already.
            TooLateError: the slot has started, or the booking was checked in.
        """
        booking = self.lookup(typed_code, nik)
        return self.cancel_booking(booking, now, by)

    def cancel_booking(self, booking: Booking, now: dt.datetime, by: str) -> Booking:
        """Cancel ``booking`` (already authorised by the caller). Raises as ``cancel``."""
        if booking.status == "cancelled":
            raise CancelledError()
        branch = catalog.get_branch(self.redis, booking.branch_id)
        starts = dt.datetime.combine(booking.date, booking.slot_start, tzinfo=ZoneInfo(branch.timezone))
        if now >= starts:
            raise TooLateError("slot_started")
        day = booking.date.isoformat()
        outcome = self.scripts.cancel(
            keys=[
                keys.booking(booking.branch_id, booking.code),
                keys.slot_counts(booking.branch_id, day),
                keys.day_counts(booking.branch_id, day),
                keys.sms_outbox(booking.branch_id),
            ],
            args=[now.isoformat(), by, booking.code, secrets.token_hex(8)],
        )
        if outcome[0] == "missing":
            raise NotFoundError("booking")
        if outcome[0] == "status":
            raise CancelledError() if outcome[1] == "cancelled" else TooLateError(outcome[1])
        self.scripts.release_nik(
            keys=[keys.nik_day_claim(self.nik_digest(booking.nik), day)], args=[booking.code]
        )
        cancelled = self.get(booking.branch_id, booking.code)
        self._on_event("cancelled", cancelled)
        return cancelled
