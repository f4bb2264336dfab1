"""The admin console at /admin/: sign-in, sessions, CSRF, and each page's change."""

from __future__ import annotations

import re
import time

import pytest

from queue_service.domain import audit
from queue_service.domain.accounts import BRANCH_ADMIN, NATIONAL_ADMIN

PASSWORD = "kata sandi panjang"
HOME = "/admin/"


@pytest.fixture
def admin(app):
    app.extensions["antrian"].accounts.create("siti", BRANCH_ADMIN, ("jakarta-salemba",), password=PASSWORD)
    app.extensions["antrian"].accounts.create("nasional", NATIONAL_ADMIN, password=PASSWORD)


def csrf(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, username="siti", password=PASSWORD, address="10.0.0.1"):
    token = csrf(client, "/admin/masuk")
    return client.post(
        "/admin/masuk",
        data={"csrf_token": token, "username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def post(client, url: str, **data):
    return client.post(url, data={"csrf_token": csrf(client, url), **data})


def test_pages_need_a_session(client, admin):
    response = client.get("/admin/cabang/jakarta-salemba")
    assert response.status_code == 302 and "/admin/masuk" in response.headers["Location"]


def test_sign_in_then_the_branches_of_the_account(client, admin):
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"].endswith(HOME)
    home = client.get(HOME).get_data(as_text=True)
    assert "Jakarta Salemba" in home and "Bekasi" not in home
    assert "<svg" in home
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_wrong_password_and_an_unknown_name_answer_alike(client, admin):
    wrong = sign_in(client, password="salah sekali")
    unknown = sign_in(client, username="nobody")
    assert wrong.status_code == unknown.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in wrong.get_data(as_text=True)

    def page(response, name):
        text = re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True))
        return text.replace(name, "")

    assert page(wrong, "siti") == page(unknown, "nobody")


def test_repeated_failures_lock_the_name_out(client, admin):
    for _ in range(5):
        sign_in(client, password="salah sekali")
    locked = sign_in(client)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


def test_a_form_without_its_csrf_token_is_refused(client, admin):
    sign_in(client)
    response = client.post(
        "/admin/cabang/jakarta-salemba/pengaturan", data={"daily_quota": "1", "action": "save"}
    )
    assert response.status_code == 400
    refused = client.post("/admin/masuk", data={"username": "siti", "password": PASSWORD})
    assert refused.status_code == 400


def test_an_idle_session_ends(app, client, admin, monkeypatch):
    sign_in(client)
    assert client.get(HOME).status_code == 200
    later = time.time() + 31 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get(HOME).status_code == 302


def test_signing_out_ends_the_session_even_for_a_copy_of_its_cookie(app, client, admin):
    sign_in(client)
    assert client.get(HOME).status_code == 200
    copied = client.get_cookie("session").value
    client.post("/admin/keluar", data={"csrf_token": csrf(client, HOME)})

    other_browser = app.test_client()
    other_browser.set_cookie("session", copied)

    assert other_browser.get(HOME).status_code == 302  # to the sign-in form
    assert client.get(HOME).status_code == 302


def settings_form(client) -> dict:
    page = client.get("/admin/cabang/jakarta-salemba/pengaturan").get_data(as_text=True)
    values = dict(re.findall(r'<input[^>]* name="([a-z_0-9]+)"[^>]* value="([^"]*)"', page))
    values.pop("csrf_token", None)
    values.pop("action", None)  # the buttons
    if 'name="online_booking" value="1" checked' in page:
        values["online_booking"] = "1"
    return values


def test_a_settings_change_shows_its_impact_then_saves_and_is_audited(client, admin, book, redis):
    for slot in ("08:00", "09:00"):
        book(slot=slot)
    sign_in(client)
    values = {**settings_form(client), "daily_quota": "1", "tue_0_start": "09:00"}

    preview = post(client, "/admin/cabang/jakarta-salemba/pengaturan", action="preview", **values)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "di luar jam baru: 1" in text and "melebihi kuota baru: 1" in text
    assert (
        client.get("/api/v1/branches/jakarta-salemba/availability?date=2026-11-24").get_json()["daily_quota"]
        == 160
    )  # not saved yet

    saved = post(client, "/admin/cabang/jakarta-salemba/pengaturan", action="save", **values)
    assert saved.status_code == 302
    day = client.get("/api/v1/branches/jakarta-salemba/availability?date=2026-11-24").get_json()
    assert day["daily_quota"] == 1 and day["slots"][0]["start"] == "09:00"  # the new hours
    [entry] = audit.read(redis, "jakarta-salemba")
    assert (entry.action, entry.actor, entry.address) == ("settings", "siti", "127.0.0.1")


