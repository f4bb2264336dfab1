"""The SMS job. It takes ids, reloads what it needs, and is safe to run twice."""

from __future__ import annotations

import logging

from queue_service.domain import operations
from queue_service.notifications.backends import SmsTransientError
from queue_service.notifications.delivery import NOT_PENDING
from workers.runtime import current

log = logging.getLogger(__name__)


def send_sms(branch_id: str, code: str, event: str) -> str:
    """Send the SMS of one booking event, at most once.

    A booking confirmation that went out also puts the visit's reminder on the branch's
    reminders, where a worker's sweep finds it once it is due.

    Args:
        branch_id: the booking's branch.
        code: the booking code.
        event: ``booked``, ``cancelled``, ``reminder`` or ``call_ahead``.

    Returns:
        The delivery's state: ``sent``, ``failed``, ``skipped``, ``expired``,
        ``suppressed`` (its phone asked for no messages), ``postponed``, or ``not_pending``
        (another job settled the event: not counted).

    Raises:
        SmsTransientError: not sent this time; RQ retries the job, and once the
            retries are used up the event waits on the outbox for a sweep.
    """
    runtime = current()
    try:
        result = runtime.outbox.deliver(branch_id, code, event, runtime.sender, runtime.clock())
    except SmsTransientError:
        _count_outcome(event, "retry")
        raise
    if result.state == NOT_PENDING:
        log.info("SMS %s %s: settled already, nothing to do", event, code)
        return result.state
    _count_outcome(event, result.state)
    if result.fallback and result.state == "sent":
        # Beside the job's outcome: a WhatsApp message that went by SMS instead.
        _count_outcome(event, "whatsapp_fallback")
    log.info("SMS %s %s: %s", event, code, result.state)
    if result.reminder_at is not None:
        log.info("SMS reminder %s due at %s", code, result.reminder_at.isoformat())
    return result.state


def _count_outcome(event: str, state: str) -> None:
    """Count a job's outcome, and the time of a ``sent``, for ``/metrics`` (see
    ``queue_service.metrics`` for why in Redis)."""
    try:
        runtime = current()
        operations.count_sms_outcome(runtime.queue_connection, event, state, runtime.clock())
    except Exception as error:  # a figure must never fail a delivery
        log.warning("SMS outcome not counted: %s", type(error).__name__)
