"""A waitlist entry in the WhatsApp replies (issue 25): STATUS names it as a waitlist entry,
not as a booking (no queue number; "any time" for an entry that waits for any slot; an
offer's place said), and BATAL then YA takes it off its waitlist, as its page's "leave" does,
where it answered that the entry could no longer be cancelled."""

from __future__ import annotations

import pytest

from queue_service.store import keys
from tests.web.api.test_waitlist_api import full_nik
from tests.workers.test_whatsapp import OTHER_PHONE, PUBLIC, WHATSAPP_FROM, inbound, reply_of

BRANCH = "jakarta-salemba"
WAITLIST = f"/api/v1/branches/{BRANCH}/waitlist"


@pytest.fixture
def settings(settings, fake_twilio):
    return {
        **settings,
        **fake_twilio.settings,
        "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM,
        "PUBLIC_BASE_URL": PUBLIC,
    }


@pytest.fixture
def full(tune_branch, book):
    """Tuesday 09:00 at Jakarta Salemba holds one place, taken (by another phone)."""
    tune_branch(BRANCH, slot_capacity=1)
    return book()


def join(client, booking_body, **fields) -> dict:
    body = booking_body(phone=OTHER_PHONE, channel="whatsapp", **fields)
    del body["branch_id"]
    joined = client.post(WAITLIST, json=body)
    assert joined.status_code == 201, joined.get_json()
    return joined.get_json()


def test_status_says_a_waitlist_entry_is_one_and_batal_ya_leaves_the_waitlist(
    client, booking_body, full, redis
):
    entry = join(client, booking_body)

    status = reply_of(inbound(client, "STATUS", phone=OTHER_PHONE))
    line = "Daftar tunggu BPJSTK Jakarta Salemba, Selasa, 24 Nov 2026 09:00 WIB"
    assert f"{line}, kode {entry['waitlist_id']}" in status
    asked = reply_of(inbound(client, f"BATAL {entry['waitlist_id']}", phone=OTHER_PHONE))
    assert asked.startswith("Keluar dari Daftar tunggu BPJSTK Jakarta Salemba")
    left = reply_of(inbound(client, "YA", phone=OTHER_PHONE))

    assert left == f"Anda keluar dari daftar tunggu, kode {entry['waitlist_id']}."
    assert redis.hget(keys.booking(BRANCH, entry["waitlist_id"]), "status") == "left"
    assert (
        reply_of(inbound(client, "STATUS", phone=OTHER_PHONE)) == "Tidak ada antrian aktif untuk nomor ini."
    )


def test_an_entry_for_any_slot_and_an_offer_are_said_so(client, booking_body, tune_branch, book, redis):
    tune_branch(BRANCH, daily_quota=1)
    taken = book()
    entry = join(client, booking_body, slot=None)
    status = reply_of(inbound(client, "STATUS", phone=OTHER_PHONE))
    assert f"Selasa, 24 Nov 2026 jam berapa saja, kode {entry['waitlist_id']}" in status

    nik = full_nik(redis, taken)
    assert client.post(f"/api/v1/bookings/{taken['code']}/cancel", json={"nik": nik}).status_code == 200
    offered = reply_of(inbound(client, "STATUS", phone=OTHER_PHONE))
    assert (
        f"kode {entry['waitlist_id']} (ada tempat untuk Anda: terima lewat tautan di pesan kami)" in offered
    )
