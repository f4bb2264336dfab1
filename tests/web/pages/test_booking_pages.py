"""The booking pages, as a browser without JavaScript uses them (Flask's test client)."""

import datetime as dt
import re

from queue_service.domain import calendar, schedules
from queue_service.domain.audit import Actor
from queue_service.store import keys
from tests.factories import JAKARTA, booking_request, make_nik
from tests.web.pages.forms import DETAILS, form


def text(response) -> str:
    return response.get_data(as_text=True)


def day_bookings(redis, day="2026-11-24"):
    return redis.lrange(keys.day_bookings("jakarta-salemba", day), 0, -1)


def test_the_home_page_lists_the_areas_in_indonesian(client):
    response = client.get("/")
    html = text(response)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert '<html lang="id">' in html and "Pilih wilayah" in html
    assert 'href="/wilayah/dki-jakarta"' in html and "Sulawesi" in html
    assert 'href="/?lang=en"' in html  # the visible switch


def test_an_area_lists_online_branches_first_and_says_which_take_no_bookings(client):
    html = text(client.get("/wilayah/dki-jakarta"))
    online = html.index("Jakarta Salemba")
    offline = html.index("Jakarta Rawamangun")
    assert online < offline
    assert "Belum melayani antrian online" in html[offline:]
    assert "Jl. Pemuda No. 70" in html[offline:]


def test_a_branch_without_online_booking_shows_its_address_and_hours(client):
    html = text(client.get("/cabang/jakarta-rawamangun"))
    assert "belum melayani antrian online" in html
    assert "Jl. Pemuda No. 70" in html and "08:00–12:00, 13:00–15:00" in html
    assert "/cabang/jakarta-rawamangun/jht" not in html


def test_services_say_what_to_bring_with_the_jht_reasons(client):
    html = text(client.get("/cabang/jakarta-salemba"))
    assert 'href="/cabang/jakarta-salemba/jht"' in html
    assert "KTP elektronik (asli)" in html and "paklaring" in html
    for reason in (
        "Mengundurkan diri",
        "Pemutusan hubungan kerja",
        "usia pensiun (56 tahun)",
        "Cacat total tetap",
        "meninggal dunia",
        "luar negeri",
    ):
        assert reason in html
    assert "1 bulan setelah tanggal berhenti bekerja" in html


def test_dates_show_the_window_with_places_left_and_why_closed_days_are(
    app, client, redis, tune_branch, clock
):
    tune_branch("jakarta-salemba", booking_window_days=40)
    app.extensions["antrian"].tuning.set_date(
        "jakarta-salemba",
        dt.date(2026, 11, 26),
        schedules.DateOverride(closed=True, note="Renovasi gedung"),
        Actor("admin", "national_admin", "cli"),
        clock(),
    )
    calendar.close_nationally(redis, dt.date(2026, 11, 27), "Banjir")
    html = text(client.get("/cabang/jakarta-salemba/jht"))
    assert "Senin, 23 November 2026" in html and "Sabtu, 2 Januari 2027" in html
    assert "Minggu, 3 Januari 2027" not in html  # beyond the window
    assert 'href="/cabang/jakarta-salemba/jht/2026-11-24"' in html and "sisa 160 kuota" in html
    assert "Kantor tutup: Renovasi gedung" in html
    assert "Semua kantor tutup: Banjir" in html
    assert f"Libur nasional: {calendar.public_holiday(dt.date(2026, 12, 25))}" in html
    assert f"Cuti bersama: {calendar.collective_leave(dt.date(2026, 12, 24))}" in html
    assert "/cabang/jakarta-salemba/jht/2026-11-26" not in html


def test_today_is_not_offered_once_its_last_slot_has_closed(client, clock):
    from tests.factories import JAKARTA

    today = "/cabang/jakarta-salemba/jht/2026-11-23"
    assert f'href="{today}"' in text(client.get("/cabang/jakarta-salemba/jht"))  # 07:00
    clock.set(dt.datetime(2026, 11, 23, 14, 0, tzinfo=JAKARTA))  # past every slot's cutoff
    html = text(client.get("/cabang/jakarta-salemba/jht"))
    assert f'href="{today}"' not in html and "Pemesanan sudah ditutup" in html
    assert 'href="/cabang/jakarta-salemba/jht/2026-11-24"' in html


def test_slots_show_places_left_and_disable_full_and_closed_ones(client, reservations, clock, tune_branch):
    tune_branch("jakarta-salemba", slot_capacity=1)
    reservations.reserve(booking_request(date=dt.date(2026, 11, 23), slot=dt.time(10, 0)), clock())
    clock.set(dt.datetime(2026, 11, 23, 8, 30, tzinfo=JAKARTA))
    html = text(client.get("/cabang/jakarta-salemba/jht/2026-11-23"))
    slot = {
        m[0]: m[1]
        for m in re.findall(
            r'value="(\d\d:\d\d)" required( disabled)?>\s*<span>[^<]*</span>\s*<span class="left">'
            r"([^<]*)<",
            html,
        )
        for m in [(m[0], (m[1], m[2]))]
    }
    assert slot["09:00"] == (" disabled", "Ditutup")  # within the 60-minute cutoff
    assert slot["10:00"] == (" disabled", "Penuh")
    assert slot["10:30"] == ("", "sisa 1")
    assert "10:30–11:00 WIB" in html


