"""The order of a booking attempt, the same for the JSON API and the pages."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable

from redis import Redis

from queue_service.domain.captcha.gate import CaptchaGate
from queue_service.domain.errors import AlreadyBookedError
from queue_service.domain.participant_registry import RegistryCheck
from queue_service.domain.reservations import Booking, BookingRequest, Reservations
from queue_service.domain.reservations.bookable import BookingContext
from queue_service.store import keys

_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_PENDING = "pending"


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
) -> Booking:
    """Book a place: the captcha first, then the fields, then the person's allowance, then
    the participant registry, then the place.

    The captcha is checked (and consumed, right or wrong) before any other field is read,
    so that the booking endpoint is no oracle for NIKs: without a solved captcha nobody
    learns whether a NIK is valid or booked, nor spends anyone's allowance. The registry is
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

    Raises:
        CaptchaFailedError, ValidationFailedError (``kpj`` when the registry rejects the
        participant), RegistryUnavailableError (no verdict, failure closed), and whatever
        ``reserve`` raises.
    """
    captcha.verify(captcha_id, captcha_answer)
    request = read_request()
    screen = None
    if registry is not None and registry.asks:

        def screen(asked: BookingRequest) -> dict[str, str]:
            return registry.screen(asked.nik, asked.kpj, asked.name)

    return reservations.reserve(request, now, address, screen, admit)


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
