"""The waitlist's pages (issue 25): a full slot's page offers its waitlist, the booking's form
joins it, and the page an offer links to accepts it with the NIK."""

from __future__ import annotations

import re

from queue_service.domain.accounts import BRANCH_ADMIN
from queue_service.domain.reservations.lookup import BookingLookup
from queue_service.store import keys
from tests.factories import booking_request
from tests.web.api.test_waitlist_api import full_slot_with_phone_verification
from tests.web.pages.forms import form
from tests.web.pages.test_admin_console import PASSWORD, sign_in

BRANCH = "jakarta-salemba"
SLOTS = f"/cabang/{BRANCH}/jht/2026-11-24"
JOIN = "/daftar-tunggu/baru?branch_id=jakarta-salemba&service_id=jht&date=2026-11-24&slot=09:00"


def test_join_from_a_full_slot_then_accept_the_offer(client, tune_branch, book, person, redis):
    tune_branch(BRANCH, slot_capacity=1)
    taken = book()
    slots = client.get(SLOTS).get_data(as_text=True)
    join_link = (
        "/daftar-tunggu/baru?branch_id=jakarta-salemba&amp;service_id=jht&amp;date=2026-11-24&amp;slot=09:00"
    )
    assert join_link in slots
    page = client.get(JOIN)
    assert page.status_code == 200
    fields = {**form(page.get_data(as_text=True), "/daftar-tunggu/baru"), **person}
    joined = client.post("/daftar-tunggu/baru", data=fields)
    assert joined.status_code == 303
    entry_page = joined.headers["Location"]
    waiting = client.get(entry_page).get_data(as_text=True)
    assert "nomor 1 dalam daftar tunggu" in waiting
    assert person["nik"] not in waiting

    nik = BookingLookup(redis).get(BRANCH, taken["code"]).nik
    client.post(f"/api/v1/bookings/{taken['code']}/cancel", json={"nik": nik})
    offered = client.get(entry_page).get_data(as_text=True)
    assert "Ada tempat untuk Anda" in offered
    accept_path = f"{entry_page}/terima"
    wrong = client.post(accept_path, data={**form(offered, accept_path), "nik": "3171011201909999"})
    assert wrong.status_code == 404
    accepted = client.post(accept_path, data={**form(offered, accept_path), "nik": person["nik"]})
    assert accepted.status_code == 303
    assert accepted.headers["Location"].endswith("/pesan/selesai")
    assert "A-002" in client.get("/pesan/selesai").get_data(as_text=True)


def test_joining_while_places_are_free_says_book_instead(client, person, app):
    page = client.get(
        "/daftar-tunggu/baru?branch_id=jakarta-salemba&service_id=jht&date=2026-11-24&slot=09:00"
    )
    fields = {**form(page.get_data(as_text=True), "/daftar-tunggu/baru"), **person}
    refused = client.post("/daftar-tunggu/baru", data=fields)
    assert refused.status_code == 409
    assert "silakan langsung pesan antrian" in refused.get_data(as_text=True)


def test_the_console_shows_each_days_waitlist_and_its_offers(
    client, app, tune_branch, book, booking_body, redis
):
    app.extensions["antrian"].accounts.create("siti", BRANCH_ADMIN, (BRANCH,), password=PASSWORD)
    tune_branch(BRANCH, slot_capacity=1)
    taken = book()
    for phone in ("081200000001", "081200000002"):
        body = booking_body(phone=phone)
        del body["branch_id"]
        assert client.post(f"/api/v1/branches/{BRANCH}/waitlist", json=body).status_code == 201
    nik = BookingLookup(redis).get(BRANCH, taken["code"]).nik
    client.post(f"/api/v1/bookings/{taken['code']}/cancel", json={"nik": nik})
    sign_in(client)
    page = client.get(f"/admin/cabang/{BRANCH}/tanggal").get_data(as_text=True)
    row = re.search(r"<tr><th scope=\"row\">Selasa, 24 November 2026</th>.*?</tr>", page, re.S).group(0)
    assert "<td>1</td><td>1 / 0 / 0</td>" in row


def test_where_whatsapp_is_offered_the_join_form_takes_the_channel_and_the_entry_keeps_it(
    make_app, tune_branch, person, redis
):
    app = make_app(TWILIO_WHATSAPP_FROM="whatsapp:+14155238886")
    client = app.test_client()
    tune_branch(BRANCH, slot_capacity=1)
    app.extensions["antrian"].reservations.reserve(booking_request(), app.extensions["antrian"].clock())
    page = client.get(JOIN).get_data(as_text=True)
    assert 'name="channel" value="whatsapp"' in page
    joined = client.post(
        "/daftar-tunggu/baru", data={**form(page, "/daftar-tunggu/baru"), **person, "channel": "whatsapp"}
    )
    assert joined.status_code == 303
    code = joined.headers["Location"].rsplit("/", 1)[1]
    assert redis.hget(keys.booking(BRANCH, code), "channel") == "whatsapp"


def test_an_entry_waiting_for_its_code_can_ask_for_a_new_one(make_app, tune_branch, booking_body, redis):
    client, gate = full_slot_with_phone_verification(make_app, tune_branch, booking_body, redis)
    body = {**booking_body(captcha_id=gate.create().id), "nik": "3171011201900777", "phone": "081200000777"}
    entry = client.post(f"/api/v1/branches/{BRANCH}/waitlist", json=body).get_json()["waitlist_id"]
    page_path = f"/daftar-tunggu/{entry}"
    resend_path = f"{page_path}/kirim-ulang"
    pending = client.get(page_path).get_data(as_text=True)
    assert "Kirim ulang kode" in pending

    too_soon = client.post(resend_path, data={**form(pending, resend_path), "nik": body["nik"]})
    assert too_soon.status_code == 429 and "Retry-After" in too_soon.headers
    redis.hset(keys.booking(BRANCH, entry), "otp_sent_ms", 0)  # a minute and more ago
    sent = client.post(resend_path, data={**form(pending, resend_path), "nik": body["nik"]})
    assert sent.status_code == 200
    assert "Kode baru sudah dikirim" in sent.get_data(as_text=True)
    assert redis.hget(keys.booking(BRANCH, entry), "otp_sends") == "2"
