"""Accounts on the staff pages (issue 22): one's own password on the console and the counter
page, the change a reset forces, and the admins' accounts pages (disable, delete after a
confirmation, role and branches, reset, unlock, tokens with their expiry and last use,
sessions ended)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from queue_service.domain import audit
from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF, NATIONAL_ADMIN

PASSWORD = "kata sandi panjang"
NEW_PASSWORD = "kopi susu di salemba tujuh"
BRANCH = "jakarta-salemba"


@pytest.fixture
def people(app):
    accounts = app.extensions["antrian"].accounts
    accounts.create("nasional", NATIONAL_ADMIN, password=PASSWORD)
    accounts.create("siti", BRANCH_ADMIN, (BRANCH,), password=PASSWORD)
    accounts.create("budi", COUNTER_STAFF, (BRANCH,), password=PASSWORD)
    accounts.create("joko", COUNTER_STAFF, ("bekasi",), password=PASSWORD)
    return accounts


def csrf(browser, url: str) -> str:
    page = browser.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(browser, surface: str, username: str, password: str = PASSWORD, address: str = "10.0.0.1"):
    url = f"/{surface}/masuk"
    return browser.post(
        url,
        data={"csrf_token": csrf(browser, url), "username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def post(browser, url: str, **data):
    return browser.post(url, data={"csrf_token": csrf(browser, url), **data})


def browser_of(app, surface: str, username: str, address: str = "10.0.0.1"):
    browser = app.test_client()
    assert sign_in(browser, surface, username, address=address).status_code in (302, 303)
    return browser


def change_password(browser, surface: str, current: str, new: str, again: str | None = None):
    return post(
        browser,
        f"/{surface}/kata-sandi",
        current_password=current,
        password=new,
        password_again=new if again is None else again,
    )


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("surface", ["admin", "counter"])
def test_every_member_of_staff_changes_their_own_password_with_the_current_one(app, people, surface):
    username = "siti" if surface == "admin" else "budi"
    browser = browser_of(app, surface, username)
    page = text(browser.get(f"/{surface}/"))
    assert f'href="/{surface}/kata-sandi"' in page

    wrong = change_password(browser, surface, "salah sekali", NEW_PASSWORD)
    assert wrong.status_code == 422 and "Kata sandi sekarang salah." in text(wrong)
    mismatch = change_password(browser, surface, PASSWORD, NEW_PASSWORD, "yang lain sama sekali")
    assert mismatch.status_code == 422 and "Kedua isian kata sandi baru tidak sama." in text(mismatch)
    common = change_password(browser, surface, PASSWORD, "1qaz2wsx3edc")
    assert common.status_code == 422 and "paling sering dipakai" in text(common)
    short = change_password(browser, surface, PASSWORD, "pendek")
    assert short.status_code == 422 and 'id="e-password"' in text(short)

    done = change_password(browser, surface, PASSWORD, NEW_PASSWORD)

    assert done.status_code == 303 and done.headers["Location"].endswith("?diubah=1")
    assert "sudah diubah" in text(browser.get(done.headers["Location"]))
    assert browser.get(f"/{surface}/").status_code == 200  # this session goes on
    assert sign_in(app.test_client(), surface, username).status_code == 401
    assert sign_in(app.test_client(), surface, username, NEW_PASSWORD).status_code in (302, 303)


def test_a_reset_shows_the_temporary_password_once_and_forces_a_change_at_sign_in(app, people, redis):
    admin = browser_of(app, "admin", "siti")
    clerk = browser_of(app, "counter", "budi", "10.0.0.5")

    reset = post(admin, "/admin/akun/budi", action="reset")

    assert reset.status_code == 200
    temporary = re.search(r'<code class="token">([^<]+)</code>', text(reset)).group(1)
    assert temporary not in text(admin.get("/admin/akun/budi"))  # shown once
    assert clerk.get("/counter/").status_code == 302  # the reset ended budi's sessions
    assert sign_in(app.test_client(), "counter", "budi").status_code == 401  # the old password

    fresh = app.test_client()
    assert sign_in(fresh, "counter", "budi", temporary).status_code == 303
    for page in ("/counter/", "/counter/batal"):
        led = fresh.get(page)
        assert led.status_code == 303 and led.headers["Location"].endswith("/counter/kata-sandi")
    assert "Admin mengatur ulang kata sandi Anda" in text(fresh.get("/counter/kata-sandi"))
    assert change_password(fresh, "counter", temporary, NEW_PASSWORD).status_code == 303
    assert fresh.get("/counter/").status_code == 200
    assert sign_in(app.test_client(), "counter", "budi", temporary).status_code == 401
    assert [e.actor for e in audit.read(redis, action="password_reset")] == ["siti"]


def test_a_temporary_password_past_its_time_is_refused_with_a_clear_word(app, people, clock):
    admin = browser_of(app, "admin", "siti")
    temporary = re.search(
        r'<code class="token">([^<]+)</code>', text(post(admin, "/admin/akun/budi", action="reset"))
    ).group(1)
    clock.set(clock() + dt.timedelta(hours=app.config["TEMPORARY_PASSWORD_HOURS"]))

    refused = sign_in(app.test_client(), "counter", "budi", temporary)

    assert refused.status_code == 403
    assert "Kata sandi sementara ini sudah kedaluwarsa" in text(refused)
    assert sign_in(app.test_client(), "counter", "budi", "salah sekali sekali").status_code == 401


def test_an_admin_after_a_reset_is_led_only_to_the_change_page(app, people):
    nasional = browser_of(app, "admin", "nasional")
    temporary = re.search(
        r'<code class="token">([^<]+)</code>', text(post(nasional, "/admin/akun/siti", action="reset"))
    ).group(1)
    siti = app.test_client()
    sign_in(siti, "admin", "siti", temporary)
    for page in ("/admin/", f"/admin/cabang/{BRANCH}", "/admin/akun"):
        assert siti.get(page).headers["Location"].endswith("/admin/kata-sandi")
    assert change_password(siti, "admin", temporary, NEW_PASSWORD).status_code == 303
    assert siti.get("/admin/").status_code == 200


def test_disabling_on_the_console_signs_the_account_out_at_once_and_enabling_does_not_sign_it_in(app, people):
    admin, clerk = browser_of(app, "admin", "siti"), browser_of(app, "counter", "budi", "10.0.0.5")
    assert clerk.get("/counter/").status_code == 200

    done = post(admin, "/admin/akun/budi", action="disable")

    assert done.status_code == 303
    assert "nonaktif" in text(admin.get(done.headers["Location"]))
    assert clerk.get("/counter/").status_code == 302
    refused = sign_in(app.test_client(), "counter", "budi")
    assert refused.status_code == 403 and "dinonaktifkan" in text(refused)
    post(admin, "/admin/akun/budi", action="enable")
    assert clerk.get("/counter/").status_code == 302
    assert sign_in(app.test_client(), "counter", "budi").status_code == 303


def test_a_branch_admin_sees_and_changes_only_their_branchs_staff(app, people):
    admin = browser_of(app, "admin", "siti")
    listing = text(admin.get("/admin/akun"))
    assert "budi" in listing and "joko" not in listing and "nasional" not in listing
    for other in ("joko", "nasional", "siti"):
        assert admin.get(f"/admin/akun/{other}").status_code == 403
    token = csrf(admin, "/admin/akun/budi")  # the 403 page has no form
    assert admin.post("/admin/akun/joko", data={"csrf_token": token, "action": "disable"}).status_code == 403
    assert not people.get("joko").disabled
    clerk = browser_of(app, "admin", "budi", "10.0.0.5")  # counter staff on the console
    assert clerk.get("/admin/akun").status_code == 403
    assert 'href="/admin/akun"' not in text(clerk.get("/admin/kata-sandi"))


def test_role_and_branches_change_from_the_console_by_the_rules(app, people):
    admin = browser_of(app, "admin", "nasional")
    url = "/admin/akun/budi"
    refused = admin.post(
        url,
        data={
            "csrf_token": csrf(admin, url),
            "action": "role",
            "role": COUNTER_STAFF,
            "branches": [BRANCH, "bekasi"],
        },
    )
    assert refused.status_code == 422
    assert "petugas loket tepat satu" in text(refused)
    moved = admin.post(
        url,
        data={
            "csrf_token": csrf(admin, url),
            "action": "role",
            "role": COUNTER_STAFF,
            "branches": ["bekasi"],
        },
    )
    assert moved.status_code == 303 and people.get("budi").branches == ("bekasi",)


def test_delete_asks_first_then_keeps_the_audit_entries(app, people, redis):
    admin = browser_of(app, "admin", "siti")
    question = admin.get("/admin/akun/budi/hapus")
    assert question.status_code == 200 and "catatan auditnya tetap ada" in text(question)
    assert people.get("budi") is not None

    done = post(admin, "/admin/akun/budi/hapus")

    assert done.status_code == 303 and "dihapus=budi" in done.headers["Location"]
    assert "Akun budi sudah dihapus" in text(admin.get(done.headers["Location"]))
    assert people.get("budi") is None
    assert [e.action for e in audit.read(redis, action="account_deleted")] == ["account_deleted"]
    assert admin.get("/admin/akun/budi").status_code == 404


def test_the_last_national_admin_cannot_delete_themself(app, people):
    admin = browser_of(app, "admin", "nasional")
    refused = post(admin, "/admin/akun/nasional/hapus")
    assert refused.status_code == 422 and "Harus tetap ada satu admin nasional yang aktif." in text(refused)
    assert people.get("nasional") is not None


def test_tokens_are_made_with_an_expiry_listed_with_their_last_use_and_revoked(app, people, client):
    admin = browser_of(app, "admin", "siti")
    bad = post(admin, "/admin/akun/budi", action="add_token", name="skrip", expires_in_days="400")
    assert bad.status_code == 422 and "Maksimal 366." in text(bad)

    made = post(admin, "/admin/akun/budi", action="add_token", name="skrip", expires_in_days="30")

    token = re.search(r'<code class="token">([^<]+)</code>', text(made)).group(1)
    assert (
        client.get(
            "/api/v1/admin/accounts/budi/tokens", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 200
    )
    page = text(admin.get("/admin/akun/budi"))
    assert token not in page and "skrip" in page and "2026-12-23T07:00:00+07:00" in page
    assert "2026-11-23T00:00:00+00:00" in page  # its last use
    [listed] = [t for t in people.tokens("budi") if t.name == "skrip"]
    assert post(admin, "/admin/akun/budi", action="revoke_token", token_id=listed.id).status_code == 303
    assert (
        client.get(
            "/api/v1/admin/accounts/budi/tokens", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 401
    )


def test_sessions_are_listed_and_ended_from_the_console(app, people):
    admin = browser_of(app, "admin", "siti")
    here, there = (
        browser_of(app, "counter", "budi", "10.0.0.5"),
        browser_of(app, "counter", "budi", "10.0.0.6"),
    )
    page = text(admin.get("/admin/akun/budi"))
    assert "10.0.0.5" in page and "10.0.0.6" in page
    listed = re.findall(r'name="session_id" value="([0-9a-f]{16})"', page)
    assert len(listed) == 2

    for listed_id in listed:
        assert post(admin, "/admin/akun/budi", action="end_session", session_id=listed_id).status_code == 303
    assert here.get("/counter/").status_code == 302 and there.get("/counter/").status_code == 302


def test_unlock_from_the_console(app, people):
    for _ in range(5):
        sign_in(app.test_client(), "counter", "budi", "salah sekali", "10.0.0.5")
    assert sign_in(app.test_client(), "counter", "budi", address="10.0.0.5").status_code == 429
    admin = browser_of(app, "admin", "siti")

    assert post(admin, "/admin/akun/budi", action="unlock").status_code == 303

    assert sign_in(app.test_client(), "counter", "budi", address="10.0.0.5").status_code == 303


def test_forms_need_their_csrf_token(app, people):
    admin = browser_of(app, "admin", "siti")
    assert admin.post("/admin/akun/budi", data={"action": "disable"}).status_code == 400
    assert admin.post("/admin/akun/budi/hapus").status_code == 400
    assert admin.post("/admin/kata-sandi", data={"current_password": PASSWORD}).status_code == 400
    assert not people.get("budi").disabled


def test_the_pages_speak_english_on_request(app, people):
    admin = browser_of(app, "admin", "siti")
    page = text(admin.get("/admin/kata-sandi?lang=en"))
    assert "Change password" in page and "Current password" in page
    assert "Accounts you manage" in text(admin.get("/admin/akun"))
