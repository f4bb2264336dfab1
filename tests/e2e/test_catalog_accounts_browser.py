"""The consoles of issue 22 at a desk, in headless Chromium at 1280×900 against the real server:
a national admin opens a WITA branch in the catalog and a participant sees its slots, then
retires it; an admin resets a clerk's password, the clerk is held on the change-password page
until it is changed, and a disabled account is signed out at its next page; a branch admin
closes their branch for some days and the closure's page counts the booking it cancelled."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF, NATIONAL_ADMIN, Accounts
from tests.e2e.conftest import PHONE, assert_accessible, screenshot
from tests.live import a_bookable_weekday, book_live

DESK = {"width": 1280, "height": 900}
TABLET = {"width": 800, "height": 1100}
PASSWORD = "kata sandi panjang"
NEW_PASSWORD = "kopi susu di salemba tujuh"
BRANCH = "tarakan-juata"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


@pytest.fixture
def desk(browser, live_server, redis):
    """A function opening a new browser context at ``viewport``; every one closed at the end."""
    accounts = Accounts(redis)
    accounts.create("nasional", NATIONAL_ADMIN, password=PASSWORD)
    accounts.create("siti", BRANCH_ADMIN, ("jakarta-salemba",), password=PASSWORD)
    accounts.create("budi", COUNTER_STAFF, ("jakarta-salemba",), password=PASSWORD)
    contexts = []

    def open_(viewport: dict = DESK) -> Page:
        context = browser.new_context(viewport=viewport, locale="id-ID", base_url=live_server)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_
    for context in contexts:
        context.close()


def sign_in(page: Page, username: str, surface: str = "admin", password: str = PASSWORD) -> None:
    page.goto(f"/{surface}/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()


def look(page: Page, name: str) -> None:
    """axe-core finds nothing serious on the page, and a picture of it is kept."""
    assert_accessible(page)
    screenshot(page, name)


def test_a_national_admin_opens_a_wita_branch_a_participant_sees_its_slots_then_it_is_retired(
    desk, live_server
):
    page = desk()
    sign_in(page, "nasional")
    page.get_by_role("link", name="Katalog: wilayah, layanan dan kantor cabang").click()
    expect(page.get_by_role("heading", name="Katalog: wilayah, layanan dan kantor cabang")).to_be_visible()
    look(page, "catalog-01-home")
    page.set_viewport_size(TABLET)
    look(page, "catalog-01-home-tablet")
    page.set_viewport_size(DESK)

    page.get_by_role("link", name="Tambah wilayah").click()
    page.get_by_label("Kode").fill("Kalimantan Utara")  # not a slug: refused beside its field
    page.get_by_label("Nama").fill("Kalimantan Utara")
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_role("alert")).to_contain_text("Periksa isian yang ditandai.")
    expect(page.locator("#e-id")).to_be_visible()
    expect(page.get_by_label("Kode")).to_have_attribute("aria-invalid", "true")
    look(page, "catalog-02-area-refused")
    page.get_by_label("Kode").fill("kalimantan-utara")
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_role("status")).to_contain_text("Tersimpan: kalimantan-utara")
    expect(page.get_by_role("row", name="kalimantan-utara Kalimantan Utara")).to_be_visible()

    # What a participant brings, as text: JHT's documents and reasons.
    page.get_by_role("link", name="jht", exact=True).click()
    expect(page.get_by_role("heading", name="Ubah layanan")).to_be_visible()
    expect(page.get_by_label("Alasan klaim dan dokumen tambahannya")).to_have_value(re.compile(r"\S+: .+"))
    look(page, "catalog-03-service-edit")
    page.get_by_role("link", name="← Katalog").click()

    page.get_by_role("link", name="Tambah kantor cabang").click()
    page.get_by_label("Kode").fill(BRANCH)
    page.get_by_label("Nama").fill("Tarakan Juata")
    page.get_by_label("Alamat").fill("Jl. Mulawarman No. 1, Tarakan")
    page.get_by_label("Wilayah").select_option(label="Kalimantan Utara")
    page.get_by_label("Zona waktu").select_option("Asia/Makassar")
    page.get_by_label("A · Klaim Jaminan Hari Tua (JHT)").check()
    look(page, "catalog-04-branch-new")
    page.get_by_role("button", name="Simpan").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=BRANCH))
    expect(row).to_contain_text("Tarakan Juata")
    expect(row).to_contain_text("Kalimantan Utara")
    expect(row).to_contain_text("WITA")
    expect(row).to_contain_text("jht")
    expect(row).to_contain_text("Aktif")

    row.get_by_role("link", name=BRANCH).click()
    expect(page.get_by_role("heading", name="Ubah kantor cabang")).to_be_visible()
    expect(page.get_by_label("Zona waktu")).to_have_value("Asia/Makassar")
    page.get_by_label("Alamat").fill("Jl. Mulawarman No. 12, Juata Laut, Tarakan")
    look(page, "catalog-05-branch-edit")
    page.get_by_role("button", name="Simpan", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"Tersimpan: {BRANCH}")
    expect(row).to_contain_text("Tarakan Juata")

    # Its hours, and online booking on, on the branch's own settings page.
    row.get_by_role("link", name=BRANCH).click()
    page.get_by_role("main").get_by_role("link", name="Jam & kuota").click()
    expect(page.get_by_role("heading", name="Jam layanan dan kuota · Tarakan Juata")).to_be_visible()
    expect(page.get_by_label("Menerima antrian online")).not_to_be_checked()
    page.get_by_label("Menerima antrian online").check()
    for day in WEEKDAYS:
        page.locator(f'input[name="{day}_0_start"]').fill("08:00")
        page.locator(f'input[name="{day}_0_end"]').fill("12:00")
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_role("heading", name="Tarakan Juata")).to_be_visible()

    day = a_bookable_weekday()
    participant = desk(PHONE)
    participant.goto(f"/cabang/{BRANCH}")
    expect(participant.get_by_text("Jl. Mulawarman No. 12, Juata Laut, Tarakan")).to_be_visible()
    participant.get_by_role("link", name="Klaim Jaminan Hari Tua (JHT)").click()
    participant.locator(f'a[href="/cabang/{BRANCH}/jht/{day.isoformat()}"]').click()
    slots = participant.locator("label.slot")
    expect(slots).to_have_count(8)  # 08:00-12:00 in 30 minutes
    expect(slots.first).to_contain_text("08:00–08:30 WITA")
    expect(slots.first).to_contain_text("sisa 10")
    look(participant, "catalog-06-participant-slots")

    page.goto(f"/admin/katalog/cabang/{BRANCH}")
    page.get_by_role("button", name="Pensiunkan kantor cabang").click()
    expect(row).to_contain_text("Dipensiunkan")
    look(page, "catalog-07-retired")
    page.goto(f"/admin/katalog/cabang/{BRANCH}")
    expect(page.get_by_role("button", name="Aktifkan kembali")).to_be_visible()
    look(page, "catalog-08-branch-retired")

    participant.goto(f"/cabang/{BRANCH}")
    expect(participant.get_by_role("status")).to_contain_text(
        "Kantor cabang ini tidak lagi menerima pemesanan antrian."
    )
    expect(participant.get_by_role("link", name="Klaim Jaminan Hari Tua (JHT)")).to_have_count(0)
    look(participant, "catalog-09-participant-retired")


def test_a_reset_leads_the_clerk_to_a_new_password_and_a_disabled_account_is_signed_out(desk):
    admin = desk()
    sign_in(admin, "nasional")
    admin.get_by_role("navigation", name="Akun").get_by_role("link", name="Akun", exact=True).click()
    expect(admin.get_by_role("heading", name="Akun", exact=True)).to_be_visible()
    expect(admin.get_by_role("row").filter(has_text="budi")).to_contain_text("Petugas loket")
    look(admin, "accounts-01-list")

    admin.get_by_role("link", name="budi").click()
    expect(admin.get_by_role("heading", name="Akun budi")).to_be_visible()
    branches = admin.get_by_role("group", name="Cabang (admin nasional")
    expect(branches.get_by_role("checkbox").first).to_be_checked()
    expect(branches.get_by_label("Jakarta Salemba")).to_be_checked()
    look(admin, "accounts-02-account")
    branches.get_by_label("Bekasi").check()  # counter staff belong to one branch: refused
    admin.get_by_role("button", name="Simpan peran dan cabang").click()
    expect(admin.locator("#e-branches")).to_contain_text("tepat satu")
    expect(branches.get_by_label("Bekasi")).to_be_checked()  # what was chosen, shown again
    look(admin, "accounts-02-account-refused")
    admin.set_viewport_size(TABLET)
    screenshot(admin, "accounts-02-account-refused-tablet")
    admin.set_viewport_size(DESK)
    admin.get_by_role("link", name="Hapus akun…").click()
    expect(admin.get_by_role("heading", name="Hapus akun budi?")).to_be_visible()
    look(admin, "accounts-03-delete-confirm")
    admin.get_by_role("link", name="Batal").click()

    admin.get_by_role("button", name="Atur ulang kata sandi").click()
    shown = admin.locator("code.token")
    expect(shown).to_have_count(1)
    temporary = shown.inner_text().strip()
    assert len(temporary) >= 12
    look(admin, "accounts-04-reset-shown")
    admin.goto("/admin/akun/budi")  # shown once: the account's page does not keep it
    expect(admin.locator("code.token")).to_have_count(0)
    expect(admin.get_by_text("harus ganti kata sandi saat masuk")).to_be_visible()

    clerk = desk(TABLET)
    sign_in(clerk, "budi", surface="counter", password=temporary)
    expect(clerk).to_have_url(re.compile(r"/counter/kata-sandi$"))
    expect(clerk.get_by_role("status")).to_contain_text("Admin mengatur ulang kata sandi Anda.")
    look(clerk, "accounts-05-clerk-must-change")
    for elsewhere in ("/counter/", "/counter/batal", "/counter/lepas-nik"):
        clerk.goto(elsewhere)
        expect(clerk.get_by_role("heading", name="Ganti kata sandi")).to_be_visible()
        assert clerk.url.endswith("/counter/kata-sandi"), clerk.url

    clerk.get_by_label("Kata sandi sekarang").fill(temporary)
    clerk.get_by_label("Kata sandi baru", exact=True).fill("budi budi budi budi")
    clerk.get_by_label("Kata sandi baru sekali lagi").fill("budi budi budi budi")
    clerk.get_by_role("button", name="Ganti kata sandi").click()
    expect(clerk.locator("#e-password")).to_contain_text("nama pengguna")
    expect(clerk.get_by_label("Kata sandi baru", exact=True)).to_have_attribute("aria-invalid", "true")
    look(clerk, "accounts-06-clerk-refused")

    clerk.get_by_label("Kata sandi sekarang").fill(temporary)
    clerk.get_by_label("Kata sandi baru", exact=True).fill(NEW_PASSWORD)
    clerk.get_by_label("Kata sandi baru sekali lagi").fill(NEW_PASSWORD)
    clerk.get_by_role("button", name="Ganti kata sandi").click()
    expect(clerk.get_by_role("status")).to_contain_text("Kata sandi Anda sudah diubah.")
    look(clerk, "accounts-07-clerk-changed")
    clerk.get_by_role("link", name="Lanjutkan").click()
    expect(clerk.get_by_role("heading", name="Ganti kata sandi")).to_have_count(0)
    assert clerk.url.endswith("/counter/"), clerk.url

    admin.goto("/admin/akun/budi")
    expect(admin.get_by_role("table", name="Sesi konsol dan loket yang masih berlaku")).to_contain_text(
        "Loket"
    )
    look(admin, "accounts-08-session-listed")
    admin.get_by_role("button", name="Nonaktifkan").click()
    expect(admin.get_by_role("status")).to_contain_text("Perubahan disimpan.")
    expect(admin.get_by_role("definition").filter(has_text="nonaktif")).to_be_visible()
    expect(admin.get_by_role("button", name="Aktifkan")).to_be_visible()
    look(admin, "accounts-09-disabled")

    clerk.reload()
    expect(clerk.get_by_role("heading", name="Masuk sebagai petugas loket")).to_be_visible()
    assert "/counter/masuk" in clerk.url, clerk.url

    admin.get_by_role("link", name="Kata sandi").click()
    expect(admin.get_by_role("heading", name="Ganti kata sandi")).to_be_visible()
    look(admin, "accounts-10-own-password")


def test_a_branch_admin_closes_their_branch_for_days_and_sees_the_booking_cancelled(desk, live_server):
    day = a_bookable_weekday()
    status, made = book_live(live_server, "jakarta-salemba", day.isoformat(), "09:00")
    assert status == 201, made
    page = desk()
    sign_in(page, "siti")
    page.get_by_role("link", name="Jakarta Salemba").click()
    page.get_by_role("link", name="Tanggal & penutupan").click()
    page.get_by_label("Dari tanggal").fill(day.isoformat())
    page.get_by_label("Sampai tanggal").fill((day + dt.timedelta(days=1)).isoformat())
    page.get_by_label("Alasan (dikirim ke setiap peserta)").fill("Perbaikan listrik gedung")
    look(page, "closures-01-dates-form")
    page.get_by_role("button", name="Tutup beberapa hari").click()
    expect(page.get_by_role("alert")).to_be_visible()  # not confirmed: nothing closed
    expect(page.locator("#ce-confirm")).to_be_visible()
    look(page, "closures-02-not-confirmed")
    expect(page.get_by_label("Dari tanggal")).to_have_value(day.isoformat())  # what was typed, kept
    expect(page.get_by_label("Alasan (dikirim ke setiap peserta)")).to_have_value("Perbaikan listrik gedung")
    page.get_by_label("Saya paham").check()
    page.get_by_role("button", name="Tutup beberapa hari").click()

    expect(page.get_by_role("heading", name="Penutupan · Jakarta Salemba")).to_be_visible()
    cancelled = page.get_by_role("row", name="Jumlah antrian dibatalkan")
    expect(cancelled.get_by_role("cell")).to_have_text("1")
    expect(page.get_by_role("row", name="Alasan")).to_contain_text("Perbaikan listrik gedung")
    look(page, "closures-03-closure")

    page.get_by_role("link", name="Tanggal & penutupan").click()
    page.get_by_role("link", name="Penutupan beberapa hari sebelumnya").click()
    expect(page.get_by_role("row").filter(has_text="Perbaikan listrik gedung")).to_contain_text("tutup")
    look(page, "closures-04-list")
