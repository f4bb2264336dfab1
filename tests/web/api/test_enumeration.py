"""Enumeration resistance: unguessable codes, and a wrong code/NIK pair told apart from nothing."""

from __future__ import annotations

import pytest

from queue_service.domain.codes import ALPHABET, LENGTH
from tests.factories import make_nik


@pytest.fixture
def booked(client, booking_body):
    body = booking_body()
    response = client.post("/api/v1/bookings", json=body)
    assert response.status_code == 201
    return {"code": response.get_json()["code"], "nik": body["nik"]}


def test_codes_are_ten_crockford_characters(client, booking_body):
    codes = {
        client.post("/api/v1/bookings", json=booking_body(slot=slot)).get_json()["code"]
        for slot in ("09:00", "09:30", "10:00")
    }

    assert len(codes) == 3
    assert all(len(code) == LENGTH == 10 and set(code) <= set(ALPHABET) for code in codes)


def test_lookup_wrong_nik_is_byte_for_byte_an_unknown_code(client, booked):
    other_nik = make_nik()
    unknown_code = "0000000000" if booked["code"] != "0000000000" else "1111111111"

    wrong_pair = client.post("/api/v1/bookings/lookup", json={"code": booked["code"], "nik": other_nik})
    unknown = client.post("/api/v1/bookings/lookup", json={"code": unknown_code, "nik": other_nik})
    malformed = client.post("/api/v1/bookings/lookup", json={"code": "??", "nik": other_nik})
    right = client.post("/api/v1/bookings/lookup", json=booked)

    assert wrong_pair.status_code == unknown.status_code == malformed.status_code == 404
    assert wrong_pair.data == unknown.data == malformed.data
    assert wrong_pair.get_json()["error"]["code"] == "not_found"
    assert right.status_code == 200


def test_cancel_wrong_nik_is_byte_for_byte_an_unknown_code(client, booked):
    other_nik = make_nik()

    wrong_pair = client.post(f"/api/v1/bookings/{booked['code']}/cancel", json={"nik": other_nik})
    unknown = client.post("/api/v1/bookings/ZZZZZZZZZZ/cancel", json={"nik": other_nik})
    lookup_unknown = client.post("/api/v1/bookings/lookup", json={"code": "ZZZZZZZZZZ", "nik": other_nik})

    assert wrong_pair.status_code == unknown.status_code == 404
    assert wrong_pair.data == unknown.data == lookup_unknown.data
    # The wrong pair cancelled nothing.
    assert client.post("/api/v1/bookings/lookup", json=booked).get_json()["status"] == "booked"
