"""The worker entry: an RQ worker with its scheduler, so retries run; the SMS dispatcher (a
sweep at start, then in a thread a poll of the outboxes every ``SMS_POLL_SECONDS`` and a sweep
every ``SMS_SWEEP_SECONDS``); the end of day (once at start, then every
``END_OF_DAY_SWEEP_SECONDS`` in a thread); the release of unverified holds whose time ran
out (once at start, then every ``HOLD_SWEEP_SECONDS``); the branches' copies of the catalog
written anew (once at start, then with the end of day); and a supervisor loop that starts the RQ worker
again whenever it quits because Redis went away.

The RQ worker runs each job in its own process, not in a work horse forked per job: an SMS
job is a few Redis commands and one or two HTTP requests, which a fork per job made several
times slower, and the connections (Redis, Twilio's keep-alive) serve job after job. A thread
beats for the running job as RQ's forking worker does while its work horse runs, so a job
whose worker was killed is still taken as abandoned within three heartbeats.

RQ's own worker rides out a Redis outage only while it waits for a job, trying again after
1, 2, 4 ... s up to a minute (the first SMS after an outage of 90 s left 34 s after Redis was
back); an error anywhere else (its heartbeat, its maintenance, a job's bookkeeping) makes it
log "unhandled exception, quitting" and return, and nobody would send an SMS again until
someone restarted it by hand. ``SmsWorker`` waits out an outage wherever its own loop meets
it, asking Redis every second; one met in a job's bookkeeping still ends the RQ worker, and
``run_worker`` starts it again once Redis answers (or after a back-off, when it quits while
Redis answers). Either way jobs are taken again within about a second of Redis's return.
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
from rq.exceptions import DequeueTimeout, StopRequested
from rq.executions import Execution, ExecutionRegistry
from rq.job import Job, JobStatus
from rq.worker import BaseWorker, WorkerStatus

from queue_service import logging_setup
from queue_service.domain import catalog, holiday_coverage
from queue_service.notifications import queues
from queue_service.notifications.dispatch import SmsDispatcher
from workers import runtime
from workers.end_of_day import close_days
from workers.holds import release_expired_holds
from workers.scheduler import WorkerScheduler

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


def copy_catalog_safely() -> None:
    """Write every branch's copy of its catalog entries anew: it mends a copy that a crash
    between a catalog change's two writes left behind, and makes them for a store from before
    the copies. A failure is logged, the next run tries again."""
    try:
        catalog.copy_to_branches(runtime.current().redis)
    except Exception as error:  # e.g. a store outage: keep the worker alive
        log.warning("catalog copies not written: %s: %s", type(error).__name__, error)


# The worker's own beats (those that only keep its key alive, not a job's) and its look for a
# suspension go at most this often: RQ sends three beats of two commands and one look for
# each job, which cost a busy worker as much as the job's own bookkeeping. Its key lives
# minutes; an operator's ``rq suspend`` is seen within this long.
_BEAT_AT_MOST_EVERY_SECONDS = 1.0

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


# How often a worker that lost Redis asks whether it answers again: a refused connection
# costs nothing, and the worker takes jobs again within about this long of Redis's return.
STORE_PROBE_SECONDS = 1.0


def store_answers(connection: redis.Redis) -> bool:
    """Whether Redis answers a PING on ``connection`` (not while it loads its data)."""
    try:
        return bool(connection.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def ride_out_outage(connection: redis.Redis, error: Exception) -> None:
    """Say that Redis went away, ask it every ``STORE_PROBE_SECONDS`` until it answers, and say
    that it is back: two lines for an outage, where RQ wrote one a second at error level."""
    log.warning("worker lost Redis (%s: %s); asking it every second", type(error).__name__, error)
    started = time.monotonic()
    while True:
        time.sleep(STORE_PROBE_SECONDS)
        if store_answers(connection):
            break
    log.info("Redis answers again (asked for %.0f s); taking jobs", time.monotonic() - started)


class StorePatientQueue(Queue):
    """RQ's queue, whose wait for a job, when Redis goes away, waits for Redis itself.

    RQ's worker catches the error of its wait for a job and tries again after 1, 2, 4 ...
    seconds, up to a minute: a worker idle during an outage of 20 s took its next job 11 s
    after Redis returned, after 90 s, 34 s. Here the wait asks Redis every second, and then
    ends as a wait for a job ends with none (``DequeueTimeout``): RQ's loop beats, runs its
    maintenance and waits for a job again at once.
    """

    @classmethod
    def dequeue_any(cls, queues, timeout, connection, *args: Any, **kwargs: Any):
        try:
            return super().dequeue_any(queues, timeout, connection, *args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            if timeout is None:  # a burst: nothing to wait for, RQ's handling stands
                raise
            ride_out_outage(connection, error)
            raise DequeueTimeout(timeout) from None


class LiveExecutions(ExecutionRegistry):
    """A job's executions, less those whose record expired: runs whose worker died.

    RQ keeps an execution's id in the job's registry a minute longer than the execution's
    own record, which expires with its last heartbeat. A job whose worker was killed is run
    again once that record expired; when the new run ends, RQ reads each execution of the
    job, met the dead run's id without its record and raised ``ValueError: Execution ... not
    found in Redis`` from its bookkeeping: the run that had just succeeded failed, and was
    retried, each time with a traceback. Here the dead run's id is dropped instead.
    """

    def get_executions(self, start: int = 0, end: int = -1) -> list[Execution]:
        executions = []
        for execution_id in self.get_execution_ids(start, end):
            try:
                executions.append(
                    Execution.fetch(id=execution_id, job_id=self.job_id, connection=self.connection)
                )
            except (ValueError, KeyError):  # its record expired (or is a late beat's): abandoned
                self.connection.zrem(self.key, execution_id)
        return executions


class SmsJob(Job):
    """RQ's job, whose executions are the live ones (``LiveExecutions``), and whose clean-up
    reads its status once."""

    _status_read = False  # within _remove_from_registries: the status read there stands

    @property
    def execution_registry(self) -> ExecutionRegistry:
        return LiveExecutions(self.id, connection=self.connection)

    def get_status(self, refresh: bool = True) -> JobStatus:
        return super().get_status(refresh=refresh and not self._status_read)

    def _remove_from_registries(self, pipeline=None, remove_from_queue: bool = True) -> None:
        # RQ asks Redis for the status once for each registry it considers (is_finished,
        # is_deferred, is_started ...): up to six round trips for the one answer, after every
        # job. One read serves them all; nothing changes a job's status meanwhile but its worker.
        self.get_status()
        self._status_read = True
        try:
            super()._remove_from_registries(pipeline=pipeline, remove_from_queue=remove_from_queue)
        finally:
            self._status_read = False


class SmsWorker(PromptAbandonment, SimpleWorker):
    """RQ's worker without a work horse per job, with heartbeats while a job runs and prompt
    abandonment; it waits out a Redis outage, ends a job run again after its worker died
    without a bookkeeping error, and remembers being asked to stop."""

    job_class = SmsJob
    queue_class = StorePatientQueue
    # RQ's own back-off, left for a Redis that went away again as soon as it answered.
    max_connection_wait_time = STORE_PROBE_SECONDS
    stop_requested_by_signal = False
    _heartbeats: JobHeartbeats | None = None

    # Whether this worker works until the queues are empty: it then rides out nothing.
    _burst = False
    _last_beat = float("-inf")  # time.monotonic() of the last beat sent
    _last_suspension_look = float("-inf")  # ... and of the last look for a suspension

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        # A beat into a pipeline is sent, and its errors met, by its caller.
        if pipeline is not None:
            super().heartbeat(timeout, pipeline)
            return
        if timeout is None and time.monotonic() - self._last_beat < _BEAT_AT_MOST_EVERY_SECONDS:
            return
        self._riding_out(self._beat_in_one_round_trip, timeout)
        self._last_beat = time.monotonic()

    def _beat_in_one_round_trip(self, timeout: int | None) -> None:
        with self.connection.pipeline(transaction=False) as beat:
            super().heartbeat(timeout, beat)
            beat.execute()

    def set_state(self, state: str, pipeline=None) -> None:
        if pipeline is not None:
            super().set_state(state, pipeline)
        elif state == WorkerStatus.IDLE and self._state == WorkerStatus.IDLE:
            return  # RQ says so after each job and again before its wait for the next
        else:
            # Ridden out: after its wait for a job, the idle worker's first call to Redis may
            # be this one, and an outage that began just then made it quit.
            self._riding_out(super().set_state, state)

    def check_for_suspension(self, burst: bool) -> None:
        if time.monotonic() - self._last_suspension_look < _BEAT_AT_MOST_EVERY_SECONDS:
            return
        self._riding_out(super().check_for_suspension, burst)
        self._last_suspension_look = time.monotonic()

    def run_maintenance_tasks(self) -> None:
        self._riding_out(super().run_maintenance_tasks)

    def _riding_out(self, step: Callable[..., None], *args: Any) -> None:
        """Take ``step`` (one of the worker's loop, outside its wait for a job); if Redis is
        away, wait for it as the wait for a job does, then take the step again.

        RQ's loop meets Redis first here (its beat, its look for a suspension, its
        maintenance) and quit with a traceback where an outage began there, or tried
        again after 1, 2, 4 ... s.
        """
        try:
            step(*args)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            if self._burst:
                raise
            ride_out_outage(self.connection, error)
            step(*args)

    def _pubsub_exception_handler(self, exc, pubsub, pubsub_thread) -> None:
        # RQ's remote-command thread said "could not connect" at error level every 2 s of an
        # outage; the worker's main loop says it once.
        if isinstance(exc, redis.ConnectionError):
            time.sleep(STORE_PROBE_SECONDS)
            return
        super()._pubsub_exception_handler(exc, pubsub, pubsub_thread)

    def work(self, burst: bool = False, *args: Any, **kwargs: Any) -> bool:
        self._burst = burst
        self._heartbeats = JobHeartbeats(self)
        self._heartbeats.start()
        try:
            return super().work(burst, *args, **kwargs)
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
        # RQ's own (rq 2.x), with WorkerScheduler: RQ names its class here and nowhere
        # else. A burst enqueues the scheduled jobs here, with no process: as RQ's.
        self.scheduler = WorkerScheduler(
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
        try:
            super().request_stop(signum, frame)
        except (redis.ConnectionError, redis.TimeoutError):
            # RQ first reads from Redis whether a stop was asked for before; while Redis is
            # away that raised here, and the stop was lost. Stop as RQ would have.
            if self.get_state() == WorkerStatus.BUSY:
                self._stop_requested = True  # after the job, as RQ's warm shutdown
                return
            if self.scheduler:
                self.stop_scheduler()
            raise StopRequested() from None


def restart_delays(cap: float) -> Callable[[], float]:
    """1, 2, 4 ... seconds, at most ``cap``: the wait before each restart after a failure."""
    delay = 0.5

    def next_delay() -> float:
        nonlocal delay
        delay = min(delay * 2, cap)
        return delay

    return next_delay


def wait_to_restart(
    connection: redis.Redis, delay: float, lost_redis: bool, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Wait ``delay`` seconds before starting a worker that quit, or less: until Redis answers,
    if the worker quit for want of it (``lost_redis``) or Redis went away meanwhile. The
    back-off spaces out the restarts of a worker that quits while Redis answers; the restart
    after an outage waits for Redis alone."""
    deadline = time.monotonic() + delay
    was_away = lost_redis
    while (left := deadline - time.monotonic()) > 0:
        sleep(min(STORE_PROBE_SECONDS, left))
        if not store_answers(connection):
            was_away = True
        elif was_away:
            return


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
    copy_catalog_safely()
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
            Sweeper(settings["END_OF_DAY_SWEEP_SECONDS"], copy_catalog_safely, "catalog-copies"),
        ]
        for sweeper in sweepers:
            sweeper.start()
    cap = settings["WORKER_RESTART_MAX_SECONDS"]
    next_delay = restart_delays(cap)
    try:
        while True:
            started = time.monotonic()
            worker = None
            lost_redis = False
            try:
                # The constructor talks to Redis too (it names its connection).
                worker = worker_class(
                    list(queues.ALL),  # by name: each a queue of the worker's own class
                    connection=connection,
                    job_monitoring_interval=settings["WORKER_HEARTBEAT_SECONDS"],
                    maintenance_interval=settings["WORKER_MAINTENANCE_SECONDS"],
                    # An idle worker waits for a job this long (its TTL less 15 s) before it
                    # runs its maintenance: no longer than the maintenance interval.
                    worker_ttl=settings["WORKER_MAINTENANCE_SECONDS"] + 15,
                )
                worker.work(burst=burst, with_scheduler=True)
            except (redis.ConnectionError, redis.TimeoutError) as error:
                lost_redis = True
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
            log.warning(
                "worker quit without a stop request; starting again in %.0f s, or once Redis answers", delay
            )
            wait_to_restart(connection, delay, lost_redis, sleep)
    finally:
        for sweeper in sweepers:
            sweeper.stop()
