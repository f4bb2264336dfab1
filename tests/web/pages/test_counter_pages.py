"""The counter page at /counter/, as a browser without JavaScript uses it: sign-in, the choice
of a counter, every step through its form (POST, redirect, GET), the per-form token that makes
a form sent twice do its step once, and the refusals said in words."""

from __future__ import annotations

import re
import time

import pytest

from queue_service.domain.accounts import COUNTER_STAFF, NATIONAL_ADMIN
from queue_service.domain.audit import Actor
from queue_service.store import keys
from tests.web.pages.forms import forms

BRANCH = "jakarta-salemba"
PASSWORD = "kata sandi panjang"
DESK = "/counter/"
ADMIN = Actor("admin-salemba", "branch_admin", "test")


@pytest.fixture
def staff(app):
    app.extensions["antrian"].accounts.create("budi", COUNTER_STAFF, (BRANCH,), password=PASSWORD)


@pytest.fixture
def counters(app, clock):
    live = app.extensions["antrian"].live_queue
    live.set_counter(BRANCH, "Loket 1", None, ADMIN, clock())
    live.set_counter(BRANCH, "Loket 2", ["jkk"], ADMIN, clock())


def csrf(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, username="budi", password=PASSWORD):
    return client.post(
        "/counter/masuk",
        data={"csrf_token": csrf(client, "/counter/masuk"), "username": username, "password": password},
    )


@pytest.fixture
def at_counter(client, staff, counters):
    """Budi signed in at Loket 1 (all services)."""
    assert sign_in(client).status_code == 303
    response = client.post(
        "/counter/pilih", data={"csrf_token": csrf(client, DESK), "branch_id": BRANCH, "counter": "Loket 1"}
    )
    assert response.status_code == 303
    return client


def step_form(client, action: str, number: str | None = None) -> dict:
    """The fields of the rendered form for ``action`` (on ``number``), as a browser sends it."""
    html = client.get(DESK).get_data(as_text=True)
    for found in forms(html):
        fields = found["fields"]
        if fields.get("action") == action and number in (None, fields.get("queue_number")):
            assert found["action"] == "/counter/langkah"
            return fields
    raise AssertionError(f"no form for {action} {number or ''}")


def press(client, action: str, number: str | None = None, **extra) -> str:
    """Send the form for ``action`` and follow the redirect; the page's text."""
    response = client.post("/counter/langkah", data={**step_form(client, action, number), **extra})
    assert response.status_code == 303 and response.headers["Location"].endswith(DESK)
    return client.get(DESK).get_data(as_text=True)


def status_of(redis, booking) -> str:
    return redis.hget(keys.booking(BRANCH, booking.code), "status")


def serving(html: str) -> str:
    return re.search(r'id="now-serving">([^<]*)<', html).group(1)


def test_pages_need_a_session(client, staff):
    response = client.get(DESK)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/counter/masuk?next=/counter/")
    assert client.get("/counter/keadaan").status_code == 401


def test_sign_in_then_choose_a_counter(client, staff, counters):
    refused = sign_in(client, password="salah sekali")
    assert refused.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in refused.get_data(as_text=True)

    response = sign_in(client)
    assert response.status_code == 303 and response.headers["Location"].endswith(DESK)
    assert "HttpOnly" in response.headers["Set-Cookie"]
    choice = client.get(DESK).get_data(as_text=True)
    assert "Pilih loket Anda" in choice and "Loket 1" in choice and "Loket 2" in choice
    client.post(
        "/counter/pilih", data={"csrf_token": csrf(client, DESK), "branch_id": BRANCH, "counter": "Loket 2"}
    )
    desk = client.get(DESK).get_data(as_text=True)
    assert "<h1>Loket 2</h1>" in desk and "Panggil berikutnya" in desk

    client.post("/counter/ganti", data={"csrf_token": csrf(client, DESK)})
    assert "Pilih loket Anda" in client.get(DESK).get_data(as_text=True)


