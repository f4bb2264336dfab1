"""The service's shared objects: its data store clients and the domain services over them,
built once per app from its settings (``build_services``). Plain Python: the web app
(``web/extensions.py``) binds them to Flask."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from redis import Redis

from queue_service.domain.accounts import Accounts
from queue_service.domain.availability import AvailabilityCache
from queue_service.domain.captcha.gate import CaptchaGate, SelfHostedCaptcha
from queue_service.domain.checkins import CheckIns
from queue_service.domain.clock import Clock, utc_now
from queue_service.domain.closures import Closures
from queue_service.domain.hoarding import HoardingWatch
from queue_service.domain.kiosks import Kiosks
from queue_service.domain.live_queue import LiveQueue
from queue_service.domain.participant_registry import UNCHECKED, RegistryCheck
from queue_service.domain.participant_registry import from_settings as registry_from_settings
from queue_service.domain.person_allowance import PersonAllowance
from queue_service.domain.reservations import Reservations
from queue_service.domain.sign_in import SignIn, SignInPolicy
from queue_service.domain.tuning import BranchTuning
from queue_service.domain.waiting_room import WaitingRooms
from queue_service.domain.waitlist import Waitlist
from queue_service.domain.walk_ins import WalkIns
from queue_service.metrics import instruments
from queue_service.notifications.outbox import Outbox
from queue_service.store import connect as store


@dataclass
class Services:
    """One app's data store clients and the domain services built over them."""

    redis: Redis
    queue_redis: Redis
    reservations: Reservations
    captcha: CaptchaGate
    clock: Clock
    outbox: Outbox
    accounts: Accounts
    tuning: BranchTuning
    sign_in: SignIn
    kiosks: Kiosks
    checkins: CheckIns
    walk_ins: WalkIns
    live_queue: LiveQueue
    availability: AvailabilityCache
    registry: RegistryCheck
    hoarding: HoardingWatch
    waiting_rooms: WaitingRooms
    closures: Closures
    clients: tuple[Redis, ...] = ()
    waitlist: Waitlist | None = None

    def close(self) -> None:
        """Close every connection this app opened (tests, and a clean shutdown)."""
        for client in self.clients:
            store.close(client)


def build_services(
    config: Mapping[str, Any],
    clock: Clock | None = None,
    rate_limit_store: Callable[[], Redis] | None = None,
) -> Services:
    """Connect to the stores and build the domain services.

    Args:
        config: the app's settings.
        clock: returns the current time (timezone-aware); the real clock by default.
        rate_limit_store: the rate limiter's store, where the per-person counters live too;
            None when that is the data store itself.
    """
    redis = store.data_store(config)
    queue_redis = store.queue_store(config)
    # The SMS of a booking, cancellation or call-ahead is on its branch's outbox already,
    # written by the change's own script: workers poll the outboxes, the request queues nothing.
    # The per-person counters live where the rate limiter's do: in the data store by default,
    # where the count rides on the booking's first round trip.
    rides_on_booking = rate_limit_store is None
    allowance = PersonAllowance(
        config["RATELIMIT_PER_PERSON"],
        config["SECRET_KEY"].encode(),
        counter_store=(lambda: redis) if rides_on_booking else rate_limit_store,
        rides_on_booking=rides_on_booking,
        enabled=bool(config["RATELIMIT_ENABLED"]),
    )
    reservations = Reservations.from_settings(redis, config, on_event=_count_event, allowance=allowance)
    captcha_redis = store.data_store(config, decode_responses=False)
    captcha = SelfHostedCaptcha(
        captcha_redis,
        ttl_seconds=config["CAPTCHA_TTL_SECONDS"],
        test_answer=config["CAPTCHA_TEST_ANSWER"],
        # Keys each clip's voices, pitches, timing and noise: the same on every host, and
        # unknown outside the deployment.
        secret=config["SECRET_KEY"].encode(),
    )
    accounts = Accounts(redis)
    tuning = BranchTuning(redis, reservations)
    services = Services(
        redis=redis,
        queue_redis=queue_redis,
        reservations=reservations,
        captcha=captcha,
        clock=clock or utc_now,
        outbox=Outbox.from_settings(redis, config),
        accounts=accounts,
        tuning=tuning,
        sign_in=SignIn(
            redis,
            accounts,
            config["SECRET_KEY"].encode(),
            SignInPolicy.from_settings(config),
        ),
        kiosks=Kiosks(redis),
        waiting_rooms=WaitingRooms(redis, config["SECRET_KEY"].encode()),
        checkins=CheckIns(redis),
        live_queue=LiveQueue(redis),
        availability=AvailabilityCache(
            redis, config["AVAILABILITY_FRESH_MS"], config["COLLECTIVE_LEAVE_CLOSED"]
        ),
        walk_ins=WalkIns(redis, config["COLLECTIVE_LEAVE_CLOSED"]),
        registry=registry_from_settings(config),
        # The console's hoarding view and /metrics read a day's bookings as the day list does.
        hoarding=HoardingWatch(redis, tuning.bookings),
        closures=Closures(redis, reservations, tuning, config["PERSONAL_DATA_RETENTION_DAYS"]),
        clients=(redis, queue_redis, captcha_redis),
        waitlist=Waitlist(reservations),
    )
    return services


def _count_event(event, booking):
    """The reservations' hook: every surface's bookings and cancellations pass through it,
    so they are counted once, here."""
    counter = {"booked": instruments().bookings, "cancelled": instruments().cancellations}.get(event)
    if counter is not None:
        counter.inc()
    if event == "booked" and booking.registry == UNCHECKED:
        instruments().registry_unchecked.inc()
