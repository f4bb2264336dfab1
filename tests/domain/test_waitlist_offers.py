"""The waitlist's offer step (issue 25 review): it walks the whole line, a page at a time, and
offers what it offers by the settings its caller judged the day by."""

from __future__ import annotations

import datetime as dt

import pytest

from queue_service.domain import schedules
from queue_service.domain.reservations import offers
from queue_service.domain.waitlist import Waitlist
from queue_service.store import keys
from tests.factories import booking_request

TUESDAY = dt.date(2026, 11, 24)
BRANCH = "jakarta-salemba"


@pytest.fixture
def settings(settings):
    return {**settings, "BOOKINGS_PER_PHONE": 3}


@pytest.fixture
def waitlist(reservations, tune_branch, app):
    tune_branch(BRANCH, slot_capacity=1)
    return Waitlist(reservations)


@pytest.fixture
def pages_of_two(monkeypatch):
    """The offer step reads the line two entries at a time, so a short line spans pages."""
    monkeypatch.setattr(offers, "ENTRIES_PER_STEP", 2)


def book(reservations, clock, hour, **fields):
    return reservations.reserve(booking_request(slot=dt.time(hour, 0), **fields), clock())


def join(waitlist, clock, hour, n):
    return waitlist.join(booking_request(slot=dt.time(hour, 0), phone=f"+62812000000{n:02d}"), clock())


def test_an_entry_beyond_the_first_page_is_offered_its_freed_slot(
    waitlist, reservations, clock, pages_of_two
):
    book(reservations, clock, 9, phone="+6281100000001")
    ten = book(reservations, clock, 10, phone="+6281100000002")
    ahead = [join(waitlist, clock, 9, n) for n in range(3)]  # for 09:00, still full
    late = join(waitlist, clock, 10, 9)
    reservations.cancel(ten.code, ten.nik, clock())
    assert waitlist.find(late.code).status == "offered"
    assert [waitlist.find(e.code).status for e in ahead] == ["waiting"] * 3


def test_entries_offered_on_a_page_do_not_make_the_next_page_skip_one(
    waitlist, reservations, clock, pages_of_two
):
    book(reservations, clock, 9, phone="+6281100000001")
    freed = [book(reservations, clock, hour, phone=f"+62811000000{hour}") for hour in (10, 11)]
    first = join(waitlist, clock, 10, 1)
    second = join(waitlist, clock, 9, 2)
    third = join(waitlist, clock, 11, 3)
    fourth = join(waitlist, clock, 9, 4)
    # Both freed before any offer step runs: one walk offers both, the first page's offer
    # moving the rest of the line up by one.
    for booking in freed:
        reservations.cancellation.cancel_booking(booking, clock(), "participant")
    assert reservations.offers.offer(BRANCH, TUESDAY, clock()) == [first.code, third.code]
    assert [waitlist.find(e.code).status for e in (second, fourth)] == ["waiting", "waiting"]


def test_settings_changed_between_the_read_and_the_step_offer_only_a_slot_of_the_day_now(
    waitlist, reservations, clock, redis, tune_branch, monkeypatch
):
    before = tune_branch(BRANCH, daily_quota=1)
    book(reservations, clock, 9, phone="+6281100000001")
    entry = waitlist.join(booking_request(slot=None, phone="+6281200000001"), clock())
    read = offers.WaitlistOffers._open_slots
    changes = []

    def read_then_changed(self, branch_id, day, now):
        read_now = read(self, branch_id, day, now)
        if not changes:  # an admin's change lands between the read and the step, once
            # The morning is closed: the slots read are none of the day's now.
            hours = {**before.service_hours, "tue": [["13:00", "15:00"]]}
            changes.append(tune_branch(BRANCH, daily_quota=2, service_hours=hours))
        return read_now

    monkeypatch.setattr(offers.WaitlistOffers, "_open_slots", read_then_changed)
    assert reservations.offers.offer(BRANCH, TUESDAY, clock()) == [entry.code]
    labels_now = [slot.label for slot in schedules.slots_of_day(changes[0], TUESDAY)]
    assert waitlist.find(entry.code).slot.strftime("%H:%M") in labels_now


def test_entries_joining_in_the_same_millisecond_keep_the_order_they_joined(
    waitlist, reservations, clock, redis
):
    taken = book(reservations, clock, 9, phone="+6281100000001")
    first = join(waitlist, clock, 9, 1)
    # As if the next joined within the same millisecond, or Redis's clock stepped back.
    line = keys.waitlist(BRANCH, TUESDAY.isoformat())
    redis.zadd(line, {first.code: redis.zscore(line, first.code) + 60_000}, xx=True)
    second = join(waitlist, clock, 9, 2)
    assert (second.position, waitlist.find(first.code).position) == (2, 1)
    reservations.cancel(taken.code, taken.nik, clock())
    assert waitlist.find(first.code).status == "offered"
