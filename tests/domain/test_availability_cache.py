"""AvailabilityCache: an answer given again for a short window, then read afresh."""

from __future__ import annotations

import datetime as dt

from queue_service.domain.availability import AvailabilityCache
from tests.factories import booking_request

TUESDAY = dt.date(2026, 11, 24)
BRANCH = "jakarta-salemba"


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def nine_remaining(answer) -> int:
    return next(slot.remaining for slot in answer.slots if slot.start == "09:00")


def test_an_answer_is_given_again_within_the_window_then_read_afresh(app, redis, reservations, clock):
    ticks = Ticks()
    fresh = AvailabilityCache(redis, fresh_ms=1000, monotonic=ticks)
    before = fresh.day(BRANCH, TUESDAY, "jht", clock())
    reservations.reserve(booking_request(), clock())

    ticks.now += 0.9
    assert fresh.day(BRANCH, TUESDAY, "jht", clock()) is before  # not read again
    ticks.now += 0.2
    assert nine_remaining(fresh.day(BRANCH, TUESDAY, "jht", clock())) == nine_remaining(before) - 1


def test_each_day_and_service_is_kept_apart_and_zero_reads_every_time(app, redis, reservations, clock):
    ticks = Ticks()
    fresh = AvailabilityCache(redis, fresh_ms=1000, monotonic=ticks)
    tuesday = fresh.day(BRANCH, TUESDAY, "jht", clock())
    wednesday = fresh.day(BRANCH, TUESDAY + dt.timedelta(days=1), "jht", clock())
    assert wednesday.date != tuesday.date

    every_time = AvailabilityCache(redis, fresh_ms=0, monotonic=ticks)
    first = nine_remaining(every_time.day(BRANCH, TUESDAY, "jht", clock()))
    reservations.reserve(booking_request(), clock())
    assert nine_remaining(every_time.day(BRANCH, TUESDAY, "jht", clock())) == first - 1


def test_the_booking_window_reuses_its_days(app, redis, reservations, clock):
    ticks = Ticks()
    fresh = AvailabilityCache(redis, fresh_ms=1000, monotonic=ticks)
    days = fresh.days(BRANCH, "jht", clock())
    tuesday = next(day for day in days if day.date == TUESDAY)
    assert fresh.day(BRANCH, TUESDAY, "jht", clock()) is tuesday


def test_the_kept_answers_are_bounded(app, redis, clock):
    ticks = Ticks()
    fresh = AvailabilityCache(redis, fresh_ms=1000, monotonic=ticks)
    fresh.MAX_KEPT = 4
    for offset in range(10):
        fresh.day(BRANCH, TUESDAY + dt.timedelta(days=offset), "jht", clock())
    assert len(fresh._kept) <= 4
