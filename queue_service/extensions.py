"""The service's shared objects, built once per app in ``init_app`` and found by ``services()``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app
from redis import Redis

from queue_service import store
from queue_service.captcha import CaptchaGate, SelfHostedCaptcha
from queue_service.reservations import Reservations

Clock = Callable[[], dt.datetime]


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


def data_store_url(config) -> str:
    """``REDIS_URL``, or the embedded server's (started if need be)."""
    return config["REDIS_URL"] or store.ensure_embedded(config["VAR_DIR"])


def init_app(app: Flask, clock: Clock | None = None) -> Services:
    """Connect to the stores and build the domain services for ``app``."""
    config = app.config
    data_url = data_store_url(config)
    timeout = config["REDIS_SOCKET_TIMEOUT"]
    cluster = config["REDIS_CLUSTER"]
    redis = store.connect(data_url, cluster=cluster, socket_timeout=timeout)
    queue_url = config["QUEUE_REDIS_URL"] or data_url
    queue_redis = store.connect(queue_url, socket_timeout=timeout, decode_responses=False)
    reservations = Reservations(
        redis,
        nik_secret=config["SECRET_KEY"].encode(),
        claim_seconds=config["RESERVATION_CLAIM_SECONDS"],
        retention_days=config["PERSONAL_DATA_RETENTION_DAYS"],
    )
    captcha = SelfHostedCaptcha(
        store.connect(data_url, cluster=cluster, socket_timeout=timeout, decode_responses=False),
        ttl_seconds=config["CAPTCHA_TTL_SECONDS"],
        test_answer=config["CAPTCHA_TEST_ANSWER"],
    )
    services = Services(redis=redis, queue_redis=queue_redis, reservations=reservations,
                        captcha=captcha, clock=clock or utc_now)
    app.extensions["antrian"] = services
    return services


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["antrian"]
