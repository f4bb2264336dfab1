"""What the web app is given in ``init_app``: the service's shared objects (found by the
views through ``services()``) and the rate limiter, bound to its store."""

from __future__ import annotations

from flask import Flask, current_app

from queue_service.domain.clock import Clock
from queue_service.services import Services, build_services
from queue_service.store import connect as store
from queue_service.web.limits import limiter, rate_limit_storage_uri, sentinel_storage_uri


def init_app(app: Flask, clock: Clock | None = None) -> Services:
    """Build the services for ``app`` and bind the rate limiter to it."""
    config = app.config
    # flask-limiter's counters are in the data store unless told otherwise (a cluster
    # excepted): then the per-person counters share its client.
    in_data_store = "RATELIMIT_STORAGE_URI" not in config and not config["REDIS_CLUSTER"]
    services = build_services(
        config, clock, rate_limit_store=None if in_data_store else lambda: limiter.storage.get_connection()
    )
    app.extensions["antrian"] = services
    _bind_limiter(app)
    return services


def _bind_limiter(app: Flask) -> None:
    config = app.config
    timeout = config["REDIS_SOCKET_TIMEOUT"]
    options = {
        # Without them redis-py waits on an unreachable server for as long as the OS does.
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        # limits.errors.StorageError, whatever the backend: web.errors answers 503.
        "wrap_exceptions": True,
    }
    if "RATELIMIT_STORAGE_URI" in config:
        pass  # another store, given with its own options
    elif config["REDIS_SENTINELS"]:
        config["RATELIMIT_STORAGE_URI"] = sentinel_storage_uri(
            config["REDIS_SENTINELS"], config["REDIS_SENTINEL_MASTER"]
        )
        options.update(
            # Every count on the master, as the data store's: a replica may lag behind it.
            use_replicas=False,
            sentinel_kwargs=store.sentinel_kwargs(config),
            retry=store.command_retry(),
            **store.master_options(config),
        )
    else:
        config["RATELIMIT_STORAGE_URI"] = rate_limit_storage_uri(
            store.data_store_url(config), config["REDIS_CLUSTER"]
        )
    config.setdefault("RATELIMIT_STORAGE_OPTIONS", options)
    limiter.init_app(app)


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["antrian"]
