"""Releasing a NIK on the admin console and on the counter page, as a browser without
JavaScript does it: the form, a refusal naming the field, then what was released and kept
(audited, the SMS on the outbox). Sessions are started as the sign-in starts them."""

from __future__ import annotations

import pytest

from queue_service.domain import audit
from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF
from queue_service.store import keys
from tests.factories import make_nik
from tests.web.pages.forms import forms
from tests.web.pages.test_staff_cancel_pages import signed_in

BRANCH = "jakarta-salemba"
OTHER = "bekasi"
CONSOLE = f"/admin/cabang/{BRANCH}/lepas-nik"
COUNTER = "/counter/lepas-nik"
OWNER_PHONE = "081234567890"


@pytest.fixture
def squatted(book):
    """A NIK a stranger booked at two branches, and its owner's own booking."""
    nik = make_nik()
    stranger = [
        book(nik=nik, branch_id=BRANCH, date="2026-11-24", phone="081298765432"),
        book(nik=nik, branch_id=OTHER, date="2026-11-25", phone="081298765432"),
    ]
    owner = book(nik=nik, branch_id=BRANCH, date="2026-11-26", phone=OWNER_PHONE)
    return nik, stranger, owner


def post_form(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200
    (form,) = [
        f for f in forms(response.get_data(as_text=True)) if f["method"] == "post" and f["action"] == url
    ]
    assert form["fields"]["csrf_token"]
    return form["fields"]


def in_outbox(redis, branch_id: str, code: str) -> bool:
    return f"{code}:cancelled" in redis.zrange(keys.sms_outbox(branch_id), 0, -1)


def test_the_console_releases_a_nik_and_shows_what_was_released_and_kept(app, client, squatted, redis):
    nik, stranger, owner = squatted
    signed_in(app, client, "admin", "siti", BRANCH_ADMIN, BRANCH)
    assert f'href="{CONSOLE}"' in client.get(f"/admin/cabang/{BRANCH}/antrian").get_data(as_text=True)
    fields = post_form(client, CONSOLE)

    missing = client.post(CONSOLE, data={**fields, "nik": nik, "phone": OWNER_PHONE, "reason": " "})
    assert missing.status_code == 422
    assert "Alasan: Wajib diisi." in missing.get_data(as_text=True)
    bad = client.post(
        CONSOLE, data={**fields, "nik": "9971011201900001", "phone": OWNER_PHONE, "reason": "KTP"}
    )
    assert bad.status_code == 422 and "NIK: Kode provinsi" in bad.get_data(as_text=True)
    assert not in_outbox(redis, BRANCH, stranger[0]["code"])

    done = client.post(CONSOLE, data={**fields, "nik": nik, "phone": OWNER_PHONE, "reason": "KTP diperiksa"})

    assert done.status_code == 200
    page = done.get_data(as_text=True)
    assert f"NIK {nik[:4]}********{nik[-4:]} dilepaskan: 2 antrian dibatalkan." in page
    released, kept = page.split("Dipertahankan")
    for booking in stranger:
        code = booking["code"]
        assert f"{code[:5]} {code[5:]}" in released
    assert "Bekasi" in released
    assert f"{owner['code'][:5]} {owner['code'][5:]}" in kept
    assert nik not in page
    assert in_outbox(redis, BRANCH, stranger[0]["code"]) and in_outbox(redis, OTHER, stranger[1]["code"])
    assert not in_outbox(redis, BRANCH, owner["code"])
    (entry,) = audit.read(redis, OTHER, action="nik_released")
    assert entry.actor == "siti" and '"released_at": "jakarta-salemba"' in entry.after


def test_the_console_form_needs_its_csrf_token_and_the_branchs_staff(app, client, squatted, redis):
    nik, stranger, _owner = squatted
    signed_in(app, client, "admin", "andi", BRANCH_ADMIN, OTHER)
    assert client.get(CONSOLE).status_code == 403
    fields = post_form(client, f"/admin/cabang/{OTHER}/lepas-nik")
    sent = {"nik": nik, "phone": OWNER_PHONE, "reason": "tanpa token"}
    assert client.post(f"/admin/cabang/{OTHER}/lepas-nik", data=sent).status_code in (400, 403)
    assert client.post(CONSOLE, data={**fields, **sent}).status_code == 403
    assert not in_outbox(redis, BRANCH, stranger[0]["code"])


def test_the_console_speaks_english_too(app, client):
    signed_in(app, client, "admin", "siti", BRANCH_ADMIN, BRANCH)
    page = client.get(f"{CONSOLE}?lang=en").get_data(as_text=True)
    assert "Release a NIK" in page and "Lepaskan NIK" not in page


def test_the_counter_page_releases_a_nik_at_the_staffs_branch(app, client, squatted, redis):
    nik, stranger, owner = squatted
    signed_in(app, client, "counter", "budi", COUNTER_STAFF, OTHER)
    assert f'href="{COUNTER}"' in client.get("/counter/").get_data(as_text=True)
    fields = post_form(client, COUNTER)
    assert "branch_id" not in fields  # staff have one branch

    missing = client.post(COUNTER, data={**fields, "nik": nik, "phone": "", "reason": "KTP diperiksa"})
    assert missing.status_code == 422 and "Nomor HP pemilik: Wajib diisi." in missing.get_data(as_text=True)

    done = client.post(COUNTER, data={**fields, "nik": nik, "phone": OWNER_PHONE, "reason": "KTP diperiksa"})

    assert done.status_code == 200
    page = done.get_data(as_text=True)
    assert "2 antrian dibatalkan" in page and "Pemesannya menerima SMS pembatalan." in page
    assert in_outbox(redis, BRANCH, stranger[0]["code"]) and in_outbox(redis, OTHER, stranger[1]["code"])
    assert redis.hget(keys.booking(BRANCH, owner["code"]), "status") == "booked"
    (entry,) = audit.read(redis, BRANCH, action="nik_released")
    assert (entry.actor, entry.role) == ("budi", COUNTER_STAFF) and '"released_at": "bekasi"' in entry.after


def test_an_admin_of_several_branches_says_where_the_owner_stands(app, client, squatted, redis):
    nik, stranger, _owner = squatted
    signed_in(app, client, "counter", "rina", BRANCH_ADMIN, OTHER, BRANCH)
    html = client.get(COUNTER).get_data(as_text=True)
    assert 'name="branch_id"' in html and 'value="bekasi"' in html and 'value="bandung-suci"' not in html
    fields = post_form(client, COUNTER)
    sent = {"nik": nik, "phone": OWNER_PHONE, "reason": "KTP diperiksa"}

    unnamed = client.post(COUNTER, data={**fields, **sent})
    assert unnamed.status_code == 422 and "Kantor cabang: Wajib diisi." in unnamed.get_data(as_text=True)
    elsewhere = client.post(COUNTER, data={**fields, **sent, "branch_id": "bandung-suci"})
    assert elsewhere.status_code == 403
    assert not in_outbox(redis, BRANCH, stranger[0]["code"])

    done = client.post(COUNTER, data={**fields, **sent, "branch_id": BRANCH})
    assert done.status_code == 200 and "2 antrian dibatalkan" in done.get_data(as_text=True)
