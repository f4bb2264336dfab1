"""Walk-in tickets against a real Redis: their own numbering, the day's share of capacity
(also under concurrency), a re-sent request, their place in line, and when they are refused."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from queue_service.domain import schedules
from queue_service.domain.audit import Actor
from queue_service.domain.checkins import CheckIns
from queue_service.domain.errors import (
    ClosedNowError,
    NotFoundError,
    ValidationFailedError,
    WalkInsFullError,
)
from queue_service.domain.live_queue import LiveQueue
from queue_service.domain.walk_ins import WalkIns
from queue_service.store import keys
from tests.factories import JAKARTA, booking_request

TUESDAY = dt.date(2026, 11, 24)
BRANCH = "jakarta-salemba"


def tuesday(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(TUESDAY, dt.time(hour, minute), tzinfo=JAKARTA)


@pytest.fixture
def kiosk(app, clock):
    return app.extensions["antrian"].kiosks.create(BRANCH, "Pintu", clock())[0]


@pytest.fixture
def walk_ins(redis):
    return WalkIns(redis)


def test_places_are_the_share_of_the_day_capacity_beside_the_online_quota():
    settings = schedules.BranchSettings(True, 160, 30, 10, 14, 60, {}, walk_in_share=20)
    assert schedules.walk_in_places(settings, None) == 40  # 40 of 200: 20 percent
    assert schedules.walk_in_places(settings, schedules.DateOverride(daily_quota=80)) == 20
    settings.walk_in_share = 0
    assert schedules.walk_in_places(settings, None) == 0


def test_tickets_are_numbered_apart_from_bookings_and_join_the_line(
    app, redis, reservations, clock, kiosk, walk_ins, tune_branch
):
    tune_branch(BRANCH, slot_capacity=100)
    booked = reservations.reserve(booking_request(slot=dt.time(9, 0)), clock())
    first = walk_ins.issue(kiosk, "jht", tuesday(8, 5))
    second = walk_ins.issue(kiosk, "jht", tuesday(8, 6))
    other = walk_ins.issue(kiosk, "jkk", tuesday(8, 7))
    assert (first.queue_number, second.queue_number, other.queue_number) == ("WA-001", "WA-002", "WB-001")
    assert booked.queue_number == "A-001"
    checked = CheckIns(redis).check_in(kiosk, booked.code, tuesday(8, 10))

    # By slot, then arrival: a walk-in's slot is the minute they came.
    live = LiveQueue(redis)
    called = [live.call_next(BRANCH, "Loket 1", tuesday(9, 30)).queue_number for _ in range(4)]
    assert called == ["WA-001", "WA-002", "WB-001", checked.queue_number]
    ticket = redis.hgetall(keys.booking(BRANCH, first.code))
    assert (ticket["status"], ticket["walk_in"]) == ("called", "1")
    assert not {"name", "nik", "phone"} & set(ticket)


def test_the_share_is_never_exceeded_under_concurrency(kiosk, walk_ins, tune_branch):
    tune_branch(BRANCH, daily_quota=8, walk_in_share=20)  # 2 places
    issued, refused = [], []

    def take():
        try:
            issued.append(walk_ins.issue(kiosk, "jht", tuesday(9)).queue_number)
        except WalkInsFullError:
            refused.append(1)

    threads = [threading.Thread(target=take) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(issued) == ["WA-001", "WA-002"] and len(refused) == 10
    use = walk_ins.use(BRANCH, TUESDAY)
    assert (use.places, use.issued, use.remaining) == (2, 2, 0)


def test_a_resent_request_answers_the_same_ticket(kiosk, walk_ins):
    first = walk_ins.issue(kiosk, "jht", tuesday(9), token="form-1")
    again = walk_ins.issue(kiosk, "jht", tuesday(9), token="form-1")
    assert again == first
    assert walk_ins.use(BRANCH, TUESDAY).issued == 1


def test_a_priority_ticket_waits_in_the_priority_line(redis, kiosk, walk_ins):
    ticket = walk_ins.issue(kiosk, "jht", tuesday(9), priority=True)
    view = LiveQueue(redis).view(BRANCH, tuesday(9))
    assert [(w.queue_number, w.priority) for w in view.waiting] == [(ticket.queue_number, True)]


def test_refused_outside_hours_on_a_closed_day_and_for_an_unknown_service(app, redis, clock, kiosk, walk_ins):
    with pytest.raises(ClosedNowError):
        walk_ins.issue(kiosk, "jht", tuesday(5, 0))  # an hour before the early window
    with pytest.raises(ClosedNowError):
        walk_ins.issue(kiosk, "jht", tuesday(23, 0))
    admin = Actor("admin", "national_admin", "cli")
    app.extensions["antrian"].tuning.set_date(
        BRANCH, TUESDAY, schedules.DateOverride(closed=True), admin, clock()
    )
    with pytest.raises(ClosedNowError):
        walk_ins.issue(kiosk, "jht", tuesday(9))
    with pytest.raises(ValidationFailedError):
        walk_ins.issue(kiosk, "nope", tuesday(9))
    with pytest.raises(NotFoundError):
        LiveQueue(redis).call_next(BRANCH, "Loket 1", tuesday(9))
