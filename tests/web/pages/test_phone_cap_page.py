"""The phone's cap of active bookings (``BOOKINGS_PER_PHONE``) on the API and the pages."""

import pytest

from tests.factories import make_nik
from tests.web.pages.forms import DETAILS


@pytest.fixture
def settings(settings):
    return {**settings, "BOOKINGS_PER_PHONE": 3}


def test_the_api_refuses_a_phone_s_fourth_booking_with_409_too_many_bookings(client, booking_body):
    for slot in ("09:00", "10:00", "11:00"):
        assert client.post("/api/v1/bookings", json=booking_body(slot=slot)).status_code == 201

    refused = client.post("/api/v1/bookings", json=booking_body(slot="13:00"))
    english = client.post(
        "/api/v1/bookings", json=booking_body(slot="13:00"), headers={"Accept-Language": "en"}
    )

    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "too_many_bookings"
    assert error["message"].startswith("Nomor HP ini sudah memiliki batas jumlah antrian aktif")
    assert english.get_json()["error"]["message"].startswith("This phone number already holds")
    assert (
        client.post("/api/v1/bookings", json=booking_body(slot="13:00", phone="081298765432")).status_code
        == 201
    )


def test_the_openapi_document_names_the_code(client):
    document = client.get("/api/v1/openapi.json").get_json()
    conflict = document["paths"]["/api/v1/bookings"]["post"]["responses"]["409"]
    assert "too_many_bookings" in conflict["description"]


def test_the_booking_form_says_so_at_the_top_and_offers_the_look_up(book_page):
    for slot in ("09:00", "10:00", "11:00"):
        assert book_page(nik=make_nik(), path=DETAILS.replace("09:00", slot)).status_code == 303

    refused = book_page(nik=make_nik(), path=DETAILS.replace("09:00", "13:00"))

    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "Nomor HP ini sudah memiliki batas jumlah antrian aktif" in html
    assert 'href="/kelola"' in html
