"""Cancelling one booking with a reason on the admin console's bookings list and on the counter
page, as a browser without JavaScript does it: the form, a reason missing, success (audited,
the place freed, the SMS on the outbox). Sign-in itself is tested elsewhere (argon2 is slow on
purpose): here a session is started as the sign-in starts it."""

from __future__ import annotations

import re
import time

import pytest

from queue_service.domain import audit
from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF
from queue_service.domain.staff_sessions import StaffSessions
from queue_service.store import keys
from tests.web.pages.forms import forms

BRANCH = "jakarta-salemba"
LIST = f"/admin/cabang/{BRANCH}/antrian?tanggal=2026-11-24"
COUNTER = "/counter/batal"


def signed_in(app, client, surface: str, username: str, role: str, *branches: str):
    """``client`` with a session of a new account, under ``surface`` (``admin``, ``counter``)."""
    antrian = app.extensions["antrian"]
    antrian.accounts.create(username, role, branches)
    session_id = StaffSessions(antrian.redis, 30 * 60).start(username, surface, "127.0.0.1", antrian.clock())
    with client.session_transaction() as session:
        session[surface] = username
        session[f"{surface}_id"] = session_id
        session[f"{surface}_seen"] = int(time.time())
    return client


@pytest.fixture
def booking(book):
    return book()


def outbox(redis) -> list[str]:
    return redis.zrange(keys.sms_outbox(BRANCH), 0, -1)


def page_forms(client, url: str) -> tuple[int, str, list[dict]]:
    response = client.get(url)
    html = response.get_data(as_text=True)
    return response.status_code, html, forms(html)


def test_the_console_list_links_each_booked_booking_to_its_cancel_form(app, client, booking):
    signed_in(app, client, "admin", "siti", BRANCH_ADMIN, BRANCH)
    html = client.get(LIST).get_data(as_text=True)
    link = f"/admin/cabang/{BRANCH}/antrian/{booking['code']}/batal"
    assert f'href="{link}"' in html

    status, page, found = page_forms(client, link)
    assert status == 200
    assert booking["queue_number"] in page and 'name="reason"' in page and "required" in page
    (form,) = [f for f in found if f["method"] == "post" and f["action"] is None]
    assert form["fields"]["csrf_token"]


def test_the_console_refuses_a_missing_reason_then_cancels(app, client, booking, redis):
    signed_in(app, client, "admin", "siti", BRANCH_ADMIN, BRANCH)
    link = f"/admin/cabang/{BRANCH}/antrian/{booking['code']}/batal"
    (form,) = [f for f in page_forms(client, link)[2] if f["method"] == "post" and f["action"] is None]

    missing = client.post(link, data={**form["fields"], "reason": "   "})
    assert missing.status_code == 422
    assert "Alasan pembatalan: Wajib diisi." in missing.get_data(as_text=True)
    assert f"{booking['code']}:cancelled" not in outbox(redis)

    done = client.post(link, data={**form["fields"], "reason": "Dipesan calo, KTP pemilik diperiksa"})
    assert done.status_code == 303
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "dibatalkan. Peserta menerima SMS pembatalan." in shown
    assert f"{booking['code']}:cancelled" in outbox(redis)
    (entry,) = audit.read(redis, BRANCH, action="booking_cancelled")
    assert (entry.actor, entry.target) == ("siti", f"{BRANCH}/{booking['code']}")
    assert "Dipesan calo, KTP pemilik diperiksa" in entry.after

    again = client.post(link, data={**form["fields"], "reason": "lagi"})
    assert again.status_code == 409 and "Antrian ini sudah dibatalkan." in again.get_data(as_text=True)


def test_the_console_form_needs_its_csrf_token(app, client, booking, redis):
    signed_in(app, client, "admin", "siti", BRANCH_ADMIN, BRANCH)
    link = f"/admin/cabang/{BRANCH}/antrian/{booking['code']}/batal"
    refused = client.post(link, data={"reason": "tanpa token"})
    assert refused.status_code in (400, 403)
    assert f"{booking['code']}:cancelled" not in outbox(redis)