def test_signing_out_ends_the_session_even_for_a_copy_of_its_cookie(app, client, staff):
    sign_in(client)
    assert client.get("/counter/").status_code == 200
    copied = client.get_cookie("session").value
    client.post("/counter/keluar", data={"csrf_token": csrf(client, "/counter/")})

    other_browser = app.test_client()
    other_browser.set_cookie("session", copied)

    assert other_browser.get("/counter/").status_code == 302


def test_repeated_failures_lock_the_name_out(client, staff):
    for _ in range(5):
        sign_in(client, password="salah sekali")
    locked = sign_in(client)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


def test_a_branch_without_counters_says_how_to_configure_one(client, staff):
    sign_in(client)
    page = client.get(DESK).get_data(as_text=True)
    assert "Cabang ini belum punya loket." in page
    assert "/api/v1/counter/counters/Loket%201" in page


def test_a_counter_of_another_branch_is_refused(client, staff, counters):
    sign_in(client)
    response = client.post(
        "/counter/pilih", data={"csrf_token": csrf(client, DESK), "branch_id": "bekasi", "counter": "Loket 1"}
    )
    assert response.status_code == 403
    unknown = client.post(
        "/counter/pilih", data={"csrf_token": csrf(client, DESK), "branch_id": BRANCH, "counter": "Loket 9"}
    )
    assert unknown.status_code == 303
    assert "Loket itu tidak ada (lagi)." in client.get(DESK).get_data(as_text=True)


def test_a_national_admin_is_told_the_page_is_for_a_branch(app, client):
    app.extensions["antrian"].accounts.create("pusat", NATIONAL_ADMIN, password=PASSWORD)
    sign_in(client, "pusat")
    assert "tidak terikat pada kantor cabang" in client.get(DESK).get_data(as_text=True)


def test_a_form_without_its_csrf_token_does_nothing(at_counter, arrive, redis):
    waiting = arrive()
    fields = step_form(at_counter, "call")
    del fields["csrf_token"]
    response = at_counter.post("/counter/langkah", data=fields)
    assert response.status_code == 303
    page = at_counter.get(DESK).get_data(as_text=True)
    assert "Formulir sudah kedaluwarsa dan tidak dikirim." in page
    assert status_of(redis, waiting) == "checked_in"


def test_call_recall_serve_and_no_show_through_the_forms(at_counter, arrive, redis):
    first, second = arrive("08:30"), arrive("09:00")
    page = at_counter.get(DESK).get_data(as_text=True)
    assert first.queue_number in page and second.queue_number in page
    assert 'aria-keyshortcuts="N Space"' in page

    page = press(at_counter, "call")
    assert f"{first.queue_number} dipanggil ke Loket 1." in page
    assert serving(page) == first.queue_number and status_of(redis, first) == "called"
    # While someone is served, the next call waits for served or no-show.
    assert re.search(r'data-shortcut="n"[^>]*disabled', page)

    page = press(at_counter, "recall", first.queue_number)
    assert f"{first.queue_number} dipanggil ulang." in page
    page = press(at_counter, "served", first.queue_number)
    assert f"{first.queue_number} selesai dilayani." in page and serving(page) == "—"
    assert status_of(redis, first) == "served"

    page = press(at_counter, "call")
    assert serving(page) == second.queue_number
    page = press(at_counter, "no_show", second.queue_number)
    assert f"{second.queue_number} ditandai tidak hadir." in page
    assert status_of(redis, second) == "no_show"