def test_bad_settings_are_named_beside_their_fields(client, admin):
    sign_in(client)
    values = {**settings_form(client), "slot_capacity": "0", "fri_1_start": "11:00"}
    response = post(client, "/admin/cabang/jakarta-salemba/pengaturan", action="save", **values)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-slot_capacity"' in text and 'id="e-fri"' in text


def test_closing_a_day_with_its_bookings_cancelled(client, admin, book):
    made = book()
    sign_in(client)
    response = post(
        client,
        "/admin/cabang/jakarta-salemba/tanggal",
        date="2026-11-24",
        closed="1",
        cancel_bookings="1",
        note="Gedung ditutup",
        action="set",
    )
    assert response.status_code == 200
    assert "Antrian dibatalkan (dengan SMS): 1." in response.get_data(as_text=True)
    listed = client.get("/admin/cabang/jakarta-salemba/antrian?tanggal=2026-11-24")
    assert made["queue_number"] in listed.get_data(as_text=True)
    assert "cancelled" in listed.get_data(as_text=True)


def test_closing_a_day_already_over_is_refused_beside_the_date(client, admin):
    sign_in(client)
    response = post(
        client,
        "/admin/cabang/jakarta-salemba/tanggal",
        date="2026-11-22",
        closed="1",
        cancel_bookings="1",
        note="terlambat",
        action="set",
    )
    assert response.status_code == 422
    assert "Tanggal itu sudah lewat." in response.get_data(as_text=True)


def test_bookings_are_masked_searchable_and_exported(client, admin, book, booking_body, redis):
    body = booking_body()
    made = book(nik=body["nik"])
    sign_in(client)
    page = client.get(
        f"/admin/cabang/jakarta-salemba/antrian?tanggal=2026-11-24&kode={made['code'][:5].lower()}"
    ).get_data(as_text=True)
    assert made["queue_number"] in page and body["nik"] not in page
    assert body["nik"] not in client.get("/admin/cabang/jakarta-salemba/antrian.csv?lengkap=1").text
    day = "/admin/cabang/jakarta-salemba/antrian?tanggal=2026-11-24"
    export = "/admin/cabang/jakarta-salemba/antrian.csv"
    refused = client.post(
        export, data={"csrf_token": csrf(client, day), "tanggal": "2026-11-24", "reason": " "}
    )
    assert refused.status_code == 422 and "Alasan mengunduh data lengkap:" in refused.text
    assert audit.read(redis, "jakarta-salemba") == []
    form = {"csrf_token": csrf(client, day), "tanggal": "2026-11-24", "reason": "Verifikasi klaim"}
    full = client.post(export, data=form)
    assert body["nik"] in full.get_data(as_text=True)
    [entry] = audit.read(redis, "jakarta-salemba")
    assert entry.action == "bookings_exported_full" and '"reason": "Verifikasi klaim"' in entry.after


def test_the_export_without_a_date_is_of_the_branchs_today_on_the_services_clock(client, admin):
    sign_in(client)  # the clock: Monday 23 November 2026, 07:00 in Jakarta

    export = client.get("/admin/cabang/jakarta-salemba/antrian.csv")

    assert export.status_code == 200
    assert "antrian-jakarta-salemba-2026-11-23.csv" in export.headers["Content-Disposition"]


@pytest.mark.parametrize("typed", ["²", "１０", "-1", "1.5"])
def test_numbers_that_are_not_plain_digits_are_named_not_a_500(client, admin, typed):
    sign_in(client)
    settings = post(
        client,
        "/admin/cabang/jakarta-salemba/pengaturan",
        action="save",
        **{**settings_form(client), "daily_quota": typed},
    )
    day = post(
        client, "/admin/cabang/jakarta-salemba/tanggal", date="2026-11-24", daily_quota=typed, action="set"
    )

    assert settings.status_code == 422
    assert 'id="e-daily_quota"' in settings.get_data(as_text=True)
    assert day.status_code == 422


def test_another_branch_is_forbidden(client, admin):
    sign_in(client)
    assert client.get("/admin/cabang/bekasi").status_code == 403
    assert client.get("/admin/cabang/bekasi/pengaturan").status_code == 403


def test_the_audit_page_lists_and_exports(client, admin):
    sign_in(client)
    post(client, "/admin/cabang/jakarta-salemba/tanggal", date="2026-11-25", daily_quota="3", action="set")
    page = client.get("/admin/cabang/jakarta-salemba/audit").get_data(as_text=True)
    assert "siti" in page and "2026-11-25" in page
    exported = client.get("/admin/cabang/jakarta-salemba/audit?format=csv")
    assert exported.mimetype == "text/csv" and "date" in exported.get_data(as_text=True)


