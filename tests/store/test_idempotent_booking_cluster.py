"""A booking's ``Idempotency-Key`` on a Redis Cluster (issue 24): its record lives in the
branch's slot, written by the reserve script with the booking (no CROSSSLOT), and a retry,
or a concurrent request with the key, gets the first answer."""

from __future__ import annotations

import threading

import pytest

from config import load_settings
from queue_service import create_app
from queue_service.domain import demo
from queue_service.store import keys
from tests.factories import make_nik

BRANCH = "jakarta-salemba"


@pytest.fixture
def cluster_app(settings, redis_cluster, redis_server, cluster_redis, redis, clock):
    """The app with its data store on the cluster (the job queue on the plain server)."""
    demo.seed(cluster_redis)
    overrides = {
        **settings,
        "REDIS_URL": redis_cluster.url,
        "REDIS_CLUSTER": True,
        "QUEUE_REDIS_URL": redis_server.url,
    }
    app = create_app(load_settings(overrides=overrides), clock=clock)
    assert not app.extensions["antrian"].reservations.reserving.in_one_step  # step by step
    return app


def body(app, captcha_answer, nik):
    return {
        "branch_id": BRANCH,
        "service_id": "jht",
        "date": "2026-11-24",
        "slot": "09:00",
        "name": "Budi Santoso",
        "nik": nik,
        "kpj": "12345678901",
        "phone": "081234567890",
        "captcha_answer": captcha_answer,
        "captcha_id": app.extensions["antrian"].captcha.create().id,
    }


def test_the_key_lives_in_the_branchs_slot_and_a_retry_gets_the_first_answer(
    cluster_app, cluster_redis, captcha_answer
):
    client = cluster_app.test_client()
    nik = make_nik()
    headers = {"Idempotency-Key": "cluster-key"}
    first = client.post("/api/v1/bookings", json=body(cluster_app, captcha_answer, nik), headers=headers)
    again = client.post("/api/v1/bookings", json=body(cluster_app, captcha_answer, nik), headers=headers)

    assert first.status_code == 201, first.get_json()
    assert again.status_code == 201 and again.get_json() == first.get_json()
    record = keys.booking_idempotency(BRANCH, "cluster-key")
    booking = keys.booking(BRANCH, first.get_json()["code"])
    assert cluster_redis.keyslot(record) == cluster_redis.keyslot(booking)
    assert cluster_redis.get(record).endswith(" " + first.get_json()["code"])


def test_two_concurrent_requests_with_one_key_book_once_on_the_cluster(
    cluster_app, cluster_redis, captcha_answer
):
    nik = make_nik()
    bodies = [body(cluster_app, captcha_answer, nik) for _ in range(2)]
    answers = [None, None]
    start = threading.Barrier(2)

    def send(n):
        client = cluster_app.test_client()
        start.wait()
        answers[n] = client.post("/api/v1/bookings", json=bodies[n], headers={"Idempotency-Key": "together"})

    threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [a.status_code for a in answers] == [201, 201], [a.get_json() for a in answers]
    assert answers[0].get_json()["code"] == answers[1].get_json()["code"]
    assert cluster_redis.lrange(keys.day_bookings(BRANCH, "2026-11-24"), 0, -1) == [
        answers[0].get_json()["code"]
    ]