def test_priority_transfer_and_pause_through_the_forms(at_counter, arrive, redis, app):
    first, second = arrive("08:30"), arrive("09:00")
    page = press(at_counter, "priority", second.queue_number)
    assert f"{second.queue_number} ditandai prioritas." in page
    assert re.search(
        rf'class="priority">\s*<td><span class="number">{second.queue_number}'
        r'</span> <span class="badge">Prioritas</span>',
        page,
    )
    page = press(at_counter, "regular", second.queue_number)
    assert f"{second.queue_number} tidak lagi prioritas." in page

    page = press(at_counter, "transfer", first.queue_number, service_id="jkk")
    assert f"{first.queue_number} dipindahkan ke antrian Klaim Jaminan Kecelakaan Kerja" in page
    assert redis.hget(keys.booking(BRANCH, first.code), "queue_service") == "jkk"

    page = press(at_counter, "pause")
    assert "Loket sedang dijeda." in page and "Lanjutkan loket" in page
    assert app.extensions["antrian"].live_queue.counters(BRANCH)[0].paused
    page = press(at_counter, "resume")
    assert "Loket dilanjutkan." in page and "Jeda loket" in page


def test_a_call_form_sent_twice_calls_one_participant(at_counter, arrive, redis):
    first, second = arrive("08:30"), arrive("09:00")
    form = step_form(at_counter, "call")
    for _ in range(2):
        assert at_counter.post("/counter/langkah", data=form).status_code == 303
        page = at_counter.get(DESK).get_data(as_text=True)
        assert f"{first.queue_number} dipanggil ke Loket 1." in page
    assert status_of(redis, first) == "called" and status_of(redis, second) == "checked_in"
    # A form rendered afresh is another request: it calls the next one.
    press(at_counter, "served", first.queue_number)
    assert serving(press(at_counter, "call")) == second.queue_number


def test_refusals_are_said_never_a_500(at_counter, arrive, redis):
    page = press(at_counter, "call")
    assert "Tidak ada peserta yang menunggu untuk layanan loket ini." in page
    waiting = arrive()
    press(at_counter, "call")
    stale_served = step_form(at_counter, "served", waiting.queue_number)
    press(at_counter, "no_show", waiting.queue_number)
    at_counter.post("/counter/langkah", data=stale_served)
    page = at_counter.get(DESK).get_data(as_text=True)
    assert f"Terlambat: nomor {waiting.queue_number} sudah ditandai tidak hadir." in page

    unknown = at_counter.post("/counter/langkah", data={**stale_served, "queue_number": "Z-999"})
    assert unknown.status_code == 303
    assert "Nomor Z-999 tidak ditemukan" in at_counter.get(DESK).get_data(as_text=True)
    bad = at_counter.post("/counter/langkah", data={**stale_served, "action": "explode"})
    assert bad.status_code == 303
    assert "Pilihan itu tidak sah." in at_counter.get(DESK).get_data(as_text=True)


def test_refusals_in_english(at_counter):
    at_counter.get(DESK + "?lang=en")
    page = press(at_counter, "call")
    assert "Nobody is waiting for this counter&#39;s services." in page
    assert "Call next" in page


def test_the_live_part_for_the_script(at_counter, arrive, monkeypatch):
    waiting = arrive()
    part = at_counter.get("/counter/keadaan")
    assert part.status_code == 200 and part.headers["Cache-Control"] == "no-store"
    text = part.get_data(as_text=True)
    assert waiting.queue_number in text and "<html" not in text and 'name="token"' in text
    # Each rendering of a form has its own token.
    assert (
        forms(text)[0]["fields"]["token"]
        != forms(at_counter.get("/counter/keadaan").get_data(as_text=True))[0]["fields"]["token"]
    )
    # Polling does not keep an unattended session alive.
    later = time.time() + 20 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert at_counter.get("/counter/keadaan").status_code == 200
    later += 20 * 60
    assert at_counter.get("/counter/keadaan").status_code == 401
    assert at_counter.get(DESK).status_code == 302


def test_no_personal_data_on_the_counter_page(at_counter, arrive):
    booking = arrive()
    page = at_counter.get(DESK).get_data(as_text=True)
    for secret in (booking.nik, booking.name, booking.phone, booking.code):
        assert secret not in page
