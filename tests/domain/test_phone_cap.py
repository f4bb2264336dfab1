"""At most ``BOOKINGS_PER_PHONE`` active bookings per phone across all branches and dates,
booked in one script (single Redis) and step by step (as on a cluster)."""

from __future__ import annotations

import datetime as dt
import hashlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from config import load_settings
from queue_service.domain.errors import TooManyBookingsError
from queue_service.domain.reservations import Reservations
from queue_service.domain.reservations.phone_caps import day_ends_ms
from queue_service.store import keys, scripts
from tests.factories import JAKARTA, booking_request
from tests.redis_proxy import ReplyDroppingProxy

PHONE = "+6281234567890"
OTHER_PHONE = "+6281298765432"
TUESDAY = dt.date(2026, 11, 24)
WEDNESDAY = dt.date(2026, 11, 25)
THURSDAY = dt.date(2026, 11, 26)
FRIDAY = dt.date(2026, 11, 27)


@pytest.fixture
def settings(settings):
    return {**settings, "BOOKINGS_PER_PHONE": 3}


@pytest.fixture(params=["one step", "step by step"])
def reservations(app, request):
    if request.param == "one step":
        return app.extensions["antrian"].reservations
    return Reservations.from_settings(app.extensions["antrian"].redis, app.config, one_step=False)


def book(reservations, clock, day=TUESDAY, branch="jakarta-salemba", slot="09:00", **fields):
    request = booking_request(branch_id=branch, date=day, slot=dt.time.fromisoformat(slot), **fields)
    return reservations.reserve(request, clock())


def day_total(redis, branch: str, day: dt.date):
    return redis.hget(keys.day_counts(branch, day.isoformat()), "total")


def test_the_fourth_active_booking_of_a_phone_is_refused_and_holds_nothing(reservations, clock, redis):
    book(reservations, clock, TUESDAY, "jakarta-salemba")
    book(reservations, clock, WEDNESDAY, "bekasi")
    book(reservations, clock, THURSDAY, "jakarta-salemba", "10:00")
    before = (day_total(redis, "bekasi", TUESDAY), redis.hgetall(keys.slot_counts("bekasi", "2026-11-24")))
    fourth = booking_request(branch_id="bekasi", date=TUESDAY, slot=dt.time(9, 0))

    with pytest.raises(TooManyBookingsError) as refused:
        reservations.reserve(fourth, clock())

    assert refused.value.code == "too_many_bookings"
    assert (
        day_total(redis, "bekasi", TUESDAY),
        redis.hgetall(keys.slot_counts("bekasi", "2026-11-24")),
    ) == before
    assert redis.llen(keys.day_bookings("bekasi", "2026-11-24")) == 0
    # The NIK's date was not kept either: the same person books with another phone.
    assert (
        reservations.reserve(
            booking_request(
                branch_id="bekasi", date=TUESDAY, slot=dt.time(9, 0), nik=fourth.nik, phone=OTHER_PHONE
            ),
            clock(),
        ).status
        == "booked"
    )


def test_other_phones_are_not_counted(reservations, clock):
    for _ in range(3):
        book(reservations, clock)
    assert book(reservations, clock, phone=OTHER_PHONE).status == "booked"


def test_a_cancelled_booking_frees_a_place_under_the_cap(reservations, clock):
    first = book(reservations, clock, TUESDAY)
    book(reservations, clock, WEDNESDAY)
    book(reservations, clock, THURSDAY)
    with pytest.raises(TooManyBookingsError):
        book(reservations, clock, FRIDAY)

    reservations.cancel(first.code, first.nik, clock())

    assert book(reservations, clock, FRIDAY).status == "booked"
    with pytest.raises(TooManyBookingsError):
        book(reservations, clock, FRIDAY, slot="10:00")


def test_a_booking_whose_day_is_over_no_longer_counts(reservations, clock):
    book(reservations, clock, TUESDAY)
    book(reservations, clock, WEDNESDAY)
    book(reservations, clock, THURSDAY)
    # Late on Tuesday, Tuesday's booking still counts.
    clock.set(dt.datetime(2026, 11, 24, 23, 59, tzinfo=JAKARTA))
    with pytest.raises(TooManyBookingsError):
        book(reservations, clock, FRIDAY)

    clock.set(dt.datetime(2026, 11, 25, 0, 0, tzinfo=JAKARTA))

    assert book(reservations, clock, FRIDAY).status == "booked"


def test_a_booking_moved_to_a_later_date_counts_until_that_day_is_over(reservations, clock, redis):
    moved = book(reservations, clock, TUESDAY)
    book(reservations, clock, WEDNESDAY)
    book(reservations, clock, THURSDAY)
    reservations.reschedule(moved.code, moved.nik, FRIDAY, dt.time(9, 0), clock())
    entry = redis.hget(reservations.phones.key(PHONE), moved.code)
    assert entry.split()[0] == str(day_ends_ms(FRIDAY, "Asia/Jakarta"))

    clock.set(dt.datetime(2026, 11, 25, 7, 0, tzinfo=JAKARTA))  # Tuesday is over

    with pytest.raises(TooManyBookingsError):
        book(reservations, clock, FRIDAY, slot="10:00")


