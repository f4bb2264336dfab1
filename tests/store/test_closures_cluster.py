"""Closures of days on a real three-node Redis Cluster (issue 22): each branch's days are closed
in one step and its bookings cancelled in another, both in the branch's own slot (the days, the
bookings, their counts, the outbox and the closure's codes all under ``{b:<id>}``); the NIK's
dates and the phones' counts are freed in their own slots; a key of another slot would be
refused with CROSSSLOT. The SMS go out through a worker reading the cluster."""

from __future__ import annotations

import datetime as dt

import pytest
from redis.cluster import RedisCluster as ClusterClient

from config import load_settings
from queue_service.domain import demo
from queue_service.domain.accounts import NATIONAL_ADMIN, Account
from queue_service.domain.audit import Actor
from queue_service.domain.closures import Closures
from queue_service.domain.errors import NotBookableError
from queue_service.domain.reservations import Reservations
from queue_service.domain.tuning import BranchTuning
from queue_service.notifications.outbox import Outbox
from queue_service.store import keys
from queue_service.store.connect import close, connect
from tests.factories import booking_request

TUESDAY, WEDNESDAY = dt.date(2026, 11, 24), dt.date(2026, 11, 25)
BRANCHES = ("jakarta-salemba", "makassar", "jayapura")
NATIONAL = Account("pusat", NATIONAL_ADMIN)
ACTOR = Actor("pusat", NATIONAL_ADMIN, "10.0.0.1")


@pytest.fixture
def cluster_settings(settings, redis_cluster, redis_server, redis):
    """The data store on the cluster, the job queue on the plain test server."""
    return load_settings(
        overrides={
            **settings,
            "REDIS_URL": redis_cluster.url,
            "REDIS_CLUSTER": True,
            "QUEUE_REDIS_URL": redis_server.url,
            "BOOKINGS_PER_PHONE": 3,
        }
    )


@pytest.fixture
def client(cluster_redis, redis_cluster):
    demo.seed(cluster_redis)
    client = connect(redis_cluster.url, cluster=True)
    assert isinstance(client, ClusterClient)
    yield client
    close(client)


def test_a_range_closure_of_a_branch_and_of_every_branch_runs_slot_by_slot(
    client, cluster_settings, clock, work, sent_sms
):
    reservations = Reservations.from_settings(client, cluster_settings)
    closures = Closures(client, reservations, BranchTuning(client, reservations))
    made = {
        branch_id: reservations.reserve(booking_request(branch_id=branch_id, date=WEDNESDAY), clock())
        for branch_id in BRANCHES
    }
    assert len({client.keyslot(keys.booking(b, "X")) for b in BRANCHES}) == 3
    assert len({node.name for node in client.get_primaries()}) == 3

    one = closures.close_range(NATIONAL, "makassar", TUESDAY, WEDNESDAY, "Listrik padam", ACTOR, clock())
    every = closures.close_range(NATIONAL, None, TUESDAY, WEDNESDAY, "Hari berkabung", ACTOR, clock())

    assert closures.cancelled(one) == {"makassar": [made["makassar"].code]}
    assert closures.cancelled(every) == {b: [made[b].code] for b in BRANCHES if b != "makassar"}
    for branch_id in BRANCHES:
        assert client.hget(keys.day_counts(branch_id, WEDNESDAY.isoformat()), "total") == "0"
        with pytest.raises(NotBookableError):
            reservations.reserve(booking_request(branch_id=branch_id, date=TUESDAY), clock())
    # The phone's count, in its own slot, is freed: the cap of 3 takes three new bookings.
    later = [
        reservations.reserve(booking_request(branch_id=b, date=dt.date(2026, 11, 26)), clock())
        for b in BRANCHES
    ]
    assert [b.status for b in later] == ["booked"] * 3

    work(**cluster_settings)

    assert sorted(line["code"] for line in sent_sms() if line["event"] == "closed") == sorted(
        b.code for b in made.values()
    )
    outbox = Outbox(client)
    assert outbox.progress(closures.cancelled(every), "closed").sent == 2

    closures.reopen(NATIONAL, every.id, ACTOR, clock())
    closures.reopen(NATIONAL, one.id, ACTOR, clock())
    assert (
        reservations.reserve(
            booking_request(branch_id="makassar", date=TUESDAY, phone="+6281399998888"), clock()
        ).status
        == "booked"
    )
