"""The kiosk at a branch's door, in headless Chromium, fed like a hardware scanner: the code
typed key by key, then Enter."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from queue_service.domain.codes import new_code
from queue_service.domain.kiosks import Kiosks
from queue_service.store import keys
from tests.e2e.conftest import assert_accessible, screenshot

TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def booked_now(redis):
    """A booking of Jakarta Salemba for today, its slot starting now (branch-local): the state a
    kiosk meets, written as the reserve script writes it (today may be a holiday)."""
    now = dt.datetime.now(ZoneInfo("Asia/Jakarta"))
    code = new_code()
    redis.hset(
        keys.booking("jakarta-salemba", code),
        mapping={
            "branch_id": "jakarta-salemba",
            "service_id": "jht",
            "date": now.date().isoformat(),
            "slot": f"{now:%H:%M}",
            "slot_end": f"{now + dt.timedelta(minutes=30):%H:%M}",
            "name": "Budi Santoso",
            "nik": "3171011201900001",
            "kpj": "12345678901",
            "phone": "+6281234567890",
            "email": "",
            "queue_number": "A-007",
            "status": "booked",
            "created_ms": "0",
            "attempt": "e2e",
        },
    )
    return code


@pytest.fixture
def kiosk_page(browser, live_server, redis):
    """A tablet's page signed in as a new kiosk of Jakarta Salemba."""
    _kiosk, token = Kiosks(redis).create("jakarta-salemba", "Pintu", dt.datetime.now(dt.UTC))
    context = browser.new_context(viewport=TABLET, locale="id-ID", base_url=live_server)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/kiosk/")
    page.get_by_label("Token kios (dari admin cabang)").fill(token)
    page.get_by_role("button", name="Masuk").click()
    yield page
    context.close()


def test_a_scan_a_refusal_and_a_repeat(browser, live_server, redis, booked_now):
    _kiosk, token = Kiosks(redis).create("jakarta-salemba", "Pintu depan", dt.datetime.now(dt.UTC))
    context = browser.new_context(viewport=TABLET, locale="id-ID", base_url=live_server)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto("/kiosk/")
        assert_accessible(page)
        page.get_by_label("Token kios (dari admin cabang)").fill(token)
        page.get_by_role("button", name="Masuk").click()
        field = page.get_by_label("Pindai QR atau ketik kode booking")
        expect(field).to_be_focused()
        assert token not in page.content()
        assert_accessible(page)
        screenshot(page, "kiosk-01-ready")

        page.keyboard.type(f"{booked_now[:5].lower()}-{booked_now[5:]}", delay=15)
        page.keyboard.press("Enter")
        expect(page.locator("#answer .number")).to_have_text("A-007")
        expect(page.locator("#answer")).to_contain_text("Silakan menunggu")
        screenshot(page, "kiosk-02-checked-in")
        expect(field).to_be_focused()

        expect(field).to_be_focused()
        page.keyboard.type("ZZZZZZZZZZ", delay=15)
        page.keyboard.press("Enter")
        expect(page.locator("#answer")).to_contain_text("Kode tidak dikenal")
        assert_accessible(page)
        screenshot(page, "kiosk-03-refused")

        expect(field).to_be_focused()
        page.keyboard.type(booked_now, delay=15)
        page.keyboard.press("Enter")
        expect(page.locator("#answer .number")).to_have_text("A-007")
        expect(page.locator("#answer")).to_contain_text("Sudah check-in sebelumnya.")
        screenshot(page, "kiosk-04-repeat")
        assert redis.hget(keys.booking("jakarta-salemba", booked_now), "status") == "checked_in"
    finally:
        context.close()


def test_a_network_blip_is_retried_and_said(kiosk_page, booked_now):
    page = kiosk_page
    dropped = []
    network_down = [True]

    # The network stays down until the test has seen the notice: the notice shows for a
    # retry's one-second pause only, which a busy machine's polling can miss.
    def drop_scans_while_down(route):
        if route.request.method == "POST" and network_down[0]:
            dropped.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/kiosk/", drop_scans_while_down)
    # A scanner types into whatever has the focus: the field must have it first.
    expect(page.get_by_label("Pindai QR atau ketik kode booking")).to_be_focused()
    page.keyboard.type(booked_now, delay=10)
    page.keyboard.press("Enter")
    expect(page.locator("#retrying")).to_be_visible()
    screenshot(page, "kiosk-05-retrying")
    network_down[0] = False
    expect(page.locator("#answer .number")).to_have_text("A-007", timeout=15_000)
    expect(page.locator("#retrying")).to_be_hidden()
    assert dropped and len(dropped) < 5


def test_a_walk_in_takes_a_number_with_a_touch(kiosk_page, redis):
    page = kiosk_page
    services = page.locator(".walk-in")
    expect(services.get_by_role("button", name="Klaim Jaminan Hari Tua (JHT)")).to_be_visible()
    screenshot(page, "kiosk-06-walk-in-choices")
    services.get_by_role("button", name="Klaim Jaminan Hari Tua (JHT)").click()
    # Today may be a holiday or outside the branch's hours: either a ticket or why not.
    expect(page.locator("#answer .answer")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "kiosk-07-walk-in-ticket")
    answer = page.locator("#answer").inner_text()
    issued = redis.hget(
        keys.walk_in_counts("jakarta-salemba", dt.datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()),
        "total",
    )
    if issued == "1":
        assert "WA-001" in answer
    else:
        assert "tidak melayani" in answer or "habis" in answer
