"""The end-of-day step on a real three-node Redis Cluster: each script call touches only one
branch's slot (the day's index, the closed days and the bookings, all under ``{b:<id>}``), so
the cluster runs it; a key of another slot would be refused with CROSSSLOT."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from redis.cluster import RedisCluster as ClusterClient

from config import load_settings
from queue_service.domain import demo, end_of_day
from queue_service.domain.reservations import Reservations
from queue_service.store import keys
from queue_service.store.connect import close, connect
from tests.factories import booking_request

TUESDAY = dt.date(2026, 11, 24)
AFTER_MIDNIGHT_WIB = dt.datetime(2026, 11, 25, 0, 30, tzinfo=ZoneInfo("Asia/Jakarta"))


@pytest.fixture
def client(cluster_redis, redis_cluster):
    demo.seed(cluster_redis)
    client = connect(redis_cluster.url, cluster=True)
    assert isinstance(client, ClusterClient)
    yield client
    close(client)


def test_closing_days_runs_on_a_cluster_one_branch_slot_at_a_time(client, settings, clock):
    reservations = Reservations.from_settings(client, load_settings(overrides=settings))
    made = {
        branch_id: [
            reservations.reserve(booking_request(branch_id=branch_id, slot=slot), clock()).code
            for slot in (dt.time(9, 0), dt.time(9, 30))
        ]
        for branch_id in ("jakarta-salemba", "makassar", "jayapura")
    }
    slots = {client.keyslot(keys.day_bookings(b, TUESDAY.isoformat())) for b in made}
    assert len(slots) == 3
    for branch_id in made:
        tag_slot = client.keyslot(keys.day_bookings(branch_id, TUESDAY.isoformat()))
        assert client.keyslot(keys.closed_days(branch_id)) == tag_slot

    marked = end_of_day.close_past_days(client, AFTER_MIDNIGHT_WIB)

    assert {b: n for b, n in marked.items() if n} == {b: 2 for b in made}
    for branch_id, codes in made.items():
        for code in codes:
            assert client.hget(keys.booking(branch_id, code), "status") == "no_show"
    assert end_of_day.close_past_days(client, AFTER_MIDNIGHT_WIB) == {}
