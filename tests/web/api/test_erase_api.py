"""POST /api/v1/bookings/<code>/erase: a participant's personal data gone from a booking that
no longer stands, at once, with nothing left that leads to them."""

import datetime as dt

from queue_service.domain import audit
from queue_service.store import keys
from tests.factories import JAKARTA, make_nik
from tests.redis_scan import found_in_clear

BRANCH = "jakarta-salemba"
PERSON = {"name": "Wiwik Sulastri", "kpj": "98765432109", "phone": "081298765432", "email": "wiwik@contoh.id"}
# What the person typed, and the phone as stored (E.164).
CLEAR = (*PERSON.values(), "+6281298765432", "6281298765432")


def booked(client, booking_body, **overrides) -> tuple[str, str]:
    body = booking_body(**PERSON, **overrides)
    response = client.post("/api/v1/bookings", json=body)
    assert response.status_code == 201, response.get_json()
    return response.json["code"], body["nik"]


def erase(client, code, nik):
    return client.post(f"/api/v1/bookings/{code}/erase", json={"nik": nik})


def test_a_cancelled_booking_is_erased_and_nothing_leads_to_its_person(client, booking_body, redis, clock):
    code, nik = booked(client, booking_body)
    assert client.post(f"/api/v1/bookings/{code}/cancel", json={"nik": nik}).status_code == 200
    assert "person:0" in redis.hgetall(keys.booking(BRANCH, code))  # sealed, until erased
    response = erase(client, code, nik)
    assert response.status_code == 200 and response.json == {"code": code, "status": "erased"}
    assert found_in_clear(redis, nik, *CLEAR) == []
    record = redis.hgetall(keys.booking(BRANCH, code))
    # What the counts and reports need stays.
    assert {field: record[field] for field in ("status", "date", "slot", "service_id", "queue_number")} == {
        "status": "cancelled",
        "date": "2026-11-24",
        "slot": "09:00",
        "service_id": "jht",
        "queue_number": "A-001",
    }
    assert not [field for field in record if field.startswith("person:")]
    assert "address" not in record and "erased_at" in record
    assert client.post("/api/v1/bookings/lookup", json={"code": code, "nik": nik}).status_code == 404
    assert erase(client, code, nik).status_code == 404
    (entry,) = [e for e in audit.read(redis, BRANCH) if e.action == "booking_erased"]
    assert entry.target == f"{BRANCH}/{code}" and entry.address == ""


def test_a_past_booking_is_erased_and_its_day_keeps_its_counts(client, booking_body, redis, clock):
    code, nik = booked(client, booking_body)
    clock.set(dt.datetime(2026, 11, 24, 23, 59, tzinfo=JAKARTA))
    still = erase(client, code, nik)
    assert still.status_code == 409 and still.json["error"]["code"] == "too_early"
    assert "Batalkan antriannya dulu" in still.json["error"]["message"]
    clock.set(dt.datetime(2026, 11, 25, 0, 1, tzinfo=JAKARTA))
    assert erase(client, code, nik).json == {"code": code, "status": "erased"}
    assert found_in_clear(redis, nik, *CLEAR) == []
    assert redis.hget(keys.day_counts(BRANCH, "2026-11-24"), "total") == "1"
    assert redis.hget(keys.slot_counts(BRANCH, "2026-11-24"), "09:00") == "1"


def test_an_active_booking_is_refused_409_naming_why_and_kept_whole(client, booking_body, redis):
    code, nik = booked(client, booking_body)
    before = redis.hgetall(keys.booking(BRANCH, code))
    response = erase(client, code, nik)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "too_early"
    assert response.json["error"]["message"].startswith("Data antrian yang masih aktif belum dapat dihapus")
    english = client.post(
        f"/api/v1/bookings/{code}/erase", json={"nik": nik}, headers={"Accept-Language": "en"}
    )
    assert "Cancel it first" in english.json["error"]["message"]
    assert redis.hgetall(keys.booking(BRANCH, code)) == before
    assert client.post("/api/v1/bookings/lookup", json={"code": code, "nik": nik}).status_code == 200


def test_a_wrong_nik_or_code_is_404_as_look_up_and_a_bad_body_names_the_field(client, booking_body):
    code, nik = booked(client, booking_body)
    client.post(f"/api/v1/bookings/{code}/cancel", json={"nik": nik})
    assert erase(client, code, make_nik()).status_code == 404
    assert erase(client, "7K3QX9MZ2W", nik).status_code == 404
    missing = client.post(f"/api/v1/bookings/{code}/erase", json={})
    assert missing.status_code == 422 and "nik" in missing.json["error"]["fields"]
    assert client.post("/api/v1/bookings/lookup", json={"code": code, "nik": nik}).status_code == 200


def test_an_sms_still_waiting_for_an_erased_booking_is_skipped(
    client, booking_body, work, sent_sms, delivery
):
    code, nik = booked(client, booking_body)
    work()
    client.post(f"/api/v1/bookings/{code}/cancel", json={"nik": nik})
    assert erase(client, code, nik).status_code == 200
    work()
    assert len(sent_sms()) == 1  # the confirmation; the cancellation had no phone left to go to
    assert delivery(code, "cancelled")["state"] == "skipped"


def test_waitlist_entries_that_left_or_whose_day_passed_are_erased(
    client, booking_body, redis, clock, tune_branch
):
    tune_branch(BRANCH, slot_capacity=1)
    assert client.post("/api/v1/bookings", json=booking_body(phone="081200000009")).status_code == 201
    joined = []
    for phone in ("081298765432", "081298765433"):
        body = booking_body(**{**PERSON, "phone": phone})
        del body["branch_id"]
        response = client.post(f"/api/v1/branches/{BRANCH}/waitlist", json=body)
        assert response.status_code == 201, response.get_json()
        joined.append((response.json["waitlist_id"], body["nik"]))
    (left, left_nik), (waiting, waiting_nik) = joined
    assert client.post(f"/api/v1/waitlist/{left}/leave", json={"nik": left_nik}).status_code == 200
    assert erase(client, left, left_nik).json == {"code": left, "status": "erased"}
    # One still in line stands until its day is over.
    assert erase(client, waiting, waiting_nik).json["error"]["code"] == "too_early"
    clock.set(dt.datetime(2026, 11, 25, 0, 1, tzinfo=JAKARTA))
    assert erase(client, waiting, waiting_nik).json == {"code": waiting, "status": "erased"}
    assert found_in_clear(redis, left_nik, waiting_nik, *CLEAR) == []
