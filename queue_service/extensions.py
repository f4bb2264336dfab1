"""The service's shared objects, built once per app in ``init_app`` and found by ``services()``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from redis import Redis

from queue_service.domain.accounts import Accounts
from queue_service.domain.captcha.gate import CaptchaGate, SelfHostedCaptcha
from queue_service.domain.checkins import CheckIns
from queue_service.domain.clock import Clock, utc_now
from queue_service.domain.kiosks import Kiosks
from queue_service.domain.live_queue import LiveQueue
from queue_service.domain.reservations import Reservations
from queue_service.domain.sign_in import SignIn, SignInPolicy
from queue_service.domain.tuning import Tuning
from queue_service.domain.walk_ins import WalkIns
from queue_service.metrics import instruments
from queue_service.notifications.dispatch import SmsJobOptions, SmsNotifier
from queue_service.notifications.outbox import Outbox
from queue_service.store import connect as store
from queue_service.web.limits import limiter, rate_limit_storage_uri

# The web request's enqueue of an SMS job is best effort: it must not hold a booking up.
_ENQUEUE_TIMEOUT_SECONDS = 0.5


@dataclass
class Services:
    redis: Redis
    queue_redis: Redis
    reservations: Reservations
    captcha: CaptchaGate
    clock: Clock
    outbox: Outbox
    accounts: Accounts
    tuning: Tuning
    sign_in: SignIn
    kiosks: Kiosks
    checkins: CheckIns
    walk_ins: WalkIns
    live_queue: LiveQueue
    clients: tuple[Redis, ...] = ()

    def close(self) -> None:
        """Close every connection this app opened (tests, and a clean shutdown)."""
        for client in self.clients:
            store.close(client)


def init_app(app: Flask, clock: Clock | None = None) -> Services:
    """Connect to the stores, build the domain services and bind the rate limiter for ``app``."""
    config = app.config
    data_url = store.data_store_url(config)
    timeout = config["REDIS_SOCKET_TIMEOUT"]
    cluster = config["REDIS_CLUSTER"]
    redis = store.connect(data_url, cluster=cluster, socket_timeout=timeout)
    queue_url = store.queue_store_url(config)
    queue_redis = store.connect(queue_url, socket_timeout=timeout, decode_responses=False)
    enqueue_redis = store.connect(queue_url, socket_timeout=_ENQUEUE_TIMEOUT_SECONDS,
                                  decode_responses=False, retries=0)
    notifier = SmsNotifier(enqueue_redis, SmsJobOptions.from_settings(config))
    reservations = Reservations.from_settings(redis, config, on_event=_counted(notifier))
    captcha_redis = store.connect(data_url, cluster=cluster, socket_timeout=timeout,
                                  decode_responses=False)
    captcha = SelfHostedCaptcha(
        captcha_redis,
        ttl_seconds=config["CAPTCHA_TTL_SECONDS"],
        test_answer=config["CAPTCHA_TEST_ANSWER"],
    )
    accounts = Accounts(redis)
    services = Services(redis=redis, queue_redis=queue_redis, reservations=reservations,
                        captcha=captcha, clock=clock or utc_now,
                        outbox=Outbox.from_settings(redis, config),
                        accounts=accounts, tuning=Tuning(redis, reservations),
                        sign_in=SignIn(redis, accounts, config["SECRET_KEY"].encode(), SignInPolicy(
                            account_failures=config["ADMIN_SIGN_IN_FAILURES"],
                            address_failures=config["ADMIN_SIGN_IN_ADDRESS_FAILURES"],
                            window_seconds=config["ADMIN_LOCKOUT_SECONDS"],
                            lockout_seconds=config["ADMIN_LOCKOUT_SECONDS"])),
                        kiosks=Kiosks(redis), checkins=CheckIns(redis),
                        live_queue=LiveQueue(redis, on_event=notifier.notify),
                        walk_ins=WalkIns(redis, config["COLLECTIVE_LEAVE_CLOSED"]),
                        clients=(redis, queue_redis, enqueue_redis, captcha_redis))
    app.extensions["antrian"] = services

    config.setdefault("RATELIMIT_STORAGE_URI", rate_limit_storage_uri(data_url, cluster))
    config.setdefault("RATELIMIT_STORAGE_OPTIONS", {
        # Without them redis-py waits on an unreachable server for as long as the OS does.
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        # limits.errors.StorageError, whatever the backend: web.errors answers 503.
        "wrap_exceptions": True,
    })
    # Registered before the limiter's own hook, so it runs after it (Flask runs them last
    # first): flask-limiter puts Retry-After on every limited response, even a 200.
    app.after_request(_retry_after_only_on_refusals)
    limiter.init_app(app)
    return services


def _counted(on_event):
    """``on_event`` after counting the event: every surface's bookings and cancellations
    pass through the reservations' hook, so they are counted once, here."""
    counters = {"booked": instruments().bookings, "cancelled": instruments().cancellations}

    def count_then(event, booking):
        if event in counters:
            counters[event].inc()
        on_event(event, booking)

    return count_then


def _retry_after_only_on_refusals(response):
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["antrian"]
