"""The waitlist on a Redis Cluster (issue 25): joining claims the NIK's date and counts the
phone in their own slots, then the entry, the offer step, the accept and the expiry each run in
the branch's slot (no CROSSSLOT); two places freed at once make two offers."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from config import load_settings
from queue_service import create_app
from queue_service.domain import demo, schedules
from queue_service.domain.reservations import Reservations
from queue_service.domain.waitlist import Waitlist
from queue_service.store import keys
from tests.factories import booking_request

BRANCH = "jakarta-salemba"
TUESDAY = dt.date(2026, 11, 24)


@pytest.fixture
def cluster_app(settings, redis_cluster, redis_server, cluster_redis, redis, clock):
    """The app with its data store on the cluster (the job queue on the plain server)."""
    demo.seed(cluster_redis)
    tuned = schedules.load_settings(cluster_redis, BRANCH)
    tuned.slot_capacity = 2
    schedules.store_settings(cluster_redis, BRANCH, tuned)
    overrides = {
        **settings,
        "REDIS_URL": redis_cluster.url,
        "REDIS_CLUSTER": True,
        "QUEUE_REDIS_URL": redis_server.url,
        "BOOKINGS_PER_PHONE": 3,
        "WAITLIST_OFFER_MINUTES": 0.01,  # 0.6 s: runs out within the test
    }
    return create_app(load_settings(overrides=overrides), clock=clock)


def test_offers_accept_and_expiry_in_the_branchs_slot(cluster_app, cluster_redis, clock):
    services = cluster_app.extensions["antrian"]
    reservations: Reservations = services.reservations
    waitlist = Waitlist(reservations)
    taken = [reservations.reserve(booking_request(phone=f"+62812000000{n}0"), clock()) for n in range(2)]
    entries = [waitlist.join(booking_request(phone=f"+62812000000{n}1"), clock()) for n in range(3)]
    assert [e.position for e in entries] == [1, 2, 3]

    for booking in taken:  # both freed before any offer step runs
        reservations.cancellation.cancel_booking(booking, clock(), "participant")
    assert reservations.offers.offer(BRANCH, TUESDAY, clock()) == [entries[0].code, entries[1].code]

    booked = waitlist.accept(entries[0].code, entries[0].nik, clock())
    assert booked.status == "booked"
    time.sleep(max(0.0, waitlist.find(entries[1].code).offer_by.timestamp() - time.time()) + 0.1)
    reservations.release_expired_holds([BRANCH], clock())
    assert waitlist.find(entries[1].code).status == "expired"
    assert waitlist.find(entries[2].code).status == "offered"
    assert cluster_redis.hget(keys.slot_counts(BRANCH, TUESDAY.isoformat()), "09:00") == "2"
    assert cluster_redis.hget(keys.waiters(BRANCH, TUESDAY.isoformat()), "jht/09:00") == "0"
