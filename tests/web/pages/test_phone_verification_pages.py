"""The booking pages' verification step (``PHONE_VERIFICATION``): the code sent to the phone
is typed in the browser that booked, before the place is a booking; wrong codes, the
deadline and resending, as a browser without JavaScript sees them."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from queue_service.store import keys
from tests.web.pages.forms import DETAILS, form, forms

BRANCH = "jakarta-salemba"
DAY = dt.date(2026, 11, 24)
VERIFY = "/pesan/verifikasi"
RESEND = "/pesan/verifikasi/kirim-ulang"


@pytest.fixture
def settings(settings):
    return {**settings, "PHONE_VERIFICATION": True}


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def hold(client, book_page):
    """Book through the form: the browser is sent to the verification step; returns the
    booking's [branch_id, code] as the session keeps it."""

    def make(**typed) -> list[str]:
        response = book_page(**typed)
        assert response.status_code == 303, text(response)
        assert response.headers["Location"].endswith(VERIFY)
        with client.session_transaction() as session:
            return session["booking"]

    return make


@pytest.fixture
def sent_code(work, sent_sms):
    """The one-time code last sent for booking ``code`` (the worker delivers the outbox first)."""

    def read(code: str) -> str:
        work()
        bodies = [sms["body"] for sms in sent_sms() if sms["code"] == code and sms["event"].startswith("otp")]
        assert bodies, sent_sms()
        assert re.match(r"^\d{6} ", bodies[-1])
        return bodies[-1][:6]

    return read


def send_code(client, otp: str):
    fields = form(text(client.get(VERIFY)), VERIFY)
    return client.post(VERIFY, data={**fields, "otp": otp})


def wrong(otp: str) -> str:
    return "000000" if otp != "000000" else "111111"


def places_left(app, clock) -> int:
    return app.extensions["antrian"].availability.day(BRANCH, DAY, "jht", clock()).remaining


def test_the_form_leads_to_the_verification_step_with_the_masked_phone_and_the_deadline(
    client, hold, reservations
):
    branch_id, code = hold()
    booking = reservations.get(branch_id, code)
    assert booking.status == "pending"

    response = client.get(VERIFY)
    html = text(response)

    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "Kami mengirim kode 6 angka ke 0812****7890." in html
    assert "081234567890" not in html and "+6281234567890" not in html
    until = booking.verify_by.astimezone(ZoneInfo("Asia/Jakarta"))
    assert f"Kode berlaku sampai {until:%H:%M} WIB" in html
    assert re.search(r"sisa waktu <span data-seconds=\"(599|600)\" data-clock>± 10 menit</span>", html)
    assert '<label for="f-otp">Kode verifikasi</label>' in html
    field = re.search(r"<input id=\"f-otp\"[^>]*>", html).group(0)
    assert 'autocomplete="one-time-code"' in field and 'inputmode="numeric"' in field
    assert re.search(r"Kirim ulang kode bisa dalam <span data-seconds=\"\d+\">(59|60)</span> detik\.", html)
    assert [f["action"] for f in forms(html)] == [VERIFY, RESEND]
    # A place held is not a booking: no ticket, no queue number, no "made".
    assert "Antrian berhasil dibuat" not in html and booking.queue_number not in html
    assert "terminal" not in html  # the file SMS backend really sends


def test_the_confirmation_is_not_shown_for_a_hold(client, hold):
    hold()
    response = client.get("/pesan/selesai")
    assert response.status_code == 303 and response.headers["Location"].endswith(VERIFY)


def test_the_code_from_the_sms_makes_the_booking_and_shows_the_confirmation(
    client, hold, sent_code, reservations, work, sent_sms
):
    branch_id, code = hold()

    response = send_code(client, sent_code(code))

    assert response.status_code == 303 and response.headers["Location"].endswith("/pesan/selesai")
    booking = reservations.get(branch_id, code)
    assert booking.status == "booked"
    html = text(client.get("/pesan/selesai"))
    assert "Antrian berhasil dibuat" in html
    assert booking.queue_number in html and '<div class="qr">' in html
    # The verification step is over: it sends the browser to the confirmation.
    assert client.get(VERIFY).headers["Location"].endswith("/pesan/selesai")
    work()
    assert [sms["event"] for sms in sent_sms() if sms["code"] == code] == ["otp", "booked"]


