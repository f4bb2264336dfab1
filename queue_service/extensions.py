"""The service's shared objects, built once per app in ``init_app`` and found by ``services()``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app
from redis import Redis

from queue_service import store
from queue_service.captcha import CaptchaGate, PresenceOnlyGate
from queue_service.reservations import Reservations
from queue_service.sms.outbox import Outbox
from workers.dispatch import SmsJobOptions, SmsNotifier

Clock = Callable[[], dt.datetime]

# The web request's enqueue of an SMS job is best effort: it must not hold a booking up.
_ENQUEUE_TIMEOUT_SECONDS = 0.5


def utc_now() -> dt.datetime:
    """The real clock."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    redis: Redis
    queue_redis: Redis
    reservations: Reservations
    captcha: CaptchaGate
    clock: Clock
    outbox: Outbox


def data_store_url(config) -> str:
    """``REDIS_URL``, or the embedded server's (started if need be)."""
    return config["REDIS_URL"] or store.ensure_embedded(config["VAR_DIR"])


def init_app(app: Flask, clock: Clock | None = None) -> Services:
    """Connect to the stores and build the domain services for ``app``."""
    config = app.config
    data_url = data_store_url(config)
    redis = store.connect(data_url, cluster=config["REDIS_CLUSTER"],
                          socket_timeout=config["REDIS_SOCKET_TIMEOUT"])
    queue_url = config["QUEUE_REDIS_URL"] or data_url
    queue_redis = store.connect(queue_url, socket_timeout=config["REDIS_SOCKET_TIMEOUT"],
                                decode_responses=False)
    notifier = SmsNotifier(
        store.connect(queue_url, socket_timeout=_ENQUEUE_TIMEOUT_SECONDS, decode_responses=False,
                      retries=0),
        SmsJobOptions.from_settings(config))
    reservations = Reservations(
        redis,
        nik_secret=config["SECRET_KEY"].encode(),
        claim_seconds=config["RESERVATION_CLAIM_SECONDS"],
        retention_days=config["PERSONAL_DATA_RETENTION_DAYS"],
        on_event=notifier,
    )
    services = Services(redis=redis, queue_redis=queue_redis, reservations=reservations,
                        captcha=PresenceOnlyGate(), clock=clock or utc_now,
                        outbox=Outbox.from_settings(redis, config))
    app.extensions["antrian"] = services
    return services


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["antrian"]
