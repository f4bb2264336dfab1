"""The data store on a real three-node Redis Cluster (SPEC §5).

Every key of a branch shares the tag ``{b:<id>}`` and every key of a NIK the tag
``{n:<digest>}``, so each Lua step touches one slot; the tests here put that claim to
work on a real cluster: the reservation race, the one-NIK-per-date rule across two
branches held by different nodes, the cap of bookings per phone (``{p:<digest>}``), the
HTTP API with its rate limits, and the SMS worker (data store on the cluster, job queue
on the plain test server).
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis as redis_lib
from redis.cluster import RedisCluster as ClusterClient

from config import load_settings
from queue_service import create_app
from queue_service.domain import calendar, demo, schedules
from queue_service.domain.errors import (
    AlreadyBookedError,
    DayFullError,
    NotBookableError,
    SlotFullError,
    TooManyBookingsError,
)
from queue_service.domain.reservations import Reservations
from queue_service.domain.waiting_room import RoomSettings, WaitingRooms, active_room
from queue_service.notifications.outbox import Outbox
from queue_service.store import keys
from queue_service.store.connect import close, connect
from tests.factories import JAKARTA, booking_request, make_nik
from tests.redis_cluster import RedisCluster

TUESDAY = dt.date(2026, 11, 24)
BRANCH = "jakarta-salemba"
# jakarta-salemba's tag hashes to slot 11299, bekasi's to 3357: two thirds of the slot
# space apart, so on different nodes of a three-node cluster (asserted below).
OTHER_BRANCH = "bekasi"


@pytest.fixture
def cluster_settings(settings, redis_cluster, redis_server, redis):
    """The suite's settings with the data store on the cluster and the queue on the plain
    test server (the job queue cannot run on a cluster), flushed around the test by
    ``redis``."""
    return load_settings(
        overrides={
            **settings,
            "REDIS_URL": redis_cluster.url,
            "REDIS_CLUSTER": True,
            "QUEUE_REDIS_URL": redis_server.url,
        }
    )


@pytest.fixture
def seeded(cluster_redis):
    """The cluster client, with the demo catalog seeded into the cluster."""
    demo.seed(cluster_redis)
    return cluster_redis


@pytest.fixture
def reservations(seeded, cluster_settings, redis_cluster):
    """``Reservations`` over a client built as the service builds it (``connect(cluster=True)``)."""
    client = connect(redis_cluster.url, cluster=True)
    assert isinstance(client, ClusterClient)
    yield Reservations.from_settings(client, cluster_settings)
    close(client)


def request(**overrides):
    return booking_request(**{"branch_id": BRANCH, **overrides})


def node_of(client: ClusterClient, key: str) -> str:
    return client.get_node_from_key(key).name


def test_the_cluster_has_three_primaries_sharing_every_slot(cluster_redis, redis_cluster):
    primaries = cluster_redis.get_primaries()
    assert sorted(node.port for node in primaries) == sorted(redis_cluster.ports)
    assert 6379 not in redis_cluster.ports
    for node in primaries:
        info = cluster_redis.cluster_info(target_nodes=node)
        assert info["cluster_state"] == "ok"
        assert int(info["cluster_slots_assigned"]) == 16384


def test_hundreds_of_concurrent_reservations_fill_one_slot_exactly(reservations, seeded, clock):
    capacity = 9
    settings = schedules.load_settings(seeded, BRANCH)
    settings.slot_capacity = capacity
    schedules.store_settings(seeded, BRANCH, settings)

    def attempt(nik):
        try:
            return reservations.reserve(request(nik=nik), clock())
        except (SlotFullError, DayFullError) as refusal:
            return refusal

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(attempt, [make_nik() for _ in range(200)]))

    booked = [result for result in results if not isinstance(result, Exception)]
    assert len(booked) == capacity
    assert all(isinstance(result, SlotFullError) for result in results if isinstance(result, Exception))
    assert sorted(b.queue_number for b in booked) == [f"A-{n:03d}" for n in range(1, capacity + 1)]
    assert len({b.code for b in booked}) == capacity
    day = TUESDAY.isoformat()
    assert seeded.hget(keys.slot_counts(BRANCH, day), "09:00") == str(capacity)
    assert seeded.hgetall(keys.day_counts(BRANCH, day)) == {"total": str(capacity), "svc:jht": str(capacity)}
    assert seeded.llen(keys.day_bookings(BRANCH, day)) == capacity
    for booking in booked:
        assert reservations.lookup(booking.code, booking.nik) == booking


def test_one_nik_books_once_per_date_across_branches_on_different_nodes(reservations, seeded, clock):
    here, there = keys.branch_settings(BRANCH), keys.branch_settings(OTHER_BRANCH)
    assert seeded.keyslot(here) != seeded.keyslot(there)
    assert node_of(seeded, here) != node_of(seeded, there)
    nik = make_nik()
    claim = keys.nik_day_claim(reservations.nik_digest(nik), TUESDAY.isoformat())

    def attempt(branch_id):
        try:
            return reservations.reserve(request(nik=nik, branch_id=branch_id), clock())
        except AlreadyBookedError as refusal:
            return refusal

    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(attempt, [BRANCH, OTHER_BRANCH] * 40))

    [booking] = [result for result in results if not isinstance(result, Exception)]
    day = TUESDAY.isoformat()
    counts = {
        branch_id: int(seeded.hget(keys.day_counts(branch_id, day), "total") or 0)
        for branch_id in (BRANCH, OTHER_BRANCH)
    }
    assert counts == {booking.branch_id: 1, ({BRANCH, OTHER_BRANCH} - {booking.branch_id}).pop(): 0}
    assert seeded.hget(claim, "code") == booking.code
    assert reservations.lookup(booking.code, nik) == booking

    # Another date is the NIK's to book, at the other branch too.
    elsewhere = OTHER_BRANCH if booking.branch_id == BRANCH else BRANCH
    wednesday = reservations.reserve(
        request(nik=nik, branch_id=elsewhere, date=TUESDAY + dt.timedelta(days=1)), clock()
    )
    assert wednesday.status == "booked"
    with pytest.raises(AlreadyBookedError):
        reservations.reserve(request(nik=nik, branch_id=elsewhere), clock())

    # Cancelled, the date is free again: at the other branch, on the other node.
    reservations.cancel(booking.code, nik, clock())
    again = reservations.reserve(request(nik=nik, branch_id=elsewhere), clock())
    assert again.branch_id == elsewhere and again.status == "booked"
    assert seeded.hget(claim, "code") == again.code


@pytest.fixture
def cluster_app(seeded, cluster_settings, clock):
    """The app with its data store on the cluster, rate limits on (``redis+cluster://``)."""
    app = create_app(cluster_settings, clock=clock)
    assert app.config["RATELIMIT_STORAGE_URI"].startswith("redis+cluster://")
    assert isinstance(app.extensions["antrian"].redis, ClusterClient)
    return app


def booking_body(app, captcha_answer, **overrides) -> dict:
    data = {
        "branch_id": BRANCH,
        "service_id": "jht",
        "date": TUESDAY.isoformat(),
        "slot": "09:00",
        "name": "Budi Santoso",
        "nik": make_nik(),
        "kpj": "12345678901",
        "phone": "081234567890",
        "captcha_answer": captcha_answer,
        "captcha_id": app.extensions["antrian"].captcha.create().id,
    }
    data.update(overrides)
    return data


def test_the_api_books_looks_up_and_cancels_on_the_cluster(cluster_app, seeded, captcha_answer, redis):
    client = cluster_app.test_client()
    assert client.get("/readyz").status_code == 200
    availability = f"/api/v1/branches/{BRANCH}/availability?date={TUESDAY}&service=jht"

    def nine_remaining() -> int:
        slots = client.get(availability).get_json()["slots"]
        return next(s["remaining"] for s in slots if s["start"] == "09:00")

    before = nine_remaining()
    body = booking_body(cluster_app, captcha_answer)
    response = client.post("/api/v1/bookings", json=body)
    assert response.status_code == 201, response.get_json()
    # The limiter counted on the cluster.
    assert list(cluster_app.extensions["antrian"].redis.scan_iter(match="*LIMITER*booking*"))
    code = response.get_json()["code"]
    assert response.get_json()["queue_number"] == "A-001"
    assert nine_remaining() == before - 1

    # The same NIK at a branch on another node, same date: refused.
    twice = client.post(
        "/api/v1/bookings",
        json=booking_body(cluster_app, captcha_answer, nik=body["nik"], branch_id=OTHER_BRANCH),
    )
    assert twice.status_code == 409, twice.get_json()
    assert twice.get_json()["error"]["code"] == "already_booked"

    found = client.post("/api/v1/bookings/lookup", json={"code": code, "nik": body["nik"]})
    assert found.status_code == 200 and found.get_json()["status"] == "booked"
    cancelled = client.post(f"/api/v1/bookings/{code}/cancel", json={"nik": body["nik"]})
    assert cancelled.get_json() == {"code": code, "status": "cancelled"}
    assert nine_remaining() == before

    moved = client.post(
        "/api/v1/bookings",
        json=booking_body(cluster_app, captcha_answer, nik=body["nik"], branch_id=OTHER_BRANCH),
    )
    assert moved.status_code == 201, moved.get_json()

    # Everything went to the cluster: the plain server holds only the SMS jobs.
    assert seeded.exists(keys.booking(BRANCH, code))
    assert seeded.keys("LIMITS:*")
    assert not [key for key in redis.keys("*") if key.startswith(("antrian:", "LIMITS:"))]


def test_one_phone_holds_at_most_its_cap_across_branches_on_different_nodes(
    seeded, cluster_settings, redis_cluster, clock
):
    client = connect(redis_cluster.url, cluster=True)
    try:
        reservations = Reservations.from_settings(client, {**cluster_settings, "BOOKINGS_PER_PHONE": 3})
        assert not reservations.reserving.in_one_step
        phone_key = reservations.phones.key("+6281234567890")
        branch_slots = {seeded.keyslot(keys.branch_settings(b)) for b in (BRANCH, OTHER_BRANCH)}
        assert seeded.keyslot(phone_key) not in branch_slots  # its own slot, counted apart
        days = [TUESDAY + dt.timedelta(days=n) for n in range(4)]

        def attempt(i):
            try:
                branch = (BRANCH, OTHER_BRANCH)[i % 2]
                return reservations.reserve(request(branch_id=branch, date=days[i % 4]), clock())
            except TooManyBookingsError as refusal:
                return refusal

        with ThreadPoolExecutor(max_workers=10) as pool:
            results = list(pool.map(attempt, range(10)))

        booked = [result for result in results if not isinstance(result, Exception)]
        assert len(booked) == 3
        assert sum(isinstance(result, TooManyBookingsError) for result in results) == 7
        assert sorted(seeded.hgetall(phone_key)) == sorted(b.code for b in booked)
        held = sum(
            int(seeded.hget(keys.day_counts(branch, day.isoformat()), "total") or 0)
            for branch in (BRANCH, OTHER_BRANCH)
            for day in days
        )
        assert held == 3
        # A cancellation frees a place under the cap.
        reservations.cancel(booked[0].code, booked[0].nik, clock())
        assert reservations.reserve(request(date=days[3], slot=dt.time(10, 0)), clock()).status == "booked"
        with pytest.raises(TooManyBookingsError):
            reservations.reserve(request(date=days[3], slot=dt.time(11, 0)), clock())
    finally:
        close(client)


def test_a_national_closure_reaches_every_branch_on_every_node(reservations, seeded, clock):
    # One pipeline writes the closure under every branch's tag: slots all over the cluster.
    calendar.close_nationally(seeded, TUESDAY, "Hari berkabung nasional")
    nodes = set()
    for branch_id in (BRANCH, OTHER_BRANCH, "jakarta-menara-jamsostek"):
        nodes.add(node_of(seeded, keys.branch_national_closures(branch_id)))
        with pytest.raises(NotBookableError):
            reservations.reserve(request(branch_id=branch_id), clock())
    assert len(nodes) == 3
    assert calendar.reopen_nationally(seeded, TUESDAY)
    assert reservations.reserve(request(branch_id=OTHER_BRANCH), clock()).status == "booked"


def test_the_rate_limits_refuse_on_the_cluster(seeded, cluster_settings, clock, captcha_answer):
    app = create_app({**cluster_settings, "RATELIMIT_READ": "2 per minute"}, clock=clock)
    client = app.test_client()
    statuses = [client.get("/api/v1/areas").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_the_sms_worker_reads_the_cluster_and_works_the_plain_queue(
    cluster_app, captcha_answer, work, cluster_settings, sent_sms, seeded
):
    client = cluster_app.test_client()
    response = client.post("/api/v1/bookings", json=booking_body(cluster_app, captcha_answer))
    assert response.status_code == 201
    code = response.get_json()["code"]

    work(**cluster_settings)

    [line] = sent_sms()
    assert (line["code"], line["event"]) == (code, "booked")
    assert seeded.zcard(keys.sms_outbox(BRANCH)) == 0
    assert Outbox(seeded).delivery(BRANCH, code, "booked")["state"] == "sent"


def test_holds_are_verified_and_released_in_their_branch_s_slot_on_the_cluster(
    seeded, cluster_settings, redis_cluster, clock
):
    """release_holds.lua names the keys of the holds that ran out as it finds them: every one
    is under the branch's tag, so the cluster runs it in that slot."""
    client = connect(redis_cluster.url, cluster=True)
    try:
        settings = {**cluster_settings, "PHONE_VERIFICATION": True, "PHONE_VERIFICATION_MINUTES": 0.01}
        reservations = Reservations.from_settings(client, settings)
        day = TUESDAY.isoformat()
        confirmed = reservations.reserve(request(slot=dt.time(9, 0)), clock())
        forgotten = reservations.reserve(request(slot=dt.time(10, 0)), clock())
        assert (confirmed.status, forgotten.status) == ("pending", "pending")
        otp = seeded.hget(keys.booking(BRANCH, confirmed.code), "otp")
        assert reservations.verify(confirmed.code, confirmed.nik, otp).status == "booked"
        time.sleep(max(0.0, forgotten.verify_by.timestamp() - time.time()) + 0.1)

        assert reservations.release_expired_holds([BRANCH, OTHER_BRANCH]) == 1

        assert seeded.hget(keys.booking(BRANCH, forgotten.code), "status") == "expired"
        assert seeded.hget(keys.day_counts(BRANCH, day), "total") == "1"
        assert seeded.hgetall(keys.slot_counts(BRANCH, day)) == {"09:00": "1", "10:00": "0"}
        # Its NIK's date, in another slot, is free again.
        again = reservations.reserve(request(nik=forgotten.nik, branch_id=OTHER_BRANCH), clock())
        assert again.status == "pending"
    finally:
        close(client)


def test_a_waiting_room_draws_and_admits_in_its_branch_s_slot_on_the_cluster(seeded, redis_cluster):
    client = connect(redis_cluster.url, cluster=True)
    try:
        rooms = WaitingRooms(client, b"cluster-secret")
        settings = RoomSettings(enabled=True, admit_per_minute=60)
        release = dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA)
        room = active_room(BRANCH, settings, "07:00", "Asia/Jakarta", release - dt.timedelta(minutes=5))
        tickets = [
            rooms.join(room, f"10.0.0.{n}", None, release - dt.timedelta(minutes=5)).ticket for n in range(20)
        ]
        names = room.keys().values()
        assert len({seeded.keyslot(name) for name in names}) == 1  # one slot: the branch's

        positions = sorted(rooms.status(t, release).position for t in tickets)

        assert positions == list(range(0, 20))  # the lottery placed all 20; the first is in
        first = next(t for t in tickets if rooms.status(t, release).state == "admitted")
        admission_pass = rooms.status(first, release).admission_pass
        rooms.admit(room, admission_pass, make_nik())
        assert seeded.hlen(keys.room_passes(BRANCH, room.id)) == 1
    finally:
        close(client)


def test_readyz_says_not_ready_while_the_cluster_has_slots_without_a_node(cluster_settings, clock):
    # A cluster of its own: one of its three primaries is stopped, and nothing covers its
    # slots (no replicas here). Each node still answers a ping.
    cluster = RedisCluster()
    try:
        app = create_app({**cluster_settings, "REDIS_URL": cluster.url}, clock=clock)
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        cluster.processes[2].kill()
        cluster.processes[2].wait(timeout=10)
        survivor = redis_lib.Redis.from_url(cluster.urls[0], decode_responses=True)
        deadline = time.monotonic() + 30
        while survivor.cluster("INFO")["cluster_state"] == "ok":  # node timeout 5 s, then gossip
            assert time.monotonic() < deadline, "the cluster never noticed its lost primary"
            time.sleep(0.2)
        assert survivor.ping()
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.get_json()["error"]["code"] == "unavailable"
        app.extensions["antrian"].close()
    finally:
        cluster.stop()
