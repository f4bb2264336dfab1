"""Collective leave and national closures close every branch."""

from __future__ import annotations

import datetime as dt

import pytest

from queue_service.domain import calendar, demo
from queue_service.domain.availability import availability
from queue_service.domain.errors import NotBookableError
from queue_service.domain.reservations import reserve
from tests.factories import JAKARTA, booking_request

CUTI_BERSAMA = dt.date(2026, 12, 24)  # Cuti Bersama Hari Raya Natal, a Thursday
WEDNESDAY = dt.date(2026, 11, 25)


def request(**overrides):
    return booking_request(**{"date": WEDNESDAY, **overrides})


@pytest.fixture
def week_before_christmas(clock):
    clock.set(dt.datetime(2026, 12, 17, 7, 0, tzinfo=JAKARTA))
    return clock


def test_collective_leave_is_known_apart_from_public_holidays():
    assert calendar.collective_leave(CUTI_BERSAMA) == "Cuti Bersama Hari Raya Natal"
    assert calendar.public_holiday(CUTI_BERSAMA) is None
    assert calendar.collective_leave(WEDNESDAY) is None


def test_collective_leave_closes_every_branch(reservations, redis, week_before_christmas):
    day = availability(redis, "jakarta-salemba", CUTI_BERSAMA, "jht", week_before_christmas())
    assert (day.open, day.reason, day.note) == (False, "collective_leave", "Cuti Bersama Hari Raya Natal")
    with pytest.raises(NotBookableError, match="collective_leave"):
        reservations.reserve(request(date=CUTI_BERSAMA), week_before_christmas())


def test_collective_leave_can_be_left_open(make_app, redis, week_before_christmas):
    reservations = make_app(COLLECTIVE_LEAVE_CLOSED=False).extensions["antrian"].reservations
    booking = reservations.reserve(request(date=CUTI_BERSAMA), week_before_christmas())
    assert booking.status == "booked"


def test_a_national_closure_closes_every_branch(reservations, redis, clock):
    calendar.close_nationally(redis, WEDNESDAY, "Banjir Jakarta")

    for branch_id in ("jakarta-salemba", "jayapura", "makassar"):
        day = availability(redis, branch_id, WEDNESDAY, None, clock())
        assert (day.open, day.reason, day.note) == (False, "national_closure", "Banjir Jakarta")
    with pytest.raises(NotBookableError, match="national_closure"):
        reservations.reserve(request(), clock())
    assert calendar.list_national_closures(redis) == {WEDNESDAY: "Banjir Jakarta"}

    assert calendar.reopen_nationally(redis, WEDNESDAY)
    assert reservations.reserve(request(), clock()).status == "booked"
    assert availability(redis, "jayapura", WEDNESDAY, None, clock()).open


def test_a_national_closure_set_mid_booking_is_honoured_by_the_reserve_script(
    reservations, redis, clock, monkeypatch
):
    read_context = reserve.load_context

    def closed_right_after_reading(store, booking_request, person_count=None, captcha=None):
        context = read_context(store, booking_request, person_count, captcha)
        calendar.close_nationally(redis, WEDNESDAY, "Keadaan darurat")
        return context

    monkeypatch.setattr(reserve, "load_context", closed_right_after_reading)
    with pytest.raises(NotBookableError):
        reservations.reserve(request(), clock())
    assert redis.keys("antrian:{b:jakarta-salemba}:booking:*") == []


def test_a_branch_added_later_gets_the_national_closures(redis, clock):
    calendar.close_nationally(redis, WEDNESDAY, "Banjir")
    demo.seed(redis)  # e.g. the demo catalog loaded after the closure was set
    assert calendar.national_closure(redis, "jayapura", WEDNESDAY) == "Banjir"


def test_an_app_loads_the_holidays_before_its_first_request(make_app):
    # The first load imports the holidays registry: over a second, on a participant's time.
    calendar._holidays_of.cache_clear()
    make_app()
    assert calendar._holidays_of.cache_info().currsize == 4  # two years, two kinds of day
