"""The booking API with ``PHONE_VERIFICATION=1`` (SPEC §6): a booking is held ``pending``
until the six-digit code the worker texts to its phone comes back, then ``booked``; wrong
codes, deadlines and re-sends. The code is read where the participant reads it: from the SMS
the worker sent (the ``file`` backend)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from queue_service.store import keys
from tests.factories import JAKARTA

DAY = "2026-11-24"
AVAILABILITY = f"/api/v1/branches/jakarta-salemba/availability?date={DAY}&service=jht"


@pytest.fixture
def settings(settings):
    return {**settings, "PHONE_VERIFICATION": True}


def texted_code(sent_sms, code: str, event: str = "otp") -> str:
    """The one-time code in the SMS of ``event`` for booking ``code``."""
    bodies = [sms["body"] for sms in sent_sms() if sms["code"] == code and sms["event"] == event]
    assert len(bodies) == 1, bodies
    return bodies[0][:6]


def book(client, booking_body, **fields):
    response = client.post("/api/v1/bookings", json=booking_body(**fields))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_booking_is_held_then_booked_by_the_texted_code_and_only_then_confirmed_by_sms(
    client, booking_body, work, sent_sms
):
    body = booking_body()
    held = client.post("/api/v1/bookings", json=body)

    assert held.status_code == 201
    answer = held.get_json()
    assert answer["status"] == "pending"
    deadline = dt.datetime.fromisoformat(answer["verify_by"])
    assert deadline.utcoffset() == dt.timedelta(hours=7)  # the branch's offset (WIB)
    assert 9 * 60 < (deadline - dt.datetime.now(JAKARTA)).total_seconds() <= 10 * 60
    work()
    assert [sms["event"] for sms in sent_sms()] == ["otp"]
    assert sent_sms()[0]["to"] == "+6281234567890"
    otp = texted_code(sent_sms, answer["code"])
    # The code is never in an answer.
    assert otp not in held.get_data(as_text=True)

    verified = client.post(f"/api/v1/bookings/{answer['code']}/verify", json={"nik": body["nik"], "otp": otp})

    assert verified.status_code == 200
    assert verified.get_json()["status"] == "booked"
    assert "verify_by" not in verified.get_json()
    assert verified.get_json()["queue_number"] == answer["queue_number"]
    work()
    assert [sms["event"] for sms in sent_sms()] == ["otp", "booked"]
    looked_up = client.post("/api/v1/bookings/lookup", json={"code": answer["code"], "nik": body["nik"]})
    assert looked_up.get_json()["status"] == "booked"


def test_a_hold_looked_up_says_it_is_pending_and_until_when(client, booking_body):
    body = booking_body()
    held = book(client, lambda **kw: body)

    looked_up = client.post("/api/v1/bookings/lookup", json={"code": held["code"], "nik": body["nik"]})

    assert looked_up.get_json()["status"] == "pending"
    assert looked_up.get_json()["verify_by"] == held["verify_by"]


def test_wrong_codes_are_403_and_the_third_releases_the_hold_for_good(
    client, booking_body, work, sent_sms, redis
):
    body = booking_body()
    before = client.get(AVAILABILITY).get_json()["remaining"]
    held = book(client, lambda **kw: body)
    work()
    otp = texted_code(sent_sms, held["code"])
    wrong = f"{(int(otp) + 1) % 10**6:06d}"
    url = f"/api/v1/bookings/{held['code']}/verify"

    answers = [client.post(url, json={"nik": body["nik"], "otp": wrong}) for _ in range(3)]

    assert [a.status_code for a in answers] == [403, 403, 403]
    assert {a.get_json()["error"]["code"] for a in answers} == {"verification_failed"}
    late = client.post(url, json={"nik": body["nik"], "otp": otp})
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "hold_expired"
    assert client.get(AVAILABILITY).get_json()["remaining"] == before


def test_a_malformed_code_is_422_naming_otp_and_counts_nothing(client, booking_body, redis):
    body = booking_body()
    held = book(client, lambda **kw: body)

    for otp in ("12345", "1234567", "abcdef", "12 456"):
        answer = client.post(f"/api/v1/bookings/{held['code']}/verify", json={"nik": body["nik"], "otp": otp})
        assert answer.status_code == 422
        assert list(answer.get_json()["error"]["fields"]) == ["otp"]
    assert redis.hget(keys.booking("jakarta-salemba", held["code"]), "otp_failures") is None


def test_another_nik_or_code_is_not_found(client, booking_body):
    body = booking_body()
    held = book(client, lambda **kw: body)

    for code, nik in ((held["code"], "3171011201909999"), ("AAAAAAAAAA", body["nik"])):
        answer = client.post(f"/api/v1/bookings/{code}/verify", json={"nik": nik, "otp": "123456"})
        assert answer.status_code == 404


def test_a_new_code_is_202_and_the_next_within_a_minute_429_with_retry_after(
    client, booking_body, work, sent_sms, redis
):
    body = booking_body()
    held = book(client, lambda **kw: body)
    url = f"/api/v1/bookings/{held['code']}/verify/resend"

    too_soon = client.post(url, json={"nik": body["nik"]})
    assert too_soon.status_code == 429
    assert too_soon.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(too_soon.headers["Retry-After"]) <= 60

    redis.hincrby(keys.booking("jakarta-salemba", held["code"]), "otp_sent_ms", -60_000)  # a minute on
    again = client.post(url, json={"nik": body["nik"]})
    assert again.status_code == 202
    assert again.get_json()["status"] == "pending"
    work()
    otp = texted_code(sent_sms, held["code"], "otp2")
    verified = client.post(f"/api/v1/bookings/{held['code']}/verify", json={"nik": body["nik"], "otp": otp})
    assert verified.get_json()["status"] == "booked"


def test_twenty_places_from_two_addresses_with_made_up_phones_none_booked_all_released(
    app, client, booking_body, work, redis, settings
):
    """The hoarding script of issue 20: holds it cannot confirm, released at their deadline,
    and the day as it was."""
    app.extensions["antrian"].reservations.reserving.hold_ms = 600  # a deadline the test waits for
    before = client.get(AVAILABILITY).get_json()
    made_up = [f"08129{n:07d}" for n in range(20)]
    codes = []
    for n, phone in enumerate(made_up):
        address = f"198.51.100.{n % 2 + 1}"
        slot = ("09:00", "09:30", "10:00")[n % 3]
        response = client.post(
            "/api/v1/bookings",
            json=booking_body(phone=phone, slot=slot),
            environ_base={"REMOTE_ADDR": address},
        )
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["status"] == "pending"
        codes.append(response.get_json()["code"])
    assert client.get(AVAILABILITY).get_json()["remaining"] == before["remaining"] - 20
    time.sleep(0.8)

    work()  # the worker's sweep (no booking comes to release them)

    statuses = {redis.hget(keys.booking("jakarta-salemba", code), "status") for code in codes}
    assert statuses == {"expired"}
    assert client.get(AVAILABILITY).get_json() == before
    assert redis.zcard(keys.branch_holds("jakarta-salemba")) == 0


def test_the_kiosk_knows_no_hold_and_says_a_released_one_ran_out(app, client, booking_body, clock, redis):
    body = booking_body()
    held = book(client, lambda **kw: body)
    _kiosk, token = app.extensions["antrian"].kiosks.create("jakarta-salemba", "Pintu depan", clock())
    door = {"Authorization": f"Bearer {token}"}
    clock.set(dt.datetime(2026, 11, 24, 8, 50, tzinfo=JAKARTA))

    pending = client.post("/api/v1/kiosk/checkins", json={"code": held["code"]}, headers=door)
    assert pending.status_code == 404

    otp = redis.hget(keys.booking("jakarta-salemba", held["code"]), "otp")
    wrong = f"{(int(otp) + 1) % 10**6:06d}"
    for _ in range(3):
        client.post(f"/api/v1/bookings/{held['code']}/verify", json={"nik": body["nik"], "otp": wrong})
    released = client.post("/api/v1/kiosk/checkins", json={"code": held["code"]}, headers=door)
    assert released.status_code == 409
    assert released.get_json()["error"]["code"] == "hold_expired"
