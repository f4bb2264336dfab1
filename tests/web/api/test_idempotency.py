"""``POST /api/v1/bookings`` with an ``Idempotency-Key`` (issue 24): a retry with the same key
and body gets the first answer, even after a 503 that hid a committed booking."""

from __future__ import annotations

import threading

import pytest

from queue_service.domain.bookings import request_digest
from queue_service.domain.reservations import IdempotencyKey
from queue_service.store import keys, scripts
from queue_service.store.connect import DEFAULT_RETRIES
from queue_service.web.schemas.public import BookingRequestSchema
from tests.redis_proxy import ReplyDroppingProxy

BRANCH = "jakarta-salemba"
DAY = "2026-11-24"


def post(client, body, key=None):
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post("/api/v1/bookings", json=body, headers=headers)


def codes_of_the_day(redis):
    return redis.lrange(keys.day_bookings(BRANCH, DAY), 0, -1)


def sms_events(redis, code):
    return [event for event in redis.zrange(keys.sms_outbox(BRANCH), 0, -1) if event.startswith(f"{code}:")]


def test_the_same_key_and_body_get_the_first_answer_and_book_once(client, booking_body, redis):
    body = booking_body()
    first = post(client, body, "retry-me-1")
    again = post(client, {**booking_body(nik=body["nik"])}, "retry-me-1")  # a new captcha

    assert first.status_code == 201, first.json
    assert again.status_code == 201, again.json
    assert again.json == first.json
    assert codes_of_the_day(redis) == [first.json["code"]]
    assert sms_events(redis, first.json["code"]) == [f"{first.json['code']}:booked"]


def test_a_used_up_captcha_with_the_key_gets_the_first_answer_not_403(client, booking_body):
    body = booking_body()
    first = post(client, body, "k" * 128)
    again = post(client, body, "k" * 128)  # the very captcha the first consumed

    assert first.status_code == 201
    assert again.status_code == 201 and again.json == first.json
    assert post(client, body).status_code == 403  # without the key: the captcha is spent


def test_the_same_key_with_another_body_is_refused_naming_the_header(client, booking_body, redis):
    body = booking_body()
    assert post(client, body, "one-key").status_code == 201
    other = post(client, booking_body(nik=body["nik"], slot="10:00"), "one-key")

    assert other.status_code == 422
    assert other.json["error"]["code"] == "validation_failed"
    assert list(other.json["error"]["fields"]) == ["Idempotency-Key"]
    assert len(codes_of_the_day(redis)) == 1
    in_english = client.post(
        "/api/v1/bookings",
        json=booking_body(nik=body["nik"], slot="10:00"),
        headers={"Idempotency-Key": "one-key", "Accept-Language": "en"},
    )
    assert in_english.json["error"]["fields"] == {
        "Idempotency-Key": ["This key was already used for a booking with other data."]
    }


@pytest.mark.parametrize("key", ["", " padded ", "k" * 129, "kunci\tsatu", "é"])
def test_a_malformed_key_is_refused_naming_the_header(client, booking_body, key, redis):
    response = client.post("/api/v1/bookings", json=booking_body(), headers={"Idempotency-Key": key})

    assert response.status_code == 422, response.json
    assert list(response.json["error"]["fields"]) == ["Idempotency-Key"]
    assert codes_of_the_day(redis) == []


def test_without_a_key_nothing_changes(client, booking_body, redis):
    body = booking_body()
    assert post(client, body).status_code == 201
    twice = post(client, booking_body(nik=body["nik"]))

    assert twice.status_code == 409 and twice.json["error"]["code"] == "already_booked"
    assert not redis.keys("*:idem:*")


def test_the_key_is_kept_by_digest_in_the_branchs_tag_at_least_a_day(client, booking_body, redis):
    assert post(client, booking_body(), "secret-client-key").status_code == 201

    (stored,) = redis.keys("*:idem:*")
    assert stored == keys.booking_idempotency(BRANCH, "secret-client-key")
    assert stored.startswith("antrian:{b:jakarta-salemba}:idem:")
    assert "secret-client-key" not in stored and "secret-client-key" not in redis.get(stored)
    # On Redis's clock (under faketime it may stand 400 days past the booking's day).
    assert redis.pttl(stored) >= 24 * 3600 * 1000 - 60_000


