"""A participant on a phone goes through a branch's waiting room (issue 21) to the booking form:
headless Chromium at 360×740 against the real server, whose clock is the real one, so the
branch's release is set a few minutes around the real now."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from playwright.sync_api import expect

from queue_service.store import keys
from tests.e2e.conftest import assert_accessible, screenshot
from tests.e2e.test_participant_browser import fill_details
from tests.factories import JAKARTA, make_nik
from tests.live import call

BRANCH = "jakarta-salemba"
DATES = f"/cabang/{BRANCH}/jht"


def open_room(redis, release: dt.datetime, admit_per_minute: int) -> None:
    """The branch's room around ``release`` (its HH:MM), as its admin would set it; a room
    already begun for that day is wiped, so the next visit starts it afresh."""
    settings = json.loads(redis.get(keys.branch_settings(BRANCH)))
    settings.update(
        release_time=f"{release:%H:%M}",
        waiting_room={
            "enabled": True,
            "opens_minutes_before": 15,
            "admit_per_minute": admit_per_minute,
            "lasts_minutes": 60,
            "tickets_per_address": 50,
        },
    )
    stale = list(redis.scan_iter(match=f"{keys.room(BRANCH, '')}*"))
    if stale:
        redis.delete(*stale)
    redis.set(keys.branch_settings(BRANCH), json.dumps(settings))


@pytest.fixture
def now():
    # The live server keeps this process's clock (the real one, or libfaketime's in its pass).
    # Any hour, midnight included: run under faketime at 23:57:30, 23:59:40 (the release and
    # the test cross midnight) and 00:01:30 WIB, both tests passed.
    return dt.datetime.now(JAKARTA)


def test_through_the_waiting_room_to_the_booking(open_page, redis, live_server, now):
    open_room(redis, now + dt.timedelta(minutes=3), admit_per_minute=1)
    page = open_page(DATES)
    # Sent to the waiting page, which remembers where the participant was going.
    expect(page).to_have_url(re.compile(r"/ruang-tunggu/jakarta-salemba\?next=(/|%2F)cabang"))
    expect(page.get_by_role("heading", level=1, name="Ruang tunggu")).to_be_visible()
    status = page.get_by_role("status")
    expect(status).to_contain_text("Urutan diundi saat pemesanan dibuka pukul")
    expect(status).to_contain_text("datang lebih awal tidak membuat Anda lebih dulu")
    expect(page.get_by_text("Jangan tutup halaman ini.")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "30-waiting-room-before-the-lottery")

    # The release came a moment ago; three others joined first; one place a minute is let in.
    open_room(redis, now, admit_per_minute=1)
    for _ in range(3):
        assert call(f"{live_server}/api/v1/branches/{BRANCH}/waiting-room", {})[0] == 201
    page.reload()
    expect(status).to_contain_text(re.compile(r"Posisi Anda: [1-3]\b"))
    expect(status).to_contain_text("Perkiraan waktu tunggu: ± ")
    expect(page.get_by_text("sudah dibuka pukul")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "31-waiting-room-position")

    # Admission speeds up (its place lost with the room's restart, the page joins again and is
    # let in): the page's script, asking again within 15 s, takes the participant on.
    open_room(redis, now, admit_per_minute=300)
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/cabang/jakarta-salemba/jht$"), timeout=25_000)
    page.locator("ul.days a").nth(1).click()
    page.locator("input[name=slot]:not([disabled])").first.check()
    page.get_by_role("button", name="Lanjut").click()
    page.wait_for_url("**/pesan?*")
    fill_details(page, make_nik())
    page.get_by_role("button", name="Ambil antrian").click()
    expect(page.get_by_role("heading", name="Antrian berhasil dibuat")).to_be_visible()
    expect(page.locator(".number")).to_have_text(re.compile(r"^A-\d{3}$"))


def test_the_waiting_page_without_javascript_refreshes_itself_in_english(open_page, redis, now):
    open_room(redis, now + dt.timedelta(minutes=3), admit_per_minute=300)
    page = open_page(f"{DATES}?lang=en", javascript=False)
    expect(page.get_by_role("heading", level=1, name="Waiting room")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("arriving earlier does not put you first")
    refresh = page.locator('meta[http-equiv="refresh"]')
    expect(refresh).to_have_count(1)
    # (axe needs JavaScript: page.evaluate would wait for ever in this page.)
    screenshot(page, "32-waiting-room-no-javascript-english")
