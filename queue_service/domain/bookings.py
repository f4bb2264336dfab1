"""The order of a booking attempt, the same for the JSON API and the pages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import time
from collections.abc import Callable

from redis import Redis

from queue_service.domain.captcha.gate import CaptchaGate
from queue_service.domain.errors import (
    AlreadyBookedError,
    BadRequestError,
    NotFoundError,
    ValidationFailedError,
)
from queue_service.domain.participant_registry import RegistryCheck
from queue_service.domain.reservations import (
    Booking,
    BookingRequest,
    IdempotencyKey,
    KeyUsedError,
    Reservations,
)
from queue_service.domain.reservations.bookable import BookingContext
from queue_service.store import keys

_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_PENDING = "pending"
# The header a booking's key comes in, named by the field errors about it.
IDEMPOTENCY_KEY_FIELD = "Idempotency-Key"
# How long a request waits for a concurrent one with its key (which holds the NIK's claim, on
# a cluster) to record its booking.
_KEY_WAIT_SECONDS = 5.0


def book(
    captcha: CaptchaGate,
    reservations: Reservations,
    captcha_id: object,
    captcha_answer: object,
    read_request: Callable[[], BookingRequest],
    address: str,
    now: dt.datetime,
    registry: RegistryCheck | None = None,
    admit: Callable[[BookingRequest, BookingContext], None] | None = None,
    idempotency_key: str | None = None,
    place: Callable[..., object] | None = None,
) -> Booking:
    """Book a place: the captcha first, then the fields, then the person's allowance, then
    the participant registry, then the place.

    The captcha is judged (and consumed, right or wrong) before anything is said of any other
    field, so that the booking endpoint is no oracle for NIKs: without a solved captcha nobody
    learns whether a NIK is valid or booked, nor spends anyone's allowance. For a plain
    booking its consumption rides on the booking's first read where it may (see
    ``Reservations.reserve``), once the fields have been read: one round trip less. The registry is
    asked only once the allowance is counted and the day and slot found bookable, so a
    caller without a solved captcha, or past their allowance, costs it no call.

    Args:
        captcha: the gate; ``captcha_id`` and ``captcha_answer`` as the caller sent them.
        reservations: where the place is booked, the attempt counted against the person's
            allowance from ``address`` first.
        read_request: validates the other fields; raises the domain's field errors.
        address: whom the per-address limits count (the client's address, or its /64).
        now: the time of the attempt.
        registry: the participant registry's check (none, or one without a registry: no
            check).
        admit: the branch's waiting room's gate, asked with the booking's first read (the
            branch's settings; no round trip of its own); raises ``NotAdmittedError``.
        idempotency_key: the request's ``Idempotency-Key``, if it sent one. A key that
            booked already with the same fields answers that booking, first thing (one read;
            the captcha, a retry's used up, is not asked, nor anything else); the key is
            recorded with the booking it makes, in the same step.
        place: what is done with the request once every check before the place is passed,
            with ``Reservations.reserve``'s arguments (that by default); the waitlist's join
            (``Waitlist.join``), which makes every check of a booking so. Not with a key.

    Raises:
        CaptchaFailedError, ValidationFailedError (``kpj`` when the registry rejects the
        participant; ``Idempotency-Key`` when the key booked with other fields),
        RegistryUnavailableError (no verdict, failure closed), and whatever ``reserve``
        raises.
    """
    request = None
    if idempotency_key is not None:
        try:
            request = read_request()
        except (BadRequestError, ValidationFailedError):
            request = None  # refused below, after the captcha, as without a key
        if request is not None:
            first = _first_answer(reservations, request.branch_id, idempotency_key, request_digest(request))
            if first is not None:
                return first
    screen = None
    if registry is not None and registry.asks:

        def screen(asked: BookingRequest) -> dict[str, str]:
            return registry.screen(asked.nik, asked.kpj, asked.name)

    if idempotency_key is None and place is None:
        verdict = captcha.pending(captcha_id, captcha_answer)
        try:
            request = read_request()
        except Exception:
            verdict.settle_now()  # a wrong captcha is said before the fields are
            raise
        return reservations.reserve(request, now, address, screen, admit, captcha=verdict)
    captcha.verify(captcha_id, captcha_answer)
    if request is None:
        request = read_request()
    if idempotency_key is None:
        return place(request, now, address, screen, admit)
    key = IdempotencyKey(idempotency_key, request_digest(request))
    try:
        return reservations.reserve(request, now, address, screen, admit, key)
    except KeyUsedError as used:
        # A concurrent request with the key booked first (the reserve step found its record).
        return _answer_of(reservations, used.branch_id, used.code, used.digest, key.digest)
    except AlreadyBookedError as refused:
        # On a cluster the NIK's claim comes before the place: a concurrent request with the
        # key may hold it, and its record follows with its booking.
        deadline = time.monotonic() + (_KEY_WAIT_SECONDS if refused.detail == "in_flight" else 0)
        while True:
            first = _first_answer(reservations, request.branch_id, key.key, key.digest)
            if first is not None:
                return first
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def request_digest(request: BookingRequest) -> str:
    """SHA-256 of a booking request's fields as validated (the captcha is not one of them: a
    retry carries another, or the same used-up one)."""
    # Not the language: a retry in another language (Accept-Language) is the same booking.
    fields = {name: str(value) for name, value in dataclasses.asdict(request).items() if name != "language"}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _first_answer(reservations: Reservations, branch_id: str, key: str, digest: str) -> Booking | None:
    """The booking ``key`` made at ``branch_id``, or None when it made none (or that booking is
    gone).

    Raises:
        ValidationFailedError: ``Idempotency-Key``: the key booked with other fields.
    """
    used = reservations.reserving.key_used(branch_id, key)
    if used is None:
        return None
    first_digest, code = used
    try:
        return _answer_of(reservations, branch_id, code, first_digest, digest)
    except NotFoundError:
        return None


def _answer_of(
    reservations: Reservations, branch_id: str, code: str, first_digest: str, digest: str
) -> Booking:
    """Booking ``code``, made under the request's key by a request whose digest was
    ``first_digest``: refused unless that is this request's ``digest``."""
    if first_digest != digest:
        raise ValidationFailedError({IDEMPOTENCY_KEY_FIELD: ["key_reused"]})
    return reservations.get(branch_id, code)


