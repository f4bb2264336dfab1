"""A participant on a phone joins a full slot's waitlist and accepts the place a cancellation
frees (issue 25): headless Chromium at 360×740 against the real server."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from queue_service.domain import schedules
from tests.e2e.conftest import assert_accessible, screenshot
from tests.e2e.test_participant_browser import choose_place, fill_details
from tests.factories import make_nik

BRANCH = "jakarta-salemba"


def test_join_a_full_slots_waitlist_then_accept_the_offer(open_page, redis):
    tuned = schedules.load_settings(redis, BRANCH)
    tuned.slot_capacity = 1
    schedules.store_settings(redis, BRANCH, tuned)
    page = open_page("/")
    dates_url = choose_place(page)
    first_nik = make_nik()
    fill_details(page, first_nik)
    page.get_by_role("button", name="Ambil antrian").click()
    code = page.locator(".ticket .code").get_attribute("aria-label").replace(" ", "")

    # The day's slots open under it (the script moves the slots page's form in, its waitlist
    # links with it): the slot just taken is full, and offers its waitlist.
    page.goto(dates_url)
    page.locator("ul.days a").nth(1).click()
    page.locator(".inline-slots section.waitlist a").last.click()
    page.wait_for_url("**/daftar-tunggu/baru?*")
    screenshot(page, "waitlist-00-join")
    expect(page.get_by_role("heading", name="Daftar tunggu")).to_be_visible()
    nik = make_nik()
    fill_details(page, nik)
    page.get_by_role("button", name="Daftar tunggu").click()
    expect(page.get_by_text(re.compile("Anda nomor 1 dalam daftar tunggu"))).to_be_visible()
    assert_accessible(page)
    screenshot(page, "waitlist-01-waiting")

    cancelled = page.request.post(f"/api/v1/bookings/{code}/cancel", data={"nik": first_nik})
    assert cancelled.status == 200
    page.reload()
    expect(page.get_by_text(re.compile(r"Ada tempat untuk Anda! .* sampai \d\d:\d\d WIB"))).to_be_visible()
    assert_accessible(page)
    screenshot(page, "waitlist-02-offered")
    page.get_by_label("NIK", exact=True).first.fill(nik)
    page.get_by_role("button", name="Terima tempat ini").click()
    expect(page.locator(".ticket .number")).to_have_text(re.compile(r"^A-\d{3}$"))
    screenshot(page, "waitlist-03-booked")
