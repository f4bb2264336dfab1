"""The booking form's choice of SMS or WhatsApp (issue 25): offered only while the service
sends WhatsApp (``TWILIO_WHATSAPP_FROM``), kept on the booking, named when refused."""

from __future__ import annotations

import pytest

from queue_service.store import keys
from tests.web.pages.forms import DETAILS, choices, form


@pytest.fixture
def settings(settings):
    return {**settings, "TWILIO_WHATSAPP_FROM": "+14155238886"}


def booked_channel(redis) -> str | None:
    [code] = redis.lrange(keys.day_bookings("jakarta-salemba", "2026-11-24"), 0, -1)
    return redis.hget(keys.booking("jakarta-salemba", code), "channel")


def test_the_form_offers_sms_first_and_books_the_choice(client, book_page, redis):
    html = client.get(DETAILS).get_data(as_text=True)
    assert choices(html, "channel") == (["sms", "whatsapp"], [])
    assert form(html, "/pesan")["channel"] == "sms"
    assert "Kirim pesan lewat" in html and "BATAL diikuti kode antrian" in html
    response = book_page(channel="whatsapp")
    assert response.status_code == 303
    assert booked_channel(redis) == "whatsapp"


def test_the_default_sms_is_not_stored_and_english_is(client, book_page, redis):
    client.get(f"{DETAILS}&lang=en")
    response = book_page(channel="sms")
    assert response.status_code == 303
    [code] = redis.lrange(keys.day_bookings("jakarta-salemba", "2026-11-24"), 0, -1)
    record = redis.hgetall(keys.booking("jakarta-salemba", code))
    assert "channel" not in record and record["language"] == "en"


def test_an_unknown_channel_is_named_beside_the_choice(book_page, redis):
    response = book_page(channel="fax")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<p class="error" id="e-channel">Saluran pesan: sms atau whatsapp.</p>' in html
    assert redis.llen(keys.day_bookings("jakarta-salemba", "2026-11-24")) == 0


def test_without_whatsapp_the_form_asks_nothing_and_books_sms(make_app, person, redis):
    client = make_app(TWILIO_WHATSAPP_FROM=None).test_client()
    html = client.get(DETAILS).get_data(as_text=True)
    assert choices(html, "channel") == ([], [])
    fields = {**form(html, "/pesan"), **person, "action": "book"}
    assert client.post("/pesan", data=fields).status_code == 303
    assert booked_channel(redis) is None


def test_the_privacy_notice_names_whatsapp_only_while_it_is_offered(client, make_app):
    html = client.get("/privasi").text
    assert "WhatsApp (Meta Platforms, Inc., Amerika Serikat)" in html
    assert "sampai Anda membalas MULAI" in html
    assert "WhatsApp (Meta Platforms, Inc., United States)" in client.get("/privasi?lang=en").text
    without = make_app(TWILIO_WHATSAPP_FROM=None).test_client()
    assert "WhatsApp" not in without.get("/privasi").text


def test_the_pages_after_the_form_say_whatsapp_for_a_whatsapp_booking(client, book_page):
    assert book_page(channel="whatsapp").status_code == 303
    html = client.get("/pesan/selesai").get_data(as_text=True)
    assert "Nomor antrian dan kode booking juga dikirim lewat WhatsApp." in html
    assert "lewat SMS" not in html


def test_the_verification_step_says_where_the_code_went(make_app, person):
    client = make_app(PHONE_VERIFICATION=True).test_client()
    fields = {**form(client.get(DETAILS).get_data(as_text=True), "/pesan"), **person, "action": "book"}
    response = client.post("/pesan", data={**fields, "channel": "whatsapp"})
    assert response.headers["Location"].endswith("/pesan/verifikasi")
    html = client.get("/pesan/verifikasi").get_data(as_text=True)
    assert "6 angka dari WhatsApp." in html and "6 angka dari SMS." not in html
