"""Areas, branches and services: the catalog every page and booking starts from."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from redis import Redis

from queue_service.domain.errors import NotFoundError
from queue_service.store import keys


@dataclass(frozen=True)
class Area:
    id: str
    name: str


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    prefix: str


@dataclass(frozen=True)
class Branch:
    id: str
    name: str
    area_id: str
    address: str
    timezone: str
    services: list[str] = field(default_factory=list)


def _load_all(redis: Redis, key: str, cls):
    items = [cls(**json.loads(raw)) for raw in redis.hvals(key)]
    return sorted(items, key=lambda item: item.name)


def _load_one(redis: Redis, key: str, item_id: str, cls, kind: str):
    raw = redis.hget(key, item_id)
    if raw is None:
        raise NotFoundError(kind)
    return cls(**json.loads(raw))


def list_areas(redis: Redis) -> list[Area]:
    """Every area, by name."""
    return _load_all(redis, keys.AREAS, Area)


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
    return [service for service in list_services(redis) if service.id in branch.services]


def offered_service(redis: Redis, branch: Branch, service_id: str) -> Service:
    """One service that ``branch`` offers.

    Raises:
        NotFoundError: the branch offers no service with that id.
    """
    if service_id not in branch.services:
        raise NotFoundError("service")
    return get_service(redis, service_id)


def list_branches(redis: Redis) -> list[Branch]:
    """Every branch, by name."""
    return _load_all(redis, keys.BRANCHES, Branch)


def get_branch(redis: Redis, branch_id: str) -> Branch:
    """One branch.

    Raises:
        NotFoundError: no branch has that id.
    """
    return _load_one(redis, keys.BRANCHES, branch_id, Branch, "branch")


def add_missing(redis: Redis, areas: list[Area], services: list[Service], branches: list[Branch]) -> int:
    """Store catalog entries that are not there yet; never overwrite. Returns how many were new."""
    added = 0
    for key, items in ((keys.AREAS, areas), (keys.SERVICES, services), (keys.BRANCHES, branches)):
        for item in items:
            added += redis.hsetnx(key, item.id, json.dumps(asdict(item)))
    return added
