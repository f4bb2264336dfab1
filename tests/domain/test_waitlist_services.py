"""Waiters are counted per service (issue 25 review): one keeps a place only while it could be
offered it, so a waiter whose own service's quota is full holds up no other service."""

from __future__ import annotations

import datetime as dt

import pytest

from queue_service.domain import availability, reports
from queue_service.domain.errors import DayFullError, SlotFullError
from queue_service.domain.waitlist import Waitlist
from tests.factories import booking_request

TUESDAY = dt.date(2026, 11, 24)
BRANCH = "jakarta-salemba"


@pytest.fixture
def settings(settings):
    return {**settings, "BOOKINGS_PER_PHONE": 3}


@pytest.fixture
def waitlist(reservations):
    return Waitlist(reservations)


def book(reservations, clock, service="jht", hour=9, phone="+6281100000001"):
    return reservations.reserve(
        booking_request(service_id=service, slot=dt.time(hour, 0), phone=phone), clock()
    )


def join(waitlist, clock, service="jht", hour=None, phone="+6281200000001"):
    slot = dt.time(hour, 0) if hour is not None else None
    return waitlist.join(booking_request(service_id=service, slot=slot, phone=phone), clock())


def public(redis, clock, service, slot):
    day = availability.availability(redis, BRANCH, TUESDAY, service, clock())
    return next(s.remaining for s in day.slots if s.start == slot)


def test_a_waiter_of_a_full_service_holds_up_no_other_service(
    waitlist, reservations, clock, redis, tune_branch
):
    tune_branch(BRANCH, slot_capacity=5, service_quotas={"jht": 1})
    jht = book(reservations, clock)
    any_slot = join(waitlist, clock)
    ten = join(waitlist, clock, hour=10, phone="+6281200000002")
    assert public(redis, clock, "jkk", "10:00") == 5
    assert public(redis, clock, "jkk", "09:00") == 4
    book(reservations, clock, service="jkk", hour=10, phone="+6281100000002")
    with pytest.raises(DayFullError):  # its own service is full still
        book(reservations, clock, phone="+6281100000003")
    # Its service frees: the first in line is offered the place, the next keeps its slot.
    reservations.cancel(jht.code, jht.nik, clock())
    assert waitlist.find(any_slot.code).status == "offered"
    assert waitlist.find(ten.code).status == "waiting"


def test_a_waiter_whose_service_has_room_keeps_a_freed_place_from_every_service(
    waitlist, reservations, clock, redis, tune_branch
):
    tune_branch(BRANCH, slot_capacity=1)
    taken = book(reservations, clock, service="jkk")
    join(waitlist, clock, service="jkk", hour=9)
    # Freed, but no offer step yet: the place is the jkk waiter's, for jht too.
    reservations.cancellation.cancel_booking(taken, clock(), "participant")
    assert public(redis, clock, "jht", "09:00") == 0
    with pytest.raises(SlotFullError):
        book(reservations, clock, service="jht", phone="+6281100000002")
    assert public(redis, clock, "jht", "10:00") == 1


def test_the_busiest_slots_list_only_slots(waitlist, reservations, clock, redis, tune_branch):
    tune_branch(BRANCH, slot_capacity=1)
    book(reservations, clock)
    for n in range(3):
        join(waitlist, clock, hour=9, phone=f"+62812000000{n:02d}")
    assert reports.busiest_slots(redis, BRANCH, [TUESDAY]) == [("09:00", 1)]
