"""A waitlist offer's message (issue 25): a cancellation on a full slot offers the place to the
first on the waitlist, and a real worker texts it once, with the link to its accept page and
the deadline; accepted, the booking's own message follows."""

from __future__ import annotations

import pytest

from queue_service.domain.reservations.lookup import BookingLookup

BRANCH = "jakarta-salemba"
BASE = "https://antrian.example.go.id"


@pytest.fixture
def settings(settings):
    return {**settings, "PUBLIC_BASE_URL": BASE}


def offered_a_place(client, booking_body, book, tune_branch, redis) -> tuple[dict, dict]:
    """A full slot's waitlist joined, then its place freed by a cancellation (an offer made):
    the entry's join body and the join's answer."""
    tune_branch(BRANCH, slot_capacity=1)
    taken = book()
    body = booking_body(phone="081200000001")
    del body["branch_id"]
    entry = client.post(f"/api/v1/branches/{BRANCH}/waitlist", json=body).get_json()
    nik = BookingLookup(redis).get(BRANCH, taken["code"]).nik
    assert client.post(f"/api/v1/bookings/{taken['code']}/cancel", json={"nik": nik}).status_code == 200
    return body, entry


def test_the_offer_is_texted_with_its_link_then_the_booking(
    client, booking_body, book, tune_branch, work, sent_sms, redis
):
    body, entry = offered_a_place(client, booking_body, book, tune_branch, redis)

    work()

    [offer] = [sms for sms in sent_sms() if sms["event"] == "offer"]
    assert offer["to"] == "+6281200000001"
    assert f"{BASE}/daftar-tunggu/{entry['waitlist_id']}" in offer["body"]
    assert "09:00-09:30 WIB" in offer["body"]
    assert len(offer["body"]) <= 160
    accepted = client.post(f"/api/v1/waitlist/{entry['waitlist_id']}/accept", json={"nik": body["nik"]})
    assert accepted.status_code == 201
    work()
    assert [sms["event"] for sms in sent_sms() if sms["code"] == entry["waitlist_id"]] == ["offer", "booked"]


def test_an_offer_declined_before_its_message_went_is_not_sent(
    client, booking_body, book, tune_branch, work, sent_sms, redis, delivery
):
    body, entry = offered_a_place(client, booking_body, book, tune_branch, redis)
    left = client.post(f"/api/v1/waitlist/{entry['waitlist_id']}/leave", json={"nik": body["nik"]})
    assert left.status_code == 200

    work()

    assert [sms for sms in sent_sms() if sms["event"] == "offer"] == []
    assert delivery(entry["waitlist_id"], "offer")["state"] == "skipped"
