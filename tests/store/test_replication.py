"""REDIS_WAIT_REPLICAS against a real replica; /readyz against a Redis that hangs."""

from __future__ import annotations

import os
import signal
import time

import pytest
import redis as redis_lib

from queue_service import create_app
from queue_service.domain import demo
from queue_service.store import keys
from tests.redis_server import RedisServer

BRANCH = "jakarta-salemba"


def wait_until(condition, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def primary_and_replica():
    # No 5 s wait for more replicas before the first full sync (Redis's default).
    primary = RedisServer(extra_args=("--repl-diskless-sync-delay", "0"))
    replica = RedisServer(extra_args=("--replicaof", "127.0.0.1", str(primary.port)))
    with redis_lib.Redis.from_url(primary.url) as client:
        wait_until(
            lambda: client.info("replication").get("slave0", {}).get("state") == "online",
            "the replica is online",
        )
    with redis_lib.Redis.from_url(replica.url) as client:  # and has loaded the first sync
        wait_until(
            lambda: client.info("replication")["master_link_status"] == "up", "the replica's link is up"
        )
    yield primary, replica
    replica.stop()
    primary.stop()


@pytest.fixture
def stores(primary_and_replica):
    primary, replica = primary_and_replica
    with (
        redis_lib.Redis.from_url(primary.url, decode_responses=True) as on_primary,
        redis_lib.Redis.from_url(replica.url, decode_responses=True) as on_replica,
    ):
        on_primary.flushall()
        demo.seed(on_primary)
        yield on_primary, on_replica


@pytest.fixture
def replicated_app(primary_and_replica, stores, settings, clock):
    """``replicated_app(timeout_ms)``: an app that waits for one replica."""
    primary, _ = primary_and_replica
    made = []

    def make(timeout_ms: int):
        made.append(
            create_app(
                {
                    **settings,
                    "REDIS_URL": primary.url,
                    "REDIS_WAIT_REPLICAS": 1,
                    "REDIS_WAIT_TIMEOUT_MS": timeout_ms,
                },
                clock=clock,
            )
        )
        return made[-1]

    yield make
    for app in made:
        app.extensions["antrian"].close()


def book(app, booking_body, **fields):
    body = booking_body(**fields)
    body["captcha_id"] = app.extensions["antrian"].captcha.create().id
    return app.test_client().post("/api/v1/bookings", json=body)


def test_a_booking_is_confirmed_once_the_replica_holds_it(replicated_app, stores, booking_body):
    _, on_replica = stores
    # As long as the socket allows: a replica on a busy machine may take a while to answer.
    response = book(replicated_app(1900), booking_body)
    assert response.status_code == 201, response.get_json()
    code = response.get_json()["code"]
    # WAIT answered: the replica has applied the booking already, no waiting here.
    assert on_replica.hget(keys.booking(BRANCH, code), "status") == "booked"


@pytest.fixture
def stopped_replica(primary_and_replica):
    """The replica frozen (SIGSTOP): it holds its connection and acknowledges nothing."""
    _, replica = primary_and_replica
    os.kill(replica.process.pid, signal.SIGSTOP)
    try:
        yield replica
    finally:
        os.kill(replica.process.pid, signal.SIGCONT)


def test_a_booking_the_replica_does_not_confirm_answers_503_and_is_kept(
    replicated_app, stores, booking_body, stopped_replica
):
    on_primary, on_replica = stores
    nik = booking_body()["nik"]
    app = replicated_app(300)  # the wait is certain to run out: no need to wait long
    response = book(app, booking_body, nik=nik)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"] == "5"  # its own, not the rate limiter's
    codes = on_primary.lrange(keys.day_bookings(BRANCH, "2026-11-24"), 0, -1)
    assert len(codes) == 1  # nothing lost: the booking, its SMS event, its NIK's claim
    assert on_primary.hget(keys.booking(BRANCH, codes[0]), "status") == "booked"
    assert on_primary.zscore(keys.sms_outbox(BRANCH), f"{codes[0]}:booked") is not None
    again = book(app, booking_body, nik=nik)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_booked"
    os.kill(stopped_replica.process.pid, signal.SIGCONT)
    wait_until(lambda: on_replica.exists(keys.booking(BRANCH, codes[0])), "the replica catches up")


def test_a_booking_whose_claim_was_not_confirmed_is_not_reported_replicated(
    replicated_app, stores, booking_body, monkeypatch
):
    """WAIT counts from the last write of its connection: when the confirmation writes
    nothing (the claim is not this booking's, as on a promoted replica that lacks it), WAIT
    would answer at once from an earlier write, so the booking must not be called safe."""
    on_primary, _ = stores
    app = replicated_app(1900)
    reservations = app.extensions["antrian"].reservations
    reserve = reservations.scripts.reserve

    def reserve_then_lose_the_claim(*, keys, args, **kwargs):
        outcome = reserve(keys=keys, args=args, **kwargs)
        for claim in on_primary.scan_iter(match="antrian:{n:*}:day:*"):
            on_primary.delete(claim)
        return outcome

    monkeypatch.setattr(reservations.scripts, "reserve", reserve_then_lose_the_claim)
    response = book(app, booking_body)

    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    codes = on_primary.lrange(keys.day_bookings(BRANCH, "2026-11-24"), 0, -1)
    assert on_primary.hget(keys.booking(BRANCH, codes[0]), "status") == "booked"  # kept


def test_readyz_answers_within_one_timeout_when_redis_hangs(settings, clock):
    hung = RedisServer()
    try:
        app = create_app({**settings, "REDIS_URL": hung.url, "REDIS_SOCKET_TIMEOUT": 2}, clock=clock)
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        os.kill(hung.process.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            response = client.get("/readyz")
            elapsed = time.monotonic() - started
        finally:
            os.kill(hung.process.pid, signal.SIGCONT)
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "unavailable"
        # One timeout (2 s), not one per store (4 s and more, as before).
        assert elapsed < 3.5
        wait_until(lambda: client.get("/readyz").status_code == 200, "ready again")
        app.extensions["antrian"].close()
    finally:
        hung.stop()
