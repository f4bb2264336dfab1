"""Reserve, look up, reschedule and cancel bookings, one concept a module:

- ``records``: a booking as asked for and as stored;
- ``bookable``: whether a day and slot take bookings (one rule for reserving and moving);
- ``nik_claims``: one booking per NIK per date, across all branches;
- ``phone_caps``: at most ``BOOKINGS_PER_PHONE`` active bookings per phone number;
- ``holds``, ``expired_holds``: a place held until its phone's one-time code confirms it;
- ``reserve``, ``reschedule``, ``cancel``, ``lookup``: the operations;
- ``offers``: a place freed on a day with a waitlist offered to the next on it;
- ``erase``: a participant's personal data removed from a booking that no longer stands.

``Reservations`` offers them to the web layer as one service, and tells its ``on_event``
hook of each booking held, made or cancelled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from redis import Redis
from redis.cluster import RedisCluster

from queue_service.domain.errors import HoldExpiredError, NotReplicatedError, VerificationFailedError
from queue_service.domain.person_allowance import PendingCount, PersonAllowance
from queue_service.domain.reservations.bookable import BookingContext
from queue_service.domain.reservations.cancel import Cancellation
from queue_service.domain.reservations.erase import Erasure
from queue_service.domain.reservations.holds import HoldProgress, PhoneVerification
from queue_service.domain.reservations.lookup import BookingLookup
from queue_service.domain.reservations.nik_claims import NikClaims
from queue_service.domain.reservations.offers import WaitlistOffers
from queue_service.domain.reservations.phone_caps import PhoneCaps
from queue_service.domain.reservations.records import (
    HOLDING_STATUSES,
    MIN_KEEP_MS,
    PENDING,
    Booking,
    BookingRequest,
)
from queue_service.domain.reservations.reschedule import Rescheduling
from queue_service.domain.reservations.reserve import IdempotencyKey, KeyUsedError, Reserving
from queue_service.store.scripts import Scripts

if TYPE_CHECKING:
    from queue_service.domain.captcha.gate import PendingVerdict

__all__ = [
    "HOLDING_STATUSES",
    "MIN_KEEP_MS",
    "PENDING",
    "Booking",
    "BookingRequest",
    "EventHook",
    "IdempotencyKey",
    "KeyUsedError",
    "Reservations",
]

EventHook = Callable[[str, Booking], None]


class Reservations:
    """The booking operations of the service, over one Redis data store.

    Args:
        redis: the data store (``decode_responses=True``).
        nik_secret: key of the HMAC that turns a NIK into its key name (``NIK_HASH_KEY``), and
            a phone number into its cap's.
        claim_seconds: after how long an abandoned NIK claim may be taken over.
        retention_days: days after the visit that booking data is kept.
        collective_leave_closed: whether *cuti bersama* closes every branch.
        on_event: called with ``("held" | "booked" | "cancelled", booking)`` once the change
            is committed (a hold is "booked" once its code confirms it); it must not raise.
        wait_replicas: a booking is confirmed only once this many replicas acknowledge it
            (Redis ``WAIT``); 0 confirms it once the primary has it.
        wait_timeout_ms: how long to wait for them.
        one_step: book with ``book.lua``, one script, rather than five calls (None: where
            that can be, i.e. on a single Redis and without ``wait_replicas``, whose ``WAIT``
            rides on the step-by-step way's last call).
        allowance: counts each booking attempt against its person's allowance (none: no
            count).
        bookings_per_phone: active bookings allowed per phone number across all branches
            and dates (``BOOKINGS_PER_PHONE``; at least 1); None counts nothing (a store driven
            by hand: benchmarks, tools; ``from_settings`` always sets it).
        hold_minutes: how long a new place is held for its phone's one-time code
            (``PHONE_VERIFICATION_MINUTES``); 0 books it at once (``PHONE_VERIFICATION=0``).
        previous_nik_secret: the NIK key being replaced (``NIK_HASH_KEY_PREVIOUS``), whose
            claims still hold their dates (see ``NikClaims``).
        waitlist_offer_minutes: how long a place freed for the waitlist is held for the one
            it is offered to (``WAITLIST_OFFER_MINUTES``); every change here that frees a
            place offers it to the day's waitlist right after (see ``offers``).
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
        allowance: PersonAllowance | None = None,
        bookings_per_phone: int | None = None,
        hold_minutes: float = 0,
        previous_nik_secret: bytes | None = None,
        waitlist_offer_minutes: float = 30,
    ):
        self.redis = redis
        self.allowance = allowance
        self.scripts = Scripts(redis)
        self.collective_leave_closed = collective_leave_closed
        self._on_event = on_event or (lambda event, booking: None)
        retention = dt.timedelta(days=retention_days)
        self.claims = NikClaims(redis, self.scripts, nik_secret, claim_seconds, previous_nik_secret)
        self.phones = PhoneCaps(
            redis, self.scripts, nik_secret, bookings_per_phone, self.claims.claim_ms, previous_nik_secret
        )
        self.bookings = BookingLookup(redis)
        self.reserving = Reserving(
            redis,
            self.scripts,
            self.claims,
            retention,
            collective_leave_closed,
            in_one_step=not isinstance(redis, RedisCluster) and not wait_replicas
            if one_step is None
            else one_step,
            wait_replicas=wait_replicas,
            wait_timeout_ms=wait_timeout_ms,
            phones=self.phones,
            hold_ms=round(hold_minutes * 60_000),
        )
        self.rescheduling = Rescheduling(
            redis, self.scripts, self.claims, self.bookings, retention, collective_leave_closed, self.phones
        )
        self.cancellation = Cancellation(redis, self.scripts, self.claims, self.bookings, self.phones)
        self.erasure = Erasure(redis, self.scripts, self.claims, self.bookings, self.phones)
        self.verification = PhoneVerification(
            redis,
            self.scripts,
            self.claims,
            self.phones,
            self.bookings,
            on_booked=lambda booking: self._on_event("booked", booking),
        )
        self.offers = WaitlistOffers(redis, self.scripts, waitlist_offer_minutes, collective_leave_closed)

    @classmethod
    def from_settings(
        cls,
        redis: Redis,
        settings: Mapping[str, Any],
        on_event: EventHook | None = None,
        one_step: bool | None = None,
        allowance: PersonAllowance | None = None,
    ) -> Reservations:
        """The operations as the settings describe them."""
        return cls(
            redis,
            nik_secret=(settings["NIK_HASH_KEY"] or settings["SECRET_KEY"]).encode(),
            previous_nik_secret=(settings["NIK_HASH_KEY_PREVIOUS"] or "").encode() or None,
            claim_seconds=settings["RESERVATION_CLAIM_SECONDS"],
            retention_days=settings["PERSONAL_DATA_RETENTION_DAYS"],
            collective_leave_closed=settings["COLLECTIVE_LEAVE_CLOSED"],
            on_event=on_event,
            wait_replicas=settings["REDIS_WAIT_REPLICAS"],
            wait_timeout_ms=settings["REDIS_WAIT_TIMEOUT_MS"],
            one_step=one_step,
            allowance=allowance,
            bookings_per_phone=settings["BOOKINGS_PER_PHONE"],
            hold_minutes=settings["PHONE_VERIFICATION_MINUTES"] if settings["PHONE_VERIFICATION"] else 0,
            waitlist_offer_minutes=settings.get("WAITLIST_OFFER_MINUTES", 30),
        )

    def nik_digest(self, nik: str) -> str:
        """The keyed hash that stands for a NIK in key names."""
        return self.claims.digest(nik)

    def reserve(
        self,
        request: BookingRequest,
        now: dt.datetime,
        address: str | None = None,
        screen: Callable[[BookingRequest], Mapping[str, str]] | None = None,
        admit: Callable[[BookingRequest, BookingContext], None] | None = None,
        idempotency: IdempotencyKey | None = None,
        captcha: PendingVerdict | None = None,
    ) -> Booking:
        """Book a place for ``request`` as seen at ``now`` (see ``Reserving.reserve``), the
        attempt counted against its person's allowance from ``address`` when given, and
        ``screen``ed (the participant registry) after that count and before the place is held;
        ``address`` is kept in the booking's record (the console's hoarding view); ``admit``
        is the waiting room's gate, asked with the first read (see ``Reserving.reserve``);
        ``idempotency`` is recorded with the booking (see ``Reserving.reserve``).

        Raises:
            AttemptsUsedUpError: the NIK or the phone has used up its allowance from
                ``address`` (judged before anything else).
            ValidationFailedError, NotBookableError, AlreadyBookedError,
            TooManyBookingsError, DayFullError, SlotFullError, StoreUnavailableError: as
            ``Reserving.reserve``.
            NotReplicatedError: committed, but fewer than ``wait_replicas`` replicas
                acknowledged it in time (the booking is kept).
            KeyUsedError: ``idempotency``'s key booked already (nothing is written).
            Whatever ``screen`` raises (nothing is held then).
        """
        if captcha is not None and not self._captcha_rides():
            captcha.settle_now()
            captcha = None
        person_count = self.count_attempt(request, address)
        booking, replicated = self.reserving.reserve(
            request, now, person_count, screen, address, admit, idempotency, captcha
        )
        self._on_event("held" if booking.status == PENDING else "booked", booking)
        if not replicated:
            # Answered as a 503, not a 201: the booking is not yet as safe as promised, and a
            # failover now could lose it. It is kept, not undone: undoing would be one more
            # unreplicated write, and a replica may hold it already. If it survives, its SMS
            # brings the code and a second attempt is told the NIK holds a booking.
            raise NotReplicatedError("replicas did not confirm in time")
        return booking

    def _captcha_rides(self) -> bool:
        """Whether the challenge's consumption (``reserve``'s ``captcha``) may ride on the first
        read (beside the count against the person's allowance, which a wrong answer takes
        back): not where a step comes first (the previous NIK key's), nor on a Redis Cluster
        (whose pipelines take no scripts, and whose challenge is on another node)."""
        return not self.claims.reads_previous_key and not isinstance(self.redis, RedisCluster)

    def count_attempt(self, request: BookingRequest, address: str | None) -> PendingCount | None:
        """The first checks of an attempt to book (or to join a waitlist): its count against its
        person's allowance from ``address``, sent with the attempt's first read (None: not
        counted), and, while ``NIK_HASH_KEY`` is being replaced, the date held under the old
        digest (a step of its own, see nik_claims; nothing claims under that digest any more).

        Raises:
            AlreadyBookedError: a booking holds the date under the old digest.
        """
        person_count = None
        if self.allowance is not None and address is not None:
            person_count = self.allowance.count(request.nik, request.phone, address)
        self.claims.refuse_if_held_before(request.nik, request.date.isoformat())
        return person_count

    @property
    def holds_places(self) -> bool:
        """Whether a new place is held for its phone's one-time code (``PHONE_VERIFICATION``)."""
        return self.reserving.hold_ms > 0

    def verify(
        self, typed_code: str, nik: str, one_time_code: str, now: dt.datetime | None = None
    ) -> Booking:
        """Confirm the hold with this code and NIK (see ``PhoneVerification.verify``); a hold
        it releases offers its place to the day's waitlist (judged at ``now``)."""
        try:
            return self.verification.verify(typed_code, nik, one_time_code)
        except (HoldExpiredError, VerificationFailedError) as refused:
            if not isinstance(refused, VerificationFailedError) or refused.left == 0:
                held = self.bookings.lookup(typed_code, nik)
                self.offers.offer_safely(held.branch_id, held.date, now or dt.datetime.now(dt.UTC))
            raise

    def resend_code(self, typed_code: str, nik: str) -> Booking:
        """A new one-time code for the hold with this code and NIK (see
        ``PhoneVerification.resend``)."""
        return self.verification.resend(typed_code, nik)

    def hold_progress(self, booking: Booking) -> HoldProgress:
        """How far the hold ``booking`` has got (see ``PhoneVerification.progress``)."""
        return self.verification.progress(booking)

    def release_expired_holds(self, branch_ids, now: dt.datetime | None = None) -> int:
        """Release every branch's holds (and waitlist offers) whose time ran out, then offer
        every day's free places to its waitlist, judged at ``now`` (the worker's sweep, which
        also makes any offer missed). Returns how many holds were released."""
        branch_ids = list(branch_ids)
        released = self.verification.sweep(branch_ids)
        self.offers.sweep(branch_ids, now or dt.datetime.now(dt.UTC))
        return released

    def get(self, branch_id: str, code: str) -> Booking:
        """The booking ``code`` of ``branch_id``. Raises NotFoundError if there is none."""
        return self.bookings.get(branch_id, code)

    def find(self, typed_code: str) -> Booking:
        """The booking with this code, whatever its branch (see ``BookingLookup.find``): for
        callers that authorise by the booking's branch, never for participants."""
        return self.bookings.find(typed_code)

    def lookup(self, typed_code: str, nik: str) -> Booking:
        """The booking with this code and NIK (see ``BookingLookup.lookup``)."""
        return self.bookings.lookup(typed_code, nik)

    def reschedule(
        self, typed_code: str, nik: str, day: dt.date, slot_start: dt.time, now: dt.datetime
    ) -> Booking:
        """Move the booking with this code and NIK (see ``Rescheduling.reschedule``); the place
        it leaves is offered to that day's waitlist."""
        before = self.bookings.lookup(typed_code, nik)
        moved = self.rescheduling.reschedule(typed_code, nik, day, slot_start, now)
        self.offers.offer_safely(before.branch_id, before.date, now)
        return moved

    def cancel(self, typed_code: str, nik: str, now: dt.datetime, by: str = "participant") -> Booking:
        """Cancel the booking with this code and NIK, freeing its slot, quota and date, and its
        place under its phone's cap.

        Raises:
            NotFoundError: no booking has this code with this NIK.
            CancelledError: it was cancelled already.
            TooLateError: the slot has started, or the booking was checked in.
        """
        return self.cancel_booking(self.bookings.lookup(typed_code, nik), now, by)

    def cancel_booking(
        self, booking: Booking, now: dt.datetime, by: str, audit_entry: list[str] | None = None
    ) -> Booking:
        """Cancel ``booking`` (already authorised by the caller), with ``audit_entry`` (as
        ``audit.fields_of`` makes it) written by the same step. Raises as ``cancel``."""
        cancelled = self.cancellation.cancel_booking(booking, now, by, audit_entry)
        self._on_event("cancelled", cancelled)
        self.offers.offer_safely(cancelled.branch_id, cancelled.date, now)
        return cancelled

    def tell(self, event: str, booking: Booking) -> None:
        """Tell the ``on_event`` hook of a change made elsewhere (a waitlist offer accepted:
        ``"booked"``)."""
        self._on_event(event, booking)

    def erase(self, typed_code: str, nik: str, now: dt.datetime) -> Booking:
        """Erase the personal data of the booking with this code and NIK (see
        ``Erasure.erase``); it is found by no one afterwards."""
        return self.erasure.erase(typed_code, nik, now)
