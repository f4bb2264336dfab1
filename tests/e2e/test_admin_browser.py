"""An admin at a desk: the console in headless Chromium at 1280×900 against the real server."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from queue_service.domain.accounts import BRANCH_ADMIN, Accounts
from tests.e2e.conftest import assert_accessible, screenshot
from tests.factories import make_nik
from tests.live import a_bookable_weekday, call

DESK = {"width": 1280, "height": 900}
PASSWORD = "kata sandi panjang"


@pytest.fixture
def desk(browser, live_server, redis):
    Accounts(redis).create("siti", BRANCH_ADMIN, ("jakarta-salemba",), password=PASSWORD)
    context = browser.new_context(viewport=DESK, locale="id-ID", base_url=live_server)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page: Page) -> None:
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Masuk ke konsol admin")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "admin-01-sign-in")
    page.get_by_label("Nama pengguna").fill("siti")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()


def book(base: str, day: dt.date, slot: str) -> None:
    _status, captcha = call(f"{base}/api/v1/captcha", {})
    status, made = call(
        f"{base}/api/v1/bookings",
        {
            "branch_id": "jakarta-salemba",
            "service_id": "jht",
            "date": day.isoformat(),
            "slot": slot,
            "name": "Budi Santoso",
            "nik": make_nik(),
            "kpj": "12345678901",
            "phone": "081234567890",
            "captcha_id": captcha["captcha_id"],
            "captcha_answer": "12345",
        },
    )
    assert status == 201, made


def test_an_admin_changes_a_quota_closes_a_day_and_reads_the_audit(desk, live_server):
    page = desk
    day = a_bookable_weekday()
    for slot in ("08:00", "09:00", "09:00"):
        book(live_server, day, slot)
    sign_in(page)
    expect(page.get_by_role("heading", name="Cabang", exact=True)).to_be_visible()
    expect(page.get_by_role("img", name="Antrian online terpesan dibanding kuota")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "admin-02-home")

    page.get_by_role("link", name="Jakarta Salemba").click()
    expect(page.get_by_role("img", name="Terpesan dibanding kuota, 14 hari ke depan")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "admin-03-branch")

    page.get_by_role("link", name="Jam & kuota").click()
    page.get_by_label("Kuota harian").fill("2")
    page.get_by_role("button", name="Periksa dampak").click()
    expect(page.get_by_role("status")).to_contain_text("melebihi kuota baru: 1")
    assert_accessible(page)
    screenshot(page, "admin-04-settings-impact")
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_text("Perubahan tersimpan dan langsung berlaku.")).to_be_visible()

    status, availability = call(
        f"{live_server}/api/v1/branches/jakarta-salemba/availability?date={day.isoformat()}"
    )
    assert status == 200 and (availability["daily_quota"], availability["remaining"]) == (2, 0)

    page.get_by_role("link", name="Tanggal & penutupan").click()
    page.get_by_label("Tanggal", exact=True).fill(day.isoformat())
    page.get_by_label("Tutup tanggal ini").check()
    page.get_by_label("Catatan untuk peserta").fill("Renovasi gedung")
    page.get_by_role("button", name="Simpan tanggal").click()
    expect(page.get_by_role("status")).to_contain_text("ditutup")
    assert_accessible(page)
    screenshot(page, "admin-05-dates")
    _status, closed = call(
        f"{live_server}/api/v1/branches/jakarta-salemba/availability?date={day.isoformat()}"
    )
    assert (closed["open"], closed["reason"], closed["note"]) == (False, "closed", "Renovasi gedung")

    page.get_by_role("link", name="Log audit").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("date")
    expect(rows.nth(1)).to_contain_text("settings")
    assert_accessible(page)
    screenshot(page, "admin-06-audit")


def test_an_admin_sets_up_a_counter(desk):
    page = desk
    sign_in(page)
    expect(page.get_by_role("heading", name="Cabang", exact=True)).to_be_visible()
    page.get_by_role("link", name="Jakarta Salemba").click()
    page.get_by_role("link", name="Loket", exact=True).click()
    expect(page.get_by_text("Belum ada loket.")).to_be_visible()
    page.get_by_label("Nama loket (mis. Loket 3)").fill("Loket 3")
    page.get_by_label("Klaim Jaminan Hari Tua (JHT)").check()
    page.get_by_role("button", name="Simpan loket").click()
    row = page.locator("tbody tr", has=page.get_by_role("rowheader", name="Loket 3"))
    expect(row).to_contain_text("Klaim Jaminan Hari Tua (JHT)")
    assert_accessible(page)
    screenshot(page, "admin-07-counters")
