"""What jobs work with: settings, connections, the SMS backend and a clock, per process.

The worker entry calls ``configure`` with its settings (tests add a clock); a job calls
``current``, which builds everything from ``config.load_settings()`` when nobody did.
Nothing is built at import time. Forked work horses inherit the parent's runtime;
redis-py opens fresh connections after a fork.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redis import Redis

from config import load_settings
from queue_service.domain.clock import Clock, utc_now
from queue_service.domain.reservations import Reservations
from queue_service.notifications.backends import SmsSender, make_sender
from queue_service.notifications.dispatch import SmsJobOptions
from queue_service.notifications.outbox import Outbox
from queue_service.store import connect as store


@dataclass
class Runtime:
    settings: Mapping[str, Any]
    redis: Redis
    queue_connection: Redis
    outbox: Outbox
    reservations: Reservations
    sender: SmsSender
    options: SmsJobOptions
    clock: Clock


_current: Runtime | None = None


def queue_connection(settings: Mapping[str, Any]) -> Redis:
    """The job queue's Redis client for workers (bytes, no socket timeout: RQ blocks on it)."""
    return store.queue_store(settings, blocking=True)


def configure(settings: Mapping[str, Any] | None = None, clock: Clock | None = None) -> Runtime:
    """Build this process's runtime from ``settings`` (default: the environment's).

    Raises:
        ValueError: the settings are incomplete (e.g. Twilio without credentials).
    """
    global _current
    settings = load_settings() if settings is None else settings
    # As the web app does: unset in development, the key kept under VAR_DIR (make run).
    settings = {**settings, "SECRET_KEY": store.secret_key(settings)}
    redis = store.data_store(settings)
    _current = Runtime(
        settings=settings,
        redis=redis,
        queue_connection=queue_connection(settings),
        outbox=Outbox.from_settings(redis, settings),
        reservations=Reservations.from_settings(redis, settings),
        sender=make_sender(settings),
        options=SmsJobOptions.from_settings(settings),
        clock=clock or utc_now,
    )
    return _current


def current() -> Runtime:
    """This process's runtime, built from the environment on first use."""
    return _current if _current is not None else configure()


def reset() -> None:
    """Close and forget the runtime (tests): a client left to the garbage collector may warn
    of an unclosed socket in whatever test runs next."""
    global _current
    if _current is not None:
        store.close(_current.redis)
        store.close(_current.queue_connection)
    _current = None
