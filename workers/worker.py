"""The worker entry: an RQ worker with its scheduler, so retries run; the SMS dispatcher (a
sweep at start, then in a thread a poll of the outboxes every ``SMS_POLL_SECONDS`` and a sweep
every ``SMS_SWEEP_SECONDS``); the end of day (once at start, then every
``END_OF_DAY_SWEEP_SECONDS`` in a thread); the release of unverified holds whose time ran
out (once at start, then every ``HOLD_SWEEP_SECONDS``); and a supervisor loop that starts the RQ worker
again whenever it quits because Redis went away.

The RQ worker runs each job in its own process, not in a work horse forked per job: an SMS
job is a few Redis commands and one or two HTTP requests, which a fork per job made several
times slower, and the connections (Redis, Twilio's keep-alive) serve job after job. A thread
beats for the running job as RQ's forking worker does while its work horse runs, so a job
whose worker was killed is still taken as abandoned within three heartbeats.

RQ's own worker rides out a Redis outage only while it waits for a job; an error anywhere
else (its heartbeat, its maintenance, a job's bookkeeping) makes it log "unhandled
exception, quitting" and return, and nobody would send an SMS again until someone
restarted it by hand. ``run_worker`` starts it again with back-off instead.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import redis
from rq import Queue, SimpleWorker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.exceptions import StopRequested
from rq.job import Job
from rq.scheduler import RQScheduler
from rq.worker import BaseWorker

from queue_service import logging_setup
from queue_service.domain import holiday_coverage
from queue_service.notifications import queues
from queue_service.notifications.dispatch import SmsDispatcher
from workers import runtime
from workers.end_of_day import close_days
from workers.holds import release_expired_holds

log = logging.getLogger(__name__)


def dispatch_task(dispatcher: SmsDispatcher, sweep_seconds: float) -> Callable[[], None]:
    """The dispatcher thread's task: a sweep once ``sweep_seconds`` have passed since the
    last one that worked, else a poll. A failure (a store outage) is logged once, the next
    run tries again."""
    next_sweep = time.monotonic() + sweep_seconds
    failing = False

    def run() -> None:
        nonlocal next_sweep, failing
        try:
            if time.monotonic() >= next_sweep:
                dispatcher.sweep()
                next_sweep = time.monotonic() + sweep_seconds
            else:
                dispatcher.poll()
        except Exception as error:  # keep the worker alive; say so once per outage
            if not failing:
                log.warning("SMS dispatch failed: %s: %s", type(error).__name__, error)
            failing = True
            return
        if failing:
            log.info("SMS dispatch works again")
        failing = False

    return run


def sweep_safely(dispatcher: SmsDispatcher) -> None:
    """Run the SMS sweep; a failure is logged, the dispatcher's next run tries again."""
    try:
        dispatcher.sweep()
    except Exception as error:  # e.g. a store outage: keep the worker alive
        log.warning("SMS sweep failed: %s: %s", type(error).__name__, error)


def release_holds_safely() -> None:
    """Release the holds whose time ran out; a failure is logged, the next run tries again."""
    try:
        released = release_expired_holds()
    except Exception as error:  # e.g. a store outage: keep the worker alive
        log.warning("holds not released: %s: %s", type(error).__name__, error)
        return
    if released:
        log.info("released %d unverified holds", released)


def close_days_safely() -> None:
    """Close the branches' past days; a failure is logged, the next run tries again."""
    try:
        close_days()
    except Exception as error:  # e.g. a store outage: keep the worker alive
        log.warning("end of day failed: %s: %s", type(error).__name__, error)


# How often a sweeper thread looks whether it was stopped or its time has come.
_TICK_SECONDS = 0.5


class Sweeper(threading.Thread):
    """Runs ``task`` every ``interval`` seconds until stopped."""

    def __init__(self, interval: float, task: Callable[[], None], name: str):
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


