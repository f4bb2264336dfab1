"""The waiting room's page (issue 21, SPEC §6 "Fair opening"): while a branch's room is open
its booking pages send a browser without a pass to ``/ruang-tunggu/<branch>``, which keeps
its ticket in a cookie, says where it stands, refreshes itself, and once admitted sets the
pass cookie and goes on to the booking. Moments come from the test app's clock."""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from queue_service.store import keys
from queue_service.web.pages.waiting_room import local_url
from tests.factories import JAKARTA, make_nik
from tests.web.pages.forms import DETAILS, form

BRANCH = "jakarta-salemba"
ROOM = f"/ruang-tunggu/{BRANCH}"
DATES = f"/cabang/{BRANCH}/jht"
SLOTS = f"/cabang/{BRANCH}/jht/2026-11-24"
# The test clock's Monday: the room of the 07:00 release is open from 06:45 to 08:00.
RELEASE = dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA)


def open_room(redis, **changes) -> None:
    """Open the branch's room around a 07:00 release (as its admin would set it)."""
    settings = json.loads(redis.get(keys.branch_settings(BRANCH)))
    room = {
        "enabled": True,
        "opens_minutes_before": 15,
        "admit_per_minute": 60,
        "lasts_minutes": 60,
        "tickets_per_address": 3,
        **changes,
    }
    settings.update(release_time="07:00", waiting_room=room)
    redis.set(keys.branch_settings(BRANCH), json.dumps(settings))


@pytest.fixture
def room_open(redis, app):
    open_room(redis)


def at(clock, minutes: float) -> None:
    clock.set(RELEASE + dt.timedelta(minutes=minutes))


def text(response) -> str:
    return response.get_data(as_text=True)


def cookie(client, name: str):
    return client.get_cookie(name)


def through_room(client, path: str, address: str = "198.51.100.1"):
    """Ask for ``path`` and follow the redirects by hand: (the last response, where it was)."""
    environ = {"REMOTE_ADDR": address}
    response = client.get(path, environ_base=environ)
    where = path
    while response.status_code in (302, 303):
        where = response.headers["Location"]
        response = client.get(where, environ_base=environ)
    return response, where


def test_without_an_open_room_the_pages_are_as_before(client, clock, room_open):
    at(clock, -30)  # the room opens at 06:45
    assert client.get(DATES).status_code == 200
    assert client.get(SLOTS).status_code == 200
    assert client.get(DETAILS).status_code == 200
    at(clock, 60)  # and is over at 08:00
    assert client.get(DATES).status_code == 200
    # The waiting page itself sends on at once.
    gone = client.get(f"{ROOM}?next={DATES}")
    assert (gone.status_code, gone.headers["Location"]) == (303, DATES)


@pytest.mark.parametrize("path", [DATES, SLOTS, DETAILS])
def test_while_the_room_is_open_the_booking_pages_send_to_the_waiting_page(client, clock, room_open, path):
    at(clock, -10)
    sent = client.get(path)
    assert sent.status_code == 303
    where = urlsplit(sent.headers["Location"])
    assert where.path == ROOM
    assert parse_qs(where.query)["next"] == [path]


def test_other_branches_and_the_kiosk_are_not_behind_the_room(client, clock, room_open):
    at(clock, -10)
    assert client.get("/cabang/makassar/jht").status_code == 200
    assert client.get(f"/cabang/{BRANCH}").status_code == 200  # the services page: no booking yet
    assert client.get("/kiosk/").status_code != 303


