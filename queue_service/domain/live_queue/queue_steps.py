"""The steps of a branch's live queue: call the next participant to a counter, recall them,
mark them served or no-show, transfer them to another service's line, mark them priority.

A participant who checks in joins their service's line (``checkins`` adds them in the same
step), ordered by slot, then arrival. Priority participants wait in a line of their own; a
call takes its head first while at most ``priority_share`` percent of the last
``PRIORITY_WINDOW`` calls went to it, so the others are never starved.

Every step is one Lua script in the branch's cluster slot, and takes a request token: a step
re-sent with the same token (a reply lost on the way) answers as the first run did. Booking
statuses: ``checked_in`` → ``called`` → ``served`` or ``no_show``; the booking also gets
``called_at``, ``counter`` and ``served_at``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from redis import Redis

from queue_service.domain import catalog, schedules
from queue_service.domain.errors import NotFoundError, TooLateError
from queue_service.domain.live_queue.counters import (
    check_counter_name,
    chosen_services,
    services_of,
)
from queue_service.domain.live_queue.lines import DAY_KEYS_MS, DURATIONS_KEPT, line_of, queue_day
from queue_service.store import keys
from queue_service.store.outcomes import QueueStepOutcome
from queue_service.store.scripts import Scripts

# The priority share is counted over this many of the most recent calls.
PRIORITY_WINDOW = 10
# A display announces the calls it has not seen yet among this many of the newest.
ANNOUNCEMENTS_KEPT = 50
# A call races other counters for the head of the line: each lost race names the new head.
_ATTEMPTS = 20


@dataclass(frozen=True)
class Call:
    """A participant called to a counter."""

    queue_number: str
    service_id: str
    counter: str
    priority: bool


@dataclass(frozen=True)
class Step:
    """A participant's status after a step (``called``, ``served``, ``no_show``, ``checked_in``)."""

    queue_number: str
    status: str