class JobHeartbeats(threading.Thread):
    """Beats for the job that a worker runs in its own thread, every ``job_monitoring_interval``
    seconds, as RQ's forking worker does while it waits for its work horse.

    Not past the job's timeout and one more interval: RQ's alarm ends a job that runs too
    long, and one that outlives it is stuck where the alarm cannot reach. Left without beats,
    it is taken as abandoned and run again elsewhere (an SMS still goes out at most once).
    """

    def __init__(self, worker: BaseWorker):
        super().__init__(name="job-heartbeats", daemon=True)
        self.worker = worker
        self._watched: tuple[Job, float] | None = None
        self._stopped = threading.Event()

    def watch(self, job: Job | None) -> None:
        """Beat for ``job`` from now on (None: for no job)."""
        self._watched = None if job is None else (job, time.monotonic())

    def run(self) -> None:
        beaten, beaten_at, given_up = None, 0.0, None
        while not self._stopped.is_set():
            time.sleep(_TICK_SECONDS)  # short sleeps: see Sweeper.run
            watched = self._watched
            if watched is None:
                continue
            job, since = watched
            if job is not beaten:  # prepare_job_execution gave it its first beat
                beaten, beaten_at = job, since
            now = time.monotonic()
            if now - beaten_at < self.worker.job_monitoring_interval:
                continue
            if (
                job.timeout is not None
                and job.timeout >= 0
                and now - since > job.timeout + self.worker.job_monitoring_interval
            ):
                if given_up is not job:
                    log.error("job %s is stuck past its timeout: no more heartbeats", job.id)
                    given_up = job
                continue
            beaten_at = now
            self.worker.current_job_working_time = now - since
            try:
                self.worker.maintain_heartbeats(job)
            except Exception as error:  # the job itself meets the same trouble
                log.warning("job heartbeat failed: %s: %s", type(error).__name__, error)

    def stop(self) -> None:
        self._stopped.set()


class OutageTolerantScheduler(RQScheduler):
    """RQ's scheduler, whose process ends with a line, not a traceback, when Redis goes away.

    RQ's own lets the error escape its process, and multiprocessing prints the traceback
    twice: at every outage, and at every Ctrl+C while Redis is away (stopping, it releases
    its locks in Redis). Either way the worker's maintenance starts a new one once Redis
    answers again.
    """

    def work(self):
        try:
            super().work()
        except (redis.ConnectionError, redis.TimeoutError) as error:
            self.log.warning("scheduler lost Redis, ending: %s: %s", type(error).__name__, error)


class SmsWorker(PromptAbandonment, SimpleWorker):
    """RQ's worker without a work horse per job, with heartbeats while a job runs and prompt
    abandonment, that remembers being asked to stop."""

    stop_requested_by_signal = False
    _heartbeats: JobHeartbeats | None = None

    def work(self, *args: Any, **kwargs: Any) -> bool:
        self._heartbeats = JobHeartbeats(self)
        self._heartbeats.start()
        try:
            return super().work(*args, **kwargs)
        finally:
            self._heartbeats.stop()

    def execute_job(self, job: Job, queue: Queue) -> None:
        self._watch(job)
        try:
            super().execute_job(job, queue)
        finally:
            self._watch(None)

    def handle_execution_ended(self, job: Job, queue: Queue, heartbeat_ttl: int) -> None:
        # The job's own bookkeeping follows: no beat should race it.
        self._watch(None)
        super().handle_execution_ended(job, queue, heartbeat_ttl)

    def _watch(self, job: Job | None) -> None:
        if self._heartbeats is not None:
            self._heartbeats.watch(job)

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | None = "INFO",
        date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
        log_format: str = DEFAULT_LOGGING_FORMAT,
    ) -> None:
        # RQ's own (rq 2.x), with OutageTolerantScheduler: RQ names its class here and
        # nowhere else. A burst enqueues the scheduled jobs here, with no process: as RQ's.
        self.scheduler = OutageTolerantScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()

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


