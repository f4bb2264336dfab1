"""The live queue on a real three-node Redis Cluster: every key of a branch's queue shares the
branch's tag, so each step is one script in one slot, and two counters racing still call each
participant once."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from config import load_settings
from queue_service.domain import demo, schedules
from queue_service.domain.checkins import CheckIns
from queue_service.domain.errors import NotFoundError
from queue_service.domain.kiosks import Kiosks
from queue_service.domain.live_queue import LiveQueue
from queue_service.domain.reservations import Reservations
from queue_service.store.connect import close, connect
from tests.factories import JAKARTA, booking_request

BRANCH = "jakarta-salemba"
TUESDAY = dt.date(2026, 11, 24)


def test_two_counters_on_the_cluster_call_each_participant_once(
    cluster_redis, redis_cluster, redis_server, settings, clock
):
    demo.seed(cluster_redis)
    tuned = schedules.load_settings(cluster_redis, BRANCH)
    tuned.slot_capacity = 100
    schedules.store_settings(cluster_redis, BRANCH, tuned)
    client = connect(redis_cluster.url, cluster=True)
    try:
        reservations = Reservations.from_settings(
            client,
            load_settings(
                overrides={
                    **settings,
                    "REDIS_URL": redis_cluster.url,
                    "REDIS_CLUSTER": True,
                    "QUEUE_REDIS_URL": redis_server.url,
                }
            ),
        )
        kiosk, _token = Kiosks(client).create(BRANCH, "Pintu", clock())
        checkins, live = CheckIns(client), LiveQueue(client)
        numbers = set()
        for minute in range(12):
            booking = reservations.reserve(booking_request(), clock())
            arrival = dt.datetime.combine(TUESDAY, dt.time(8, minute), tzinfo=JAKARTA)
            numbers.add(checkins.check_in(kiosk, booking.code, arrival).queue_number)
        now = dt.datetime.combine(TUESDAY, dt.time(9, 0), tzinfo=JAKARTA)

        def counter(name: str) -> list[str]:
            # Each counter its own client, as two app processes would have.
            own = connect(redis_cluster.url, cluster=True)
            called = []
            try:
                while True:
                    called.append(LiveQueue(own).call_next(BRANCH, name, now).queue_number)
            except NotFoundError:
                return called
            finally:
                close(own)

        with ThreadPoolExecutor(2) as pool:
            together = [n for part in pool.map(counter, ["Loket 1", "Loket 2"]) for n in part]
        assert sorted(together) == sorted(numbers)
        first = together[0]
        assert live.mark_served(BRANCH, first, now).status == "served"
        assert live.view(BRANCH, now).waiting == []
    finally:
        close(client)