class QueueSteps:
    """The live queue's steps over the data store (``decode_responses=True``)."""

    def __init__(self, redis: Redis):
        self.redis = redis
        self.scripts = Scripts(redis)

    def call_next(
        self,
        branch_id: str,
        counter: str,
        now: dt.datetime,
        services: list[str] | None = None,
        token: str | None = None,
    ) -> Call:
        """Call the next waiting participant for ``services`` to ``counter``.

        Args:
            services: the lines to call from; by default the counter's own services, else
                all the branch's.
            token: the request's token: the same token answers the same participant.

        Raises:
            NotFoundError: no such branch, or nobody waits for those services.
            ValidationFailedError: a bad counter name, or a service the branch lacks.
        """
        check_counter_name(counter)
        branch = catalog.get_branch(self.redis, branch_id)
        if services is None:
            services = list(services_of(self.redis.hget(keys.counters(branch_id), counter))) or None
        chosen = chosen_services(branch, services)
        day = queue_day(branch, now)
        settings = schedules.load_settings(self.redis, branch_id)
        base = [
            keys.queue_requests(branch_id, day),
            keys.queue_numbers(branch_id, day),
            keys.queue_now_serving(branch_id, day),
            keys.queue_recent_calls(branch_id, day),
            keys.paused_counters(branch_id),
            keys.queue_announcements(branch_id, day),
            keys.queue_called_ahead(branch_id, day),
            keys.sms_outbox(branch_id),
        ]
        lines = [
            key
            for service in chosen
            for key in (
                keys.queue_waiting(branch_id, day, service),
                keys.queue_waiting(branch_id, day, service, priority=True),
            )
        ]
        token = _scoped(token, "call", counter)
        candidate, booking = "", []
        for _attempt in range(_ATTEMPTS):
            outcome = QueueStepOutcome.read(
                self.scripts.queue_call(
                    keys=base + lines + booking,
                    args=[
                        token,
                        counter,
                        candidate,
                        _iso(now),
                        settings.priority_share,
                        PRIORITY_WINDOW,
                        DAY_KEYS_MS,
                        len(chosen),
                        _ms(now),
                        *chosen,
                        ANNOUNCEMENTS_KEPT,
                        max(0, settings.call_ahead_places),
                    ],
                )
            )
            if outcome.done:
                # The codes after the answer are those told by a call-ahead SMS: it is on the
                # outbox already, for the workers' poll to send like any other SMS.
                answer = outcome.answer
                return Call(
                    answer["queue_number"], answer["service_id"], answer["counter"], bool(answer["priority"])
                )
            if outcome.verdict == "empty":
                raise NotFoundError("queue")
            # 'changed': another counter took the head meanwhile, or this is the first look.
            candidate = outcome.candidate
            booking = [keys.booking(branch_id, outcome.code)] if outcome.code else []
        raise NotFoundError("queue")

    def recall(self, branch_id: str, queue_number: str, now: dt.datetime, token: str | None = None) -> Step:
        """Announce a called participant again at their counter; one already recalled the
        branch's ``recalls_before_no_show`` times is marked no-show instead (the answer's
        status says which).

        Raises:
            NotFoundError: nobody with that number has been called today.
            TooLateError: they were already served or marked no-show.
        """
        return self._finish(branch_id, queue_number, "recall", now, token)

    def mark_served(
        self, branch_id: str, queue_number: str, now: dt.datetime, token: str | None = None
    ) -> Step:
        """Mark a called participant served (again: the same answer).

        Raises:
            NotFoundError: nobody with that number has been called today.
            TooLateError: they were marked no-show.
        """
        return self._finish(branch_id, queue_number, "served", now, token)

    def mark_no_show(
        self, branch_id: str, queue_number: str, now: dt.datetime, token: str | None = None
    ) -> Step:
        """Mark a called participant who did not come (again: the same answer).

        Raises:
            NotFoundError: nobody with that number has been called today.
            TooLateError: they were served.
        """
        return self._finish(branch_id, queue_number, "no_show", now, token)

    def transfer(
        self, branch_id: str, queue_number: str, service_id: str, now: dt.datetime, token: str | None = None
    ) -> Step:
        """Move a waiting or called participant to ``service_id``'s line, at their place by
        arrival (a called one waits again).

        Raises:
            NotFoundError: nobody with that number checked in today.
            ValidationFailedError: the branch lacks that service.
            TooLateError: they were served or marked no-show.
        """
        branch = catalog.get_branch(self.redis, branch_id)
        target = chosen_services(branch, [service_id])[0]
        return self._move(
            branch, queue_number, "transfer", now, token, lambda data: (target, data.get("priority") == "1")
        )

    def mark_priority(
        self,
        branch_id: str,
        queue_number: str,
        now: dt.datetime,
        priority: bool = True,
        token: str | None = None,
    ) -> Step:
        """Mark a checked-in participant priority (or no longer), keeping their place.

        Raises:
            NotFoundError: nobody with that number checked in today.
            TooLateError: they were served or marked no-show.
        """
        branch = catalog.get_branch(self.redis, branch_id)
        return self._move(
            branch,
            queue_number,
            "priority" if priority else "regular",
            now,
            token,
            lambda data: (line_of(data), priority),
        )

    def _finish(
        self, branch_id: str, queue_number: str, step: str, now: dt.datetime, token: str | None
    ) -> Step:
        branch = catalog.get_branch(self.redis, branch_id)
        day = queue_day(branch, now)
        code = self.redis.hget(keys.queue_numbers(branch_id, day), queue_number)
        if code is None:
            raise NotFoundError("call")
        outcome = QueueStepOutcome.read(
            self.scripts.queue_finish(
                keys=[
                    keys.queue_requests(branch_id, day),
                    keys.booking(branch_id, code),
                    keys.queue_now_serving(branch_id, day),
                    keys.service_durations(branch_id),
                    keys.queue_announcements(branch_id, day),
                ],
                args=[
                    _scoped(token, step, queue_number),
                    step,
                    queue_number,
                    _iso(now),
                    _ms(now),
                    DAY_KEYS_MS,
                    DURATIONS_KEPT,
                    ANNOUNCEMENTS_KEPT,
                    max(0, schedules.load_settings(self.redis, branch_id).recalls_before_no_show),
                ],
            )
        )
        if outcome.done:
            return Step(outcome.answer["queue_number"], outcome.answer["status"])
        if outcome.verdict == "over":
            raise TooLateError(outcome.current_status)
        raise NotFoundError("call")  # 'missing', or 'waiting': not called yet

    def _move(
        self,
        branch: catalog.Branch,
        queue_number: str,
        step: str,
        now: dt.datetime,
        token: str | None,
        target,
    ) -> Step:
        day = queue_day(branch, now)
        code = self.redis.hget(keys.queue_numbers(branch.id, day), queue_number)
        if code is None:
            raise NotFoundError("participant")
        token = _scoped(token, step, queue_number)
        for _attempt in range(_ATTEMPTS):
            data = self.redis.hgetall(keys.booking(branch.id, code))
            if not data:
                raise NotFoundError("participant")
            current = line_of(data)
            service, priority = target(data)
            outcome = QueueStepOutcome.read(
                self.scripts.queue_move(
                    keys=[
                        keys.queue_requests(branch.id, day),
                        keys.booking(branch.id, code),
                        keys.queue_now_serving(branch.id, day),
                        keys.queue_waiting(branch.id, day, current),
                        keys.queue_waiting(branch.id, day, current, priority=True),
                        keys.queue_waiting(branch.id, day, service),
                        keys.queue_waiting(branch.id, day, service, priority=True),
                    ],
                    args=[
                        token,
                        queue_number,
                        step,
                        service,
                        "1" if priority else "0",
                        current,
                        _iso(now),
                        DAY_KEYS_MS,
                    ],
                )
            )
            if outcome.done:
                return Step(outcome.answer["queue_number"], outcome.answer["status"])
            if outcome.verdict == "over":
                raise TooLateError(outcome.current_status)
            if outcome.verdict == "missing":
                raise NotFoundError("participant")
            # 'moved': transferred meanwhile; read it again.
        raise NotFoundError("participant")


def _scoped(token: str | None, step: str, subject: str) -> str:
    """The request token, or a fresh one, named for its step and what it acts on (the calling
    counter, the queue number): a client reusing a key for another step, counter or number
    gets that done, not the other's answer."""
    return f"{step}:{subject}:{token or secrets.token_hex(16)}"


def _iso(now: dt.datetime) -> str:
    return now.isoformat(timespec="seconds")


def _ms(now: dt.datetime) -> int:
    return int(now.timestamp() * 1000)
