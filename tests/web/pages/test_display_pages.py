"""The waiting-room display at /display/<branch_id>: public, queue numbers only, the branch's
name and local time, a clear 404 for an unknown branch."""

from __future__ import annotations

import datetime as dt
import re

from queue_service.domain.audit import Actor
from queue_service.domain.live_queue import LiveQueue
from tests.factories import JAKARTA

BRANCH = "jakarta-salemba"
ADMIN = Actor("admin-salemba", "branch_admin", "test")


def test_an_unknown_branch_is_a_clear_404(client):
    response = client.get("/display/nowhere")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "Kantor cabang tidak ditemukan" in text and "nowhere" in text
    assert "<script" not in text


def test_the_board_shows_who_is_called_and_who_comes_next(client, arrive, redis, clock):
    live = LiveQueue(redis)
    live.set_counter(BRANCH, "Loket 1", None, ADMIN, clock())
    live.set_counter(BRANCH, "Loket 2", None, ADMIN, clock())
    first, second, third = arrive("08:30"), arrive("09:00"), arrive("09:00", service="jkk")
    called = live.call_next(BRANCH, "Loket 2", clock())
    assert called.queue_number == first.queue_number
    clock.set(clock() + dt.timedelta(minutes=6))
    live.mark_served(BRANCH, first.queue_number, clock())
    live.call_next(BRANCH, "Loket 2", clock())

    page = client.get(f"/display/{BRANCH}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Jakarta Salemba" in text
    assert '<span id="clock">09:06</span> <span class="zone">WIB</span>' in text
    assert "Selasa, 24 November 2026" in text
    cards = re.findall(r'data-counter="([^"]+)"><span class="number">([^<]+)</span>', text)
    assert cards == [("Loket 1", "—"), ("Loket 2", second.queue_number)]
    # The one left waits about one service time (6 minutes) over the two open counters.
    assert re.search(
        rf'<span class="number">{third.queue_number}</span>'
        r'<span class="wait">± 3 menit</span>',
        text,
    )
    newest = live.view(BRANCH, clock()).announcements[-1].id
    assert f'data-last-announcement="{newest}"' in text
    assert 'data-queue-url="/api/v1/branches/jakarta-salemba/queue"' in text


def test_no_personal_data_on_the_board_or_in_its_feed(client, arrive, redis, clock):
    bookings = [arrive("08:30", name="Siti Rahayu"), arrive("09:00", phone="+6281298765432")]
    LiveQueue(redis).call_next(BRANCH, "Loket 1", clock())
    board = client.get(f"/display/{BRANCH}").get_data(as_text=True)
    feed = client.get(f"/api/v1/branches/{BRANCH}/queue").get_data(as_text=True)
    for booking in bookings:
        assert booking.queue_number in board and booking.queue_number in feed
        for secret in (booking.name, booking.nik, booking.kpj, booking.phone, booking.code):
            assert secret not in board and secret not in feed
        # The phone's last four digits, as a masked phone shows them: not inside a longer number
        # (an event's id is a time in ms, and held "5432" once).
        last_four = re.compile(rf"(?<!\d){booking.phone[-4:]}(?!\d)")
        assert not last_four.search(board) and not last_four.search(feed)


def test_the_local_time_of_an_eastern_branch(client, clock):
    clock.set(dt.datetime(2026, 11, 24, 9, 0, tzinfo=JAKARTA))
    text = client.get("/display/balikpapan").get_data(as_text=True)
    assert '<span id="clock">10:00</span> <span class="zone">WITA</span>' in text
    assert "Belum ada loket yang memanggil." in text and "Tidak ada yang menunggu." in text


def test_the_board_in_english(client):
    text = client.get(f"/display/{BRANCH}?lang=en").get_data(as_text=True)
    assert "Now serving" in text and "Enable sound" in text
    assert "Branch office not found" in client.get("/display/nowhere").get_data(as_text=True)
