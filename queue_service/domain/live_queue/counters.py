"""A branch's counters: their names, the services each serves, and whether one is paused."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from redis import Redis

from queue_service.domain import audit, catalog
from queue_service.domain.audit import Actor
from queue_service.domain.errors import StoreUnavailableError, ValidationFailedError
from queue_service.store import keys
from queue_service.store.scripts import Scripts

COUNTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,31}$")
# A counter serving all the branch's services (a stored value is never empty: empty deletes).
_ALL = "*"
# A change races other admins' changes to the same counter: each lost race reads it again.
_ATTEMPTS = 20


@dataclass(frozen=True)
class Counter:
    """A counter of a branch: the services it serves (empty: all the branch's)."""

    name: str
    services: tuple[str, ...]
    paused: bool = False


def check_counter_name(name: object) -> str:
    """``name`` if it is a counter name (1–32 letters, digits, spaces, ``._-``).

    Raises:
        ValidationFailedError: it is not.
    """
    if not isinstance(name, str) or not COUNTER_NAME.fullmatch(name):
        raise ValidationFailedError({"counter": ["invalid_id"]})
    return name


def chosen_services(branch: catalog.Branch, services: list[str] | None) -> list[str]:
    """``services`` without repeats, or all the branch's when none are named: those it offers
    and those it no longer does, whose booked participants still come and are called.

    Raises:
        ValidationFailedError: one the branch lacks.
    """
    if not services:
        return branch.queue_services
    unknown = [s for s in services if s not in branch.queue_services]
    if unknown:
        raise ValidationFailedError({"services": ["unknown_service"]})
    return list(dict.fromkeys(services))


def services_of(stored: str | None) -> tuple[str, ...]:
    """A counter's services as stored (``*``: all the branch's, as the empty tuple)."""
    return tuple(s for s in (stored or "").split(",") if s and s != _ALL)


def natural_order(name: str) -> tuple:
    """``Loket 2`` before ``Loket 10``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name.lower()))


class Counters:
    """The branch's counters over the data store (``decode_responses=True``)."""

    def __init__(self, redis: Redis):
        self.redis = redis
        self.scripts = Scripts(redis)

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
        chosen = tuple(chosen_services(branch, services)) if services else ()
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
                        services_of(current) if current else None,
                        services_of(new) if new else None,
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
            Counter(name, services_of(configured[name]), name in paused)
            for name in sorted(configured, key=natural_order)
        ]
