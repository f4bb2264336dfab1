"""Areas, branches and services: the catalog every page and booking starts from.

The national admin manages it (``catalog_changes``, ``catalog_files``); nothing is ever
deleted from it. A retired branch, and a service a branch no longer offers, take no new
bookings and keep every existing one: its look-up, cancellation, check-in and place in the
live queue.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from redis import Redis

from queue_service.domain.errors import NotBookableError, NotFoundError
from queue_service.domain.requirements import Requirements
from queue_service.store import keys
from queue_service.store.connect import UNREACHABLE_ERRORS

# Why a branch takes no new bookings of a service (``NotBookableError.detail``, and the
# public availability's ``reason``).
BRANCH_RETIRED = "branch_retired"
SERVICE_WITHDRAWN = "service_withdrawn"


@dataclass(frozen=True)
class Area:
    id: str
    name: str

    @classmethod
    def from_json(cls, raw: str) -> Area:
        return cls(**json.loads(raw))


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    prefix: str
    requirements: Requirements = field(default_factory=Requirements)

    @classmethod
    def from_json(cls, raw: str) -> Service:
        data = json.loads(raw)
        return cls(data["id"], data["name"], data["prefix"], Requirements.from_dict(data.get("requirements")))


@dataclass(frozen=True)
class Branch:
    id: str
    name: str
    area_id: str
    address: str
    timezone: str
    services: list[str] = field(default_factory=list)
    retired: bool = False
    # The services the branch offered once and no longer does (kept by ``catalog_changes``,
    # never exchanged): a booking of one is refused as not bookable, where a service the branch
    # never offered is a field error; their bookings still check in and are called.
    withdrawn_services: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, raw: str) -> Branch:
        return cls(**json.loads(raw))

    @property
    def queue_services(self) -> list[str]:
        """The services whose lines the live queue keeps: those offered, then those withdrawn
        (whose bookings may still come)."""
        return [*self.services, *(s for s in self.withdrawn_services if s not in self.services)]

    def refusal(self, service_id: str | None) -> str | None:
        """Why the branch takes no new bookings (of ``service_id``, if given): ``BRANCH_RETIRED``,
        ``SERVICE_WITHDRAWN``, ``"service_not_offered"`` (never offered), or None."""
        if self.retired:
            return BRANCH_RETIRED
        if service_id is None or service_id in self.services:
            return None
        return SERVICE_WITHDRAWN if service_id in self.withdrawn_services else "service_not_offered"


def to_json(item: Area | Service | Branch) -> str:
    """The stored form of a catalog entry."""
    data = asdict(item)
    if isinstance(item, Service):
        data["requirements"] = item.requirements.to_dict()
    return json.dumps(data)


# The lists each client read last, served while the node that holds them does not answer: on
# a Redis Cluster the catalog's lists sit on one node, and its loss must not take the home and
# area pages of every branch with it (a process that never read them still answers 503).
_LAST_LISTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _load_all(redis: Redis, key: str, cls):
    try:
        raws = redis.hvals(key)
    except UNREACHABLE_ERRORS:
        raws = _LAST_LISTS.get(redis, {}).get(key)
        if raws is None:
            raise
    else:
        _LAST_LISTS.setdefault(redis, {})[key] = raws
    return sorted((cls.from_json(raw) for raw in raws), key=lambda item: item.name)


def _load_one(redis: Redis, key: str, item_id: str, cls, kind: str):
    raw = redis.hget(key, item_id)
    if raw is None:
        raise NotFoundError(kind)
    return cls.from_json(raw)


def list_areas(redis: Redis) -> list[Area]:
    """Every area, by name."""
    return _load_all(redis, keys.AREAS, Area)


def get_area(redis: Redis, area_id: str) -> Area:
    """One area.

    Raises:
        NotFoundError: no area has that id.
    """
    return _load_one(redis, keys.AREAS, area_id, Area, "area")


def list_services(redis: Redis) -> list[Service]:
    """Every service, by prefix."""
    return sorted(_load_all(redis, keys.SERVICES, Service), key=lambda s: s.prefix)


def get_service(redis: Redis, service_id: str) -> Service:
    """One service, whichever branches offer it.

    Raises:
        NotFoundError: no service has that id.
    """
    return _load_one(redis, keys.SERVICES, service_id, Service, "service")


def offered_services(redis: Redis, branch: Branch) -> list[Service]:
    """The services ``branch`` offers, by prefix."""
    raws = redis.hgetall(keys.branch_catalog(branch.id))
    if not raws:  # no copy yet: a store from before the copies
        return [service for service in list_services(redis) if service.id in branch.services]
    found = (Service.from_json(raws[f"service:{s}"]) for s in branch.services if f"service:{s}" in raws)
    return sorted(found, key=lambda s: s.prefix)


def offered_service(redis: Redis, branch: Branch, service_id: str) -> Service:
    """One service that ``branch`` offers.

    Raises:
        NotFoundError: the branch offers no service with that id.
    """
    if service_id not in branch.services:
        raise NotFoundError("service")
    return service_at(redis, branch.id, service_id)


def service_at(redis: Redis, branch_id: str, service_id: str) -> Service:
    """One service of the branch ``branch_id`` (offered or withdrawn), from the branch's copy
    of the catalog, so that only the branch's node need answer.

    Raises:
        NotFoundError: no service has that id.
    """
    raw = redis.hget(keys.branch_catalog(branch_id), f"service:{service_id}")
    if raw is None:  # no copy yet (a store from before the copies), or not one of the branch's
        return get_service(redis, service_id)
    return Service.from_json(raw)


def bookable_service(redis: Redis, branch: Branch, service_id: str) -> Service:
    """A service that ``branch`` takes new bookings of.

    Raises:
        NotBookableError: the branch is retired (``BRANCH_RETIRED``), or no longer offers the
            service (``SERVICE_WITHDRAWN``).
        NotFoundError: the branch never offered a service with that id.
    """
    refusal = branch.refusal(service_id)
    if refusal in (BRANCH_RETIRED, SERVICE_WITHDRAWN):
        raise NotBookableError(refusal)
    return offered_service(redis, branch, service_id)


def list_branches(redis: Redis, retired: bool = True) -> list[Branch]:
    """Every branch, by name; without the retired ones when ``retired`` is False."""
    branches = _load_all(redis, keys.BRANCHES, Branch)
    return branches if retired else [branch for branch in branches if not branch.retired]


def get_branch(redis: Redis, branch_id: str) -> Branch:
    """One branch, retired or not.

    Raises:
        NotFoundError: no branch has that id.
    """
    return branch_from_copy(redis, branch_id, redis.hget(keys.branch_catalog(branch_id), "branch"))


def branch_from_copy(redis: Redis, branch_id: str, copied: str | None) -> Branch:
    """The branch whose copy's ``branch`` field (``branch_catalog``) read ``copied``, which a
    caller may have read along with other things; without a copy, from the catalog's list.

    Raises:
        NotFoundError: no branch has that id.
    """
    if copied is None:  # no copy yet: a store from before the copies, or no such branch
        return _load_one(redis, keys.BRANCHES, branch_id, Branch, "branch")
    return Branch.from_json(copied)


def branch_copy(branch_raw: str, services_raw: dict[str, str]) -> dict[str, str]:
    """The fields of a branch's copy of the catalog: its entry and its services' (as stored)."""
    branch = Branch.from_json(branch_raw)
    return {
        "branch": branch_raw,
        **{f"service:{s}": services_raw[s] for s in branch.queue_services if s in services_raw},
    }


def copy_to_branches(redis: Redis, branch_ids: Iterable[str] | None = None) -> int:
    """Write each branch's copy of its catalog entry and services (``keys.branch_catalog``)
    from the master lists: after every catalog change, and by the worker now and then, which
    mends a copy a crash between the two writes left behind. Nothing is ever deleted from
    the catalog, so a copy's fields are only ever replaced.

    Args:
        branch_ids: the branches to copy to (unknown ids are passed over); None: every one.

    Returns:
        How many branches' copies were written.
    """
    pipe = redis.pipeline(transaction=False)
    pipe.hgetall(keys.BRANCHES)
    pipe.hgetall(keys.SERVICES)
    branches_raw, services_raw = pipe.execute()
    chosen = (
        branches_raw if branch_ids is None else {b: branches_raw[b] for b in branch_ids if b in branches_raw}
    )
    pipe = redis.pipeline(transaction=False)
    for branch_id, raw in chosen.items():
        pipe.hset(keys.branch_catalog(branch_id), mapping=branch_copy(raw, services_raw))
    pipe.execute()
    return len(chosen)
