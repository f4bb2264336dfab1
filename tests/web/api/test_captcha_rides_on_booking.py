"""A plain booking's captcha rides on its first read (issue 24: one round trip less), beside
the count against the person's allowance where rate limits are on: the challenge is still
judged and consumed before anything is said or done of the other fields, and a wrong answer
takes its count back."""

from __future__ import annotations

import pytest

from queue_service.store import keys

BRANCH, DAY = "jakarta-salemba", "2026-11-24"


@pytest.fixture(params=[False, True], ids=["limits off", "limits on"])
def settings(settings, request):
    return {**settings, "RATELIMIT_ENABLED": request.param, "RATELIMIT_PER_PERSON": "2 per hour"}


def booked_that_day(redis) -> int:
    return int(redis.hget(keys.day_counts(BRANCH, DAY), "total") or 0)


def test_a_solved_captcha_books_and_is_used_up(client, booking_body, app):
    assert app.extensions["antrian"].reservations._captcha_rides()  # the path under test
    body = booking_body()
    booked = client.post("/api/v1/bookings", json=body)
    assert booked.status_code == 201, booked.get_json()
    again = client.post("/api/v1/bookings", json={**booking_body(), "captcha_id": body["captcha_id"]})
    assert again.status_code == 403 and again.get_json()["error"]["code"] == "captcha_failed"


def test_a_wrong_answer_books_nothing_and_uses_the_challenge_up(client, booking_body, redis):
    body = booking_body(captcha_answer="99999")
    refused = client.post("/api/v1/bookings", json=body)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "captcha_failed"
    assert booked_that_day(redis) == 0
    right = client.post("/api/v1/bookings", json={**body, "captcha_answer": booking_body()["captcha_answer"]})
    assert right.status_code == 403  # one guess a challenge, right or wrong
    assert booked_that_day(redis) == 0


def test_a_wrong_answer_is_said_before_wrong_fields_and_a_right_one_after(client, booking_body):
    wrong_both = client.post("/api/v1/bookings", json=booking_body(captcha_answer="99999", nik="12"))
    assert wrong_both.status_code == 403 and wrong_both.get_json()["error"]["code"] == "captcha_failed"
    body = booking_body(nik="12")
    wrong_fields = client.post("/api/v1/bookings", json=body)
    assert wrong_fields.status_code == 422 and "nik" in wrong_fields.get_json()["error"]["fields"]
    reused = client.post("/api/v1/bookings", json={**booking_body(), "captcha_id": body["captcha_id"]})
    assert reused.status_code == 403  # consumed with the fields' refusal


def test_an_unknown_challenge_is_refused_before_anything(client, booking_body, redis):
    for captcha_id in ("not-a-challenge", "A" * 22):
        refused = client.post("/api/v1/bookings", json=booking_body(captcha_id=captcha_id))
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "captcha_failed"
    assert booked_that_day(redis) == 0


def test_wrong_answers_from_one_address_spend_nothing_of_a_persons_allowance(
    client, booking_body, redis, app
):
    # Two attempts an hour per NIK and phone from an address; the count rides beside the
    # captcha, and a wrong answer takes it back.
    nik, address = booking_body()["nik"], {"REMOTE_ADDR": "10.7.0.1"}
    first = client.post("/api/v1/bookings", json=booking_body(phone="081311112222"), environ_base=address)
    assert first.status_code == 201  # someone else's: the server has the scripts from now on
    for _ in range(4):
        refused = client.post(
            "/api/v1/bookings", json=booking_body(nik=nik, captcha_answer="99999"), environ_base=address
        )
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "captcha_failed"
    booked = client.post("/api/v1/bookings", json=booking_body(nik=nik), environ_base=address)
    assert booked.status_code == 201, booked.get_json()
    counters = redis.keys("antrian:{a:*")
    if app.config["RATELIMIT_ENABLED"]:  # each booking's NIK and phone: its attempt alone
        assert sorted(int(redis.get(counter)) for counter in counters) == [1, 1, 1, 1]
    else:
        assert counters == []
