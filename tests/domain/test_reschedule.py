"""Moving a booking to another slot or date of its branch, called directly (no HTTP)."""

import datetime as dt
import hashlib
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from queue_service.domain.errors import (
    AlreadyBookedError,
    CancelledError,
    NotBookableError,
    SlotFullError,
    TooLateError,
)
from queue_service.store import keys
from tests.factories import JAKARTA, booking_request, make_nik

TUESDAY = dt.date(2026, 11, 24)
WEDNESDAY = dt.date(2026, 11, 25)
BRANCH = "jakarta-salemba"


def counts(redis, day: dt.date) -> tuple[dict, dict]:
    return (
        redis.hgetall(keys.slot_counts(BRANCH, day.isoformat())),
        redis.hgetall(keys.day_counts(BRANCH, day.isoformat())),
    )


def test_another_slot_the_same_day_keeps_the_queue_number(reservations, redis, clock):
    booking = reservations.reserve(booking_request(), clock())
    moved = reservations.reschedule(booking.code, booking.nik, TUESDAY, dt.time(10, 0), clock())
    assert (moved.code, moved.queue_number, moved.date) == (booking.code, "A-001", TUESDAY)
    assert (moved.slot_start, moved.slot_end) == (dt.time(10, 0), dt.time(10, 30))
    slots, day = counts(redis, TUESDAY)
    assert slots == {"09:00": "0", "10:00": "1"} and day["total"] == "1"


def test_another_date_takes_that_days_next_number_and_moves_the_nik_claim(reservations, redis, clock):
    nik = make_nik()
    reservations.reserve(booking_request(slot=dt.time(9, 0), date=WEDNESDAY), clock())
    booking = reservations.reserve(booking_request(nik=nik), clock())
    moved = reservations.reschedule(booking.code, nik, WEDNESDAY, dt.time(9, 0), clock())
    assert (moved.date, moved.queue_number, moved.status) == (WEDNESDAY, "A-002", "booked")
    assert counts(redis, TUESDAY) == ({"09:00": "0"}, {"total": "0", "svc:jht": "0"})
    assert counts(redis, WEDNESDAY)[1]["total"] == "2"
    assert booking.code not in redis.lrange(keys.day_bookings(BRANCH, "2026-11-24"), 0, -1)
    assert booking.code in redis.lrange(keys.day_bookings(BRANCH, "2026-11-25"), 0, -1)
    # The NIK's Tuesday is free again, its Wednesday is taken; look-up still finds it.
    reservations.reserve(booking_request(nik=nik, branch_id="jakarta-grogol"), clock())
    with pytest.raises(AlreadyBookedError):
        reservations.reserve(booking_request(nik=nik, date=WEDNESDAY, branch_id="jakarta-grogol"), clock())
    assert reservations.lookup(booking.code, nik).date == WEDNESDAY
    # The code's entry, which look-ups start from, lives as long as the moved booking.
    kept = redis.pttl(keys.booking(BRANCH, booking.code))
    assert abs(redis.pttl(keys.code_branch(booking.code)) - kept) < 60_000


def test_a_full_slot_changes_nothing(reservations, redis, clock, tune_branch):
    tune_branch(BRANCH, slot_capacity=1)
    reservations.reserve(booking_request(date=WEDNESDAY), clock())
    nik = make_nik()
    booking = reservations.reserve(booking_request(nik=nik), clock())
    with pytest.raises(SlotFullError):
        reservations.reschedule(booking.code, nik, WEDNESDAY, dt.time(9, 0), clock())
    assert reservations.lookup(booking.code, nik) == booking
    assert counts(redis, TUESDAY)[0] == {"09:00": "1"}
    # The new date's claim was released: the NIK may still book Wednesday elsewhere.
    reservations.reserve(booking_request(nik=nik, date=WEDNESDAY, branch_id="jakarta-grogol"), clock())


def test_a_date_the_nik_holds_already_is_refused(reservations, clock):
    nik = make_nik()
    tuesday = reservations.reserve(booking_request(nik=nik), clock())
    wednesday = reservations.reserve(
        booking_request(nik=nik, date=WEDNESDAY, branch_id="jakarta-grogol"), clock()
    )
    with pytest.raises(AlreadyBookedError):
        reservations.reschedule(tuesday.code, nik, WEDNESDAY, dt.time(10, 0), clock())
    assert reservations.lookup(tuesday.code, nik).date == TUESDAY
    assert reservations.lookup(wednesday.code, nik).status == "booked"


