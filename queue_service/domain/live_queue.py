"""A branch's live queue (issue 10; SPEC §3 "Counter staff" and "Public, for displays").

A participant who checks in joins their service's line (``checkins`` adds them in the same
step), ordered by slot, then arrival. Counters, named per branch and each serving one or more
services, call the next participant, recall them, mark them served or no-show; staff may
transfer a participant to another service's line (keeping their place by arrival) or mark
them priority. Priority participants wait in a line of their own; a call takes its head first
while at most ``priority_share`` percent of the last ``PRIORITY_WINDOW`` calls went to it, so
the others are never starved.

Every step is one Lua script in the branch's cluster slot, and takes a request token: a step
re-sent with the same token (a reply lost on the way) answers as the first run did. A
participant is named by their queue number, never by the booking code, so that nothing a
display reads is secret. Booking statuses: ``checked_in`` → ``called`` → ``served`` or
``no_show``; the booking also gets ``called_at``, ``counter`` and ``served_at``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from redis import Redis

from queue_service.domain import audit, catalog, schedules
from queue_service.domain.audit import Actor
from queue_service.domain.errors import (
    NotFoundError,
    StoreUnavailableError,
    TooLateError,
    ValidationFailedError,
)
from queue_service.store import keys
from queue_service.store.scripts import Scripts

# The priority share is counted over this many of the most recent calls.
PRIORITY_WINDOW = 10
# The moving average of service times is taken over this many served participants.
DURATIONS_KEPT = 20
# A display announces the calls it has not seen yet among this many of the newest.
ANNOUNCEMENTS_KEPT = 50
# A day's queue keys outlive the day (a late-night call in WIT is already tomorrow in UTC).
DAY_KEYS_MS = 3 * 24 * 3600 * 1000
# A call races other counters for the head of the line: each lost race names the new head.
_ATTEMPTS = 20
# A counter serving all the branch's services (a stored value is never empty: empty deletes).
_ALL = "*"
_COUNTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,31}$")
# The place in line: the slot's minute of the day, then the arrival in ms since the local
# midnight before the visit day (check-in may open the evening before), below 10^9.
_SLOT_WEIGHT = 10**9
_DAY_MS = 24 * 3600 * 1000


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
class Counter:
    """A counter of a branch: the services it serves (empty: all the branch's)."""

    name: str
    services: tuple[str, ...]
    paused: bool = False


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


def place_in_line(day: dt.date, slot: dt.time, arrived: dt.datetime, zone: ZoneInfo) -> int:
    """The order of a participant in their line: by slot, then by arrival (exact in a double)."""
    midnight_before = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    since = int((arrived - midnight_before).total_seconds() * 1000)
    return (slot.hour * 60 + slot.minute) * _SLOT_WEIGHT + min(max(since, 0), 2 * _DAY_MS)


def check_counter_name(name: object) -> str:
    """``name`` if it is a counter name (1–32 letters, digits, spaces, ``._-``).

    Raises:
        ValidationFailedError: it is not.
    """
    if not isinstance(name, str) or not _COUNTER_NAME.match(name):
        raise ValidationFailedError({"counter": ["invalid_id"]})
    return name


class LiveQueue:
    """The live queue over the data store (``decode_responses=True``)."""

    def __init__(self, redis: Redis, on_event: Callable[[str, str, str], None] | None = None):
        """``on_event(branch_id, code, "call_ahead")`` is told of each call-ahead SMS put on
        the outbox (to queue its job at once; a worker's sweep finds it otherwise)."""
        self.redis = redis
        self.scripts = Scripts(redis)
        self._on_event = on_event or (lambda branch_id, code, event: None)

    # Counters.

    def set_counter(
        self, branch_id: str, name: str, services: list[str] | None, actor: Actor, now: dt.datetime
    ) -> Counter:
        """Create or change a counter of the branch, serving ``services`` (None: all), audited
        in the same step.

        Raises:
            NotFoundError: no such branch.
            ValidationFailedError: a bad counter name, or a service the branch lacks.
        """
        branch = catalog.get_branch(self.redis, branch_id)
        chosen = tuple(self._services(branch, services)) if services else ()
        self._audited(branch_id, check_counter_name(name), ",".join(chosen) or _ALL, actor, now)
        return Counter(name, chosen)

    def remove_counter(self, branch_id: str, name: str, actor: Actor, now: dt.datetime) -> bool:
        """Forget a counter of the branch (audited); whether there was one."""
        catalog.get_branch(self.redis, branch_id)
        changed = self._audited(branch_id, name, None, actor, now)
        self.redis.srem(keys.paused_counters(branch_id), name)
        return changed

    def _audited(self, branch_id: str, name: str, new: str | None, actor: Actor, now: dt.datetime) -> bool:
        key = keys.counters(branch_id)
        for _attempt in range(_ATTEMPTS):
            current = self.redis.hget(key, name)
            outcome = self.scripts.audited_set(
                keys=[key, keys.branch_audit(branch_id)],
                args=[
                    "field",
                    name,
                    hashlib.sha1(current.encode()).hexdigest() if current is not None else "",
                    new or "",
                    *audit.fields_of(
                        actor,
                        "counter" if new else "counter_removed",
                        f"{branch_id}/{name}",
                        _services_of(current) if current else None,
                        _services_of(new) if new else None,
                        now,
                    ),
                ],
            )
            if outcome != "conflict":
                return outcome == "changed"
        raise StoreUnavailableError("the counter kept changing")

    def pause(self, branch_id: str, counter: str) -> None:
        """Pause a counter (its next call resumes it). One command: atomic and repeatable."""
        check_counter_name(counter)
        catalog.get_branch(self.redis, branch_id)
        self.redis.sadd(keys.paused_counters(branch_id), counter)

    def resume(self, branch_id: str, counter: str) -> None:
        """Resume a paused counter."""
        check_counter_name(counter)
        self.redis.srem(keys.paused_counters(branch_id), counter)

    def counters(self, branch_id: str) -> list[Counter]:
        """The branch's configured counters, by name."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.counters(branch_id))
            pipe.smembers(keys.paused_counters(branch_id))
            configured, paused = pipe.execute()
        return [
            Counter(name, _services_of(configured[name]), name in paused)
            for name in sorted(configured, key=_natural)
        ]

    # Steps.

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
            services = list(_services_of(self.redis.hget(keys.counters(branch_id), counter))) or None
        chosen = self._services(branch, services)
        day = self._day(branch, now)
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
            outcome = self.scripts.queue_call(
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
            if outcome[0] in ("ok", "repeat"):
                for code in outcome[2:]:
                    self._on_event(branch_id, code, "call_ahead")
                answer = json.loads(outcome[1])
                return Call(
                    answer["queue_number"], answer["service_id"], answer["counter"], bool(answer["priority"])
                )
            if outcome[0] == "empty":
                raise NotFoundError("queue")
            # 'changed': another counter took the head meanwhile, or this is the first look.
            candidate = outcome[1]
            booking = [keys.booking(branch_id, outcome[2])] if outcome[2] else []
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
        target = self._services(branch, [service_id])[0]
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
            lambda data: (_line_of(data), priority),
        )

    # Reading.

    def view(self, branch_id: str, now: dt.datetime, announcements: int = 10) -> QueueView:
        """Now serving per counter, who waits and the newest ``announcements`` calls, read in
        one pipelined round trip; each waiting participant with a rough estimated wait (the
        average of the last ``DURATIONS_KEPT`` service times, times the people ahead, over the
        open counters).

        Raises:
            NotFoundError: no such branch.
        """
        branch = catalog.get_branch(self.redis, branch_id)
        day = self._day(branch, now)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.queue_now_serving(branch_id, day))
            pipe.hgetall(keys.counters(branch_id))
            pipe.smembers(keys.paused_counters(branch_id))
            pipe.lrange(keys.service_durations(branch_id), 0, DURATIONS_KEPT - 1)
            pipe.xrevrange(keys.queue_announcements(branch_id, day), count=max(announcements, 1))
            for service in branch.services:
                pipe.zrange(
                    keys.queue_waiting(branch_id, day, service, priority=True), 0, -1, withscores=True
                )
                pipe.zrange(keys.queue_waiting(branch_id, day, service), 0, -1, withscores=True)
            serving, configured, paused, durations, newest, *lines = pipe.execute()
        counters = [
            Counter(name, _services_of(configured[name]), name in paused)
            for name in sorted(configured, key=_natural)
        ]
        average = round(sum(map(int, durations)) / len(durations)) if durations else None
        entries = []
        for index, service in enumerate(branch.services):
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
            sorted(serving.items(), key=lambda item: _natural(item[0])),
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

    # Helpers.

    def _finish(
        self, branch_id: str, queue_number: str, step: str, now: dt.datetime, token: str | None
    ) -> Step:
        branch = catalog.get_branch(self.redis, branch_id)
        day = self._day(branch, now)
        code = self.redis.hget(keys.queue_numbers(branch_id, day), queue_number)
        if code is None:
            raise NotFoundError("call")
        outcome = self.scripts.queue_finish(
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
        if outcome[0] in ("ok", "repeat"):
            answer = json.loads(outcome[1])
            return Step(answer["queue_number"], answer["status"])
        if outcome[0] == "over":
            raise TooLateError(outcome[1])
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
        day = self._day(branch, now)
        code = self.redis.hget(keys.queue_numbers(branch.id, day), queue_number)
        if code is None:
            raise NotFoundError("participant")
        token = _scoped(token, step, queue_number)
        for _attempt in range(_ATTEMPTS):
            data = self.redis.hgetall(keys.booking(branch.id, code))
            if not data:
                raise NotFoundError("participant")
            current = _line_of(data)
            service, priority = target(data)
            outcome = self.scripts.queue_move(
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
            if outcome[0] in ("ok", "repeat"):
                answer = json.loads(outcome[1])
                return Step(answer["queue_number"], answer["status"])
            if outcome[0] == "over":
                raise TooLateError(outcome[1])
            if outcome[0] == "missing":
                raise NotFoundError("participant")
            # 'moved': transferred meanwhile; read it again.
        raise NotFoundError("participant")

    @staticmethod
    def _services(branch: catalog.Branch, services: list[str] | None) -> list[str]:
        if not services:
            return list(branch.services)
        unknown = [s for s in services if s not in branch.services]
        if unknown:
            raise ValidationFailedError({"services": ["unknown_service"]})
        return list(dict.fromkeys(services))

    @staticmethod
    def _day(branch: catalog.Branch, now: dt.datetime) -> str:
        return schedules.local_now(now, branch.timezone).date().isoformat()


def _scoped(token: str | None, step: str, subject: str) -> str:
    """The request token, or a fresh one, named for its step and what it acts on (the calling
    counter, the queue number): a client reusing a key for another step, counter or number
    gets that done, not the other's answer."""
    return f"{step}:{subject}:{token or secrets.token_hex(16)}"


def _services_of(stored: str | None) -> tuple[str, ...]:
    """A counter's services as stored (``*``: all the branch's, as the empty tuple)."""
    return tuple(s for s in (stored or "").split(",") if s and s != _ALL)


def _line_of(data: dict[str, str]) -> str:
    """The service whose line a participant is in (their booking's, unless transferred)."""
    return data.get("queue_service") or data["service_id"]


def _iso(now: dt.datetime) -> str:
    return now.isoformat(timespec="seconds")


def _ms(now: dt.datetime) -> int:
    return int(now.timestamp() * 1000)


def _natural(name: str) -> tuple:
    """``Loket 2`` before ``Loket 10``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name.lower()))
