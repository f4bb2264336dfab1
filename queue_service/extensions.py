"""The service's shared objects, built once per app in ``init_app`` and found by ``services()``.

``limiter`` is created here unbound, so that views can be decorated with its limits at
import time (``api/limits.py``), and is bound to the app in ``init_app``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, request
from flask_limiter import Limiter
from redis import Redis

from queue_service import store
from queue_service.captcha import CaptchaGate, SelfHostedCaptcha
from queue_service.reservations import Reservations
from queue_service.sms.outbox import Outbox
from workers.dispatch import SmsJobOptions, SmsNotifier

Clock = Callable[[], dt.datetime]

# The web request's enqueue of an SMS job is best effort: it must not hold a booking up.
_ENQUEUE_TIMEOUT_SECONDS = 0.5


def utc_now() -> dt.datetime:
    """The real clock."""
    return dt.datetime.now(dt.UTC)


def client_address() -> str:
    """Whom the per-address rate limits count: the client's IPv4 address, or its IPv6 /64.

    ``request.remote_addr`` is the TCP peer or, behind ``TRUSTED_PROXY_COUNT`` proxies,
    the address the outermost trusted proxy saw (werkzeug's ``ProxyFix``, applied in
    ``create_app``). An IPv6 host usually holds a whole /64 and could rotate through it.
    """
    remote = request.remote_addr or ""
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote or "unknown"
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


# Storage errors are not swallowed: a limit that cannot be checked refuses the request
# (fail closed; ``api.errors`` answers 503). Headers are on: X-RateLimit-* and Retry-After.
limiter = Limiter(client_address, headers_enabled=True, key_prefix="antrian",
                  strategy="fixed-window", swallow_errors=False)


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


def rate_limit_storage_uri(data_url: str, cluster: bool = False) -> str:
    """The data store's URL as the ``limits`` library spells it.

    ``unix:///var/redis.sock`` (the embedded server) becomes ``redis+unix:///var/redis.sock``;
    a cluster node ``redis://host:port`` becomes ``redis+cluster://host:port``.
    """
    scheme, _, rest = data_url.partition("://")
    if cluster:
        return f"redis+cluster://{rest}"
    if scheme == "unix":
        return f"redis+unix://{rest}"
    return data_url


def init_app(app: Flask, clock: Clock | None = None) -> Services:
    """Connect to the stores, build the domain services and bind the rate limiter for ``app``."""
    config = app.config
    data_url = data_store_url(config)
    timeout = config["REDIS_SOCKET_TIMEOUT"]
    cluster = config["REDIS_CLUSTER"]
    redis = store.connect(data_url, cluster=cluster, socket_timeout=timeout)
    queue_url = config["QUEUE_REDIS_URL"] or data_url
    queue_redis = store.connect(queue_url, socket_timeout=timeout, decode_responses=False)
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
    captcha = SelfHostedCaptcha(
        store.connect(data_url, cluster=cluster, socket_timeout=timeout, decode_responses=False),
        ttl_seconds=config["CAPTCHA_TTL_SECONDS"],
        test_answer=config["CAPTCHA_TEST_ANSWER"],
    )
    services = Services(redis=redis, queue_redis=queue_redis, reservations=reservations,
                        captcha=captcha, clock=clock or utc_now,
                        outbox=Outbox.from_settings(redis, config))
    app.extensions["antrian"] = services

    config.setdefault("RATELIMIT_STORAGE_URI", rate_limit_storage_uri(data_url, cluster))
    config.setdefault("RATELIMIT_STORAGE_OPTIONS", {
        # Without them redis-py waits on an unreachable server for as long as the OS does.
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        # limits.errors.StorageError, whatever the backend: api.errors answers 503.
        "wrap_exceptions": True,
    })
    # Registered before the limiter's own hook, so it runs after it (Flask runs them last
    # first): flask-limiter puts Retry-After on every limited response, even a 200.
    app.after_request(_retry_after_only_on_refusals)
    limiter.init_app(app)
    return services


def _retry_after_only_on_refusals(response):
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["antrian"]
