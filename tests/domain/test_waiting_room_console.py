"""The waiting room as the console runs it (issue 21): its figures, and a change of its rate or
a pause, which rebases admission (``room_rate.lua``) so that whoever was let in stays in, the
count goes on from where it had got, a pause lets nobody new in and a resume does not catch
up the paused time; each change audited with before and after."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from queue_service.domain import audit, demo
from queue_service.domain.audit import Actor
from queue_service.domain.errors import NotFoundError
from queue_service.domain.waiting_room import ADMITTED, RoomSettings, WaitingRooms, active_room, next_room
from queue_service.store import keys
from tests.factories import JAKARTA

BRANCH = "jakarta-salemba"
RELEASE = dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA)
SETTINGS = RoomSettings(enabled=True, opens_minutes_before=15, admit_per_minute=60, lasts_minutes=60)
ADMIN = Actor("siti", "branch_admin", "10.0.0.1")


@pytest.fixture
def rooms(redis):
    return WaitingRooms(redis, b"test-secret-of-the-suite")


@pytest.fixture
def enabled(redis):
    """The branch's room enabled around a 07:00 release, at 60 a minute."""
    demo.seed(redis)
    stored = json.loads(redis.get(keys.branch_settings(BRANCH)))
    stored.update(release_time="07:00", waiting_room=SETTINGS.__dict__)
    redis.set(keys.branch_settings(BRANCH), json.dumps(stored))


def at(minutes: float) -> dt.datetime:
    return RELEASE + dt.timedelta(minutes=minutes)


def room():
    return active_room(BRANCH, SETTINGS, "07:00", "Asia/Jakarta", at(0))


def line(rooms, count: int) -> list[str]:
    """``count`` tickets that joined before the release, in their drawn order."""
    tickets = [rooms.join(room(), f"10.0.0.{n}", None, at(-5)).ticket for n in range(count)]
    placed = {t: rooms.status(t, at(0)).position for t in tickets}
    return sorted(tickets, key=placed.get)


def admitted(rooms, tickets, minutes: float) -> int:
    """How many of ``tickets`` (in line order) are in at ``minutes``, each asked about then."""
    return sum(rooms.status(t, at(minutes)).state == ADMITTED for t in tickets)


def test_the_next_room_and_none_when_the_room_is_off():
    upcoming = next_room(BRANCH, SETTINGS, "07:00", "Asia/Jakarta", at(-20))
    assert (upcoming.id, upcoming.opens_at) == ("20261123", at(-15))
    assert next_room(BRANCH, SETTINGS, "07:00", "Asia/Jakarta", at(-15)).id == "20261124"
    assert next_room(BRANCH, RoomSettings(), "07:00", "Asia/Jakarta", at(-20)) is None


def test_the_view_counts_the_unplaced_then_the_line(rooms, enabled):
    before = rooms.view(BRANCH, at(-20))
    assert before.room is None and before.next.opens_at == at(-15) and before.admit_per_minute == 60
    assert rooms.view(BRANCH, at(-10)).room.id == "20261123"
    for n in range(5):
        rooms.join(room(), f"10.0.0.{n}", None, at(-5))
    early = rooms.view(BRANCH, at(-1))
    assert (early.unplaced, early.waiting, early.admitted, early.seed) == (5, 0, 0, None)

    line(rooms, 0)  # nobody new; the lottery is drawn at the first ask after the release
    rooms.status(rooms.join(room(), "10.0.1.1", None, at(0)).ticket, at(0))
    drawn = rooms.view(BRANCH, at(2.5))  # 1 + 2 minutes at 60 = 151 places: all 6 in
    assert (drawn.unplaced, drawn.waiting, drawn.admitted, drawn.drawn) == (0, 0, 6, 5)
    assert len(drawn.seed) == 64
    assert rooms.view(BRANCH, at(0)).admitted == 1