def test_before_the_lottery_the_page_says_the_order_is_drawn_at_the_release(client, clock, room_open):
    at(clock, -10)
    page, where = through_room(client, DATES)
    assert page.status_code == 200 and urlsplit(where).path == ROOM
    html = text(page)
    assert "<h1>Ruang tunggu</h1>" in html and "Jakarta Salemba" in html
    assert "Pemesanan tanggal baru dibuka pukul 07:00 WIB." in html
    status = html[html.index('id="room-status"') :].split("</div>")[0]
    assert 'role="status"' in status
    assert "Urutan diundi saat pemesanan dibuka pukul 07:00 WIB" in status
    assert "datang lebih awal tidak membuat Anda lebih dulu" in status
    assert "Posisi Anda" not in html
    assert "Jangan tutup halaman ini." in html
    refresh = re.search(r'<noscript><meta http-equiv="refresh" content="(\d+)"></noscript>', html)
    assert refresh and 2 <= int(refresh.group(1)) <= 15
    assert page.headers["Cache-Control"] == "no-store"
    ticket = cookie(client, "antrian_ticket")
    assert ticket.value.startswith(f"{BRANCH}.20261123.")
    assert ticket.http_only and ticket.same_site == "Lax"
    assert cookie(client, "antrian_pass") is None
    # Still not let in: the pages send back to the room.
    assert client.get(DATES).status_code == 303


def test_a_reload_keeps_the_ticket(client, clock, room_open):
    at(clock, -10)
    through_room(client, DATES)
    first = cookie(client, "antrian_ticket").value
    at(clock, -9)
    through_room(client, DATES)
    through_room(client, ROOM)
    assert cookie(client, "antrian_ticket").value == first


def test_admitted_at_the_release_the_pass_lets_the_booking_through(client, clock, room_open, person):
    at(clock, -5)
    through_room(client, DETAILS)
    at(clock, 0)
    page, where = through_room(client, f"{ROOM}?{urlencode({'next': DETAILS})}")
    assert where == DETAILS and page.status_code == 200
    assert "<h1>Data diri</h1>" in text(page)
    granted = cookie(client, "antrian_pass")
    assert granted.http_only and granted.same_site == "Lax" and not granted.secure
    assert client.get(DATES).status_code == 200  # the pass opens the other pages too

    fields = {**form(text(page), "/pesan"), **person}
    booked = client.post("/pesan", data={**fields, "action": "book"})
    assert booked.status_code == 303 and booked.headers["Location"].endswith("/pesan/selesai")
    assert "Antrian berhasil dibuat" in text(client.get("/pesan/selesai"))


def test_one_turn_books_for_one_person(client, clock, room_open, person, details_form):
    at(clock, -1)
    through_room(client, DETAILS)
    at(clock, 0)
    through_room(client, DETAILS)
    first = client.post("/pesan", data={**details_form(), **person, "action": "book"})
    assert first.status_code == 303
    other = client.post("/pesan", data={**details_form(), **person, "nik": make_nik(), "action": "book"})
    assert other.status_code == 403
    assert "sudah dipakai untuk memesan atas NIK lain" in text(other)
    assert 'role="alert"' in text(other)


def test_the_pass_cookie_is_secure_over_https(client, clock, room_open):
    at(clock, -1)
    client.get(ROOM, base_url="https://localhost")
    at(clock, 0)
    admitted = client.get(ROOM, base_url="https://localhost")
    assert admitted.status_code == 303
    header = next(h for h in admitted.headers.getlist("Set-Cookie") if h.startswith("antrian_pass="))
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
    assert "Max-Age=600" in header


def test_a_second_browser_waits_its_turn(app, clock, room_open):
    at(clock, -1)
    first, second = app.test_client(), app.test_client()
    through_room(first, DATES, "198.51.100.1")
    at(clock, 0)
    # At 07:00 one place is in (60 a minute from the release): the lottery's first.
    admitted, where = through_room(first, DATES, "198.51.100.1")
    assert where == DATES and admitted.status_code == 200
    waiting, where = through_room(second, DATES, "198.51.100.2")
    assert urlsplit(where).path == ROOM
    html = text(waiting)
    assert "Posisi Anda: 1" in html and "Perkiraan waktu tunggu: &lt; 1 menit" in html
    assert "sudah dibuka pukul 07:00 WIB" in html
    assert '<meta http-equiv="refresh" content="5">' in html  # the turn is near: asks sooner
    at(clock, 1 / 60)  # a second later the next place is in
    _page, where = through_room(second, DATES, "198.51.100.2")
    assert where == DATES


