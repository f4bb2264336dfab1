"""A participant on a phone: the booking pages in headless Chromium at 360×740."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from queue_service.domain import schedules
from queue_service.store import keys
from tests.e2e.conftest import assert_accessible, screenshot
from tests.factories import make_nik
from tests.live import call

BRANCH = "jakarta-salemba"


def follow(page: Page, name: str) -> None:
    """Click a link and wait until its page has loaded: a check run on a page still being
    left reads a document that is going away."""
    link = page.get_by_role("link", name=name)
    href = link.get_attribute("href")
    link.click()
    page.wait_for_url(re.compile(re.escape(href) + "$"))


def choose_place(page: Page, check=lambda page: None) -> str:
    """Area → branch → service → the second day with places → the first open slot.

    Not the first day: that may be the server's today, whose slots close one by one through
    the day (all of them from 13:30 WIB on), so the page would offer none, or one that closes
    while the test types. The second is tomorrow at the earliest, all its slots open.
    Returns the URL the slots were chosen on (with JavaScript, still the dates page).
    """
    for name in ("DKI Jakarta", "Jakarta Salemba", "Klaim Jaminan Hari Tua (JHT)"):
        follow(page, name)
        check(page)
    page.locator("ul.days a").nth(1).click()
    page.locator("input[name=slot]").first.wait_for()
    check(page)
    slots_url = page.url
    page.locator("input[name=slot]:not([disabled])").first.check()
    page.get_by_role("button", name="Lanjut").click()
    page.wait_for_url("**/pesan?*")
    expect(page.get_by_label("NIK", exact=True)).to_be_visible()
    return slots_url


def fill_details(page: Page, nik: str, **typed: str) -> None:
    page.get_by_label("Nama lengkap (sesuai KTP)").fill(typed.get("name", "Siti Rahayu"))
    page.get_by_label("NIK", exact=True).fill(nik)
    page.get_by_label("Nomor KPJ").fill("12345678901")
    page.get_by_label("Nomor HP").fill("081234567890")
    page.get_by_label("Ketik angka pada gambar").fill("12345")


def test_a_whole_booking_in_indonesian(open_page):
    page = open_page("/")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    assert_accessible(page)
    screenshot(page, "01-home")
    steps = iter(["02-branches", "03-services", "04-dates", "05-slots"])

    def check(page):
        assert_accessible(page)
        screenshot(page, next(steps))

    # With JavaScript the day's slots open under it, without leaving the dates page.
    assert choose_place(page, check).endswith("/cabang/jakarta-salemba/jht")
    expect(page.get_by_role("heading", name="Data diri")).to_be_visible()
    expect(page.get_by_role("img", name="Gambar berisi angka kode keamanan")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "06-details")
    nik = make_nik()
    fill_details(page, nik)
    page.get_by_role("button", name="Ambil antrian").click()

    expect(page.get_by_role("heading", name="Antrian berhasil dibuat")).to_be_visible()
    expect(page.locator(".number")).to_have_text(re.compile(r"^A-\d{3}$"))
    expect(page.locator(".code")).to_have_text(re.compile(r"^[0-9A-Z]{5} [0-9A-Z]{5}$"))
    expect(page.locator(".qr svg")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text(
        re.compile(r"(Senin|Selasa|Rabu|Kamis|Jumat), \d{1,2} \w+ \d{4}")
    )
    expect(page.locator(".facts")).to_contain_text(" WIB")
    assert not [url for url in open_page.urls if nik in url]
    assert_accessible(page)
    screenshot(page, "07-confirmation")


def test_a_validation_error_is_shown_beside_its_field_and_announced(open_page):
    page = open_page("/")
    choose_place(page)
    fill_details(page, "1234", name="Siti Rahayu")
    page.get_by_role("button", name="Ambil antrian").click()
    expect(page.get_by_role("alert")).to_contain_text("Ada isian yang tidak valid.")
    nik = page.get_by_label("NIK", exact=True)
    expect(nik).to_have_attribute("aria-invalid", "true")
    expect(nik).to_have_value("1234")
    expect(page.locator("#e-nik")).to_have_text("NIK harus 16 digit angka.")
    expect(page.get_by_label("Nama lengkap (sesuai KTP)")).to_have_value("Siti Rahayu")
    expect(page.locator("#summary")).to_be_focused()
    assert_accessible(page)
    screenshot(page, "08-validation-error")


def test_a_slot_that_fills_meanwhile_is_refused_then_shown_full(open_page, live_server, redis):
    settings = schedules.load_settings(redis, BRANCH)
    settings.slot_capacity = 1
    schedules.store_settings(redis, BRANCH, settings)
    page = open_page("/")
    choose_place(page)
    fields = {name: page.locator(f"input[name={name}]").input_value() for name in ("date", "slot")}
    # Someone else takes the last place while our participant types.
    _, challenge = call(f"{live_server}/api/v1/captcha", {})
    status, _ = call(
        f"{live_server}/api/v1/bookings",
        {
            "branch_id": BRANCH,
            "service_id": "jht",
            **fields,
            "name": "Budi Santoso",
            "nik": make_nik(),
            "kpj": "12345678901",
            "phone": "081298765432",
            "captcha_id": challenge["captcha_id"],
            "captcha_answer": "12345",
        },
    )
    assert status == 201
    fill_details(page, make_nik())
    page.get_by_role("button", name="Ambil antrian").click()
    expect(page.get_by_role("alert")).to_contain_text("Jam kedatangan ini sudah penuh")
    screenshot(page, "09-slot-full-refused")
    page.get_by_role("link", name="Pilih jam lain").click()
    full = page.locator(f"input[name=slot][value='{fields['slot']}']")
    expect(full).to_be_disabled()
    expect(page.locator("label.slot", has=full)).to_contain_text("Penuh")
    assert_accessible(page)
    screenshot(page, "10-slot-full")


def test_the_same_booking_without_javascript(open_page):
    page = open_page("/", javascript=False)
    assert re.search(r"/cabang/jakarta-salemba/jht/\d{4}-\d\d-\d\d$", choose_place(page))
    fill_details(page, make_nik())
    page.get_by_role("button", name="Ambil antrian").click()
    expect(page.get_by_role("heading", name="Antrian berhasil dibuat")).to_be_visible()
    expect(page.locator(".number")).to_have_text(re.compile(r"^A-\d{3}$"))
    screenshot(page, "11-confirmation-without-javascript")


def test_a_double_tap_without_javascript_books_once(open_page, redis):
    page = open_page("/", javascript=False)
    choose_place(page)
    day = page.locator("input[name=date]").input_value()
    fill_details(page, make_nik())
    # Nothing in the page stops a second submission. Usually the browser drops the first
    # request and shows the answer to the second, which must be the first's booking; when
    # the first answer comes back before the second tap, only one is sent. (The test
    # client's tests send one form twice for certain.)
    page.get_by_role("button", name="Ambil antrian").dblclick()
    expect(page.get_by_role("heading", name="Antrian berhasil dibuat")).to_be_visible()
    code = page.locator(".code").inner_text().replace(" ", "")
    assert len([url for url in open_page.urls if url.endswith("/pesan")]) in (1, 2)
    assert redis.lrange(keys.day_bookings(BRANCH, day), 0, -1) == [code]


def test_reschedule_then_cancel(open_page, live_server):
    page = open_page("/")
    choose_place(page)
    nik = make_nik()
    fill_details(page, nik)
    page.get_by_role("button", name="Ambil antrian").click()
    first_day = page.locator(".facts dd").nth(2).inner_text()
    first_slot = page.locator(".facts dd").nth(3).inner_text()[:5]
    assert not [url for url in open_page.urls if nik in url]
    page.get_by_role("link", name="Ubah jadwal atau batalkan").click()
    page.get_by_label("NIK", exact=True).fill(nik)
    page.get_by_role("button", name="Cari antrian").click()
    expect(page.get_by_role("heading", name="Antrian Anda")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Ubah jadwal").click()
    # The days the booking pages offer, no more and no fewer (today too, while it has a slot).
    offered = re.findall(
        r'href="/cabang/jakarta-salemba/jht/(\d{4}-\d{2}-\d{2})"',
        page.request.get(f"{live_server}/cabang/jakarta-salemba/jht").text(),
    )
    enabled = page.locator("input[name=date]:not([disabled])")
    assert [enabled.nth(i).get_attribute("value") for i in range(enabled.count())] == offered
    screenshot(page, "11-reschedule-dates")
    # Another slot of the booked day: its own slot is shown, and cannot be chosen.
    page.locator("label.slot", has_text=first_day).locator("input").check()
    page.get_by_role("button", name="Lanjut").click()
    own = page.locator(f"input[name=slot][value='{first_slot}']")
    expect(own).to_be_disabled()
    expect(page.locator("label.slot", has=own)).to_contain_text("Jadwal Anda sekarang")
    page.locator("input[name=slot]:not([disabled])").first.check()
    assert_accessible(page)
    screenshot(page, "12-reschedule-slot")
    page.get_by_role("button", name="Lanjut").click()
    expect(page.get_by_role("status").first).to_contain_text("Jadwal berhasil diubah.")
    assert page.locator(".facts dd").nth(2).inner_text() == first_day
    assert page.locator(".facts dd").nth(3).inner_text()[:5] != first_slot
    screenshot(page, "13-rescheduled")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Batalkan antrian").click()
    expect(page.get_by_role("heading", name="Antrian dibatalkan")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "14-cancelled")
    assert not [url for url in open_page.urls if nik in url]


def test_the_english_switch(open_page):
    page = open_page("/")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Choose an area")).to_be_visible()
    page.get_by_role("link", name="DKI Jakarta").click()
    page.get_by_role("link", name="Jakarta Salemba").click()
    page.get_by_role("link", name="Old-age savings (JHT) claim").click()
    expect(page.locator("ul.days a").first).to_contain_text(
        re.compile(r"(Monday|Tuesday|Wednesday|Thursday|Friday), \d{1,2} \w+ \d{4}")
    )
    assert_accessible(page)
    screenshot(page, "15-dates-english")
    page.get_by_role("link", name="Bahasa Indonesia").click()
    expect(page.get_by_role("heading", name="Pilih tanggal")).to_be_visible()


def fits(page: Page) -> bool:
    """Nothing sticks out sideways: the page reads without scrolling left and right."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_usable_at_320_pixels_with_the_captcha_audio_reachable_by_keyboard(open_page, live_server):
    page = open_page("/", viewport={"width": 320, "height": 568})
    checked = []
    choose_place(page, lambda page: checked.append(fits(page)))
    checked.append(fits(page))
    assert all(checked), checked
    page.get_by_label("Nomor HP").focus()
    page.keyboard.press("Tab")
    audio = page.locator(":focus")
    expect(audio).to_have_text("Dengarkan kode (angka diucapkan dalam Bahasa Indonesia)")
    response = page.request.get(audio.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "audio/wav"
    fill_details(page, make_nik())
    page.get_by_role("button", name="Ambil antrian").click()
    expect(page.locator(".number")).to_be_visible()
    assert fits(page)
    screenshot(page, "16-confirmation-320px")


def test_usable_at_200_percent_zoom(open_page):
    # A 1280×800 screen zoomed to 200% lays the page out in 640×400 CSS pixels.
    page = open_page("/", viewport={"width": 640, "height": 400})
    checked = []
    choose_place(page, lambda page: checked.append(fits(page)))
    checked.append(fits(page))
    assert all(checked), checked
    fill_details(page, make_nik())
    button = page.get_by_role("button", name="Ambil antrian")
    button.scroll_into_view_if_needed()
    button.click()
    expect(page.get_by_role("heading", name="Antrian berhasil dibuat")).to_be_visible()
    assert fits(page)
    screenshot(page, "17-confirmation-200-percent")
