"""Fixtures of the page tests: a participant who goes through the forms."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import JAKARTA, booking_request, make_nik
from tests.web.pages.forms import DETAILS, form


@pytest.fixture
def person():
    """What a participant types in the details form."""
    return {
        "name": "Budi Santoso",
        "nik": make_nik(),
        "kpj": "12345678901",
        "phone": "081234567890",
        "email": "",
        "captcha_answer": "12345",
    }


@pytest.fixture
def details_form(client):
    """The details form's fields (hidden ones included) for a place: ``details_form()``."""

    def fetch(path: str = DETAILS) -> dict:
        response = client.get(path)
        assert response.status_code == 200
        return form(response.get_data(as_text=True), "/pesan")

    return fetch


@pytest.fixture
def book_page(client, details_form, person):
    """Send the details form filled in: ``book_page(nik=...)`` returns the response."""

    def send(path: str = DETAILS, **typed):
        fields = {**details_form(path), **person, **typed}
        return client.post("/pesan", data={**fields, "action": "book"})

    return send


@pytest.fixture
def arrive(app, reservations, clock, tune_branch):
    """``arrive("09:00", service="jkk")``: book that slot of Tuesday 24 November at Jakarta
    Salemba (on Monday) and check in at the kiosk on Tuesday at 08:30; returns the booking.
    The clock stays on Tuesday 09:00, the day the live queue is read for."""
    tune_branch("jakarta-salemba", slot_capacity=100)
    antrian = app.extensions["antrian"]
    monday = clock()
    kiosk, _token = antrian.kiosks.create("jakarta-salemba", "Pintu", monday)
    tuesday = dt.datetime(2026, 11, 24, 9, 0, tzinfo=JAKARTA)

    def make(slot: str = "09:00", service: str = "jht", **fields):
        clock.set(monday)
        booking = reservations.reserve(
            booking_request(slot=dt.time.fromisoformat(slot), service_id=service, **fields), monday
        )
        antrian.checkins.check_in(kiosk, booking.code, tuesday - dt.timedelta(minutes=30))
        clock.set(tuesday)
        return booking

    return make