def test_later_arrivals_see_their_position_and_wait(app, clock, room_open):
    at(clock, 0)
    for n in range(1, 4):
        through_room(app.test_client(), DATES, f"198.51.100.{n}")
    late = app.test_client()
    page, _where = through_room(late, DATES, "198.51.100.9")
    # Places 1..3 were taken by the others; by 07:00 only one place is in.
    assert "Posisi Anda: 3" in text(page)


def test_post_without_a_pass_goes_to_the_room_and_back_to_the_form(
    client, clock, room_open, details_form, person
):
    at(clock, -30)  # the form was shown before the room opened
    fields = {**details_form(), **person}
    at(clock, -10)
    sent = client.post("/pesan", data={**fields, "action": "book"})
    assert sent.status_code == 303
    where = urlsplit(sent.headers["Location"])
    assert where.path == ROOM
    back = parse_qs(where.query)["next"][0]
    assert urlsplit(back).path == "/pesan"
    assert parse_qs(urlsplit(back).query) == {
        "branch_id": [BRANCH],
        "service_id": ["jht"],
        "date": ["2026-11-24"],
        "slot": ["09:00"],
    }


def test_a_lost_ticket_joins_again_at_the_end(client, clock, redis, app):
    open_room(redis, admit_per_minute=1)
    at(clock, -1)
    through_room(client, DATES)
    first = cookie(client, "antrian_ticket").value
    at(clock, 0)
    assert through_room(client, DATES)[1] == DATES  # admitted, the pass set
    client.delete_cookie("antrian_pass")
    at(clock, 2.5)  # not asked about for more than 2 minutes since: the place is lost
    _page, where = through_room(client, DATES)
    # A new ticket, at the end of the line (here soon admitted: one a minute, few waiting).
    assert cookie(client, "antrian_ticket").value != first
    assert where == DATES


def test_an_arrival_long_after_the_release_is_let_in(client, clock, room_open):
    at(clock, 30)  # nobody came: by 07:30 the count has passed many places nobody took
    _page, where = through_room(client, DATES)
    assert where == DATES


def test_too_many_tickets_from_one_address_is_a_clear_page(app, clock, room_open):
    app.config["RATELIMIT_ENABLED"] = False
    at(clock, -5)
    for _ in range(3):
        through_room(app.test_client(), ROOM)
    refused = app.test_client().get(ROOM, environ_base={"REMOTE_ADDR": "198.51.100.1"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    html = text(refused)
    assert 'role="alert"' in html and "Terlalu banyak tiket ruang tunggu" in html
    assert "memegang 3 tiket" in html and "ditutup pukul 08:00 WIB" in html
    assert "http-equiv" not in html  # nothing to refresh for


def test_the_waiting_page_in_english(app, client, clock, room_open):
    at(clock, -10)
    html = text(client.get(f"{ROOM}?lang=en"))
    assert "<h1>Waiting room</h1>" in html
    assert "Booking of the new date opens at 07:00 WIB." in html
    assert "arriving earlier does not put you first" in html
    assert "Do not close this page." in html
    at(clock, 0)
    through_room(client, ROOM)  # the lottery's only ticket, let in first
    later = text(app.test_client().get(f"{ROOM}?lang=en", environ_base={"REMOTE_ADDR": "198.51.100.7"}))
    assert "Your position: 1" in later and "Estimated wait: &lt; 1 min" in later
    assert "Booking of the new date opened at 07:00 WIB" in later


@pytest.mark.parametrize(
    "candidate",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "",
        None,
        "cabang",
    ],
)
def test_next_never_leaves_the_site(app, candidate):
    with app.test_request_context():
        assert local_url(candidate, "/fallback") == "/fallback"
    with app.test_request_context():
        assert local_url("/pesan?branch_id=a&slot=09:00", "/fallback") == "/pesan?branch_id=a&slot=09:00"


def test_an_unknown_branch_has_no_waiting_page(client):
    assert client.get("/ruang-tunggu/nowhere").status_code == 404
