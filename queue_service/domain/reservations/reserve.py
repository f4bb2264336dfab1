"""Booking a place.

A booking is made in four atomic steps, each a Lua script in one cluster slot:

1. claim the NIK's date (``{n:…}`` slot; see ``nik_claims``);
2. count it against the phone's cap (``{p:…}`` slot; see ``phone_caps``);
3. reserve in the branch (``{b:…}`` slot): quotas, capacity, queue number, the record;
4. confirm the claim and index the code for look-ups.

With phone verification the place is held ``pending`` until its one-time code confirms it
(``holds``); it holds the NIK's date and counts against the phone meanwhile.

A claim or a count whose reservation fails is taken back. On a single Redis the four run
as one script (``book.lua``, made of the others).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis.exceptions as redis_errors
from redis import Redis
from redis.cluster import RedisCluster

from queue_service.domain import schedules
from queue_service.domain.codes import new_code
from queue_service.domain.errors import AlreadyBookedError, StoreUnavailableError, TooManyBookingsError
from queue_service.domain.person_allowance import PendingCount
from queue_service.domain.reservations.bookable import REFUSALS, BookingContext, bookable_slot, load_context
from queue_service.domain.reservations.holds import new_one_time_code
from queue_service.domain.reservations.nik_claims import NikClaims
from queue_service.domain.reservations.phone_caps import PhoneCaps, day_ends_ms
from queue_service.domain.reservations.records import (
    MIN_KEEP_MS,
    Booking,
    BookingRequest,
    expire_at_ms,
    stored_record,
)
from queue_service.store import keys
from queue_service.store.outcomes import BookingOutcome
from queue_service.store.scripts import Scripts

if TYPE_CHECKING:
    from queue_service.domain.captcha.gate import PendingVerdict

log = logging.getLogger(__name__)

_ATTEMPTS = 3
# How long a booking's Idempotency-Key is remembered at least (its booking's keys may last
# longer: the key lasts as long as they do).
IDEMPOTENCY_KEEP_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class IdempotencyKey:
    """A booking request's ``Idempotency-Key`` (``key``, as the client sent it) and the
    ``digest`` of the request it came with."""

    key: str
    digest: str


class KeyUsedError(Exception):
    """The request's ``Idempotency-Key`` booked already (found by the reserve script, so a
    concurrent request with the key booked first): ``code`` of ``branch_id``, made by a
    request whose digest was ``digest``. Nothing was written."""

    def __init__(self, branch_id: str, digest: str, code: str):
        super().__init__(code)
        self.branch_id, self.digest, self.code = branch_id, digest, code


class Reserving:
    """Booking places over the data store (``decode_responses=True``).

    Args:
        retention: how long after the visit day a booking's keys are kept.
        collective_leave_closed: whether *cuti bersama* closes every branch.
        in_one_step: book with ``book.lua``, one script, rather than five calls.
        wait_replicas: a booking is confirmed only once this many replicas acknowledge it
            (Redis ``WAIT``); 0 confirms it once the primary has it.
        wait_timeout_ms: how long to wait for them.
        phones: the per-phone cap (none, or one without a cap: not counted).
        hold_ms: how long a new place is held for its phone's one-time code
            (``PHONE_VERIFICATION_MINUTES``); 0 books it at once.
    """

    def __init__(
        self,
        redis: Redis,
        scripts: Scripts,
        claims: NikClaims,
        retention: dt.timedelta,
        collective_leave_closed: bool = True,
        in_one_step: bool = False,
        wait_replicas: int = 0,
        wait_timeout_ms: int = 500,
        phones: PhoneCaps | None = None,
        hold_ms: int = 0,
    ):
        self.redis = redis
        self.hold_ms = hold_ms
        self.scripts = scripts
        self.claims = claims
        self.phones = phones if phones is not None and phones.cap is not None else None
        self._retention = retention
        self.collective_leave_closed = collective_leave_closed
        self.in_one_step = in_one_step
        self._wait_replicas = wait_replicas
        self._wait_timeout_ms = wait_timeout_ms

    def reserve(
        self,
        request: BookingRequest,
        now: dt.datetime,
        person_count: PendingCount | None = None,
        screen: Callable[[BookingRequest], Mapping[str, str]] | None = None,
        address: str | None = None,
        admit: Callable[[BookingRequest, BookingContext], None] | None = None,
        idempotency: IdempotencyKey | None = None,
        captcha: PendingVerdict | None = None,
    ) -> tuple[Booking, bool]:
        """Book a place for ``request`` as seen at ``now``.

        ``person_count``, if given, is sent in the same round trip as the first read, once,
        and judged before anything else.

        ``captcha``, if given (never with ``person_count``), the consumption of the request's
        challenge, is sent in the same round trip as the first read, once, and judged before
        anything else, that first read included.

        ``screen``, if given, is called once, after the allowance is judged and the day and
        slot found bookable, before the place is held (the participant registry): it raises
        to refuse the booking, or returns fields to add to the booking's record.

        ``address``, the client's, is kept in the record (the console's hoarding view).

        ``admit``, if given, is called once with the request and the first read's context
        (the branch and its settings, read in the same round trip as the allowance), before
        anything else is judged: the waiting room's gate, which raises to refuse.

        ``idempotency``, if given, is recorded with the booking in the same step, and a key
        that booked already books nothing more (``KeyUsedError``).

        Returns:
            The committed booking with its code and queue number, and whether enough
            replicas acknowledged it (True when none are asked for).

        Raises:
            ValidationFailedError: unknown branch, or a service the branch never offered.
            NotBookableError: the day or slot does not take bookings, or the branch is
                retired or no longer offers the service (``detail`` says why).
            AlreadyBookedError: the NIK holds a booking for that date.
            TooManyBookingsError: the phone holds its cap of active bookings.
            DayFullError, SlotFullError: no place left.
            StoreUnavailableError: the attempts kept stalling or kept meeting a settings change.
            KeyUsedError: ``idempotency``'s key booked already; nothing is written.
            Whatever ``screen`` raises.
        """
        # Asked once, whatever the attempts; a refusal raised is not kept, but ends the booking.
        screened = functools.cache(lambda: dict(screen(request))) if screen is not None else dict
        if address:
            screened_only = screened
            screened = functools.cache(lambda: {**screened_only(), "address": address})
        for _attempt in range(_ATTEMPTS):
            outcome = self._try_reserve(request, now, person_count, screened, admit, idempotency, captcha)
            admit = None  # asked once, whatever the attempts
            person_count = None  # counted once, whatever the attempts
            captcha = None  # consumed once
            if outcome is not None:
                break
        else:
            raise StoreUnavailableError("reservation kept stalling")
        booking, claim_key, expire_at = outcome
        return booking, self.in_one_step or self._confirm(booking, claim_key, expire_at)

    def key_used(self, branch_id: str, key: str) -> tuple[str, str] | None:
        """What a booking request with ``Idempotency-Key`` ``key`` at ``branch_id`` made: the
        request's digest and the booking's code, or None (one read)."""
        held = self.redis.get(keys.booking_idempotency(branch_id, key))
        if held is None:
            return None
        digest, code = held.split(" ", 1)
        return digest, code

    def _confirm(self, booking: Booking, claim_key: str, expire_at: int) -> bool:
        """Mark the NIK's claim as held by the committed booking and, with ``wait_replicas``,
        wait for the replicas.

        Returns:
            Whether enough replicas acknowledged the booking (True when none are asked for).
        """
        if not self._wait_replicas:
            try:
                self.claims.confirm(claim_key, booking.code, booking.branch_id, expire_at)
            except redis_errors.RedisError as error:
                # The booking is committed and already findable by code and NIK; a pending
                # claim whose booking exists still holds the NIK's date (see NikClaims.claim).
                log.warning("booking %s committed, claim not confirmed: %s", booking.code, error)
            return True
        # WAIT counts the writes of its own connection: sent down the same pipeline as the
        # claim's confirmation, it waits for everything written up to that point, which the
        # replication stream carries in order, the booking itself included. Only if the
        # confirmation wrote: otherwise WAIT would count from whatever that connection wrote
        # last (or nothing, on a new one, say after a failover to a replica that lacks the
        # booking) and could answer at once for a booking no replica holds.
        try:
            pipe = self._pipeline_on_node_of(claim_key)
            self.claims.confirm(claim_key, booking.code, booking.branch_id, expire_at, client=pipe)
            pipe.wait(self._wait_replicas, self._wait_timeout_ms)
            results = pipe.execute(raise_on_error=False)
        except redis_errors.RedisError as error:
            results = [error, error]
        if results[0] != 1:
            log.warning("booking %s committed, claim not confirmed: %s", booking.code, results[0])
            return False
        if not self._enough_replicas(booking, results[1]):
            return False
        if isinstance(self.redis, RedisCluster):
            return self._wait_on_branch_node(booking)
        return True

    def _wait_on_branch_node(self, booking: Booking) -> bool:
        """On a Redis Cluster the booking lives on its branch's node and the claim on its NIK's:
        the claim's WAIT says nothing of the booking. WAIT there too, on one connection of that
        node, after a write of its own (the branch's replication mark): the node's replication
        stream is in order, so the replicas that have the mark have the booking."""
        mark = keys.replication_mark(booking.branch_id)
        try:
            pipe = self._pipeline_on_node_of(mark)
            pipe.set(mark, booking.code)
            pipe.wait(self._wait_replicas, self._wait_timeout_ms)
            acknowledged = pipe.execute(raise_on_error=False)[1]
        except redis_errors.RedisError as error:
            acknowledged = error
        return self._enough_replicas(booking, acknowledged)

    def _pipeline_on_node_of(self, key: str):
        """A pipeline whose commands all go down one connection to the node of ``key``'s slot:
        WAIT counts that connection's writes. (A cluster's own pipeline spreads commands over
        nodes by key, sends WAIT, which names none, to any, and refuses scripts.)"""
        if isinstance(self.redis, RedisCluster):
            node = self.redis.get_redis_connection(self.redis.get_node_from_key(key))
            return node.pipeline(transaction=False)
        return self.redis.pipeline(transaction=False)

    def _enough_replicas(self, booking: Booking, acknowledged: int | Exception) -> bool:
        if isinstance(acknowledged, Exception) or acknowledged < self._wait_replicas:
            log.warning(
                "booking %s committed, replicas acknowledged: %s of %d",
                booking.code,
                acknowledged,
                self._wait_replicas,
            )
            return False
        return True

    def _try_reserve(
        self,
        request: BookingRequest,
        now: dt.datetime,
        person_count: PendingCount | None = None,
        screened: Callable[[], dict[str, str]] = dict,
        admit: Callable[[BookingRequest, BookingContext], None] | None = None,
        idempotency: IdempotencyKey | None = None,
        captcha: PendingVerdict | None = None,
    ):
        """One attempt: check the request against the settings, screen it (``screened``
        returns the record's extra fields), claim the NIK's date, reserve.

        Returns:
            ``(booking, claim_key, expire_at_ms)``, or None when the attempt must
            start over (a code collision, a stalled claim, settings changed meanwhile).
        """
        context = load_context(self.redis, request, person_count, captcha)
        if admit is not None:
            admit(request, context)
        branch, service = context.branch, context.service
        now_local = schedules.local_now(now, branch.timezone)
        slot = bookable_slot(context, request.date, request.slot, now_local, self.collective_leave_closed)
        marks = screened()

        expire_at = expire_at_ms(request.date, branch.timezone, self._retention)
        claim_key = self.claims.key(request.nik, request.date.isoformat())
        code = new_code()
        record = stored_record(request, slot, code, marks)
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
            keys.branch_holds(branch.id),
            keys.booking_idempotency(branch.id, idempotency.key if idempotency else ""),
            keys.waiters(branch.id, day),
        ]
        one_time_code = new_one_time_code() if self.hold_ms else ""

        def reserve_args(claim_at: int) -> list:
            return [
                code,
                day,
                slot.label,
                service.id,
                service.prefix,
                claim_at,
                self.claims.claim_ms // 2,
                expire_at,
                json.dumps(record),
                secrets.token_hex(4),
                context.settings_sha1,
                MIN_KEEP_MS,
                self.hold_ms,
                one_time_code,
                *keys.hold_release_prefixes(branch.id),
                idempotency.digest if idempotency else "",
                IDEMPOTENCY_KEEP_MS,
            ]

        phone_key, phone_args = None, []
        if self.phones is not None:
            phone_key = self.phones.key(request.phone)
            phone_args = self.phones.count_args(
                code, branch.id, day_ends_ms(request.date, branch.timezone), now
            )
        if self.in_one_step:
            outcome = self._book_in_one_step(
                [keys.code_branch(code), claim_key, *reserve_keys],
                [code, branch.id, self.claims.claim_ms, expire_at, MIN_KEEP_MS],
                reserve_args(0),
                phone_key,
                phone_args,
            )
        else:
            outcome = self._book_step_by_step(
                code, branch.id, claim_key, reserve_keys, reserve_args, expire_at, phone_key, phone_args
            )
        if outcome.ok:
            booking = Booking.from_hash(
                branch.id,
                code,
                {
                    **record,
                    "queue_number": outcome.queue_number,
                    "status": outcome.status,
                    "created_ms": outcome.created_ms,
                    "verify_by_ms": outcome.verify_by_ms,
                },
            )
            return booking, claim_key, expire_at
        if outcome.verdict == "idempotent":
            raise KeyUsedError(branch.id, outcome.digest, outcome.code)
        if outcome.verdict in REFUSALS:
            raise REFUSALS[outcome.verdict](outcome.verdict)
        # 'code_taken' (a 1-in-10^15 collision), 'claim_expired' (this process stalled past
        # the claim window) or 'settings_changed' (an admin changed hours, slot length,
        # window or cutoff since we read them): start over with fresh settings, code and claim.
        log.info("reservation attempt starts over: %s", outcome.verdict)
        return None

    def _book_step_by_step(
        self,
        code: str,
        branch_id: str,
        claim_key: str,
        reserve_keys: list[str],
        reserve_args: Callable[[int], list],
        expire_at: int,
        phone_key: str | None = None,
        phone_args: list | None = None,
        step=None,
    ) -> BookingOutcome:
        """The code's branch entry, the claim, the phone's count (with ``phone_key``), the
        place and (in ``reserve``) the claim's confirmation, one call each: on a cluster they
        live in four slots. ``step`` is the branch's script (``reserve.lua``; a waitlist
        entry joins by ``waitlist_join.lua``, which answers alike).

        Returns:
            reserve.lua's answer; the claim, the count and the entry are taken back unless it
            is ``ok``.

        Raises:
            AlreadyBookedError, TooManyBookingsError: nothing is held then.
        """
        # Which branch a code belongs to, for look-ups and for a kiosk of another branch to
        # say so; written first, so no committed booking lacks it.
        code_branch = keys.code_branch(code)
        if not self.scripts.keep_until(keys=[code_branch], args=[expire_at, MIN_KEEP_MS, branch_id]):
            # Another booking's code (or this call's own, re-sent after a lost reply: left to
            # expire, as it names no booking).
            return BookingOutcome("code_taken")
        try:
            claim_at = self.claims.claim(claim_key, code, branch_id, expire_at)
        except AlreadyBookedError:
            self.redis.delete(code_branch)
            raise
        if phone_key is not None:
            # After the claim, so that an entry older than the claim window whose booking is
            # missing stands on an expired claim, which can no longer be booked on.
            try:
                self.phones.count(phone_key, phone_args)
            except TooManyBookingsError:
                self.claims.release(claim_key, code)
                self.redis.delete(code_branch)
                raise
        step = step or self.scripts.reserve
        outcome = BookingOutcome.read(step(keys=reserve_keys, args=reserve_args(claim_at)))
        if not outcome.ok:
            self.claims.release(claim_key, code)
            if phone_key is not None:
                self.phones.release(phone_key, code)
            self.redis.delete(code_branch)
        return outcome

    def _book_in_one_step(
        self,
        book_keys: list[str],
        claim: list,
        reserve_args: list,
        phone_key: str | None = None,
        phone_args: list | None = None,
    ) -> BookingOutcome:
        """``book.lua``: on a single Redis, the code's branch entry, the claim, the phone's
        count (with ``phone_key``), the place and the claim's confirmation in one script (the
        parts are the scripts the other way runs).

        Returns:
            reserve.lua's answer; the claim is confirmed if it is ``ok``; the claim, the count
            and the entry are taken back otherwise.

        Raises:
            TooManyBookingsError: the phone holds its cap; nothing is held then.
        """
        if phone_key is not None:
            book_keys = [*book_keys, phone_key]
        code, branch_id, stale_ms, expire_at, keep_ms = claim
        claim_key = book_keys[1]
        replace = ""
        while True:
            reply = self.scripts.book(
                keys=book_keys,
                args=[
                    code,
                    branch_id,
                    stale_ms,
                    replace,
                    expire_at,
                    keep_ms,
                    *reserve_args,
                    code,
                    branch_id,
                    expire_at,
                    keep_ms,
                    *(phone_args or []),
                ],
            )
            outcome = BookingOutcome.read(reply)
            if outcome.verdict == "phone":
                self.phones.free_stale(phone_key, outcome.phone)  # raises when none is stale
                continue
            if outcome.verdict != "claim":
                return outcome
            replace = self.claims.take_over(outcome.claim, claim_key, expire_at)
