"""The waitlist (issue 25): a full day's freed places go to those who wait, in order, held for
them as an offer until they accept or it runs out; nobody else can take them meanwhile."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from queue_service.domain import availability
from queue_service.domain.audit import Actor
from queue_service.domain.errors import (
    AlreadyBookedError,
    CancelledError,
    DayFullError,
    NotFullError,
    NotOfferedError,
    OfferExpiredError,
    SlotFullError,
    TooManyBookingsError,
    VerificationFailedError,
)
from queue_service.domain.reservations import Reservations
from queue_service.domain.waitlist import Waitlist
from queue_service.store import keys
from tests.factories import booking_request, make_nik

TUESDAY = dt.date(2026, 11, 24)
BRANCH = "jakarta-salemba"
# An offer this short runs out while a test waits for it (0.6 s).
SHORT_OFFER_MINUTES = 0.01


@pytest.fixture
def settings(settings):
    return {**settings, "BOOKINGS_PER_PHONE": 3}


@pytest.fixture
def full_slot(tune_branch, app):
    """Jakarta Salemba with one place per slot."""
    tune_branch(BRANCH, slot_capacity=1)


@pytest.fixture
def waitlist(reservations, full_slot):
    return Waitlist(reservations)


def book(reservations, clock, **fields):
    return reservations.reserve(booking_request(**fields), clock())


def join(waitlist, clock, **fields):
    return waitlist.join(booking_request(**fields), clock())


def outbox(redis) -> set[str]:
    return set(redis.zrange(keys.sms_outbox(BRANCH), 0, -1))


def public_slot(redis, clock, slot="09:00") -> int:
    day = availability.availability(redis, BRANCH, TUESDAY, "jht", clock())
    return next(s.remaining for s in day.slots if s.start == slot)


def test_join_is_refused_while_a_place_is_free_then_queued_in_order(waitlist, reservations, clock):
    with pytest.raises(NotFullError):
        join(waitlist, clock, phone="+6281200000001")
    book(reservations, clock)
    first = join(waitlist, clock, phone="+6281200000001")
    second = join(waitlist, clock, phone="+6281200000002")
    assert (first.status, first.position, first.slot) == ("waiting", 1, dt.time(9, 0))
    assert second.position == 2
    # Someone waiting keeps the slot from a direct booking too.
    with pytest.raises(SlotFullError):
        book(reservations, clock, phone="+6281200000003")


def test_cancel_offers_the_place_to_the_first_then_accept_books_it(waitlist, reservations, clock, redis):
    taken = book(reservations, clock)
    first = join(waitlist, clock, phone="+6281200000001")
    second = join(waitlist, clock, phone="+6281200000002")
    reservations.cancel(taken.code, taken.nik, clock())
    offered = waitlist.find(first.code)
    assert (offered.status, offered.slot) == ("offered", dt.time(9, 0))
    assert offered.offer_by is not None
    assert f"{first.code}:offer" in outbox(redis)
    assert waitlist.find(second.code).position == 1
    # Offered, the place is neither free publicly nor bookable, nor is it the second's.
    assert public_slot(redis, clock) == 0
    with pytest.raises(NotOfferedError):
        waitlist.accept(second.code, second.nik, clock())
    booking = waitlist.accept(first.code, first.nik, clock())
    assert (booking.status, booking.queue_number, booking.slot_start) == ("booked", "A-002", dt.time(9, 0))
    assert f"{first.code}:booked" in outbox(redis)
    assert waitlist.accept(first.code, first.nik, clock()) == booking  # a re-sent call
    assert reservations.lookup(booking.code, first.nik).status == "booked"
    assert waitlist.figures(BRANCH, [TUESDAY])[TUESDAY].accepted == 1


def test_an_any_slot_entry_takes_whichever_slot_frees(waitlist, reservations, clock, tune_branch):
    tune_branch(BRANCH, daily_quota=2)
    book(reservations, clock, slot=dt.time(9, 0))
    late = book(reservations, clock, slot=dt.time(13, 0))
    with pytest.raises(DayFullError):
        book(reservations, clock, slot=dt.time(10, 0))
    anyone = join(waitlist, clock, slot=None)
    assert anyone.slot is None
    reservations.cancel(late.code, late.nik, clock())
    offered = waitlist.find(anyone.code)
    assert offered.status == "offered"
    assert waitlist.accept(anyone.code, anyone.nik, clock()).status == "booked"


def test_an_offer_not_accepted_in_time_goes_to_the_next(app, waitlist, reservations, clock, redis):
    short = Reservations.from_settings(redis, {**app.config, "WAITLIST_OFFER_MINUTES": SHORT_OFFER_MINUTES})
    waitlist = Waitlist(short)
    taken = book(short, clock)
    first = join(waitlist, clock, phone="+6281200000001")
    second = join(waitlist, clock, phone="+6281200000002")
    short.cancel(taken.code, taken.nik, clock())
    deadline = waitlist.find(first.code).offer_by
    time.sleep(max(0.0, deadline.timestamp() - time.time()) + 0.1)
    short.release_expired_holds([BRANCH], clock())  # the worker's sweep
    assert waitlist.find(first.code).status == "expired"
    assert waitlist.find(second.code).status == "offered"
    with pytest.raises(OfferExpiredError):
        waitlist.accept(first.code, first.nik, clock())
    # The first's NIK is free again: it can book another day.
    book(short, clock, nik=first.nik, date=TUESDAY + dt.timedelta(days=1))
    figures = waitlist.figures(BRANCH, [TUESDAY])[TUESDAY]
    assert (figures.offered, figures.expired, figures.waiting) == (2, 1, 0)


def test_accept_after_the_deadline_is_offer_expired_and_offers_the_next(app, redis, clock, full_slot):
    short = Reservations.from_settings(redis, {**app.config, "WAITLIST_OFFER_MINUTES": SHORT_OFFER_MINUTES})
    waitlist = Waitlist(short)
    taken = book(short, clock)
    first = join(waitlist, clock, phone="+6281200000001")
    second = join(waitlist, clock, phone="+6281200000002")
    short.cancel(taken.code, taken.nik, clock())
    time.sleep(max(0.0, waitlist.find(first.code).offer_by.timestamp() - time.time()) + 0.1)
    with pytest.raises(OfferExpiredError):
        waitlist.accept(first.code, first.nik, clock())
    assert waitlist.find(second.code).status == "offered"


def test_two_places_freed_at_once_make_two_offers_never_one_twice(
    waitlist, reservations, clock, redis, tune_branch
):
    tune_branch(BRANCH, slot_capacity=2)
    taken = [book(reservations, clock) for _ in range(2)]
    entries = [join(waitlist, clock, phone=f"+628120000000{n}") for n in range(3)]
    # Both freed before any offer step runs (as two cancellations racing each other's steps).
    for booking in taken:
        reservations.cancellation.cancel_booking(booking, clock(), "participant")
    offered = reservations.offers.offer(BRANCH, TUESDAY, clock())
    assert offered == [entries[0].code, entries[1].code]
    assert reservations.offers.offer(BRANCH, TUESDAY, clock()) == []
    assert int(redis.hget(keys.slot_counts(BRANCH, TUESDAY.isoformat()), "09:00")) == 2
    assert waitlist.find(entries[2].code).status == "waiting"


def test_a_freed_place_stays_off_public_sale_while_someone_waits(waitlist, reservations, clock, redis):
    taken = book(reservations, clock)
    join(waitlist, clock)
    # Freed, but no offer step yet (its process died): nobody else may take it.
    reservations.cancellation.cancel_booking(taken, clock(), "participant")
    assert public_slot(redis, clock) == 0
    with pytest.raises(SlotFullError):
        book(reservations, clock)
    assert reservations.release_expired_holds([BRANCH], clock()) == 0  # the sweep offers it
    assert len(reservations.offers.days(BRANCH)) == 0


def test_one_entry_per_nik_and_date_and_the_phone_cap_hold(waitlist, reservations, clock):
    book(reservations, clock)
    nik = make_nik()
    join(waitlist, clock, nik=nik)
    with pytest.raises(AlreadyBookedError):
        join(waitlist, clock, nik=nik)
    with pytest.raises(AlreadyBookedError):  # nor a booking elsewhere that date
        book(reservations, clock, nik=nik, branch_id="bandung-suci", slot=dt.time(9, 0))
    phone = "+6281299999999"
    for hour in (9, 10, 11):
        book(reservations, clock, phone=phone, date=TUESDAY + dt.timedelta(days=1), slot=dt.time(hour, 0))
    with pytest.raises(TooManyBookingsError):
        join(waitlist, clock, phone=phone)


def test_leaving_frees_the_nik_and_a_declined_offer_goes_to_the_next(waitlist, reservations, clock):
    taken = book(reservations, clock)
    first = join(waitlist, clock, phone="+6281200000001")
    second = join(waitlist, clock, phone="+6281200000002")
    reservations.cancel(taken.code, taken.nik, clock())
    assert waitlist.leave(first.code, first.nik, clock()).status == "left"
    assert waitlist.leave(first.code, first.nik, clock()).status == "left"
    assert waitlist.find(second.code).status == "offered"
    with pytest.raises(CancelledError):
        waitlist.accept(first.code, first.nik, clock())
    book(reservations, clock, nik=first.nik, slot=dt.time(10, 0))
    assert waitlist.figures(BRANCH, [TUESDAY])[TUESDAY].left == 1


def test_a_raised_capacity_is_offered_to_the_waitlist(app, waitlist, reservations, clock):
    book(reservations, clock)
    entry = join(waitlist, clock)
    tuning = app.extensions["antrian"].tuning
    tuning.update_settings(BRANCH, {"slot_capacity": 2}, Actor("admin", "national", "cli"), clock())
    assert waitlist.find(entry.code).status == "offered"


def test_with_phone_verification_an_entry_joins_the_line_once_its_phones_code_comes_back(
    app, redis, clock, full_slot
):
    verified = Reservations.from_settings(redis, {**app.config, "PHONE_VERIFICATION": True})
    waitlist = Waitlist(verified)
    taken = book(verified, clock)
    verified.verify(taken.code, taken.nik, redis.hget(keys.booking(BRANCH, taken.code), "otp"))
    made_up = join(waitlist, clock, phone="+6281200000001")
    entry = join(waitlist, clock, phone="+6281200000002")
    assert (entry.status, entry.position) == ("pending", None)
    assert f"{entry.code}:otp" in outbox(redis)
    with pytest.raises(NotOfferedError):
        waitlist.accept(entry.code, entry.nik, clock())
    otp = redis.hget(keys.booking(BRANCH, entry.code), "otp")
    with pytest.raises(VerificationFailedError):
        waitlist.verify(entry.code, entry.nik, f"{(int(otp) + 1) % 10**6:06d}", clock())
    in_line = waitlist.verify(entry.code, entry.nik, otp, clock())
    assert (in_line.status, in_line.position) == ("waiting", 1)  # the unverified one is not in line
    verified.cancel(taken.code, taken.nik, clock())
    assert waitlist.find(entry.code).status == "offered"
    assert waitlist.find(made_up.code).status == "pending"
    assert waitlist.accept(entry.code, entry.nik, clock()).status == "booked"


def test_an_entry_whose_phones_code_never_comes_back_is_released_and_frees_its_nik(
    app, redis, clock, full_slot
):
    held = Reservations.from_settings(
        redis, {**app.config, "PHONE_VERIFICATION": True, "PHONE_VERIFICATION_MINUTES": 0.01}
    )
    waitlist = Waitlist(held)
    taken = book(held, clock)
    held.verify(taken.code, taken.nik, redis.hget(keys.booking(BRANCH, taken.code), "otp"))
    entry = join(waitlist, clock)
    time.sleep(max(0.0, waitlist.find(entry.code).offer_by.timestamp() - time.time()) + 0.1)
    held.release_expired_holds([BRANCH], clock())
    assert waitlist.find(entry.code).status == "expired"
    counts = redis.hgetall(keys.slot_counts(BRANCH, TUESDAY.isoformat()))
    assert counts["09:00"] == "1" and "w:09:00" not in counts  # never counted, nothing given back
    book(held, clock, nik=entry.nik, slot=dt.time(10, 0))  # its NIK's date is free