def test_the_phone_never_names_a_key(reservations, clock, redis):
    book(reservations, clock)
    names = [name for name in redis.scan_iter("antrian:{p:*")]
    assert len(names) == 1
    assert "6281234567890" not in names[0]
    assert redis.pttl(names[0]) > 0


def test_a_resent_count_counts_once(reservations, redis, clock):
    key = reservations.phones.key(PHONE)
    ends = day_ends_ms(TUESDAY, "Asia/Jakarta")

    def count(code: str) -> list:
        return reservations.scripts.count_phone(
            keys=[key], args=reservations.phones.count_args(code, "jakarta-salemba", ends, clock())
        )

    assert count("AAAAAAAAAA") == ["counted"]
    assert count("AAAAAAAAAA") == ["counted"]  # the same call again
    assert count("BBBBBBBBBB") == ["counted"]
    assert count("CCCCCCCCCC") == ["counted"]
    assert count("CCCCCCCCCC") == ["counted"]  # at the cap, a re-sent count still answers so
    refused = count("DDDDDDDDDD")
    assert refused[0] == "too_many"
    assert sorted(refused[2::3]) == ["AAAAAAAAAA", "BBBBBBBBBB", "CCCCCCCCCC"]
    assert redis.hlen(key) == 3


@pytest.mark.parametrize("way", ["one step", "step by step"])
def test_a_booking_whose_reply_was_lost_is_counted_once(way, make_app, redis_server, redis, clock):
    """The reply of the script that counts (``book.lua``, or ``count_phone.lua`` step by
    step) is lost for real, and redis-py sends the command again."""
    source = scripts.source("book" if way == "one step" else "count_phone")
    sha = redis.script_load(source)
    assert sha == hashlib.sha1(source.encode()).hexdigest()
    proxy = ReplyDroppingProxy(redis_server.port)
    try:
        app = make_app(REDIS_URL=proxy.url)
        antrian = app.extensions["antrian"]
        reservations = antrian.reservations
        if way == "step by step":
            reservations = Reservations.from_settings(antrian.redis, app.config, one_step=False)
        made = [book(reservations, clock, TUESDAY), book(reservations, clock, WEDNESDAY)]
        # The third: the first run counts it up to the cap, the second finds it counted.
        proxy.drop_reply_to(sha)

        made.append(book(reservations, clock, THURSDAY))

        assert proxy.dropped == 1
        assert sorted(redis.hgetall(reservations.phones.key(PHONE))) == sorted(b.code for b in made)
        with pytest.raises(TooManyBookingsError):
            book(reservations, clock, FRIDAY)
    finally:
        proxy.close()


def test_an_entry_whose_booking_never_came_is_freed_only_after_the_claim_window(reservations, redis, clock):
    book(reservations, clock, TUESDAY)
    book(reservations, clock, WEDNESDAY)
    key = reservations.phones.key(PHONE)
    ends = day_ends_ms(FRIDAY, "Asia/Jakarta")
    now_ms = int(redis.time()[0]) * 1000
    # A maker that died between the count and the reservation, just now: still in the making.
    redis.hset(key, "ZZZZZZZZZZ", f"{ends} jakarta-salemba {now_ms}")
    with pytest.raises(TooManyBookingsError):
        book(reservations, clock, THURSDAY)

    # Its claim window over, no booking can come of it any more.
    redis.hset(key, "ZZZZZZZZZZ", f"{ends} jakarta-salemba {now_ms - 31_000}")

    assert book(reservations, clock, THURSDAY).status == "booked"
    assert not redis.hexists(key, "ZZZZZZZZZZ")


def test_ten_concurrent_bookings_of_one_phone_make_exactly_three(reservations, clock, tune_branch, redis):
    tune_branch("jakarta-salemba", slot_capacity=50)
    days = [TUESDAY, WEDNESDAY, THURSDAY, FRIDAY]

    def attempt(i: int):
        try:
            return book(reservations, clock, days[i % 4], slot=["09:00", "10:00"][i % 2])
        except TooManyBookingsError as error:
            return error

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(attempt, range(10)))

    booked = [r for r in results if not isinstance(r, Exception)]
    assert len(booked) == 3
    assert all(isinstance(r, TooManyBookingsError) for r in results if r not in booked)
    assert sum(int(day_total(redis, "jakarta-salemba", day) or 0) for day in days) == 3
    assert redis.hlen(reservations.phones.key(PHONE)) == 3


@pytest.mark.parametrize("value", ["0", "-1", "three"])
def test_a_cap_below_one_or_not_a_number_is_refused_by_name(value):
    with pytest.raises(ValueError, match="BOOKINGS_PER_PHONE"):
        load_settings({"BOOKINGS_PER_PHONE": value})


def test_the_cap_defaults_to_three():
    assert load_settings({})["BOOKINGS_PER_PHONE"] == 3
    assert load_settings({"BOOKINGS_PER_PHONE": "5"})["BOOKINGS_PER_PHONE"] == 5
