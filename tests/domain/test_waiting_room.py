"""The waiting room (issue 21, SPEC §6): tickets before the release wait unplaced, the
lottery shuffles them at the release, admission follows the line at the room's rate, a
pass admits one person to that room only."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from queue_service.domain import audit
from queue_service.domain.errors import NotAdmittedError, NotFoundError, RoomFullError
from queue_service.domain.waiting_room import (
    ADMITTED,
    NOT_NEEDED,
    WAITING,
    RoomSettings,
    WaitingRooms,
    active_room,
)
from queue_service.store import keys
from tests.factories import JAKARTA, make_nik

BRANCH = "jakarta-salemba"
RELEASE = dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA)
SETTINGS = RoomSettings(enabled=True, opens_minutes_before=15, admit_per_minute=300, lasts_minutes=60)


@pytest.fixture
def rooms(redis):
    return WaitingRooms(redis, b"test-secret-of-the-suite")


def room_at(moment, settings=SETTINGS, branch=BRANCH):
    return active_room(branch, settings, "07:00", "Asia/Jakarta", moment)


def at(minutes: float) -> dt.datetime:
    return RELEASE + dt.timedelta(minutes=minutes)


def test_the_room_is_open_from_before_the_release_until_it_has_lasted():
    assert room_at(at(-15.01)) is None
    assert room_at(at(-15)).id == "20261123"
    assert room_at(at(59.99)).release_at == RELEASE
    assert room_at(at(60)) is None
    assert active_room(BRANCH, RoomSettings(enabled=False), "07:00", "Asia/Jakarta", at(0)) is None
    # A release at 00:05 opens the evening before, under the day it releases on.
    evening = dt.datetime(2026, 11, 22, 23, 55, tzinfo=JAKARTA)
    assert active_room(BRANCH, SETTINGS, "00:05", "Asia/Jakarta", evening).id == "20261123"


def test_no_room_no_ticket_needed(rooms):
    assert rooms.join(None, "198.51.100.1", None, at(0)).state == NOT_NEEDED
    rooms.admit(None, None, make_nik())  # nothing asked


def test_before_the_release_nobody_has_a_place_nor_a_pass(rooms):
    standing = rooms.join(room_at(at(-10)), "198.51.100.1", None, at(-10))
    assert (standing.state, standing.position, standing.admission_pass) == (WAITING, None, None)
    again = rooms.status(standing.ticket, at(-5))
    assert (again.state, again.position) == (WAITING, None)


def test_joining_again_gives_the_same_ticket_and_an_address_holds_a_few(rooms):
    room = room_at(at(-10))
    first = rooms.join(room, "198.51.100.1", None, at(-10))
    assert rooms.join(room, "198.51.100.1", first.ticket, at(-9)).ticket == first.ticket
    small = RoomSettings(**{**SETTINGS.__dict__, "tickets_per_address": 3})
    small_room = room_at(at(-10), small, "bekasi")
    for _ in range(3):
        rooms.join(small_room, "198.51.100.2", None, at(-10))
    with pytest.raises(RoomFullError) as refused:
        rooms.join(small_room, "198.51.100.2", None, at(-10))
    assert refused.value.code == "rate_limited" and refused.value.retry_after > 0
    assert rooms.join(small_room, "198.51.100.3", None, at(-10)).state == WAITING


def spearman(xs, ys) -> float:
    n = len(xs)
    rank_x = {v: i for i, v in enumerate(sorted(xs))}
    rank_y = {v: i for i, v in enumerate(sorted(ys))}
    d2 = sum((rank_x[x] - rank_y[y]) ** 2 for x, y in zip(xs, ys, strict=True))
    return 1 - 6 * d2 / (n * (n * n - 1))


def test_two_thousand_early_arrivals_are_shuffled_admitted_once_each_at_the_rate(rooms, redis):
    room = room_at(at(-10))
    tickets = [rooms.join(room, f"10.0.{n // 250}.{n % 250}", None, at(-10)).ticket for n in range(2000)]
    late = rooms.join(room, "10.9.9.9", None, at(0.5))  # after the release: the end of the line

    status = {t: rooms.status(t, at(0)) for t in tickets}
    positions = [status[t].position for t in tickets]
    # The lottery: arrival order says nothing of the place in line.
    assert sorted(positions) == [0, *range(1, 2000)]
    assert abs(spearman(list(range(2000)), positions)) < 0.1
    # The late one is the 2,001st place; half a minute in, 151 are admitted (1 + 300 / 2).
    assert rooms.status(late.ticket, at(0.5)).position == 2001 - 151
    # Its seed is in the audit log, with how many it placed.
    (drawn,) = audit.read(redis, BRANCH, action="waiting_room_drawn")
    recorded = json.loads(drawn.after)
    assert recorded["drawn"] == 2000
    assert recorded["seed"] == redis.hget(keys.room(BRANCH, "20261123"), "seed")
    assert len(recorded["seed"]) == 64

    # Admission: by each whole minute, at most 300 (+1) more; every ticket once.
    admitted_by = {}
    for minute in range(0, 8):
        for ticket in tickets:
            if ticket in admitted_by:
                continue
            if rooms.status(ticket, at(minute)).state == ADMITTED:
                admitted_by[ticket] = minute
    counts = [sum(1 for m in admitted_by.values() if m == minute) for minute in range(8)]
    assert counts[0] == 1 and all(c <= 301 for c in counts)
    assert len(admitted_by) == 2000


def test_a_pass_admits_one_person_to_its_own_room(rooms, redis):
    room = room_at(at(-1))
    ticket = rooms.join(room, "198.51.100.1", None, at(-1)).ticket
    standing = rooms.status(ticket, at(0))
    assert standing.state == ADMITTED and standing.admission_pass

    nik = make_nik()
    rooms.admit(room, standing.admission_pass, nik)
    rooms.admit(room, standing.admission_pass, nik)  # the same person again (a wrong captcha)
    with pytest.raises(NotAdmittedError):
        rooms.admit(room, standing.admission_pass, make_nik())  # another person
    for forged in (None, "", standing.admission_pass[:-2] + "xx", "not-a-pass"):
        with pytest.raises(NotAdmittedError):
            rooms.admit(room, forged, nik)
    other_branch = room_at(at(0), branch="bekasi")
    with pytest.raises(NotAdmittedError):
        rooms.admit(other_branch, standing.admission_pass, nik)


def test_an_expired_pass_is_refused(rooms, monkeypatch):
    room = room_at(at(-1))
    ticket = rooms.join(room, "198.51.100.1", None, at(-1)).ticket
    admission_pass = rooms.status(ticket, at(0)).admission_pass
    # itsdangerous judges age by the host's clock: a pass signed eleven minutes ago.
    import time as time_module

    real = time_module.time
    monkeypatch.setattr(time_module, "time", lambda: real() + 11 * 60)
    with pytest.raises(NotAdmittedError):
        rooms.admit(room, admission_pass, make_nik())


def test_an_admitted_ticket_not_asked_about_for_two_minutes_loses_its_place(rooms):
    room = room_at(at(-1))
    ticket = rooms.join(room, "198.51.100.1", None, at(-1)).ticket
    assert rooms.status(ticket, at(0)).state == ADMITTED
    assert rooms.status(ticket, at(1.9)).state == ADMITTED
    with pytest.raises(NotFoundError):
        rooms.status(ticket, at(4))
    with pytest.raises(NotFoundError):
        rooms.status("garbage", at(0))


def test_late_arrivals_in_a_quiet_room_come_in_one_at_a_time_at_the_rate_and_are_not_lost(rooms):
    room = room_at(at(30))
    joined = [rooms.join(room, f"198.51.100.{n}", None, at(30)) for n in range(5)]

    assert [s.state for s in joined] == [ADMITTED, WAITING, WAITING, WAITING, WAITING]
    assert [s.position for s in joined[1:]] == [1, 2, 3, 4]
    # 300 a minute: one more every 0.2 s.
    later = [rooms.status(s.ticket, at(30 + 0.2 * 2 / 60)).state for s in joined]
    assert later == [ADMITTED, ADMITTED, ADMITTED, WAITING, WAITING]


def test_once_the_room_is_over_a_ticket_needs_nothing_more(rooms):
    room = room_at(at(-1))
    ticket = rooms.join(room, "198.51.100.1", None, at(-1)).ticket
    assert rooms.status(ticket, at(0)).state == ADMITTED
    # Not asked about for an hour, but the room is over: no place to lose, no pass needed.
    assert rooms.status(ticket, at(60)).state == NOT_NEEDED
