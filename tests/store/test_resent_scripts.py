"""Every Lua step is safe to run twice.

A reply lost on the network makes redis-py (like ``RedisCluster``) send the same command
again. These tests lose the reply of one script call for real: the app talks to the test
Redis through a proxy that lets the command run and then drops its answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from queue_service.domain.reservations import Reservations
from queue_service.notifications.outbox import Outbox
from queue_service.store import keys, scripts
from tests.factories import JAKARTA
from tests.redis_proxy import ReplyDroppingProxy


@pytest.fixture
def script_sha(redis):
    """The SHA-1 of a script, loaded into the server first: the dropped reply must be the
    script's own, not a NOSCRIPT error that makes the client load it and call again."""

    def sha(name: str) -> str:
        source = scripts.source(name)
        loaded = redis.script_load(source)
        assert loaded == hashlib.sha1(source.encode()).hexdigest()
        return loaded

    return sha


@pytest.fixture
def proxy(redis_server):
    proxy = ReplyDroppingProxy(redis_server.port)
    yield proxy
    proxy.close()


@pytest.fixture
def app_via_proxy(make_app, proxy):
    return make_app(REDIS_URL=proxy.url)


@pytest.fixture
def client(app_via_proxy):
    return app_via_proxy.test_client()


@pytest.fixture(params=["one step", "step by step"])
def booking_way(request, app_via_proxy):
    """How the app books: one script on a single Redis (its own way), or step by step as on
    a cluster (without the SMS hook, which these tests do not need)."""
    if request.param == "step by step":
        services = app_via_proxy.extensions["antrian"]
        services.reservations = Reservations.from_settings(
            services.redis, app_via_proxy.config, one_step=False
        )
    return request.param


def day_bookings(redis) -> list[str]:
    return redis.lrange(keys.day_bookings("jakarta-salemba", "2026-11-24"), 0, -1)


def test_a_resent_reserve_makes_one_booking(booking_way, client, proxy, booking_body, redis, script_sha):
    body = booking_body()
    proxy.drop_reply_to(script_sha("book" if booking_way == "one step" else "reserve"))

    response = client.post("/api/v1/bookings", json=body)

    assert proxy.dropped == 1
    assert response.status_code == 201
    code = response.get_json()["code"]
    assert day_bookings(redis) == [code]
    assert redis.hget(keys.day_counts("jakarta-salemba", "2026-11-24"), "total") == "1"
    found = client.post("/api/v1/bookings/lookup", json={"code": code, "nik": body["nik"]})
    assert found.status_code == 200
    again = client.post("/api/v1/bookings", json=booking_body(nik=body["nik"]))
    assert again.get_json()["error"]["code"] == "already_booked"


def test_a_resent_check_in_answers_as_the_first(
    app_via_proxy, client, proxy, booking_body, clock, script_sha
):
    code = client.post("/api/v1/bookings", json=booking_body()).get_json()["code"]
    _kiosk, token = app_via_proxy.extensions["antrian"].kiosks.create("jakarta-salemba", "Pintu", clock())
    clock.set(dt.datetime(2026, 11, 24, 8, 30, tzinfo=JAKARTA))
    proxy.drop_reply_to(script_sha("check_in"))

    first = client.post(
        "/api/v1/kiosk/checkins", json={"code": code}, headers={"Authorization": f"Bearer {token}"}
    )

    assert proxy.dropped == 1
    assert first.status_code == 200
    assert first.get_json()["already_checked_in"] is False
    again = client.post(
        "/api/v1/kiosk/checkins", json={"code": code}, headers={"Authorization": f"Bearer {token}"}
    )
    assert again.get_json()["already_checked_in"] is True  # a second scan is a repeat


def test_a_resent_cancel_answers_as_the_first(client, proxy, booking_body, redis, script_sha):
    body = booking_body()
    code = client.post("/api/v1/bookings", json=body).get_json()["code"]
    proxy.drop_reply_to(script_sha("cancel"))

    response = client.post(f"/api/v1/bookings/{code}/cancel", json={"nik": body["nik"]})

    assert proxy.dropped == 1
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"code": code, "status": "cancelled"}
    assert redis.hget(keys.day_counts("jakarta-salemba", "2026-11-24"), "total") == "0"
    # And the cancellation is still final: a later cancel is refused as such.
    later = client.post(f"/api/v1/bookings/{code}/cancel", json={"nik": body["nik"]})
    assert later.get_json()["error"]["code"] == "cancelled"


def test_a_resent_nik_claim_books(booking_way, client, proxy, booking_body, redis, script_sha):
    proxy.drop_reply_to(script_sha("book" if booking_way == "one step" else "claim_nik"))

    response = client.post("/api/v1/bookings", json=booking_body())

    assert proxy.dropped == 1
    assert response.status_code == 201, response.get_json()
    assert day_bookings(redis) == [response.get_json()["code"]]


def test_a_resent_captcha_consumption_books(client, proxy, booking_body, script_sha):
    proxy.drop_reply_to(script_sha("consume_captcha"))

    response = client.post("/api/v1/bookings", json=booking_body())

    assert proxy.dropped == 1
    assert response.status_code == 201, response.get_json()


def test_a_consumed_captcha_stays_consumed_for_other_attempts(client, booking_body, captcha_answer, app):
    challenge = app.extensions["antrian"].captcha.create().id
    first = client.post("/api/v1/bookings", json=booking_body(captcha_id=challenge))
    second = client.post("/api/v1/bookings", json=booking_body(captcha_id=challenge))

    assert first.status_code == 201
    assert second.get_json()["error"]["code"] == "captcha_failed"


def test_a_resent_sms_attempt_sends_one_message(book, work, proxy, sent_sms, redis, script_sha):
    booking = book()
    proxy.drop_reply_to(script_sha("sms_begin"))

    work(REDIS_URL=proxy.url)

    assert proxy.dropped == 1
    assert [line["event"] for line in sent_sms()] == ["booked"]
    assert Outbox(redis).delivery("jakarta-salemba", booking["code"], "booked")["state"] == "sent"