class FormAttempts:
    """Which booking each submission of a booking form made, so a form sent twice books once.

    A page renders its booking form with a random token. The first submission takes the
    token (``SET NX``) and records the booking it made; a second one (a double click, a
    reload, a resent POST) waits for the first and is shown that booking. The domain's
    one-booking-per-NIK-per-date rule would refuse a second booking anyway, but only after
    the captcha, which the first submission consumed: without this the participant would
    read "wrong captcha" instead of their queue number.

    Args:
        redis: the data store (``decode_responses=True``).
        keep_seconds: how long a submission's booking is remembered.
        wait_seconds: how long a second submission waits for the first to finish.
    """

    def __init__(self, redis: Redis, keep_seconds: int = 900, wait_seconds: float = 10.0):
        self.redis = redis
        self.keep_seconds = keep_seconds
        self.wait_seconds = wait_seconds

    @staticmethod
    def valid(token: object) -> bool:
        """Whether ``token`` has the form of a token this class hands out."""
        return isinstance(token, str) and bool(_TOKEN.match(token))

    def start(self, token: str) -> tuple[str, str] | None:
        """Take ``token`` for this submission, or find what an earlier one made.

        Returns:
            None when this submission may go ahead; ``(branch_id, code)`` of the booking an
            earlier submission of the same form made.

        Raises:
            AlreadyBookedError: an earlier submission is still in flight after the wait.
        """
        key = keys.form_attempt(token)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            if self.redis.set(key, _PENDING, nx=True, ex=int(self.wait_seconds) + 60):
                return None
            held = self.redis.get(key)
            if held is not None and held != _PENDING:
                branch_id, code = held.split(" ", 1)
                return branch_id, code
            if time.monotonic() > deadline:
                raise AlreadyBookedError("in_flight")
            time.sleep(0.1)

    def finish(self, token: str, booking: Booking) -> None:
        """Record the booking this submission made."""
        self.redis.set(keys.form_attempt(token), f"{booking.branch_id} {booking.code}", ex=self.keep_seconds)

    def abandon(self, token: str) -> None:
        """Free the token of a submission that booked nothing, so the form can be sent again."""
        self.redis.delete(keys.form_attempt(token))
