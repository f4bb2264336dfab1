"""The worker entry: an RQ worker with its scheduler, so retries and scheduled jobs run,
and the SMS sweep: once at start, then every ``SMS_SWEEP_SECONDS`` in a thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from rq import Queue, Worker

from workers import queues, runtime
from workers.sms import sweep_sms

log = logging.getLogger(__name__)


def sweep_safely() -> None:
    """Run the SMS sweep; a failure is logged, the next sweep tries again."""
    try:
        sweep_sms()
    except Exception as error:  # e.g. a store outage: keep the worker alive
        log.warning("SMS sweep failed: %s: %s", type(error).__name__, error)


class Sweeper(threading.Thread):
    """Runs ``sweep_safely`` every ``interval`` seconds until stopped."""

    def __init__(self, interval: float):
        super().__init__(name="sms-sweep", daemon=True)
        self.interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            sweep_safely()

    def stop(self) -> None:
        self._stopped.set()


def run_worker(settings: Mapping[str, Any], burst: bool = False, clock: runtime.Clock | None = None,
               worker_class: type[Worker] = Worker) -> bool:
    """Work the service's queues until stopped (or, with ``burst``, until empty).

    Args:
        settings: the service's settings.
        burst: sweep once, work until the queues are empty, and return.
        clock: the jobs' clock (tests); the real one by default.
        worker_class: RQ's ``Worker`` (a process per job) or ``SimpleWorker`` (tests).

    Returns:
        True once the worker has stopped.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    connection = runtime.configure(settings, clock).queue_connection
    sweep_safely()
    sweeper = None
    if not burst:
        sweeper = Sweeper(settings["SMS_SWEEP_SECONDS"])
        sweeper.start()
    worker = worker_class([Queue(name, connection=connection) for name in queues.ALL],
                          connection=connection)
    try:
        worker.work(burst=burst, with_scheduler=True)
    finally:
        if sweeper is not None:
            sweeper.stop()
    return True