def test_a_move_to_the_place_held_changes_nothing(reservations, redis, clock):
    booking = reservations.reserve(booking_request(), clock())
    before = counts(redis, TUESDAY)
    again = reservations.reschedule(booking.code, booking.nik, TUESDAY, dt.time(9, 0), clock())
    assert again == booking
    assert counts(redis, TUESDAY) == before == ({"09:00": "1"}, {"total": "1", "svc:jht": "1"})


def test_closed_days_cancelled_and_started_bookings_are_refused(reservations, clock):
    booking = reservations.reserve(booking_request(), clock())
    with pytest.raises(NotBookableError):  # a Saturday
        reservations.reschedule(booking.code, booking.nik, dt.date(2026, 11, 28), dt.time(9, 0), clock())
    clock.set(dt.datetime(2026, 11, 24, 9, 5, tzinfo=JAKARTA))
    with pytest.raises(TooLateError):
        reservations.reschedule(booking.code, booking.nik, WEDNESDAY, dt.time(9, 0), clock())
    clock.set(dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA))
    reservations.cancel(booking.code, booking.nik, clock())
    with pytest.raises(CancelledError):
        reservations.reschedule(booking.code, booking.nik, WEDNESDAY, dt.time(9, 0), clock())


def test_concurrent_moves_into_one_place_fill_it_exactly(reservations, redis, clock, tune_branch):
    tune_branch(BRANCH, slot_capacity=3)
    moving = [
        reservations.reserve(booking_request(slot=dt.time(8, 0) if i % 2 else dt.time(8, 30)), clock())
        for i in range(6)
    ]

    def move(booking):
        try:
            return reservations.reschedule(booking.code, booking.nik, WEDNESDAY, dt.time(11, 0), clock())
        except SlotFullError:
            return None

    with ThreadPoolExecutor(6) as pool:
        moved = [m for m in pool.map(move, moving) if m is not None]
    assert len(moved) == 3
    assert sorted(m.queue_number for m in moved) == ["A-001", "A-002", "A-003"]
    assert counts(redis, WEDNESDAY)[0] == {"11:00": "3"}
    assert counts(redis, TUESDAY)[1]["total"] == "3"


def test_the_branch_step_answers_a_second_run_as_the_first(reservations, redis, clock):
    booking = reservations.reserve(booking_request(), clock())
    raw = redis.get(keys.branch_settings(BRANCH))
    run = dict(
        keys=[
            keys.branch_settings(BRANCH),
            keys.branch_dates(BRANCH),
            keys.branch_national_closures(BRANCH),
            keys.booking(BRANCH, booking.code),
            keys.slot_counts(BRANCH, "2026-11-24"),
            keys.day_counts(BRANCH, "2026-11-24"),
            keys.day_bookings(BRANCH, "2026-11-24"),
            keys.slot_counts(BRANCH, "2026-11-24"),
            keys.day_counts(BRANCH, "2026-11-24"),
            keys.queue_sequence(BRANCH, "2026-11-24"),
            keys.day_bookings(BRANCH, "2026-11-24"),
            keys.sms_reminders(BRANCH),
            keys.sms_reminders_planned(BRANCH),
            keys.waiters(BRANCH, "2026-11-24"),
        ],
        args=[
            booking.code,
            "2026-11-24",
            "09:00",
            "2026-11-24",
            "10:00",
            "10:30",
            "A",
            "",
            15000,
            0,
            secrets.token_hex(8),
            hashlib.sha1(raw.encode()).hexdigest(),
            86400000,
        ],
    )
    first = reservations.scripts.reschedule(**run)
    again = reservations.scripts.reschedule(**run)
    assert first == again == ["ok", "A-001"]
    assert counts(redis, TUESDAY)[0] == {"09:00": "0", "10:00": "1"}


def test_a_claim_left_by_a_reschedule_that_died_is_taken_over(reservations, redis, clock):
    nik = make_nik()
    booking = reservations.reserve(booking_request(nik=nik), clock())
    # The process claimed Wednesday for the booking, then died before moving it.
    digest = reservations.nik_digest(nik)
    redis.hset(
        keys.nik_day_claim(digest, "2026-11-25"),
        mapping={"code": booking.code, "branch": BRANCH, "state": "pending", "at": 0},
    )
    other = reservations.reserve(booking_request(nik=nik, date=WEDNESDAY), clock())
    assert other.date == WEDNESDAY
    assert reservations.lookup(booking.code, nik).date == TUESDAY