def test_two_concurrent_requests_with_one_key_book_once(app, booking_body, redis):
    nik = booking_body()["nik"]
    bodies = [booking_body(nik=nik), booking_body(nik=nik)]
    answers = [None, None]
    start = threading.Barrier(2)

    def send(n):
        client = app.test_client()
        start.wait()
        answers[n] = post(client, bodies[n], "together")

    threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [answer.status_code for answer in answers] == [201, 201], [a.json for a in answers]
    assert answers[0].json["code"] == answers[1].json["code"]
    assert codes_of_the_day(redis) == [answers[0].json["code"]]


def test_a_retry_after_a_503_learns_the_booking_the_first_attempt_committed(
    app, client, booking_body, redis, clock
):
    # The first attempt's booking is committed (its key with it) and its answer lost, as when
    # Redis died just after the script ran: the reserve step run directly, the reply unseen.
    body = booking_body()
    request = BookingRequestSchema().load(body)
    reservations = app.extensions["antrian"].reservations
    committed = reservations.reserve(
        request, clock(), idempotency=IdempotencyKey("after-503", request_digest(request))
    )

    retry = post(client, booking_body(nik=body["nik"]), "after-503")

    assert retry.status_code == 201, retry.json
    assert retry.json["code"] == committed.code
    assert retry.json["queue_number"] == committed.queue_number
    assert codes_of_the_day(redis) == [committed.code]
    # Without the key the same retry is told only that the NIK holds a booking.
    assert post(client, booking_body(nik=body["nik"])).status_code == 409


def test_a_booking_answered_503_after_its_script_ran_is_the_retrys_201(
    make_app, booking_body, captcha_answer, redis, redis_server
):
    # Every reply to the booking script is lost, redis-py's own re-sends' too: the first run
    # commits the booking and its key, the request answers 503 (issue 24: 2 of 43 such).
    sha = redis.script_load(scripts.source("book"))
    proxy = ReplyDroppingProxy(redis_server.port)
    try:
        app = make_app(REDIS_URL=proxy.url)
        client = app.test_client()
        gate = app.extensions["antrian"].captcha
        body = {**booking_body(), "captcha_id": gate.create().id, "captcha_answer": captcha_answer}
        for _ in range(DEFAULT_RETRIES + 1):
            proxy.drop_reply_to(sha)
        lost = post(client, body, "lost-answer")
        assert lost.status_code == 503, lost.json
        assert proxy.dropped == DEFAULT_RETRIES + 1
        (committed,) = codes_of_the_day(redis)

        retry = post(client, {**body, "captcha_id": gate.create().id}, "lost-answer")
        without_key = post(client, {**body, "captcha_id": gate.create().id})
    finally:
        proxy.close()

    assert retry.status_code == 201, retry.json
    assert retry.json["code"] == committed and retry.json["queue_number"] == "A-001"
    assert without_key.status_code == 409 and without_key.json["error"]["code"] == "already_booked"
    assert codes_of_the_day(redis) == [committed]
    assert sms_events(redis, committed) == [f"{committed}:booked"]


def test_a_pending_hold_answers_with_its_deadline_again(make_app, booking_body, captcha_answer):
    app = make_app(PHONE_VERIFICATION=True)
    client = app.test_client()
    gate = app.extensions["antrian"].captcha
    body = {**booking_body(), "captcha_id": gate.create().id, "captcha_answer": captcha_answer}
    first = post(client, body, "hold-key")
    again = post(client, {**body, "captcha_id": gate.create().id}, "hold-key")

    assert first.status_code == 201 and first.json["status"] == "pending"
    assert "verify_by" in first.json
    assert again.status_code == 201 and again.json == first.json


def test_the_openapi_document_names_the_header_on_the_booking(client):
    operation = client.get("/api/v1/openapi.json").json["paths"]["/api/v1/bookings"]["post"]
    (header,) = [p for p in operation["parameters"] if p["in"] == "header"]

    assert header["name"] == "Idempotency-Key"
    assert header["schema"]["maxLength"] == 128
    assert not header.get("required")
