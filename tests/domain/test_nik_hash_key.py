"""NIK_HASH_KEY keys the NIK's index apart from SECRET_KEY (issue 23): SECRET_KEY changes
alone without losing a booking's NIK; replacing NIK_HASH_KEY itself keeps the bookings made
under the old one holding their dates while NIK_HASH_KEY_PREVIOUS names it."""

from __future__ import annotations

import datetime as dt

import pytest

from config import load_settings
from queue_service.domain import nik_release
from queue_service.domain.errors import AlreadyBookedError
from queue_service.domain.reservations import Reservations
from tests.factories import booking_request, make_nik

OLD = "old-nik-hash-key-0123456789"
NEW = "new-nik-hash-key-9876543210"
TUESDAY, WEDNESDAY = dt.date(2026, 11, 24), dt.date(2026, 11, 25)


@pytest.fixture
def reservations_with(app, redis, settings):
    """``reservations_with(NIK_HASH_KEY=..., ...)``: the operations as a process started with
    those settings runs them, over the suite's store."""

    def make(**overrides) -> Reservations:
        return Reservations.from_settings(redis, load_settings(overrides={**settings, **overrides}))

    return make


def test_a_booking_under_the_previous_key_still_holds_its_date(reservations_with, clock):
    nik = make_nik()
    reservations_with(NIK_HASH_KEY=OLD).reserve(booking_request(nik=nik), clock())
    rotating = reservations_with(NIK_HASH_KEY=NEW, NIK_HASH_KEY_PREVIOUS=OLD)
    with pytest.raises(AlreadyBookedError):
        rotating.reserve(booking_request(nik=nik, slot=dt.time(10, 0)), clock())
    # Another date is free, and is claimed under the new key only.
    moved = rotating.reserve(booking_request(nik=nik, date=WEDNESDAY), clock())
    with pytest.raises(AlreadyBookedError):
        reservations_with(NIK_HASH_KEY=NEW).reserve(booking_request(nik=nik, date=WEDNESDAY), clock())
    assert moved.date == WEDNESDAY
    # Without the previous key the old booking is not seen: what the window is for.
    reservations_with(NIK_HASH_KEY=NEW).reserve(booking_request(nik=nik, slot=dt.time(10, 0)), clock())


def test_a_cancelled_booking_under_the_previous_key_frees_its_date(reservations_with, clock):
    nik = make_nik()
    before = reservations_with(NIK_HASH_KEY=OLD)
    made = before.reserve(booking_request(nik=nik), clock())
    rotating = reservations_with(NIK_HASH_KEY=NEW, NIK_HASH_KEY_PREVIOUS=OLD)
    rotating.cancel(made.code, nik, clock())
    assert rotating.reserve(booking_request(nik=nik, slot=dt.time(10, 0)), clock()).date == TUESDAY


def test_a_booking_under_the_previous_key_moves_away_and_back(reservations_with, clock):
    nik = make_nik()
    made = reservations_with(NIK_HASH_KEY=OLD).reserve(booking_request(nik=nik), clock())
    rotating = reservations_with(NIK_HASH_KEY=NEW, NIK_HASH_KEY_PREVIOUS=OLD)
    # Its own old claim does not stand in its way, neither on its date nor coming back.
    assert rotating.reschedule(made.code, nik, TUESDAY, dt.time(10, 0), clock()).slot_start == dt.time(10, 0)
    assert rotating.reschedule(made.code, nik, WEDNESDAY, dt.time(9, 0), clock()).date == WEDNESDAY
    rotating.reserve(booking_request(nik=nik), clock())  # Tuesday is free again
    with pytest.raises(AlreadyBookedError):
        rotating.reschedule(made.code, nik, TUESDAY, dt.time(11, 0), clock())


def test_nik_release_finds_a_booking_made_under_the_previous_key(reservations_with, clock):
    nik = make_nik()
    made = reservations_with(NIK_HASH_KEY=OLD).reserve(booking_request(nik=nik), clock())
    rotating = reservations_with(NIK_HASH_KEY=NEW, NIK_HASH_KEY_PREVIOUS=OLD)
    also = rotating.reserve(booking_request(nik=nik, date=WEDNESDAY), clock())
    found = nik_release.active_bookings(rotating, nik, clock())
    assert [b.code for b in found] == [made.code, also.code]
    assert nik_release.active_bookings(reservations_with(NIK_HASH_KEY=NEW), nik, clock()) == [also]


def test_changing_secret_key_alone_keeps_the_nik_index(reservations_with, clock):
    nik = make_nik()
    reservations_with(SECRET_KEY="first-secret-key-of-the-suite", NIK_HASH_KEY=OLD).reserve(
        booking_request(nik=nik), clock()
    )
    after = reservations_with(SECRET_KEY="second-secret-key-of-the-suite", NIK_HASH_KEY=OLD)
    with pytest.raises(AlreadyBookedError):
        after.reserve(booking_request(nik=nik, slot=dt.time(10, 0)), clock())


def test_unset_it_is_secret_key_so_a_deployment_pins_it_before_changing_secret_key(reservations_with, clock):
    nik = make_nik()
    reservations_with(SECRET_KEY=OLD).reserve(booking_request(nik=nik), clock())
    pinned = reservations_with(SECRET_KEY="a-new-secret-key-after-a-leak", NIK_HASH_KEY=OLD)
    with pytest.raises(AlreadyBookedError):
        pinned.reserve(booking_request(nik=nik, slot=dt.time(10, 0)), clock())


@pytest.mark.parametrize("name", ["NIK_HASH_KEY", "NIK_HASH_KEY_PREVIOUS"])
def test_production_refuses_a_short_nik_hash_key(name):
    with pytest.raises(ValueError, match=f"{name} must be at least"):
        load_settings({"APP_ENV": "production", "SECRET_KEY": "s" * 32, name: "short"})
