"""The waitlist's API (SPEC §6): join a full slot's waitlist (a booking's checks, 201
``{waitlist_id, position}``), accept the place a cancellation offers (201 the booking), leave;
the refusals' shapes."""

from __future__ import annotations

import pytest

from queue_service.store import keys

BRANCH = "jakarta-salemba"
WAITLIST = f"/api/v1/branches/{BRANCH}/waitlist"


@pytest.fixture
def full(tune_branch, book, app):
    """Tuesday 09:00 at Jakarta Salemba holds one place, taken."""
    tune_branch(BRANCH, slot_capacity=1)
    return book()


def join_body(booking_body, **fields) -> dict:
    body = booking_body(**fields)
    del body["branch_id"]
    return body


def test_join_then_a_cancellation_offers_the_place_and_accept_books_it(client, booking_body, full, redis):
    first_body = join_body(booking_body, phone="081200000001")
    joined = client.post(WAITLIST, json=first_body)
    assert joined.status_code == 201, joined.get_json()
    first = joined.get_json()
    assert first["position"] == 1 and first["status"] == "waiting"
    second = client.post(WAITLIST, json=join_body(booking_body, phone="081200000002")).get_json()
    assert second["position"] == 2

    cancelled = client.post(f"/api/v1/bookings/{full['code']}/cancel", json={"nik": full_nik(redis, full)})
    assert cancelled.status_code == 200
    assert f"{first['waitlist_id']}:offer" in redis.zrange(keys.sms_outbox(BRANCH), 0, -1)

    accepted = client.post(f"/api/v1/waitlist/{first['waitlist_id']}/accept", json={"nik": first_body["nik"]})
    assert accepted.status_code == 201, accepted.get_json()
    booking = accepted.get_json()
    assert (booking["status"], booking["slot"]["start"]) == ("booked", "09:00")
    assert booking["queue_number"] == "A-002"
    assert booking["code"] == first["waitlist_id"]
    lookup = {"code": booking["code"], "nik": first_body["nik"]}
    looked_up = client.post("/api/v1/bookings/lookup", json=lookup)
    assert looked_up.get_json()["status"] == "booked"


def full_nik(redis, booking: dict) -> str:
    from queue_service.domain.reservations.lookup import BookingLookup  # noqa: PLC0415

    return BookingLookup(redis).get(BRANCH, booking["code"]).nik


def test_join_while_a_place_is_free_is_409_not_full(client, booking_body, tune_branch, app):
    response = client.post(WAITLIST, json=join_body(booking_body))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "not_full"


def test_join_checks_the_fields_as_a_booking_after_the_captcha(client, booking_body, full):
    wrong = client.post(WAITLIST, json=join_body(booking_body, nik="123", phone="x"))
    assert wrong.status_code == 422
    assert set(wrong.get_json()["error"]["fields"]) == {"nik", "phone"}
    no_captcha = client.post(WAITLIST, json=join_body(booking_body, captcha_answer="99999", nik="123"))
    assert no_captcha.status_code == 403
    assert no_captcha.get_json()["error"]["code"] == "captcha_failed"


def test_one_entry_per_nik_and_date_and_leaving(client, booking_body, full):
    body = join_body(booking_body)
    entry = client.post(WAITLIST, json=body).get_json()
    again = client.post(WAITLIST, json={**join_body(booking_body), "nik": body["nik"]})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_booked"
    leave = f"/api/v1/waitlist/{entry['waitlist_id']}/leave"
    wrong_nik = client.post(leave, json={"nik": "3171011201900999"})
    assert wrong_nik.status_code == 404
    left = client.post(f"/api/v1/waitlist/{entry['waitlist_id']}/leave", json={"nik": body["nik"]})
    assert left.status_code == 200
    assert left.get_json() == {"waitlist_id": entry["waitlist_id"], "position": None, "status": "left"}
    not_offered = client.post(f"/api/v1/waitlist/{entry['waitlist_id']}/accept", json={"nik": body["nik"]})
    assert not_offered.status_code == 409


def test_accept_before_an_offer_is_409_not_offered_and_a_bad_body_422(client, booking_body, full):
    body = join_body(booking_body)
    entry = client.post(WAITLIST, json=body).get_json()
    early = client.post(f"/api/v1/waitlist/{entry['waitlist_id']}/accept", json={"nik": body["nik"]})
    assert early.status_code == 409
    assert early.get_json()["error"]["code"] == "not_offered"
    bad = client.post(f"/api/v1/waitlist/{entry['waitlist_id']}/accept", json={"nikk": "1"})
    assert bad.status_code == 422
    unknown = client.post("/api/v1/waitlist/ZZZZZZZZ/accept", json={"nik": body["nik"]})
    assert unknown.status_code == 404


