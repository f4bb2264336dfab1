"""The SMS outbox: every booking event's SMS waits on its branch's outbox until delivered.

The reservation and live-queue scripts write each event (``<code>:booked``,
``<code>:cancelled``, ``<code>:call_ahead``) to the branch's outbox in the same atomic step
as the booking change. Workers poll the outboxes and queue a job per event
(``dispatch.SmsDispatcher``); the job delivers it and takes it off the outbox, so an event
is never lost: until then every poll and sweep finds it again. A sweep also finds the
reminders that are due (``reminders``).

``Outbox`` is what the app and the workers hold: it reads the outboxes, and hands each
event's delivery to ``delivery.Deliveries`` and the eve's planning to ``reminders.Reminders``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.cluster import RedisCluster

from queue_service.domain import catalog
from queue_service.domain.opt_outs import OptOuts
from queue_service.notifications.backends import SmsSender
from queue_service.notifications.delivery import Deliveries, DeliveryResult, SmsProgress
from queue_service.notifications.reminders import Reminders
from queue_service.store import keys

log = logging.getLogger(__name__)

_PENDING_LIMIT = 500


@dataclass(frozen=True)
class PendingSms:
    """An SMS event that a worker should see queued."""

    branch_id: str
    code: str
    event: str


class Outbox:
    """The SMS events of every branch and their deliveries, over the data store.

    Args:
        redis: the data store (``decode_responses=True``).
        reminder_time: branch-local time of the reminder the day before; None for none.
        lease_seconds: the longest an attempt can take (the backend's timeouts);
            another attempt at the same event waits this long after it started.
        public_base_url: where Twilio reaches the status callback; None for no callback.
        whatsapp_templates: None: no WhatsApp; else the approved templates' Content SIDs by
            kind (see ``Deliveries``).
        opt_outs: the phones that asked for no messages (None: none asked).
    """

    def __init__(
        self,
        redis: Redis,
        reminder_time: dt.time | None = dt.time(15, 0),
        lease_seconds: float = 30,
        public_base_url: str | None = None,
        whatsapp_templates: Mapping[str, str] | None = None,
        opt_outs: OptOuts | None = None,
    ):
        self.redis = redis
        self.reminders = Reminders(redis, reminder_time)
        self.deliveries = Deliveries(
            redis, self.reminders, lease_seconds, public_base_url, whatsapp_templates, opt_outs
        )

    @classmethod
    def from_settings(cls, redis: Redis, settings: Mapping[str, Any]) -> Outbox:
        """The outbox as the settings describe it."""
        # An attempt may look the message up and then send it: two requests at most.
        lease = 2 * settings["TWILIO_TIMEOUT_SECONDS"] + 2
        return cls(
            redis,
            reminder_time=settings["SMS_REMINDER_TIME"],
            lease_seconds=lease,
            public_base_url=settings["PUBLIC_BASE_URL"],
            whatsapp_templates=dict(settings.get("TWILIO_WHATSAPP_TEMPLATES") or {})
            if settings.get("TWILIO_WHATSAPP_FROM")
            else None,
            opt_outs=OptOuts.from_settings(redis, settings),
        )

    def branch_ids(self) -> list[str]:
        """The ids of every branch, whose outboxes the workers read."""
        return [branch.id for branch in catalog.list_branches(self.redis)]

    def waiting(self, branch_ids: Sequence[str]) -> list[PendingSms]:
        """The events on the outboxes of ``branch_ids``, oldest first (at most 500 a branch).

        A worker's poll: one pipelined round trip (one per node of a cluster), and with a
        plain Redis one command only while every outbox is empty (an empty sorted set is no
        key), whatever the number of branches.
        """
        if not branch_ids:
            return []
        if not isinstance(self.redis, RedisCluster) and not self.redis.exists(
            *(keys.sms_outbox(branch_id) for branch_id in branch_ids)
        ):
            return []
        return self._read(branch_ids, None)

    def pending(self, now: dt.datetime, branch_ids: Sequence[str] | None = None) -> list[PendingSms]:
        """The events of every branch (or of ``branch_ids``) still to deliver, and the
        reminders due by ``now``, those of days whose eve has just come planned first."""
        branch_ids = self.branch_ids() if branch_ids is None else branch_ids
        try:
            self.plan_reminders(now, branch_ids)
        except Exception:
            # The sweep is what queues lost events again: a planning that fails (the next
            # sweep tries again) must not stop it.
            log.exception("SMS reminders not planned this sweep")
        return self._read(branch_ids, now)

    def plan_reminders(self, now: dt.datetime, branch_ids: Sequence[str]) -> int:
        """Plan the reminders of each branch's next day once its eve has come; returns how
        many (``Reminders.plan``)."""
        return self.reminders.plan(now, branch_ids)

    def deliver(
        self, branch_id: str, code: str, event: str, sender: SmsSender, now: dt.datetime
    ) -> DeliveryResult:
        """Send the SMS of ``event`` for booking ``code`` unless it was sent already
        (``Deliveries.deliver``)."""
        return self.deliveries.deliver(branch_id, code, event, sender, now)

    def record_status(
        self,
        branch_id: str,
        code: str,
        event: str,
        sid: str,
        status: str,
        error_code: str | int | None = None,
    ) -> str:
        """Record a delivery status (Twilio's status callback) of an event's message
        (``Deliveries.record_status``)."""
        return self.deliveries.record_status(branch_id, code, event, sid, status, error_code)

    def delivery(self, branch_id: str, code: str, event: str) -> dict[str, str]:
        """The delivery record of one event; empty for no such event (``Deliveries.record``)."""
        return self.deliveries.record(branch_id, code, event)

    def progress(self, codes_by_branch: Mapping[str, Sequence[str]], event: str) -> SmsProgress:
        """How far ``event``'s messages to these bookings (codes by branch) have got
        (``Deliveries.progress``)."""
        return self.deliveries.progress(codes_by_branch, event)

    def _read(self, branch_ids: Sequence[str], due_by: dt.datetime | None) -> list[PendingSms]:
        """The outboxes' events, and with ``due_by`` the reminders due by then."""
        pipe = self.redis.pipeline(transaction=False)
        for branch_id in branch_ids:
            pipe.zrange(keys.sms_outbox(branch_id), 0, _PENDING_LIMIT - 1)
            if due_by is not None:
                pipe.zrangebyscore(
                    keys.sms_reminders(branch_id),
                    "-inf",
                    int(due_by.timestamp() * 1000),
                    start=0,
                    num=_PENDING_LIMIT,
                )
        replies = iter(pipe.execute())
        found = []
        for branch_id in branch_ids:
            members = next(replies) + (next(replies) if due_by is not None else [])
            for member in members:
                code, _, event = member.partition(":")
                found.append(PendingSms(branch_id, code, event))
        return found
