"""Putting SMS jobs on the queue: the one helper that enqueues, and the workers' dispatcher.

Nothing is queued in the web request. The reservation and live-queue scripts write each
event to its branch's outbox in the same atomic step as the change; every worker's
``SmsDispatcher`` polls the outboxes and queues a job for each event it finds. Job ids are
predictable (one per booking event), and jobs are enqueued with ``unique=True``, so whoever
queues an event a second time (another worker's poll, a sweep) changes nothing while the
first job exists. A job that ends is deleted at once (``result_ttl=0``): the event's delivery
record says how it went, and an event that is no longer pending makes a late duplicate of
its job do nothing (``delivery.Deliveries.deliver``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.job import Job

from queue_service.notifications import queues
from queue_service.notifications.outbox import Outbox, PendingSms

log = logging.getLogger(__name__)

# By name, so that importing this module does not import the jobs.
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
        return cls(
            retry_intervals=tuple(settings["SMS_RETRY_INTERVALS"]),
            failure_ttl=settings["SMS_FAILURE_TTL_SECONDS"],
            # A look-up and a send, each bounded by the Twilio timeout, plus Redis.
            timeout=3 * settings["TWILIO_TIMEOUT_SECONDS"] + 30,
        )

    def retry(self) -> Retry | None:
        """RQ's ``Retry`` for these intervals (None: no retries)."""
        if not self.retry_intervals:
            return None
        return Retry(max=len(self.retry_intervals), interval=list(self.retry_intervals))


def sms_job_id(branch_id: str, code: str, event: str) -> str:
    """The job id of one booking event's SMS."""
    return f"sms_{event}_{code}_{branch_id}"


def enqueue_sms(
    connection: Redis,
    options: SmsJobOptions,
    branch_id: str,
    code: str,
    event: str,
    register_queue: bool = True,
) -> Job | None:
    """Queue the job that sends the SMS of one booking event, unless it is queued already.

    Args:
        connection: the job queue's Redis.
        options: retries, failure TTL and timeout of the job.
        branch_id, code, event: the booking event.
        register_queue: whether to (re)add the queue to RQ's set of queues, which RQ does
            in a command of its own, a round trip before the enqueue itself. The set
            only lists queues (``rq info``); workers take jobs without it.

    Returns:
        The job, or None if a job for this event exists already.
    """
    queue = Queue(queues.SMS, connection=connection)
    job = queue.create_job(
        SEND_SMS,
        args=(branch_id, code, event),
        job_id=sms_job_id(branch_id, code, event),
        retry=options.retry(),
        failure_ttl=options.failure_ttl,
        timeout=options.timeout,
        result_ttl=0,
        description=f"SMS {event} {code} ({branch_id})",
    )
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


class SmsDispatcher:
    """Queues the jobs of the events on the branches' outboxes: a worker's poll and sweep.

    ``poll`` (every ``SMS_POLL_SECONDS``) reads the outboxes and queues each event it has not
    queued before. ``sweep`` (at start, then every ``SMS_SWEEP_SECONDS``) reloads the list of
    branches, and queues every pending event whether this dispatcher queued it before or not
    (its job may have been lost with the queue's Redis, or have failed for good and expired)
    and every reminder that is due. Every worker runs one: the unique job id makes a second
    enqueue of an event harmless.

    Args:
        outbox: the data store's outboxes.
        connection: the job queue's Redis.
        options: passed to ``enqueue_sms``.
        clock: now, for the reminders that are due.
    """

    def __init__(
        self, outbox: Outbox, connection: Redis, options: SmsJobOptions, clock: Callable[[], dt.datetime]
    ):
        self.outbox = outbox
        self.connection = connection
        self.options = options
        self.clock = clock
        self._branch_ids: list[str] | None = None
        # The events on the outboxes that this dispatcher has queued (or found queued).
        self._queued: set[PendingSms] = set()

    def poll(self) -> int:
        """Queue the outboxes' events not queued by this dispatcher yet; returns how many
        jobs were queued."""
        if self._branch_ids is None:
            return self.sweep()
        found = self.outbox.waiting(self._branch_ids)
        self._queued &= set(found)  # what left the outbox is settled
        return self._enqueue([pending for pending in found if pending not in self._queued])

    def sweep(self) -> int:
        """Queue every event still on an outbox and every reminder that is due; returns how
        many jobs were queued (events whose job exists are left alone)."""
        self._branch_ids = self.outbox.branch_ids()
        found = self.outbox.pending(self.clock(), self._branch_ids)
        self._queued &= set(found)
        queued = self._enqueue(found)
        if queued:
            log.info("SMS sweep: %d job(s) queued", queued)
        return queued

    def _enqueue(self, events: list[PendingSms]) -> int:
        queued = 0
        for index, pending in enumerate(events):
            job = enqueue_sms(
                self.connection,
                self.options,
                pending.branch_id,
                pending.code,
                pending.event,
                register_queue=index == 0,
            )
            self._queued.add(pending)
            queued += job is not None
        return queued