def test_a_code_typed_with_spaces_is_read(client, hold, sent_code, reservations):
    branch_id, code = hold()
    otp = sent_code(code)
    assert send_code(client, f"{otp[:3]} {otp[3:]}").status_code == 303
    assert reservations.get(branch_id, code).status == "booked"


def test_a_code_that_is_not_six_digits_is_said_beside_the_field(client, hold, reservations):
    branch_id, code = hold()
    response = send_code(client, "12ab")
    html = text(response)
    assert response.status_code == 422
    assert '<p class="error" id="e-otp">Kode verifikasi harus 6 digit angka.</p>' in html
    assert 'aria-invalid="true"' in html
    assert reservations.get(branch_id, code).status == "pending"


def test_a_wrong_code_shows_the_step_again_with_the_tries_left(client, hold, sent_code, reservations):
    branch_id, code = hold()
    otp = sent_code(code)

    response = send_code(client, wrong(otp))

    html = text(response)
    assert response.status_code == 403
    assert '<p class="error" id="e-otp">Kode salah. Sisa percobaan: 2.</p>' in html
    assert 'aria-invalid="true"' in html
    assert "Kami mengirim kode 6 angka ke 0812****7890." in html
    second = send_code(client, wrong(otp))
    assert "Kode salah. Sisa percobaan: 1." in text(second)
    # The right code still works after two wrong ones.
    assert send_code(client, otp).status_code == 303
    assert reservations.get(branch_id, code).status == "booked"


def test_the_third_wrong_code_releases_the_place_and_gives_the_day_s_count_back(
    app, client, clock, hold, sent_code, reservations
):
    before = places_left(app, clock)
    branch_id, code = hold()
    assert places_left(app, clock) == before - 1
    otp = sent_code(code)
    fields = form(text(client.get(VERIFY)), VERIFY)
    send_code(client, wrong(otp))
    send_code(client, wrong(otp))

    response = send_code(client, wrong(otp))

    html = text(response)
    assert response.status_code == 409
    assert "Tempat antrian dilepas" in html
    assert "Kode verifikasi salah 3 kali" in html
    assert 'href="/cabang/jakarta-salemba/jht"' in html and "Pilih tanggal lagi" in html
    assert reservations.get(branch_id, code).status == "expired"
    assert places_left(app, clock) == before
    # Coming back to the step, or to the confirmation, says the same; the right code is
    # too late now.
    again = client.get("/pesan/selesai", follow_redirects=True)
    assert again.status_code == 200 and "Tempat antrian dilepas" in text(again)
    late = client.post(VERIFY, data={**fields, "otp": otp})
    assert late.status_code == 409 and "Tempat antrian dilepas" in text(late)
    assert reservations.get(branch_id, code).status == "expired"


def test_a_hold_past_its_deadline_is_said_released(client, hold, sent_code, redis, reservations):
    branch_id, code = hold()
    otp = sent_code(code)
    fields = form(text(client.get(VERIFY)), VERIFY)
    past = int(redis.time()[0]) * 1000 - 1000
    redis.hset(keys.booking(branch_id, code), "verify_by_ms", past)

    shown = client.get(VERIFY)
    assert shown.status_code == 200
    assert "Tempat antrian dilepas" in text(shown)
    assert "tidak dimasukkan sebelum batas waktunya" in text(shown)

    response = client.post(VERIFY, data={**fields, "otp": otp})
    assert response.status_code == 409 and "Tempat antrian dilepas" in text(response)
    assert reservations.get(branch_id, code).status == "expired"


