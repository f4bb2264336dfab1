"""Each branch's copy of its catalog entries (issue 24): on a Redis Cluster the catalog's lists
sit on one node, and a branch's pages, bookings and kiosks must need only the branch's node."""

from __future__ import annotations

import json

import pytest
import redis as redis_lib

from queue_service.domain import catalog, demo
from queue_service.domain.audit import Actor
from queue_service.domain.catalog_changes import BRANCH, SERVICE, CatalogChanges, document
from queue_service.domain.errors import NotFoundError
from queue_service.store import keys
from tests.redis_proxy import ReplyDroppingProxy

BRANCH_ID = "jakarta-salemba"
ADMIN = Actor("nasional", "national_admin", "192.0.2.1")


def test_the_seed_copies_each_branchs_entry_and_services_under_its_tag(redis):
    demo.seed(redis)

    copy = redis.hgetall(keys.branch_catalog(BRANCH_ID))
    branch = catalog.Branch.from_json(copy["branch"])
    assert branch.id == BRANCH_ID
    assert sorted(copy) == sorted(["branch", *(f"service:{s}" for s in branch.queue_services)])
    assert copy["service:jht"] == redis.hget(keys.SERVICES, "jht")
    assert keys.branch_catalog(BRANCH_ID).startswith(f"antrian:{{b:{BRANCH_ID}}}:")


def test_a_branch_and_its_services_are_read_from_its_copy_alone(redis):
    demo.seed(redis)
    offered = catalog.offered_services(redis, catalog.get_branch(redis, BRANCH_ID))
    redis.delete(keys.BRANCHES, keys.SERVICES)  # as if their node were gone

    branch = catalog.get_branch(redis, BRANCH_ID)
    assert branch.id == BRANCH_ID
    assert catalog.offered_services(redis, branch) == offered
    assert catalog.service_at(redis, BRANCH_ID, "jht") in offered
    with pytest.raises(NotFoundError):
        catalog.get_branch(redis, "no-such-branch")


def test_a_store_without_copies_reads_the_lists_and_the_worker_mends_them(redis):
    demo.seed(redis)
    redis.delete(keys.branch_catalog(BRANCH_ID))

    assert catalog.get_branch(redis, BRANCH_ID).id == BRANCH_ID  # the master list answers
    assert catalog.copy_to_branches(redis) == len(redis.hkeys(keys.BRANCHES))
    assert redis.hexists(keys.branch_catalog(BRANCH_ID), "branch")


def test_changes_through_the_admin_write_the_copies(redis, clock):
    demo.seed(redis)
    changes = CatalogChanges(redis)
    branch = catalog.get_branch(redis, BRANCH_ID)
    renamed = {**document(BRANCH, branch), "name": "KCP Salemba Baru"}
    changes.update(BRANCH, BRANCH_ID, renamed, ADMIN, clock.now)
    jht = catalog.get_service(redis, "jht")
    changes.update(SERVICE, "jht", {**document(SERVICE, jht), "name": "Klaim JHT (baru)"}, ADMIN, clock.now)

    copy = redis.hgetall(keys.branch_catalog(BRANCH_ID))
    assert json.loads(copy["branch"])["name"] == "KCP Salemba Baru"
    assert json.loads(copy["service:jht"])["name"] == "Klaim JHT (baru)"
    # Every branch that offers the service has it renamed, not the one changed alone.
    offering = [b for b in catalog.list_branches(redis) if "jht" in b.queue_services]
    assert len(offering) > 1
    for other in offering:
        copied = json.loads(redis.hget(keys.branch_catalog(other.id), "service:jht"))
        assert copied["name"] == "Klaim JHT (baru)"


def test_the_lists_read_last_are_served_while_the_store_does_not_answer(redis, redis_server):
    demo.seed(redis)
    proxy = ReplyDroppingProxy(redis_server.port)
    through = redis_lib.Redis.from_url(proxy.url, decode_responses=True, socket_timeout=2)
    try:
        areas = catalog.list_areas(through)
        proxy.close()
        assert catalog.list_areas(through) == areas
        # What it never read, it cannot serve: the store's error, for a 503.
        with pytest.raises(redis_lib.ConnectionError):
            catalog.list_services(through)
    finally:
        through.close()