def test_a_whole_booking_without_javascript(client, book_page, person, redis, sent_sms):
    response = book_page()
    assert response.status_code == 303
    assert response.headers["Location"] == "/pesan/selesai"
    assert person["nik"] not in response.headers["Location"]
    page = client.get("/pesan/selesai")
    html = text(page)
    assert page.headers["Cache-Control"] == "no-store"
    [code] = day_bookings(redis)
    assert "A-001" in html and f"{code[:5]} {code[5:]}" in html
    # A full QR (version 1: 21 modules and a 4-module quiet zone, at 4 units each), which
    # kiosk scanners read; not a Micro QR.
    assert '<svg viewBox="0 0 116 116"' in html and "Kode QR antrian" in html
    assert "Selasa, 24 November 2026" in html and "09:00–09:30 WIB" in html
    assert "Jl. Salemba Raya No. 55" in html and "KTP elektronik (asli)" in html
    assert f'href="/kelola?kode={code}"' in html
    assert person["nik"] not in html


def test_a_validation_error_keeps_the_input_and_puts_each_message_beside_its_field(book_page, person, redis):
    response = book_page(nik="1234", phone="021555")
    html = text(response)
    assert response.status_code == 422
    assert 'role="alert"' in html and "Ada isian yang tidak valid." in html
    assert 'aria-describedby="e-nik h-nik"' in html and 'aria-invalid="true"' in html
    assert '<p class="error" id="e-nik">NIK harus 16 digit angka.</p>' in html
    assert 'id="e-phone"' in html and 'id="e-name"' not in html
    assert f'value="{person["name"]}"' in html and 'value="1234"' in html
    assert day_bookings(redis) == []


def test_a_wrong_captcha_says_so_beside_the_captcha_and_books_nothing(book_page, redis):
    response = book_page(captcha_answer="99999")
    html = text(response)
    assert response.status_code == 403
    assert '<p class="error" id="e-captcha_answer">Captcha salah' in html
    assert day_bookings(redis) == []


def test_a_new_captcha_image_keeps_the_input(client, details_form, person):
    fields = {**details_form(), **person}
    response = client.post("/pesan", data={**fields, "action": "refresh"})
    html = text(response)
    assert response.status_code == 200
    assert form(html, "/pesan")["captcha_id"] != fields["captcha_id"]
    assert f'value="{person["nik"]}"' in html


def test_a_form_sent_twice_books_once_and_shows_the_same_booking(client, details_form, person, redis):
    fields = {**details_form(), **person, "action": "book"}
    first = client.post("/pesan", data=fields)
    confirmation = text(client.get("/pesan/selesai"))
    second = client.post("/pesan", data=fields)
    assert first.status_code == second.status_code == 303
    assert len(day_bookings(redis)) == 1
    assert text(client.get("/pesan/selesai")) == confirmation


def test_a_second_booking_for_the_nik_and_date_is_refused_with_a_way_to_the_first(book_page, person, redis):
    assert book_page().status_code == 303
    again = book_page(nik=person["nik"], path=DETAILS.replace("09:00", "10:00"))
    html = text(again)
    assert again.status_code == 409
    assert "NIK ini sudah memiliki antrian aktif" in html and 'href="/kelola"' in html
    assert len(day_bookings(redis)) == 1


def test_a_slot_that_filled_meanwhile_says_so_and_offers_another(
    book_page, details_form, client, person, tune_branch
):
    tune_branch("jakarta-salemba", slot_capacity=1)
    fields = {**details_form(), **person, "action": "book"}
    assert book_page(nik=make_nik()).status_code == 303
    response = client.post("/pesan", data=fields)
    html = text(response)
    assert response.status_code == 409
    assert "Jam kedatangan ini sudah penuh" in html
    assert 'href="/cabang/jakarta-salemba/jht/2026-11-24"' in html


def test_a_spent_personal_allowance_says_when_to_come_back(make_app, person):
    client = make_app(RATELIMIT_PER_PERSON="2 per hour").test_client()

    def send():
        fields = form(client.get(DETAILS).get_data(as_text=True), "/pesan")
        return client.post("/pesan", data={**fields, **person, "action": "book"})

    assert [send().status_code, send().status_code] == [303, 409]  # booked, then the same NIK
    refused = send()

    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    assert 60 < int(refused.headers["Retry-After"]) <= 3600
    assert refused.headers["X-RateLimit-Limit"] == "2"
    assert refused.headers["X-RateLimit-Remaining"] == "0"


def test_a_form_without_its_csrf_token_is_refused_and_books_nothing(client, details_form, person, redis):
    fields = {**details_form(), **person, "action": "book"}
    del fields["csrf_token"]
    response = client.post("/pesan", data=fields)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "Formulir sudah kedaluwarsa" in text(response)
    assert day_bookings(redis) == []


def test_the_json_api_needs_no_csrf_token(book):
    assert book()["queue_number"] == "A-001"


def test_unknown_places_are_html_404s(client):
    for path in (
        "/wilayah/atlantis",
        "/cabang/atlantis",
        "/cabang/jakarta-salemba/nope",
        "/cabang/jakarta-salemba/jht/2026-13-45",
        "/pesan?branch_id=jakarta-salemba&service_id=jht&date=2026-11-24&slot=09:10",
    ):
        response = client.get(path)
        assert response.status_code == 404 and "Data tidak ditemukan." in text(response), path


def test_the_confirmation_without_a_booking_goes_home(client):
    response = client.get("/pesan/selesai")
    assert response.status_code == 302 and response.headers["Location"] == "/"