def test_another_branchs_admin_is_refused(app, client, booking):
    signed_in(app, client, "admin", "andi", BRANCH_ADMIN, "bekasi")
    assert client.get(f"/admin/cabang/{BRANCH}/antrian/{booking['code']}/batal").status_code == 403
    assert client.get(f"/admin/cabang/bekasi/antrian/{booking['code']}/batal").status_code == 403
    assert client.post(f"/admin/cabang/{BRANCH}/antrian/{booking['code']}/batal").status_code in (400, 403)


def test_a_code_under_another_branch_is_not_found_and_no_action_shows_for_the_read_only(app, client, booking):
    signed_in(app, client, "admin", "nasional", "national_admin")
    assert client.get(f"/admin/cabang/bekasi/antrian/{booking['code']}/batal").status_code == 404
    assert client.get(f"/admin/cabang/{BRANCH}/antrian/ABCDEFGHJK/batal").status_code == 404
    assert "Batalkan…" in client.get(LIST).get_data(as_text=True)


def test_the_console_speaks_english_too(app, client, booking):
    signed_in(app, client, "admin", "siti", BRANCH_ADMIN, BRANCH)
    link = f"/admin/cabang/{BRANCH}/antrian/{booking['code']}/batal"
    page = client.get(f"{link}?lang=en").get_data(as_text=True)
    assert "Cancel booking" in page and "Batalkan antrian" not in page


def test_the_counter_page_finds_the_booking_asks_why_and_cancels(app, client, booking, redis):
    signed_in(app, client, "counter", "budi", COUNTER_STAFF, BRANCH)
    assert 'href="/counter/batal"' in client.get("/counter/").get_data(as_text=True)
    status, _page, found = page_forms(client, COUNTER)
    (search,) = [f for f in found if f["action"] == COUNTER]
    assert status == 200 and search["method"] == "get" and "kode" in search["fields"]

    typed = booking["code"][:5].lower() + "-" + booking["code"][5:]
    status, page, found = page_forms(client, f"{COUNTER}?kode={typed}")
    assert status == 200 and booking["queue_number"] in page
    (form,) = [f for f in found if f["action"] == COUNTER and f["method"] == "post"]
    assert form["fields"]["kode"] == booking["code"] and form["fields"]["csrf_token"]

    missing = client.post(COUNTER, data=form["fields"])
    assert missing.status_code == 422
    assert "Alasan pembatalan: Wajib diisi." in missing.get_data(as_text=True)
    too_long = client.post(COUNTER, data={**form["fields"], "reason": "x" * 201})
    assert too_long.status_code == 422 and "Terlalu panjang." in too_long.get_data(as_text=True)
    assert f"{booking['code']}:cancelled" not in outbox(redis)

    done = client.post(COUNTER, data={**form["fields"], "reason": "Peserta minta batal di loket"})
    assert done.status_code == 303
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"Antrian {booking['queue_number']} dibatalkan. Peserta menerima SMS pembatalan." in shown
    assert f"{booking['code']}:cancelled" in outbox(redis)
    (entry,) = audit.read(redis, BRANCH, action="booking_cancelled")
    assert (entry.actor, entry.role) == ("budi", COUNTER_STAFF)
    day = client.get(f"/api/v1/branches/{BRANCH}/availability?date=2026-11-24&service=jht").get_json()
    assert next(s["remaining"] for s in day["slots"] if s["start"] == "09:00") == day["slots"][0]["capacity"]


@pytest.mark.parametrize(
    ("code", "status", "text"),
    [("ABCDEFGHJK", 404, "Tidak ada antrian dengan kode ini."), (None, 403, "milik kantor cabang lain")],
)
def test_the_counter_page_says_why_a_code_cannot_be_cancelled(app, client, booking, code, status, text):
    signed_in(app, client, "counter", "wati", COUNTER_STAFF, "bekasi")
    response = client.get(f"{COUNTER}?kode={code or booking['code']}")
    assert response.status_code == status and text in response.get_data(as_text=True)
    assert not re.search(r'name="reason"', response.get_data(as_text=True))