def test_a_new_code_asked_for_too_soon_says_in_how_many_seconds(client, hold):
    hold()
    fields = form(text(client.get(VERIFY)), RESEND)

    response = client.post(RESEND, data=fields)

    html = text(response)
    assert response.status_code == 429
    assert re.search(r"Kirim ulang kode bisa dalam (59|60) detik\.", html)
    assert response.headers["Retry-After"] in ("59", "60")


def test_a_new_code_after_a_minute_replaces_the_old_one(client, hold, sent_code, redis, reservations):
    branch_id, code = hold()
    first = sent_code(code)
    minute_ago = int(redis.time()[0]) * 1000 - 61_000
    redis.hset(keys.booking(branch_id, code), "otp_sent_ms", minute_ago)
    fields = form(text(client.get(VERIFY)), RESEND)
    assert "Anda bisa meminta kode baru sekarang." in text(client.get(VERIFY))

    response = client.post(RESEND, data=fields)

    assert response.status_code == 200
    assert "Kode baru sudah dikirim. Kode sebelumnya tidak berlaku lagi." in text(response)
    second = sent_code(code)
    if second != first:
        assert send_code(client, first).status_code == 403
    assert send_code(client, second).status_code == 303
    assert reservations.get(branch_id, code).status == "booked"


def test_without_a_session_the_step_leads_home(client):
    response = client.get(VERIFY)
    assert response.status_code == 302 and response.headers["Location"].endswith("/")


def test_the_step_in_english(client, hold):
    hold()
    html = text(client.get(VERIFY + "?lang=en"))
    assert "We sent a 6-digit code to 0812****7890." in html
    assert "Verification code" in html and "Resend code" in html


def test_in_development_with_the_console_backend_the_page_says_where_the_code_is(
    make_app, details_form, person
):
    app = make_app(APP_ENV="development", SMS_BACKEND="console")
    client = app.test_client()
    fields = form(text(client.get(DETAILS)), "/pesan")
    assert client.post("/pesan", data={**fields, **person, "action": "book"}).status_code == 303
    html = text(client.get(VERIFY))
    assert "Kodenya tercetak di terminal tempat make run berjalan." in html


def test_the_look_up_shows_a_hold_as_waiting_with_the_step_for_this_browser_only(
    app, client, hold, reservations
):
    branch_id, code = hold()
    booking = reservations.get(branch_id, code)

    def look_up(browser):
        fields = form(text(browser.get("/kelola")), "/kelola")
        return text(browser.post("/kelola", data={**fields, "code": code, "nik": booking.nik}))

    mine = look_up(client)
    assert "Menunggu verifikasi" in mine
    assert 'href="/pesan/verifikasi"' in mine
    assert booking.queue_number not in mine
    assert [f["action"] for f in forms(mine)] == ["/kelola/batal"]
    other = look_up(app.test_client())
    assert "Menunggu verifikasi" in other and 'href="/pesan/verifikasi"' not in other
    assert "Masukkan kode di perangkat yang dipakai untuk memesan." in other


def test_with_verification_off_the_form_goes_straight_to_the_confirmation(make_app, person):
    app = make_app(PHONE_VERIFICATION=False)
    client = app.test_client()
    fields = form(text(client.get(DETAILS)), "/pesan")
    response = client.post("/pesan", data={**fields, **person, "action": "book"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/pesan/selesai")
    html = text(client.get("/pesan/selesai"))
    assert "Antrian berhasil dibuat" in html and "A-001" in html


def test_a_hold_cancelled_from_the_look_up_says_no_sms_comes(client, hold, reservations):
    branch_id, code = hold()
    booking = reservations.get(branch_id, code)
    fields = form(text(client.get("/kelola")), "/kelola")
    shown = text(client.post("/kelola", data={**fields, "code": code, "nik": booking.nik}))

    response = client.post("/kelola/batal", data=form(shown, "/kelola/batal"))

    html = text(response)
    assert response.status_code == 200
    assert "sudah dilepas" in html and "SMS pembatalan" not in html
    assert reservations.get(branch_id, code).status == "cancelled"
