"""The console's hoarding view, as a browser without JavaScript uses it: the day's suspicious
groups with a box per booked booking, and "Batalkan yang dipilih" with one reason (each booking
audited, each participant's cancellation SMS on the outbox, what was skipped said). Sign-in
itself is tested elsewhere: a session is started as the sign-in starts it."""

from __future__ import annotations

import re

import pytest

from queue_service.domain import audit
from queue_service.domain.accounts import BRANCH_ADMIN, NATIONAL_ADMIN
from queue_service.domain.privacy import mask_nik, mask_phone
from queue_service.store import keys
from tests.factories import booking_request
from tests.web.pages.forms import forms
from tests.web.pages.test_staff_cancel_pages import signed_in

BRANCH = "jakarta-salemba"
PAGE = f"/admin/cabang/{BRANCH}/penimbunan?tanggal=2026-11-24"
POST = f"/admin/cabang/{BRANCH}/penimbunan"
HOARDER = "+6281277775555"
REASON = "Penimbunan: satu HP di balik banyak NIK"


@pytest.fixture
def hoarded(reservations, clock, tune_branch):
    """Five bookings of Tuesday from one phone and one address, with five NIKs, and one other."""
    tune_branch(BRANCH, slot_capacity=100)
    taken = [
        reservations.reserve(booking_request(phone=HOARDER), clock(), address="203.0.113.9") for _ in range(5)
    ]
    other = reservations.reserve(booking_request(phone="+6281266665555"), clock(), address="198.51.100.2")
    return taken, other


def boxes(html: str) -> list[str]:
    return re.findall(r'<input type="checkbox" id="[^"]+" name="kode" value="([A-Z0-9]+)"', html)


def post_form(html: str) -> dict:
    """The cancel form's fields with nothing ticked (the form reader ticks a box of each name)."""
    (form,) = [f for f in forms(html) if f["method"] == "post" and f["action"] is None]
    return {name: value for name, value in form["fields"].items() if name != "kode"}


def outbox(redis) -> list[str]:
    return redis.zrange(keys.sms_outbox(BRANCH), 0, -1)


def test_the_tab_leads_to_the_days_groups_masked_with_a_box_per_booking(app, client, hoarded):
    taken, other = hoarded
    signed_in(app, client, "admin", "siti", BRANCH_ADMIN, BRANCH)
    assert f'href="/admin/cabang/{BRANCH}/penimbunan"' in client.get(f"/admin/cabang/{BRANCH}").get_data(
        as_text=True
    )

    response = client.get(PAGE)
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Satu HP, banyak NIK" in html and "Satu alamat, banyak NIK" in html
    assert f"HP {mask_phone(HOARDER)}: 5 NIK, 5 antrian (5 aktif)" in html
    assert "Alamat 203.0.113.9: 5 NIK" not in html  # five is the address threshold, not above it
    assert HOARDER not in html and all(b.nik not in html and mask_nik(b.nik) in html for b in taken)
    assert set(boxes(html)) == {b.code for b in taken} and other.code not in boxes(html)
    assert "Batalkan yang dipilih" in html and post_form(html)["csrf_token"]
    assert "Menunggu kode dari HP: 0. Habis tanpa verifikasi: 0." in html


def test_the_ticked_bookings_are_cancelled_audited_and_told_and_the_skipped_said(
    app, client, reservations, clock, redis, hoarded
):
    taken, _other = hoarded
    reservations.cancel(taken[4].code, taken[4].nik, clock())
    signed_in(app, client, "admin", "siti", BRANCH_ADMIN, BRANCH)
    fields = post_form(client.get(PAGE).get_data(as_text=True))
    chosen = [b.code for b in taken[:2]] + [taken[4].code]

    response = client.post(POST, data={**fields, "kode": chosen, "reason": REASON})
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "2 dari 3 antrian dibatalkan; setiap peserta menerima SMS pembatalan." in html
    assert "dilewati, sudah dibatalkan" in html
    for booking in taken[:2]:
        assert reservations.get(BRANCH, booking.code).status == "cancelled"
        assert f"{booking.code}:cancelled" in outbox(redis)
    assert reservations.get(BRANCH, taken[2].code).status == "booked"
    entries = audit.read(redis, BRANCH, action="booking_cancelled")
    assert sorted(e.target for e in entries) == sorted(f"{BRANCH}/{code}" for code in chosen[:2])
    assert all(e.actor == "siti" and REASON in e.after for e in entries)
    # The page shows the day as it now stands: the cancelled ones have no box.
    assert set(boxes(html)) == {b.code for b in taken[2:4]}


def test_no_reason_or_no_booking_ticked_is_refused_and_the_boxes_stay_ticked(app, client, redis, hoarded):
    taken, _other = hoarded
    signed_in(app, client, "admin", "siti", BRANCH_ADMIN, BRANCH)
    fields = post_form(client.get(PAGE).get_data(as_text=True))

    missing = client.post(POST, data={**fields, "kode": [taken[0].code], "reason": "  "})
    html = missing.get_data(as_text=True)
    assert missing.status_code == 422 and "Alasan pembatalan: Wajib diisi." in html
    assert f'value="{taken[0].code}" checked' in html
    none = client.post(POST, data={**fields, "reason": REASON})
    assert none.status_code == 422 and "Pilih minimal satu antrian." in none.get_data(as_text=True)
    assert audit.read(redis, BRANCH, action="booking_cancelled") == []


def test_the_form_needs_its_csrf_token(app, client, redis, hoarded):
    taken, _other = hoarded
    signed_in(app, client, "admin", "siti", BRANCH_ADMIN, BRANCH)
    refused = client.post(POST, data={"tanggal": "2026-11-24", "kode": [taken[0].code], "reason": REASON})
    assert refused.status_code == 400
    assert f"{taken[0].code}:cancelled" not in outbox(redis)


def test_another_branchs_admin_can_neither_see_nor_cancel(app, client, redis, hoarded):
    taken, _other = hoarded
    signed_in(app, client, "admin", "andi", BRANCH_ADMIN, "bekasi")
    assert client.get(PAGE).status_code == 403
    own = client.get("/admin/cabang/bekasi/penimbunan?tanggal=2026-11-24")
    assert own.status_code == 200
    fields = post_form(own.get_data(as_text=True))
    assert client.post(POST, data={**fields, "kode": [taken[0].code], "reason": REASON}).status_code == 403
    # From their own branch's form, another branch's booking is not found, and kept.
    elsewhere = client.post(
        "/admin/cabang/bekasi/penimbunan", data={**fields, "kode": [taken[0].code], "reason": REASON}
    )
    assert elsewhere.status_code == 200
    assert "dilewati, tidak ada antrian dengan kode ini di cabang ini" in elsewhere.get_data(as_text=True)
    assert audit.read(redis, BRANCH, action="booking_cancelled") == []
    assert f"{taken[0].code}:cancelled" not in outbox(redis)


def test_the_page_speaks_english_too(app, client, hoarded):
    signed_in(app, client, "admin", "nasional", NATIONAL_ADMIN)
    html = client.get(f"{PAGE}&lang=en").get_data(as_text=True)
    assert "Hoarding" in html and "Cancel the selected" in html and "Batalkan yang dipilih" not in html