def test_a_rate_change_keeps_who_is_in_and_counts_on_from_there(rooms, redis, enabled):
    tickets = line(rooms, 40)
    assert admitted(rooms, tickets, 0.25) == 16  # 1 + 15 in a quarter minute at 60
    change = rooms.change_rate(room(), 6, None, ADMIN, at(0.25))
    assert (change.changed, change.admit_per_minute, change.paused, change.admitted) == (True, 6, False, 16)
    # Nobody more at the change; then one every 10 seconds.
    assert admitted(rooms, tickets, 0.25) == 16
    assert admitted(rooms, tickets, 0.25 + 9.9 / 60) == 16
    assert admitted(rooms, tickets, 0.25 + 10 / 60) == 17
    assert admitted(rooms, tickets, 1.25) == 22
    view = rooms.view(BRANCH, at(1.25))
    assert (view.admitted, view.waiting, view.admit_per_minute, view.paused) == (22, 18, 6, False)

    (entry,) = audit.read(redis, BRANCH, action="waiting_room_rate")
    assert (entry.actor, entry.target) == ("siti", f"{BRANCH}/20261123")
    assert json.loads(entry.before) == {"admit_per_minute": 60, "paused": False, "admitted": 16}
    assert json.loads(entry.after) == {"admit_per_minute": 6, "paused": False, "admitted": 16}


def test_a_pause_lets_nobody_new_in_and_a_resume_goes_on_without_catching_up(rooms, redis, enabled):
    tickets = line(rooms, 40)
    assert admitted(rooms, tickets, 0.1) == 7  # 1 + 6
    assert rooms.change_rate(room(), None, True, ADMIN, at(0.1)).admitted == 7
    for minute in (0.1, 0.5, 1.5):
        assert admitted(rooms, tickets, minute) == 7
        assert rooms.status(tickets[7], at(minute)).estimated_wait_seconds is None
    view = rooms.view(BRANCH, at(1.5))
    assert (view.paused, view.admitted, view.admit_per_minute) == (True, 7, 60)
    # Paused again: nothing to change, nothing audited.
    assert rooms.change_rate(room(), None, True, ADMIN, at(1.5)).changed is False

    rooms.change_rate(room(), None, False, ADMIN, at(1.5))
    assert admitted(rooms, tickets, 1.5) == 7  # the paused minute and a half is not caught up
    assert admitted(rooms, tickets, 1.5 + 1 / 60) == 8
    assert admitted(rooms, tickets, 1.75) == 22  # 7 + 15
    actions = [
        (json.loads(e.before)["paused"], json.loads(e.after)["paused"])
        for e in audit.read(redis, BRANCH, action="waiting_room_rate")
    ]
    assert actions == [(True, False), (False, True)]  # newest first


def test_a_room_paused_before_its_release_admits_nobody_at_it(rooms, enabled):
    tickets = [rooms.join(room(), f"10.0.0.{n}", None, at(-5)).ticket for n in range(3)]
    rooms.change_rate(room(), None, True, ADMIN, at(-2))
    assert admitted(rooms, tickets, 0) == 0
    assert admitted(rooms, tickets, 1) == 0
    rooms.change_rate(room(), 60, False, ADMIN, at(1))
    assert admitted(rooms, tickets, 1) == 0
    assert admitted(rooms, tickets, 1 + 1 / 60) == 1
    assert admitted(rooms, tickets, 1.05) == 3


def test_a_change_before_anyone_joined_sets_the_rooms_rate(rooms, redis, enabled):
    rooms.change_rate(room(), 120, None, ADMIN, at(-10))
    tickets = line(rooms, 10)
    assert admitted(rooms, tickets, 0) == 1
    assert admitted(rooms, tickets, 0.04) == 5  # 1 + 0.04 x 120 = 5.8
    assert rooms.view(BRANCH, at(0)).admit_per_minute == 120


def test_no_open_room_no_change(rooms, enabled):
    with pytest.raises(NotFoundError):
        rooms.change_rate(None, 10, None, ADMIN, at(-30))
