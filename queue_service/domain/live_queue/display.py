"""What a branch's display and a waiting participant read of the live queue: now serving per
counter, who waits in calling order with a rough estimated wait, and the calls to announce.

A participant is named by their queue number, never by the booking code, so that nothing a
display reads is secret.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from redis import Redis

from queue_service.domain import catalog
from queue_service.domain.live_queue.counters import Counter, natural_order, services_of
from queue_service.domain.live_queue.lines import DURATIONS_KEPT, queue_day
from queue_service.store import keys


@dataclass(frozen=True)
class Waiting:
    """One waiting participant; ``estimated_wait_seconds`` is None until a service time is known."""

    queue_number: str
    service_id: str
    priority: bool
    ahead: int  # called before them in their own service's lines, as things stand
    estimated_wait_seconds: int | None = None


@dataclass(frozen=True)
class Place:
    """A waiting participant's place: ``ahead`` are called before them (as things stand)."""

    ahead: int
    estimated_wait_seconds: int | None


@dataclass(frozen=True)
class Announcement:
    """A call or recall to announce: ``id`` orders them (a display says each once)."""

    id: str
    queue_number: str
    counter: str
    service_id: str
    recall: bool


@dataclass(frozen=True)
class QueueView:
    """What a display shows: now serving per counter, who waits, in calling order, and the
    newest calls to announce, oldest first."""

    branch_id: str
    now_serving: list[tuple[str, str]]
    waiting: list[Waiting]
    counters: list[Counter]
    average_service_seconds: int | None
    announcements: list[Announcement] = field(default_factory=list)


class QueueDisplay:
    """Reads of the live queue over the data store (``decode_responses=True``)."""

    def __init__(self, redis: Redis):
        self.redis = redis

    def view(self, branch_id: str, now: dt.datetime, announcements: int = 10) -> QueueView:
        """Now serving per counter, who waits and the newest ``announcements`` calls, read in
        one pipelined round trip; each waiting participant with a rough estimated wait (the
        average of the last ``DURATIONS_KEPT`` service times, times the people ahead, over the
        open counters).

        Raises:
            NotFoundError: no such branch.
        """
        branch = catalog.get_branch(self.redis, branch_id)
        day = queue_day(branch, now)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.queue_now_serving(branch_id, day))
            pipe.hgetall(keys.counters(branch_id))
            pipe.smembers(keys.paused_counters(branch_id))
            pipe.lrange(keys.service_durations(branch_id), 0, DURATIONS_KEPT - 1)
            pipe.xrevrange(keys.queue_announcements(branch_id, day), count=max(announcements, 1))
            for service in branch.queue_services:
                pipe.zrange(
                    keys.queue_waiting(branch_id, day, service, priority=True), 0, -1, withscores=True
                )
                pipe.zrange(keys.queue_waiting(branch_id, day, service), 0, -1, withscores=True)
            serving, configured, paused, durations, newest, *lines = pipe.execute()
        counters = [
            Counter(name, services_of(configured[name]), name in paused)
            for name in sorted(configured, key=natural_order)
        ]
        average = round(sum(map(int, durations)) / len(durations)) if durations else None
        entries = []
        for index, service in enumerate(branch.queue_services):
            for priority, line in ((True, lines[2 * index]), (False, lines[2 * index + 1])):
                entries += [(not priority, order, number, service) for number, order in line]
        entries.sort()
        # Each service's lines are called by the open counters that serve it: people waiting
        # for another service are not ahead of anyone here.
        open_counters = [c for c in counters if not c.paused]
        ahead_in_line: dict[str, int] = {}
        waiting = []
        for regular, _order, number, service in entries:
            ahead = ahead_in_line[service] = ahead_in_line.get(service, -1) + 1
            serving_it = max(
                1, sum(1 for c in open_counters if not c.services or service in c.services) or len(serving)
            )
            waiting.append(
                Waiting(
                    number,
                    service,
                    not regular,
                    ahead,
                    None if average is None else average * (ahead + 1) // serving_it,
                )
            )
        return QueueView(
            branch_id,
            sorted(serving.items(), key=lambda item: natural_order(item[0])),
            waiting,
            counters,
            average,
            [
                Announcement(
                    entry_id,
                    data["number"],
                    data["counter"],
                    data.get("service", ""),
                    data.get("kind") == "recall",
                )
                for entry_id, data in reversed(newest[:announcements])
            ],
        )

    def place_of(self, branch_id: str, queue_number: str, now: dt.datetime) -> Place | None:
        """Where a waiting participant stands today: how many are called before them and the
        estimated wait; None unless they wait in line now."""
        view = self.view(branch_id, now, announcements=0)
        for waiting in view.waiting:
            if waiting.queue_number == queue_number:
                return Place(waiting.ahead, waiting.estimated_wait_seconds)
        return None
