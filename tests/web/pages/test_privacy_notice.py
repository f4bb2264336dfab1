"""Told at collection (issue 23, UU PDP): the booking form links the privacy notice beside its
submit button and asks no e-mail; the notice at /privasi says what is collected and why, the
legal basis, the retention, the SMS processor abroad, how to see and erase one's data and whom
to ask, in Bahasa Indonesia and English; an e-mail sent to the API is checked but not kept."""

from __future__ import annotations

import re

from queue_service.store import keys
from tests.web.pages.forms import DETAILS, form


def test_the_form_links_the_notice_right_before_its_submit_button_and_asks_no_email(client):
    html = client.get(DETAILS).text
    booking_form = html[html.index('action="/pesan"') : html.index("</form>", html.index('action="/pesan"'))]
    note, button = booking_form.index('id="privacy-note"'), booking_form.index('value="book"')
    assert note < button and "<input" not in booking_form[note:button]
    assert 'href="/privasi"' in booking_form[note:button]
    assert "dihapus 90 hari setelah kunjungan" in booking_form[note:button]
    assert 'aria-describedby="privacy-note"' in booking_form[button - 120 : button + 60]
    assert "email" not in form(html, "/pesan")


def test_the_footer_links_the_notice_on_every_participant_page(client):
    for path in ("/", DETAILS, "/kelola", "/privasi"):
        html = client.get(path).text
        footer = html[html.index('<footer class="foot">') :]
        assert 'href="/privasi"' in footer, path


def test_the_notice_in_bahasa_indonesia(client):
    response = client.get("/privasi")
    html = response.text
    assert response.status_code == 200 and '<html lang="id">' in html
    for told in (
        "Undang-Undang Nomor 27 Tahun 2022 tentang Pelindungan Data Pribadi",
        "Pasal 20 ayat (2) UU PDP",
        "NIK",
        "Nomor KPJ",
        "Nomor HP",
        "Alamat IP",
        "Email tidak diminta dan tidak disimpan",
        "dihapus otomatis 90 hari setelah hari kunjungannya",
        "Twilio Inc., penyedia layanan SMS di Amerika Serikat, sebagai pemroses data",
        "menghapus data pribadi Anda",
        "Kontak pelindungan data pribadi belum diatur",
    ):
        assert told in html, told
    assert 'href="/kelola"' in html  # where one sees and erases one's booking


def test_the_notice_in_english_through_the_language_switch(client):
    html = client.get("/privasi").text
    switch = re.search(r'href="([^"]+)" lang="en"', html).group(1).replace("&amp;", "&")
    english = client.get(switch).text
    assert '<html lang="en">' in english
    for told in (
        "Privacy notice",
        "Law No. 27 of 2022 on Personal Data Protection",
        "erased automatically 90 days after its visit day",
        "Twilio Inc., an SMS provider in the United States, as data processor",
        "No e-mail address is asked for or kept",
        "erase your personal data",
    ):
        assert told in english, told


def test_the_contact_and_retention_come_from_the_settings(make_app):
    app = make_app(PRIVACY_CONTACT="Pejabat PDP, pdp@contoh.go.id", PERSONAL_DATA_RETENTION_DAYS=30)
    html = app.test_client().get("/privasi").text
    assert "Pejabat PDP, pdp@contoh.go.id" in html and "belum diatur" not in html
    assert "dihapus otomatis 30 hari" in html


def test_an_email_given_to_the_api_is_checked_but_not_kept(client, booking_body, redis, reservations):
    refused = client.post("/api/v1/bookings", json=booking_body(email="bukan-email"))
    assert refused.status_code == 422 and "email" in refused.get_json()["error"]["fields"]
    made = client.post("/api/v1/bookings", json=booking_body(email="budi.santoso@contoh.id"))
    assert made.status_code == 201, made.get_json()
    booking = made.get_json()
    assert reservations.get("jakarta-salemba", booking["code"]).email is None
    stored = redis.hgetall(keys.booking("jakarta-salemba", booking["code"]))
    assert not stored.get("email")
    for key in redis.scan_iter(count=1000):
        if redis.type(key) == "hash":
            assert not any("contoh.id" in value for value in redis.hgetall(key).values()), key