def test_staff_are_added_and_their_tokens_made_and_revoked(client, admin, app):
    sign_in(client)
    url = "/admin/cabang/jakarta-salemba/petugas"
    made = post(client, url, username="loket1", action="create")
    token = re.search(r'<code class="token">([^<]+)</code>', made.get_data(as_text=True)).group(1)
    accounts = app.extensions["antrian"].accounts
    assert accounts.authenticate(token).username == "loket1"
    [listed] = accounts.tokens("loket1")
    post(client, url, username="loket1", token_id=listed.id, action="revoke")
    with pytest.raises(Exception, match="bad_token"):
        accounts.authenticate(token)
    taken = post(client, url, username="loket1", action="create")
    assert taken.status_code == 422 and "sudah dipakai" in taken.get_data(as_text=True)
    assert client.get("/admin/cabang/bekasi/petugas").status_code == 403


def test_national_closures_from_the_console(client, admin):
    sign_in(client, username="siti")
    assert client.get("/admin/nasional").status_code == 403
    client.post("/admin/keluar", data={"csrf_token": csrf(client, HOME)})
    sign_in(client, username="nasional")
    page = post(client, "/admin/nasional", date="2026-11-25", note="Banjir", action="close")
    assert "Banjir" in page.get_data(as_text=True)
    day = client.get("/api/v1/branches/jayapura/availability?date=2026-11-25").get_json()
    assert day["reason"] == "national_closure"
    post(client, "/admin/nasional", date="2026-11-25", action="reopen")
    assert client.get("/api/v1/branches/jayapura/availability?date=2026-11-25").get_json()["open"]


def test_the_console_speaks_english_on_request(client, admin):
    page = client.get("/admin/masuk?lang=en").get_data(as_text=True)
    assert "Sign in to the admin console" in page and '<html lang="en">' in page
    sign_in(client)
    assert "Booked against quota" in client.get("/admin/cabang/jakarta-salemba").get_data(as_text=True)


def test_kiosks_are_registered_and_revoked_from_the_console(client, admin, app, redis):
    sign_in(client)
    url = "/admin/cabang/jakarta-salemba/kios"
    made = post(client, url, name="Pintu depan", action="create")
    token = re.search(r'<code class="token">([^<]+)</code>', made.get_data(as_text=True)).group(1)
    kiosks = app.extensions["antrian"].kiosks
    kiosk = kiosks.authenticate(token)
    assert kiosk.branch_id == "jakarta-salemba"
    post(client, url, kiosk_id=kiosk.id, action="revoke")
    with pytest.raises(Exception, match="bad_kiosk"):
        kiosks.authenticate(token)
    assert [e.action for e in audit.read(redis, "jakarta-salemba")] == ["kiosk_revoked", "kiosk_created"]
    assert post(client, url, name="", action="create").status_code == 422


def test_counters_are_set_and_removed_from_the_console(client, admin, app, redis):
    sign_in(client)
    url = "/admin/cabang/jakarta-salemba/loket"
    assert "Belum ada loket." in client.get(url).get_data(as_text=True)
    client.post(
        url,
        data={
            "csrf_token": csrf(client, url),
            "name": "Loket 3",
            "services": ["jht", "jkk"],
            "action": "save",
        },
    )
    post(client, url, name="Loket 10", action="save")
    page = client.get(url).get_data(as_text=True)
    assert "Klaim Jaminan Hari Tua (JHT), Klaim Jaminan Kecelakaan Kerja (JKK)" in page
    assert page.index("Loket 3") < page.index("Loket 10") and "semua layanan" in page
    live = app.extensions["antrian"].live_queue
    assert [(c.name, c.services) for c in live.counters("jakarta-salemba")] == [
        ("Loket 3", ("jht", "jkk")),
        ("Loket 10", ()),
    ]
    post(client, url, name="Loket 10", action="remove")
    assert [c.name for c in live.counters("jakarta-salemba")] == ["Loket 3"]
    assert [e.action for e in audit.read(redis, "jakarta-salemba")] == [
        "counter_removed",
        "counter",
        "counter",
    ]
    refused = post(client, url, name="Loket/3", action="save")
    assert refused.status_code == 422 and "Kode tidak valid." in refused.get_data(as_text=True)
    assert post(client, url, name="Loket 99", action="remove").status_code == 422


def test_the_branch_dashboard_shows_attendance_rates(client, admin, app, book, clock, redis):
    import datetime as dt

    from queue_service.store import keys
    from tests.factories import JAKARTA

    made = [book(), book()]
    redis.hset(keys.booking("jakarta-salemba", made[0]["code"]), "status", "served")
    redis.hset(keys.booking("jakarta-salemba", made[1]["code"]), "status", "no_show")
    clock.set(dt.datetime(2026, 11, 26, 9, 0, tzinfo=JAKARTA))  # two days after the visit
    sign_in(client)
    page = client.get("/admin/cabang/jakarta-salemba").get_data(as_text=True)
    assert "Tingkat kehadiran" in page and "50%" in page