def full_slot_with_phone_verification(make_app, tune_branch, booking_body, redis):
    """An app with ``PHONE_VERIFICATION`` whose slot of one place holds a verified booking:
    the slot is full. Returns the app's client and its captcha gate."""
    app = make_app(PHONE_VERIFICATION=True)
    client = app.test_client()
    tune_branch(BRANCH, slot_capacity=1)
    gate = app.extensions["antrian"].captcha
    first = booking_body(captcha_id=gate.create().id)
    taken = client.post("/api/v1/bookings", json=first).get_json()
    otp = redis.hget(keys.booking(BRANCH, taken["code"]), "otp")
    client.post(f"/api/v1/bookings/{taken['code']}/verify", json={"nik": first["nik"], "otp": otp})
    return client, gate


def test_with_phone_verification_an_entry_is_in_line_once_its_code_comes_back(
    make_app, booking_body, redis, tune_branch
):
    client, gate = full_slot_with_phone_verification(make_app, tune_branch, booking_body, redis)
    body = join_body(booking_body, captcha_id=gate.create().id)
    joined = client.post(WAITLIST, json=body)
    assert joined.status_code == 201, joined.get_json()
    entry = joined.get_json()
    assert (entry["status"], entry["position"]) == ("pending", None) and entry["verify_by"]
    verify = f"/api/v1/waitlist/{entry['waitlist_id']}/verify"
    wrong = client.post(verify, json={"nik": body["nik"], "otp": "000000"})
    assert wrong.status_code == 403
    assert wrong.get_json()["error"]["code"] == "verification_failed"
    otp = redis.hget(keys.booking(BRANCH, entry["waitlist_id"]), "otp")
    in_line = client.post(verify, json={"nik": body["nik"], "otp": otp})
    assert in_line.status_code == 200
    assert in_line.get_json() == {"waitlist_id": entry["waitlist_id"], "position": 1, "status": "waiting"}


def test_leave_after_accept_is_409_already_accepted_and_accept_after_cancel_409_cancelled(
    client, booking_body, full, redis
):
    body = join_body(booking_body, phone="081200000001")
    entry = client.post(WAITLIST, json=body).get_json()["waitlist_id"]
    client.post(f"/api/v1/bookings/{full['code']}/cancel", json={"nik": full_nik(redis, full)})
    nik = {"nik": body["nik"]}
    assert client.post(f"/api/v1/waitlist/{entry}/accept", json=nik).status_code == 201

    left = client.post(f"/api/v1/waitlist/{entry}/leave", json=nik, headers={"Accept-Language": "en"})
    assert left.status_code == 409
    assert left.get_json()["error"]["code"] == "already_accepted"
    assert "cancel the booking" in left.get_json()["error"]["message"]

    assert client.post(f"/api/v1/bookings/{entry}/cancel", json=nik).status_code == 200
    again = client.post(f"/api/v1/waitlist/{entry}/accept", json=nik)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "cancelled"
    gone = client.post(f"/api/v1/waitlist/{entry}/leave", json=nik)
    assert gone.status_code == 409
    assert gone.get_json()["error"]["code"] == "cancelled"


def test_an_entry_held_for_its_code_gets_a_new_one_as_a_booking_does(
    make_app, booking_body, redis, tune_branch
):
    client, gate = full_slot_with_phone_verification(make_app, tune_branch, booking_body, redis)
    body = join_body(booking_body, captcha_id=gate.create().id)
    entry = client.post(WAITLIST, json=body).get_json()["waitlist_id"]
    record = keys.booking(BRANCH, entry)
    resend = f"/api/v1/waitlist/{entry}/verify/resend"

    too_soon = client.post(resend, json={"nik": body["nik"]})
    assert too_soon.status_code == 429 and int(too_soon.headers["Retry-After"]) > 0
    old = redis.hget(record, "otp")
    redis.hset(record, "otp_sent_ms", 0)  # a minute and more ago
    again = client.post(resend, json={"nik": body["nik"]})
    assert again.status_code == 202, again.get_json()
    assert again.get_json()["status"] == "pending"
    new = redis.hget(record, "otp")
    assert new != old and redis.zscore(keys.sms_outbox(BRANCH), f"{entry}:otp2") is not None
    assert client.post(resend, json={"nik": "3171011201900999"}).status_code == 404  # another NIK

    verify = f"/api/v1/waitlist/{entry}/verify"
    assert client.post(verify, json={"nik": body["nik"], "otp": old}).status_code == 403
    assert client.post(verify, json={"nik": body["nik"], "otp": new}).get_json()["status"] == "waiting"
    in_line = client.post(resend, json={"nik": body["nik"]})  # no code needed now
    assert in_line.status_code == 202 and in_line.get_json()["status"] == "waiting"
    assert client.post(f"/api/v1/waitlist/{entry}/leave", json={"nik": body["nik"]}).status_code == 200
    left = client.post(resend, json={"nik": body["nik"]})
    assert left.status_code == 409 and left.get_json()["error"]["code"] == "cancelled"
