"""The manage page's "Hapus data saya": offered for a cancelled or past booking only, behind a
confirmation, and the booking is found by no one afterwards."""

import datetime as dt

import pytest

from queue_service.store import keys
from tests.factories import JAKARTA, booking_request
from tests.web.pages.forms import form, forms

ERASE = "/kelola/hapus-data"


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def booking(reservations, clock):
    return reservations.reserve(booking_request(email="budi@contoh.id"), clock())


def manage_page(client, booking) -> str:
    fields = form(text(client.get("/kelola")), "/kelola")
    response = client.post("/kelola", data={**fields, "code": booking.code, "nik": booking.nik})
    assert response.status_code == 200
    return text(response)


def test_an_active_booking_offers_no_erasure(client, booking):
    assert ERASE not in [f["action"] for f in forms(manage_page(client, booking))]


def test_a_cancelled_booking_is_erased_from_its_page_after_a_confirmation(
    client, booking, reservations, clock, redis
):
    reservations.cancel(booking.code, booking.nik, clock())
    page = manage_page(client, booking)
    assert "Hapus data saya" in page
    assert 'data-confirm="Hapus data pribadi Anda dari antrian ini?' in page
    response = client.post(ERASE, data=form(page, ERASE))
    assert response.status_code == 200 and "Data dihapus" in text(response)
    record = redis.hgetall(keys.booking("jakarta-salemba", booking.code))
    assert not [field for field in record if field.startswith("person:")]
    assert record["status"] == "cancelled"
    fields = form(text(client.get("/kelola")), "/kelola")
    again = client.post("/kelola", data={**fields, "code": booking.code, "nik": booking.nik})
    assert again.status_code == 404


def test_a_past_booking_is_erased_in_english_too(client, booking, clock):
    clock.set(dt.datetime(2026, 11, 25, 8, 0, tzinfo=JAKARTA))
    client.get("/?lang=en")
    page = manage_page(client, booking)
    assert "Erase my data" in page
    response = client.post(ERASE, data=form(page, ERASE))
    assert response.status_code == 200 and "Data erased" in text(response)


def test_erasing_without_the_form_token_is_refused(client, booking, reservations, clock, redis):
    reservations.cancel(booking.code, booking.nik, clock())
    page = manage_page(client, booking)
    data = {name: value for name, value in form(page, ERASE).items() if name != "csrf_token"}
    response = client.post(ERASE, data=data)
    assert response.status_code in (400, 403)
    assert redis.hget(keys.booking("jakarta-salemba", booking.code), "person:0") is not None
