"""Counter staff and the waiting-room display, in headless Chromium against the real server:
a call made with a keyboard shortcut on the counter page appears on the display without a
reload, and the display says it in Bahasa Indonesia.

Chromium headless has no voices, so each page records what it would say: an init script
replaces ``speechSynthesis.speak`` before the page's own scripts run.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from queue_service.domain.accounts import COUNTER_STAFF, Accounts
from queue_service.domain.audit import Actor
from queue_service.domain.checkins import CheckIns
from queue_service.domain.codes import new_code
from queue_service.domain.kiosks import Kiosks
from queue_service.domain.live_queue import LiveQueue
from queue_service.store import keys
from tests.e2e.conftest import assert_accessible, screenshot

BRANCH = "jakarta-salemba"
PASSWORD = "kata sandi panjang"
DESK = {"width": 1280, "height": 800}
TV = {"width": 1920, "height": 1080}
SMALL_TV = {"width": 1280, "height": 720}
ADMIN = Actor("admin-salemba", "branch_admin", "e2e")
# Long enough for a poll after a back-off on a busy machine.
SLOW = 20_000
RECORD_SPEECH = """
window.__spoken = [];
const record = (utterance) => { window.__spoken.push(utterance.text); };
if (window.speechSynthesis) {
  window.speechSynthesis.speak = record;
} else {
  window.speechSynthesis = {speak: record, cancel() {}, getVoices() { return []; }};
}
"""


def now() -> dt.datetime:
    return dt.datetime.now(ZoneInfo("Asia/Jakarta"))


@pytest.fixture
def check_in(redis):
    """``check_in("A-007")``: a booking of today, its slot starting now, checked in at the
    kiosk (written as the reserve script writes it: today may be a holiday)."""
    kiosk, _token = Kiosks(redis).create(BRANCH, "Pintu", now())

    def arrive(queue_number: str) -> str:
        at, code = now(), new_code()
        redis.hset(
            keys.booking(BRANCH, code),
            mapping={
                "branch_id": BRANCH,
                "service_id": "jht",
                "date": at.date().isoformat(),
                "slot": f"{at:%H:%M}",
                "slot_end": f"{at + dt.timedelta(minutes=30):%H:%M}",
                "name": "Budi Santoso",
                "nik": "3171011201900001",
                "kpj": "12345678901",
                "phone": "+6281234567890",
                "email": "",
                "queue_number": queue_number,
                "status": "booked",
                "created_ms": "0",
                "attempt": "e2e",
            },
        )
        CheckIns(redis).check_in(kiosk, code, at)
        return code

    return arrive


@pytest.fixture
def pages(browser, live_server):
    """``pages(viewport, speech=True)``: a new page of its own context; every browser error
    fails the test."""
    contexts, problems = [], []

    def open_(viewport: dict, speech: bool = False) -> Page:
        context = browser.new_context(viewport=viewport, locale="id-ID", base_url=live_server)
        contexts.append(context)
        if speech:
            context.add_init_script(RECORD_SPEECH)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
        page.set_default_timeout(10_000)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert problems == []


@pytest.fixture
def counters(redis):
    live = LiveQueue(redis)
    live.set_counter(BRANCH, "Loket 1", None, ADMIN, now())
    live.set_counter(BRANCH, "Loket 3", None, ADMIN, now())
    return live


def sign_in_at(page: Page, counter: str) -> None:
    page.goto("/counter/")
    page.wait_for_url("**/counter/masuk**")
    expect(page.get_by_role("heading", name="Masuk sebagai petugas loket")).to_be_visible()
    page.get_by_label("Nama pengguna").fill("budi")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/counter/")
    expect(page.get_by_role("heading", name="Pilih loket Anda")).to_be_visible()
    page.get_by_role("button", name=counter).click()
    expect(page.get_by_role("heading", name=counter, exact=True)).to_be_visible()


def spoken(page: Page) -> list[str]:
    return page.evaluate("window.__spoken")


def wait_until_said(page: Page, text: str) -> None:
    page.wait_for_function("text => window.__spoken.includes(text)", arg=text, timeout=SLOW)


def test_a_call_on_the_counter_page_is_shown_and_said_on_the_display(pages, redis, counters, check_in):
    Accounts(redis).create("budi", COUNTER_STAFF, (BRANCH,), password=PASSWORD)
    check_in("A-006")
    # A call made before the display opens is on it, but not said again.
    counters.call_next(BRANCH, "Loket 1", now())
    check_in("A-007")

    display = pages(TV, speech=True)
    display.goto(f"/display/{BRANCH}")
    expect(display.locator('[data-counter="Loket 1"] .number')).to_have_text("A-006")
    expect(display.locator('[data-counter="Loket 3"] .number')).to_have_text("—")
    expect(display.locator("#next .number")).to_have_text(["A-007"])
    expect(display.get_by_role("button", name="Aktifkan suara")).to_be_visible()
    display.evaluate("window.__notReloaded = true")
    assert_accessible(display)
    screenshot(display, "display-01-waiting")

    desk = pages(DESK)
    sign_in_at(desk, "Loket 3")
    expect(desk.locator("#live table")).to_contain_text("A-007")
    assert_accessible(desk)
    screenshot(desk, "counter-01-ready")

    desk.keyboard.press("n")
    expect(desk.locator("#now-serving")).to_have_text("A-007")
    expect(desk.get_by_role("status").filter(has_text="dipanggil ke")).to_have_text(
        "A-007 dipanggil ke Loket 3."
    )
    assert_accessible(desk)
    screenshot(desk, "counter-02-called")

    expect(display.locator('[data-counter="Loket 3"] .number')).to_have_text("A-007", timeout=SLOW)
    expect(display.locator("#last-call")).to_have_text("A-007 → Loket 3")
    expect(display.locator("#next-empty")).to_be_visible()
    call = "Nomor antrian A nol nol tujuh, silakan ke loket tiga"
    wait_until_said(display, call)
    assert display.evaluate("window.__notReloaded") is True
    screenshot(display, "display-02-called")

    desk.keyboard.press("r")
    expect(desk.get_by_role("status").filter(has_text="dipanggil ulang")).to_be_visible()
    recall = "Panggilan ulang. " + call
    wait_until_said(display, recall)
    # Each call once, in order; the call made before the display opened, never.
    assert spoken(display) == [call, recall]

    desk.keyboard.press("s")
    expect(desk.locator("#now-serving")).to_have_text("—")
    expect(display.locator('[data-counter="Loket 3"] .number')).to_have_text("—", timeout=SLOW)
    screenshot(desk, "counter-03-served")


def test_the_counter_page_shows_new_arrivals_without_a_reload(pages, redis, counters, check_in):
    Accounts(redis).create("budi", COUNTER_STAFF, (BRANCH,), password=PASSWORD)
    desk = pages(DESK)
    sign_in_at(desk, "Loket 1")
    expect(desk.get_by_text("Tidak ada yang menunggu.")).to_be_visible()
    desk.evaluate("window.__notReloaded = true")
    check_in("A-011")
    expect(desk.locator("#live table")).to_contain_text("A-011", timeout=SLOW)
    assert desk.evaluate("window.__notReloaded") is True
    # A shortcut pressed while a list has the focus does nothing.
    desk.get_by_label("Pindahkan A-011 ke layanan").focus()
    desk.keyboard.press("x")
    desk.keyboard.press("n")
    expect(desk.locator("#now-serving")).to_have_text("—")
    assert desk.evaluate("window.__notReloaded") is True
    # Space on the page calls.
    desk.locator("h1").click()
    desk.keyboard.press(" ")
    expect(desk.locator("#now-serving")).to_have_text("A-011")


def test_the_spoken_sentence(pages, live_server):
    display = pages(SMALL_TV)
    display.goto(f"/display/{BRANCH}")
    cases = {
        ("A-007", "Loket 3", False): "Nomor antrian A nol nol tujuh, silakan ke loket tiga",
        ("B-1234", "Loket 12", False): "Nomor antrian B satu dua tiga empat, silakan ke loket dua belas",
        ("A-010", "3", False): "Nomor antrian A nol satu nol, silakan ke loket tiga",
        ("C-100", "Loket 21", True): "Panggilan ulang. Nomor antrian C satu nol nol, silakan "
        "ke loket dua puluh satu",
        ("A-001", "CS 2", False): "Nomor antrian A nol nol satu, silakan ke CS dua",
        ("A-001", "Loket 111", False): "Nomor antrian A nol nol satu, silakan ke loket seratus sebelas",
    }
    for (number, counter, recall), sentence in cases.items():
        assert (
            display.evaluate("([n, c, r]) => AntrianSpeech.spokenCall(n, c, r)", [number, counter, recall])
            == sentence
        )


def test_the_display_reconnects_and_catches_up(pages, redis, counters, check_in):
    check_in("A-021")
    display = pages(SMALL_TV, speech=True)
    network_down = [True]

    # Down until the test has seen the notice: back-off makes its moment hard to guess.
    def drop_while_down(route):
        if network_down[0]:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    display.route("**/api/v1/branches/*/queue", drop_while_down)
    display.goto(f"/display/{BRANCH}")
    # One click allows sound (chime and speech) from then on, and says so.
    display.get_by_role("button", name="Aktifkan suara").click()
    expect(display.get_by_role("button", name="Aktifkan suara")).to_be_hidden()
    wait_until_said(display, "Suara aktif.")
    expect(display.locator("#reconnecting")).to_be_visible(timeout=SLOW)
    counters.call_next(BRANCH, "Loket 1", now())
    assert_accessible(display)
    screenshot(display, "display-03-reconnecting")
    network_down[0] = False
    # The back-off waits at most 30 s between tries.
    expect(display.locator('[data-counter="Loket 1"] .number')).to_have_text("A-021", timeout=45_000)
    expect(display.locator("#reconnecting")).to_be_hidden()
    wait_until_said(display, "Nomor antrian A nol dua satu, silakan ke loket satu")
    assert spoken(display) == ["Suara aktif.", "Nomor antrian A nol dua satu, silakan ke loket satu"]
    screenshot(display, "display-04-720p")


@pytest.mark.parametrize("size", [TV, SMALL_TV], ids=["1080p", "720p"])
def test_a_busy_board_fits_the_screen(pages, redis, counters, check_in, size):
    for name in ("Loket 2", "Loket 4", "Loket 5", "Loket 6", "Loket 7", "Loket 8"):
        counters.set_counter(BRANCH, name, None, ADMIN, now())
    numbers = [f"A-{n:03d}" for n in range(101, 115)]
    for number in numbers:
        check_in(number)
    # Two served in five minutes each give the estimates something to go on.
    for number in numbers[:2]:
        counters.call_next(BRANCH, "Loket 1", now())
        counters.mark_served(BRANCH, number, now() + dt.timedelta(minutes=5))
    for name in ("Loket 1", "Loket 2", "Loket 3", "Loket 4", "Loket 5"):
        counters.call_next(BRANCH, name, now())
    display = pages(size)
    display.goto(f"/display/{BRANCH}")
    expect(display.locator(".counter .number")).to_have_text(
        ["A-103", "A-104", "A-105", "A-106", "A-107", "—", "—", "—"]
    )
    expect(display.locator("#next .number")).to_have_count(7)
    # Five minutes each, over eight open counters: the seventh waits about 7 × 5 / 8 minutes.
    expect(display.locator("#next .wait").last).to_have_text("± 4 menit")
    fits = display.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    assert fits, "the board overflows the screen"
    assert_accessible(display)
    screenshot(display, f"display-05-busy-{size['height']}p")


def test_an_unknown_branch_on_the_display(pages):
    display = pages(SMALL_TV)
    response = display.goto("/display/nowhere")
    assert response.status == 404
    expect(display.get_by_role("heading", name="Kantor cabang tidak ditemukan")).to_be_visible()
    assert_accessible(display)
