"""The worker entry: an RQ worker with its scheduler, so retries and scheduled jobs run, the
SMS sweep (once at start, then every ``SMS_SWEEP_SECONDS`` in a thread), the end of day
(once at start, then every ``END_OF_DAY_SWEEP_SECONDS`` in a thread), and a supervisor
loop that starts the RQ worker again whenever it quits because Redis went away.

RQ's own worker rides out a Redis outage only while it waits for a job; an error anywhere
else (its heartbeat, its maintenance, a job's bookkeeping) makes it log "unhandled
exception, quitting" and return, and nobody would send an SMS again until someone
restarted it by hand. ``run_worker`` starts it again with back-off instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import redis
from rq import Queue, Worker
from rq.job import Job

from queue_service.notifications import queues
from queue_service.web import logging as json_logs
from workers import runtime
from workers.end_of_day import close_days
from workers.sms import sweep_sms

log = logging.getLogger(__name__)


def sweep_safely() -> None:
    """Run the SMS sweep; a failure is logged, the next sweep tries again."""
    try:
        sweep_sms()
    except Exception as error:  # e.g. a store outage: keep the worker alive
        log.warning("SMS sweep failed: %s: %s", type(error).__name__, error)


def close_days_safely() -> None:
    """Close the branches' past days; a failure is logged, the next run tries again."""
    try:
        close_days()
    except Exception as error:  # e.g. a store outage: keep the worker alive
        log.warning("end of day failed: %s: %s", type(error).__name__, error)


# How often a sweeper thread looks whether it was stopped or its time has come.
_TICK_SECONDS = 0.5


class Sweeper(threading.Thread):
    """Runs ``task`` (``sweep_safely`` by default) every ``interval`` seconds until stopped."""

    def __init__(self, interval: float, task: Callable[[], None] = sweep_safely,
                 name: str = "sms-sweep"):
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self.task = task
        self._stopped = threading.Event()

    def run(self) -> None:
        # Short sleeps rather than a timed wait on the event: a timed wait on a semaphore
        # takes an absolute monotonic deadline that libfaketime (the suite's run a year
        # ahead) shifts but does not wait on, so the thread would never wake there.
        next_run = time.monotonic() + self.interval
        while not self._stopped.is_set():
            time.sleep(max(0.0, min(_TICK_SECONDS, next_run - time.monotonic())))
            if not self._stopped.is_set() and time.monotonic() >= next_run:
                self.task()
                next_run = time.monotonic() + self.interval

    def stop(self) -> None:
        self._stopped.set()


class PromptAbandonment:
    """Worker mix-in: a job is taken as abandoned after two missed heartbeats, not a minute more.

    RQ keeps a running job in its started registry for one heartbeat interval plus 60
    seconds, and an idle worker looks for abandoned jobs only when its wait for a job
    times out (405 s) and ten minutes have passed: a job whose worker was killed waited
    up to eleven minutes. With ``job_monitoring_interval``, ``maintenance_interval`` and
    the wait from the settings, it waits about three heartbeats plus one maintenance
    interval (45 s by default).
    """

    job_monitoring_interval: int
    current_job_working_time: float

    def get_heartbeat_ttl(self, job: Job) -> int:
        beat = self.job_monitoring_interval
        if job.timeout and job.timeout > 0:
            beat = int(min(job.timeout - self.current_job_working_time, beat))
        return max(beat, 1) + 2 * self.job_monitoring_interval


class SmsWorker(PromptAbandonment, Worker):
    """RQ's forking worker, with prompt abandonment, that remembers being asked to stop."""

    stop_requested_by_signal = False

    def request_stop(self, signum, frame) -> None:
        # RQ raises StopRequested when idle and sets nothing: remember it, so the
        # supervisor loop can tell a stop from a quit.
        self.stop_requested_by_signal = True
        super().request_stop(signum, frame)


def restart_delays(cap: float) -> Callable[[], float]:
    """1, 2, 4 ... seconds, at most ``cap``: the wait before each restart after a failure."""
    delay = 0.5

    def next_delay() -> float:
        nonlocal delay
        delay = min(delay * 2, cap)
        return delay

    return next_delay


def run_worker(settings: Mapping[str, Any], burst: bool = False, clock: runtime.Clock | None = None,
               worker_class: type[Worker] = SmsWorker,
               sleep: Callable[[float], None] = time.sleep) -> bool:
    """Work the service's queues until stopped (or, with ``burst``, until empty).

    Without ``burst``, an RQ worker that quits because Redis went away is started again,
    after 1, 2, 4 ... seconds (at most ``WORKER_RESTART_MAX_SECONDS``) while Redis stays
    away; a stop request (SIGINT, SIGTERM) ends the loop.

    Args:
        settings: the service's settings.
        burst: sweep and close past days once, work until the queues are empty, and return.
        clock: the jobs' clock (tests); the real one by default.
        worker_class: ``SmsWorker`` (a process per job) or a ``SimpleWorker`` (tests).
        sleep: waits between restarts (tests).

    Returns:
        True once the worker has stopped.
    """
    json_logs.configure()
    connection = runtime.configure(settings, clock).queue_connection
    sweep_safely()
    close_days_safely()
    sweepers = []
    if not burst:
        sweepers = [Sweeper(settings["SMS_SWEEP_SECONDS"]),
                    Sweeper(settings["END_OF_DAY_SWEEP_SECONDS"], close_days_safely, "end-of-day")]
        for sweeper in sweepers:
            sweeper.start()
    cap = settings["WORKER_RESTART_MAX_SECONDS"]
    next_delay = restart_delays(cap)
    try:
        while True:
            started = time.monotonic()
            worker = None
            try:
                # The constructor talks to Redis too (it names its connection).
                worker = worker_class(
                    [Queue(name, connection=connection) for name in queues.ALL],
                    connection=connection,
                    job_monitoring_interval=settings["WORKER_HEARTBEAT_SECONDS"],
                    maintenance_interval=settings["WORKER_MAINTENANCE_SECONDS"],
                    # An idle worker waits for a job this long (its TTL less 15 s) before it
                    # runs its maintenance: no longer than the maintenance interval.
                    worker_ttl=settings["WORKER_MAINTENANCE_SECONDS"] + 15)
                worker.work(burst=burst, with_scheduler=True)
            except (redis.ConnectionError, redis.TimeoutError) as error:
                log.warning("worker lost Redis: %s: %s", type(error).__name__, error)
            if burst or getattr(worker, "stop_requested_by_signal", False):
                return True
            if time.monotonic() - started > cap:  # it had worked well for a while
                next_delay = restart_delays(cap)
            delay = next_delay()
            log.warning("worker quit without a stop request; starting again in %.0f s", delay)
            sleep(delay)
    finally:
        for sweeper in sweepers:
            sweeper.stop()
