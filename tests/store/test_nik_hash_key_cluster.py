"""Replacing NIK_HASH_KEY on a real three-node Redis Cluster: the claim under the old digest
and the one under the new live in different slots (often nodes), so the old one is read in a
step of its own, never in a script with the new one (a CROSSSLOT error); a booking made under
the old key still holds its date and is found by a NIK release."""

from __future__ import annotations

import datetime as dt

import pytest
from redis.cluster import key_slot

from config import load_settings
from queue_service.domain import demo, nik_release
from queue_service.domain.errors import AlreadyBookedError
from queue_service.domain.reservations import Reservations
from tests.factories import booking_request, make_nik

OLD = "old-nik-hash-key-0123456789"
NEW = "new-nik-hash-key-9876543210"


def test_a_booking_under_the_previous_key_holds_its_date_on_a_cluster(
    settings, redis_cluster, redis_server, cluster_redis, clock
):
    demo.seed(cluster_redis)

    def reservations(**overrides) -> Reservations:
        cluster = {"REDIS_URL": redis_cluster.url, "REDIS_CLUSTER": True, "QUEUE_REDIS_URL": redis_server.url}
        return Reservations.from_settings(
            cluster_redis, load_settings(overrides={**settings, **cluster, **overrides})
        )

    nik = make_nik()
    made = reservations(NIK_HASH_KEY=OLD).reserve(booking_request(nik=nik), clock())
    rotating = reservations(NIK_HASH_KEY=NEW, NIK_HASH_KEY_PREVIOUS=OLD)
    new_key, old_key = rotating.claims.keys_read(nik, "2026-11-24")
    assert key_slot(new_key.encode()) != key_slot(old_key.encode())
    with pytest.raises(AlreadyBookedError):
        rotating.reserve(booking_request(nik=nik, slot=dt.time(10, 0)), clock())
    also = rotating.reserve(booking_request(nik=nik, date=dt.date(2026, 11, 25)), clock())
    found = nik_release.active_bookings(rotating, nik, clock())
    assert [b.code for b in found] == [made.code, also.code]
