"""A phone whose owner sent BERHENTI/STOP gets no messages, so a booking held for its
one-time code would wait for nothing: the API and the form refuse it at once, naming the
phone and what to do (send MULAI), and book it again after MULAI."""

from __future__ import annotations

from tests.workers.test_whatsapp import (  # noqa: F401 - ``settings``: the WhatsApp set-up
    inbound,
    reply_of,
    settings,
)


def test_the_api_refuses_a_stopped_phones_booking_naming_phone_until_mulai(client, booking_body):
    assert reply_of(inbound(client, "STOP")).startswith("Anda tidak akan menerima pesan lagi")
    refused = client.post("/api/v1/bookings", json=booking_body())
    english = client.post("/api/v1/bookings", json=booking_body(), headers={"Accept-Language": "en"})
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert list(error["fields"]) == ["phone"]
    assert "Kirim MULAI lewat WhatsApp" in error["fields"]["phone"][0]
    assert "Send MULAI by WhatsApp" in english.get_json()["error"]["fields"]["phone"][0]

    reply_of(inbound(client, "MULAI"))
    booked = client.post("/api/v1/bookings", json=booking_body())
    assert booked.status_code == 201
    assert booked.get_json()["status"] == "pending"


def test_the_form_says_so_beside_the_phone(client, book_page):
    reply_of(inbound(client, "BERHENTI"))
    response = book_page()
    assert response.status_code == 422
    assert "Kirim MULAI lewat WhatsApp ke nomor Antrian BPJSTK" in response.get_data(as_text=True)


def test_joining_a_waitlist_with_a_stopped_phone_is_refused_the_same_way(client, booking_body):
    reply_of(inbound(client, "BERHENTI"))
    body = {key: value for key, value in booking_body().items() if key != "branch_id"}
    refused = client.post(f"/api/v1/branches/{booking_body()['branch_id']}/waitlist", json=body)
    assert refused.status_code == 422
    assert list(refused.get_json()["error"]["fields"]) == ["phone"]