def run_worker(
    settings: Mapping[str, Any],
    burst: bool = False,
    clock: runtime.Clock | None = None,
    worker_class: type[BaseWorker] = SmsWorker,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Work the service's queues until stopped (or, with ``burst``, until empty).

    Without ``burst``, an RQ worker that quits because Redis went away is started again,
    after 1, 2, 4 ... seconds (at most ``WORKER_RESTART_MAX_SECONDS``) while Redis stays
    away; a stop request (SIGINT, SIGTERM) ends the loop.

    Args:
        settings: the service's settings.
        burst: sweep and close past days once, work until the queues are empty, and return.
        clock: the jobs' clock (tests); the real one by default.
        worker_class: ``SmsWorker``, or another RQ worker class (tests).
        sleep: waits between restarts (tests).

    Returns:
        True once the worker has stopped, also when a stop request (Ctrl+C) came while it
        started or waited to start again: the operator asked for it, so it is no failure.
    """
    logging_setup.configure(settings["LOG_FORMAT"])
    stops = StopSignals()
    stops.listen()
    try:
        return _supervise(settings, burst, clock, worker_class, sleep, stops)
    except (StopSignal, StopRequested):  # StopRequested: a quit RQ worker's handler, see StopSignals
        log.info("worker stopped by %s", stops.received or "a stop request")
        return True
    finally:
        stops.restore()


class StopSignal(BaseException):
    """SIGINT or SIGTERM while no RQ worker runs (at start, or in the back-off).

    Not an ``Exception``: the sweeps catch those to ride out an outage, and must not swallow
    a stop.
    """


class StopSignals:
    """While no RQ worker runs, SIGINT and SIGTERM end the supervisor as they end RQ's wait
    for a job.

    RQ sets its own handlers when a worker starts and leaves them when it quits: in the
    back-off a SIGINT reached the quit worker's handler (or, before the first worker,
    Python's KeyboardInterrupt) and ended the process with a traceback. ``listen`` is called
    again after each worker quits. Only the main thread may set handlers: in another (a
    test's) nothing changes.
    """

    _SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: str | None = None
        self._main = threading.current_thread() is threading.main_thread()
        self._previous = {number: signal.getsignal(number) for number in self._SIGNALS} if self._main else {}

    def listen(self) -> None:
        for number in self._previous:
            signal.signal(number, self._stop)

    def restore(self) -> None:
        """The handlers from before (a test process's own Ctrl+C)."""
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _stop(self, number: int, _frame) -> None:
        self.received = signal.Signals(number).name
        raise StopSignal(self.received)


def _supervise(
    settings: Mapping[str, Any],
    burst: bool,
    clock: runtime.Clock | None,
    worker_class: type[BaseWorker],
    sleep: Callable[[float], None],
    stops: StopSignals,
) -> bool:
    current = runtime.configure(settings, clock)
    connection = current.queue_connection
    dispatcher = SmsDispatcher(current.outbox, connection, current.options, current.clock)
    sweep_safely(dispatcher)
    close_days_safely()
    release_holds_safely()
    coverage = holiday_coverage.start_warning(current.redis, current.clock())
    if coverage:  # a year the holidays package lacks: its collective leave takes bookings
        log.warning(coverage)
    sweepers = []
    if not burst:
        sweepers = [
            Sweeper(
                settings["SMS_POLL_SECONDS"],
                dispatch_task(dispatcher, settings["SMS_SWEEP_SECONDS"]),
                "sms-dispatch",
            ),
            Sweeper(settings["END_OF_DAY_SWEEP_SECONDS"], close_days_safely, "end-of-day"),
            Sweeper(settings["HOLD_SWEEP_SECONDS"], release_holds_safely, "holds"),
        ]
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
                    worker_ttl=settings["WORKER_MAINTENANCE_SECONDS"] + 15,
                )
                worker.work(burst=burst, with_scheduler=True)
            except (redis.ConnectionError, redis.TimeoutError) as error:
                # After a stop request RQ's last bookkeeping may meet the same outage: that
                # ends nothing the operator did not ask to end.
                if not getattr(worker, "stop_requested_by_signal", False):
                    log.warning("worker lost Redis: %s: %s", type(error).__name__, error)
            stops.listen()
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
