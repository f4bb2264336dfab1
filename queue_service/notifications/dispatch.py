"""Putting SMS jobs on the queue: the one helper that enqueues, and the web request's hook.

Job ids are predictable (one per booking event), and jobs are enqueued with
``unique=True``, so whoever queues an event a second time (the web request, the sweep,
a retry of the sweep) changes nothing while the first job exists.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.job import Job

from queue_service.domain.reservations import Booking
from queue_service.notifications import queues

log = logging.getLogger(__name__)

# By name, so that importing this module (in the web app) does not import the jobs.
SEND_SMS = "workers.sms.send_sms"


@dataclass(frozen=True)
class SmsJobOptions:
    """How SMS jobs are run: retries of passing failures, and how long failures are kept."""

    retry_intervals: tuple[int, ...] = (10, 30, 60, 300, 900)
    failure_ttl: int = 900
    timeout: int = 60

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> SmsJobOptions:
        """The options the settings describe."""
        return cls(retry_intervals=tuple(settings["SMS_RETRY_INTERVALS"]),
                   failure_ttl=settings["SMS_FAILURE_TTL_SECONDS"],
                   # A look-up and a send, each bounded by the Twilio timeout, plus Redis.
                   timeout=3 * settings["TWILIO_TIMEOUT_SECONDS"] + 30)

    def retry(self) -> Retry | None:
        """RQ's ``Retry`` for these intervals (None: no retries)."""
        if not self.retry_intervals:
            return None
        return Retry(max=len(self.retry_intervals), interval=list(self.retry_intervals))


def sms_job_id(branch_id: str, code: str, event: str) -> str:
    """The job id of one booking event's SMS."""
    return f"sms_{event}_{code}_{branch_id}"


def enqueue_sms(connection: Redis, options: SmsJobOptions, branch_id: str, code: str,
                event: str, at: dt.datetime | None = None,
                register_queue: bool = True) -> Job | None:
    """Queue the job that sends the SMS of one booking event, or schedule it for ``at``.

    Args:
        connection: the job queue's Redis.
        options: retries, failure TTL and timeout of the job.
        branch_id, code, event: the booking event.
        at: when to run the job (RQ's scheduler, real time); None for now.
        register_queue: whether to (re)add the queue to RQ's set of queues, which RQ does
            in a transaction of its own, a round trip before the enqueue itself. The set
            only lists queues (``rq info``); workers take jobs without it.

    Returns:
        The job, or None if a job for this event exists already.
    """
    queue = Queue(queues.SMS, connection=connection)
    job = queue.create_job(
        SEND_SMS, args=(branch_id, code, event), job_id=sms_job_id(branch_id, code, event),
        retry=options.retry(), failure_ttl=options.failure_ttl, timeout=options.timeout,
        description=f"SMS {event} {code} ({branch_id})")
    try:
        if at is not None:
            return queue.schedule_job(job, at, unique=True)
        # Given a pipeline, RQ queues its SADD there and leaves executing it to the caller;
        # a unique job is saved by a script of its own all the same.
        registration = connection.pipeline()
        try:
            enqueued = queue.enqueue_job(job, pipeline=registration, unique=True)
        except DuplicateJobError:
            enqueued = None
        if register_queue:
            registration.execute()
        registration.reset()
        return enqueued
    except DuplicateJobError:
        return None


class SmsNotifier:
    """The ``on_event`` hook of ``Reservations``: queues the SMS job of a committed event.

    Best effort: the event is on the branch's outbox already, so a queue that cannot
    be reached only delays the SMS until a worker's next sweep. After a failure it
    stops trying for ``pause_seconds``, so that an outage does not cost every booking
    a connect timeout.

    Args:
        connection: the job queue's Redis, with short timeouts and no retries.
        options: passed to ``enqueue_sms``.
    """

    def __init__(self, connection: Redis, options: SmsJobOptions, pause_seconds: float = 30,
                 monotonic: Callable[[], float] = time.monotonic):
        self.connection = connection
        self.options = options
        self.pause_seconds = pause_seconds
        self._monotonic = monotonic
        self._paused_until = 0.0
        self._registered = False

    def __call__(self, event: str, booking: Booking) -> None:
        self.notify(booking.branch_id, booking.code, event)

    def notify(self, branch_id: str, code: str, event: str) -> None:
        """Queue the job of an event that is on the outbox already (the live queue's hook)."""
        if self._monotonic() < self._paused_until:
            return
        try:
            # The queue is registered by the first enqueue, and again by every worker's
            # sweep: a booking spares that round trip.
            enqueue_sms(self.connection, self.options, branch_id, code, event,
                        register_queue=not self._registered)
            self._registered = True
        except Exception as error:  # the booking stands whatever happens here
            self._paused_until = self._monotonic() + self.pause_seconds
            log.warning("SMS %s %s not queued (%s); a worker's sweep will queue it",
                        event, code, type(error).__name__)
