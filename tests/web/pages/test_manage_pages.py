"""Look-up, reschedule and cancel pages: by code and NIK, in POST bodies only."""

import datetime as dt

import pytest

from queue_service.store import keys
from tests.factories import booking_request, make_nik
from tests.web.pages.forms import form, forms


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def booking(reservations, clock):
    return reservations.reserve(booking_request(), clock())


def credentials(client, code="", nik=""):
    fields = form(text(client.get("/kelola")), "/kelola")
    return {**fields, "code": code, "nik": nik}


def test_the_look_up_form_takes_the_code_from_the_link(client):
    html = text(client.get("/kelola?kode=7K3QX9MZ2W"))
    assert form(html, "/kelola")["code"] == "7K3QX9MZ2W"
    assert all(f["method"] == "post" for f in forms(html))


def test_a_look_up_by_code_and_nik_shows_the_booking_and_what_can_be_done(client, booking):
    typed = f"{booking.code[:5].lower()}-{booking.code[5:]}"  # as a person types it
    response = client.post("/kelola", data=credentials(client, typed, booking.nik))
    html = text(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "A-001" in html and "Selasa, 24 November 2026" in html
    actions = [f["action"] for f in forms(html)]
    assert actions == ["/kelola/ubah", "/kelola/batal"]


def test_a_wrong_nik_is_told_like_an_unknown_code(client, booking):
    wrong = client.post("/kelola", data=credentials(client, booking.code, make_nik()))
    unknown = client.post("/kelola", data=credentials(client, "7K3QX9MZ2W", booking.nik))
    assert wrong.status_code == unknown.status_code == 404
    assert "Data tidak ditemukan." in text(wrong)
    assert booking.code not in text(unknown).replace(f'value="{booking.code}"', "")


def test_cancelling_frees_the_place(client, booking, redis):
    page = text(client.post("/kelola", data=credentials(client, booking.code, booking.nik)))
    response = client.post("/kelola/batal", data=form(page, "/kelola/batal"))
    assert response.status_code == 200 and "Antrian dibatalkan" in text(response)
    assert redis.hget(keys.slot_counts("jakarta-salemba", "2026-11-24"), "09:00") == "0"
    again = client.post("/kelola/batal", data=form(page, "/kelola/batal"))
    assert again.status_code == 409 and "sudah dibatalkan" in text(again)


def test_rescheduling_goes_date_then_slot_then_moves_in_one_step(client, booking, redis):
    page = text(client.post("/kelola", data=credentials(client, booking.code, booking.nik)))
    dates = client.post("/kelola/ubah", data=form(page, "/kelola/ubah"))
    html = text(dates)
    assert "Pilih tanggal baru" in html and 'value="2026-11-25"' in html
    slots = client.post("/kelola/ubah", data={**form(page, "/kelola/ubah"), "date": "2026-11-25"})
    fields = form(text(slots), "/kelola/ubah")
    assert fields["date"] == "2026-11-25"
    moved = client.post("/kelola/ubah", data={**fields, "slot": "10:00"})
    html = text(moved)
    assert moved.status_code == 200 and "Jadwal berhasil diubah." in html
    assert "Rabu, 25 November 2026" in html and "10:00–10:30 WIB" in html and "A-001" in html
    assert redis.hget(keys.slot_counts("jakarta-salemba", "2026-11-24"), "09:00") == "0"
    assert redis.hget(keys.booking("jakarta-salemba", booking.code), "date") == "2026-11-25"


def test_rescheduling_into_a_full_slot_says_so_and_keeps_the_booking(
    client, booking, reservations, clock, tune_branch
):
    tune_branch("jakarta-salemba", slot_capacity=1)
    reservations.reserve(booking_request(date=dt.date(2026, 11, 25), slot=dt.time(10, 0)), clock())
    page = text(client.post("/kelola", data=credentials(client, booking.code, booking.nik)))
    response = client.post(
        "/kelola/ubah", data={**form(page, "/kelola/ubah"), "date": "2026-11-25", "slot": "10:00"}
    )
    html = text(response)
    assert response.status_code == 409 and "sudah penuh" in html
    assert "Selasa, 24 November 2026" in html


def test_a_nik_never_appears_in_a_url(client, booking):
    page = text(client.post("/kelola", data=credentials(client, booking.code, booking.nik)))
    assert f"nik={booking.nik}" not in page and f"/{booking.nik}" not in page


def test_a_checked_in_participant_sees_who_is_ahead_and_the_estimated_wait(
    app, client, reservations, clock, redis, tune_branch
):
    from queue_service.domain.checkins import CheckIns
    from queue_service.domain.live_queue import LiveQueue
    from tests.factories import JAKARTA

    tune_branch("jakarta-salemba", slot_capacity=10)
    first, second, mine = (reservations.reserve(booking_request(), clock()) for _ in range(3))
    kiosk, _token = app.extensions["antrian"].kiosks.create("jakarta-salemba", "Pintu", clock())
    tuesday = dt.datetime(2026, 11, 24, 8, 40, tzinfo=JAKARTA)
    for n, booked in enumerate((first, second, mine)):
        CheckIns(redis).check_in(kiosk, booked.code, tuesday + dt.timedelta(minutes=n))
    live = LiveQueue(redis)
    live.call_next("jakarta-salemba", "Loket 1", tuesday.replace(hour=9, minute=0))
    live.mark_served("jakarta-salemba", first.queue_number, tuesday.replace(hour=9, minute=6))
    clock.set(tuesday.replace(hour=9, minute=7))

    html = text(client.post("/kelola", data=credentials(client, mine.code, mine.nik)))
    # The second waits ahead; six minutes a participant, over one counter: twelve minutes.
    assert "Di depan Anda: 1 orang." in html and "Perkiraan menunggu: ±12 menit." in html
    api = client.post("/api/v1/bookings/lookup", json={"code": mine.code, "nik": mine.nik})
    assert (api.get_json()["people_ahead"], api.get_json()["estimated_wait_seconds"]) == (1, 720)


def test_the_sms_short_link_opens_the_look_up_with_the_code(client, booking):
    response = client.get(f"/k/{booking.code}")
    assert response.status_code == 302 and response.headers["Location"] == f"/kelola?kode={booking.code}"
    html = text(client.get(response.headers["Location"]))
    assert form(html, "/kelola")["code"] == booking.code
