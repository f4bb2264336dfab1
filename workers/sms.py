"""The SMS jobs. They take ids, reload what they need, and are safe to run twice."""

from __future__ import annotations

import datetime as dt
import logging

from queue_service.notifications.backends import SmsTransientError
from queue_service.notifications.dispatch import enqueue_sms
from queue_service.store import keys
from workers.runtime import current

log = logging.getLogger(__name__)


def send_sms(branch_id: str, code: str, event: str) -> str:
    """Send the SMS of one booking event, at most once.

    A booking confirmation that went out also schedules the visit's reminder.

    Args:
        branch_id: the booking's branch.
        code: the booking code.
        event: ``booked``, ``cancelled`` or ``reminder``.

    Returns:
        The delivery's state: ``sent``, ``failed``, ``skipped`` or ``expired``.

    Raises:
        SmsTransientError: not sent this time; RQ retries the job, and once the
            retries are used up the event waits on the outbox for a sweep.
    """
    runtime = current()
    now = runtime.clock()
    try:
        result = runtime.outbox.deliver(branch_id, code, event, runtime.sender, now)
    except SmsTransientError:
        _count_outcome(event, "retry")
        raise
    _count_outcome(event, result.state)
    log.info("SMS %s %s: %s", event, code, result.state)
    if result.reminder_at is not None:
        # RQ's scheduler keeps real time; the delay is what our clock says is left.
        run_at = dt.datetime.now(dt.UTC) + (result.reminder_at - now)
        try:
            enqueue_sms(runtime.queue_connection, runtime.options, branch_id, code, "reminder",
                        at=run_at)
        except Exception as error:  # the reminder is on the outbox already
            log.warning("SMS reminder %s not scheduled (%s); the sweep will queue it when due",
                        code, type(error).__name__)
    return result.state


def _count_outcome(event: str, state: str) -> None:
    """Count a job's outcome for ``/metrics`` (see ``queue_service.metrics`` for why in Redis)."""
    try:
        current().queue_connection.hincrby(keys.SMS_OUTCOMES, f"{event}:{state}", 1)
    except Exception as error:  # a figure must never fail a delivery
        log.warning("SMS outcome not counted: %s", type(error).__name__)


def sweep_sms() -> int:
    """Queue every SMS event still on a branch's outbox, and every reminder that is due.

    Events whose job exists already are left alone, so sweeping often is harmless.

    Returns:
        How many jobs were queued.
    """
    runtime = current()
    queued = 0
    for pending in runtime.outbox.pending(runtime.clock()):
        job = enqueue_sms(runtime.queue_connection, runtime.options, pending.branch_id,
                          pending.code, pending.event)
        queued += job is not None
    if queued:
        log.info("SMS sweep: %d job(s) queued", queued)
    return queued
