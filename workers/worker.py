"""The worker entry: an RQ worker with its scheduler, so retries and scheduled jobs run."""

from __future__ import annotations

import logging
from typing import Any

from rq import Queue, Worker

from queue_service import store
from workers import queues


def queue_connection(settings: dict[str, Any]):
    """The job queue's Redis client (bytes, as RQ wants)."""
    url = settings["QUEUE_REDIS_URL"] or settings["REDIS_URL"] \
        or store.ensure_embedded(settings["VAR_DIR"])
    return store.connect(url, decode_responses=False, socket_timeout=None)


def run_worker(settings: dict[str, Any], burst: bool = False) -> bool:
    """Work the service's queues until stopped (or, with ``burst``, until empty)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    connection = queue_connection(settings)
    worker = Worker([Queue(name, connection=connection) for name in queues.ALL],
                    connection=connection)
    return worker.work(burst=burst, with_scheduler=True)
