"""End of day: once a branch's local day is over, its bookings still ``booked`` become
``no_show``, in each branch's own time zone, idempotently, and the figures keep them apart
from cancellations."""

from __future__ import annotations

import datetime as dt
import logging
import time
from zoneinfo import ZoneInfo

import pytest

from config import load_settings
from queue_service.domain import end_of_day, reports
from queue_service.store import keys
from queue_service.store.scripts import Scripts
from tests.factories import booking_request, make_nik
from workers import runtime
from workers.worker import Sweeper, close_days_safely

WIB, WITA, WIT = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")
TUESDAY = dt.date(2026, 11, 24)
WEDNESDAY = TUESDAY + dt.timedelta(days=1)
BRANCHES = {"jakarta-salemba": WIB, "makassar": WITA, "jayapura": WIT}
# Wednesday 00:30 in Jayapura is still Tuesday in Makassar (23:30) and Jakarta (22:30).
AFTER_MIDNIGHT_WIT = dt.datetime(2026, 11, 25, 0, 30, tzinfo=WIT)
AFTER_MIDNIGHT_WITA = dt.datetime(2026, 11, 25, 0, 30, tzinfo=WITA)
AFTER_MIDNIGHT_WIB = dt.datetime(2026, 11, 25, 0, 30, tzinfo=WIB)


@pytest.fixture
def tuesday(reservations, redis, clock):
    """At each of the three branches, Tuesday bookings: two left ``booked``, one cancelled,
    one checked in. Returns branch -> {"booked": [codes], "cancelled": code, "checked_in": code}."""
    made = {}
    for branch_id in BRANCHES:
        codes = [
            reservations.reserve(booking_request(branch_id=branch_id, slot=dt.time(9, m)), clock()).code
            for m in (0, 30)
        ]
        nik = make_nik()
        cancelled = reservations.reserve(
            booking_request(branch_id=branch_id, slot=dt.time(10, 0), nik=nik), clock()
        ).code
        reservations.cancel(cancelled, nik, clock())
        checked_in = reservations.reserve(
            booking_request(branch_id=branch_id, slot=dt.time(10, 30)), clock()
        ).code
        redis.hset(keys.booking(branch_id, checked_in), "status", "checked_in")
        made[branch_id] = {"booked": codes, "cancelled": cancelled, "checked_in": checked_in}
    return made


def statuses(redis, branch_id: str) -> dict[str, str]:
    codes = redis.lrange(keys.day_bookings(branch_id, TUESDAY.isoformat()), 0, -1)
    return {code: redis.hget(keys.booking(branch_id, code), "status") for code in codes}


def expected(made: dict, closed: bool) -> dict[str, str]:
    left = "no_show" if closed else "booked"
    return {
        **{code: left for code in made["booked"]},
        made["cancelled"]: "cancelled",
        made["checked_in"]: "checked_in",
    }


def nonzero(marked: dict[str, int]) -> dict[str, int]:
    return {branch: count for branch, count in marked.items() if count}


def test_each_branch_closes_its_day_at_its_own_midnight(tuesday, redis):
    assert nonzero(end_of_day.close_past_days(redis, AFTER_MIDNIGHT_WIT)) == {"jayapura": 2}
    assert statuses(redis, "jayapura") == expected(tuesday["jayapura"], closed=True)
    assert statuses(redis, "makassar") == expected(tuesday["makassar"], closed=False)
    assert statuses(redis, "jakarta-salemba") == expected(tuesday["jakarta-salemba"], closed=False)

    assert nonzero(end_of_day.close_past_days(redis, AFTER_MIDNIGHT_WITA)) == {"makassar": 2}
    assert statuses(redis, "makassar") == expected(tuesday["makassar"], closed=True)
    assert statuses(redis, "jakarta-salemba") == expected(tuesday["jakarta-salemba"], closed=False)

    assert nonzero(end_of_day.close_past_days(redis, AFTER_MIDNIGHT_WIB)) == {"jakarta-salemba": 2}
    for branch_id, made in tuesday.items():
        assert statuses(redis, branch_id) == expected(made, closed=True)


def test_a_day_is_not_over_a_minute_before_local_midnight(tuesday, redis):
    just_before = dt.datetime(2026, 11, 24, 23, 59, tzinfo=WIT)
    assert nonzero(end_of_day.close_past_days(redis, just_before)) == {}
    assert statuses(redis, "jayapura") == expected(tuesday["jayapura"], closed=False)
    with pytest.raises(ValueError, match="not over"):
        end_of_day.close_day(redis, "jayapura", TUESDAY, just_before)
    assert end_of_day.close_day(redis, "jayapura", TUESDAY, just_before + dt.timedelta(minutes=1)) == 2


def test_a_no_show_records_when_it_was_marked(tuesday, redis):
    end_of_day.close_past_days(redis, AFTER_MIDNIGHT_WIT)
    for code in tuesday["jayapura"]["booked"]:
        assert redis.hget(keys.booking("jayapura", code), "no_show_at") == AFTER_MIDNIGHT_WIT.isoformat()
    for other in ("cancelled", "checked_in"):
        assert redis.hget(keys.booking("jayapura", tuesday["jayapura"][other]), "no_show_at") is None


def test_running_twice_changes_nothing_more(tuesday, redis):
    end_of_day.close_past_days(redis, AFTER_MIDNIGHT_WIB)
    before = {
        branch_id: {code: redis.hgetall(keys.booking(branch_id, code)) for code in statuses(redis, branch_id)}
        for branch_id in BRANCHES
    }
    later = AFTER_MIDNIGHT_WIB + dt.timedelta(hours=1)
    # The days are recorded as closed, so a second run does not even look at them...
    assert end_of_day.close_past_days(redis, later) == {}
    assert str(TUESDAY) in redis.zrange(keys.closed_days("jayapura"), 0, -1)
    # ...and closing one by hand again marks nothing and changes no booking.
    assert end_of_day.close_day(redis, "jayapura", TUESDAY, later) == 0
    after = {
        branch_id: {code: redis.hgetall(keys.booking(branch_id, code)) for code in statuses(redis, branch_id)}
        for branch_id in BRANCHES
    }
    assert after == before


def test_the_figures_count_no_shows_apart_from_cancellations(tuesday, redis):
    end_of_day.close_past_days(redis, AFTER_MIDNIGHT_WIB)
    for branch_id in BRANCHES:
        [day] = reports.days(redis, branch_id, TUESDAY, 1, today=WEDNESDAY, with_outcomes=True)
        assert (day.booked, day.cancelled, day.arrived, day.no_show) == (3, 1, 1, 2)


def test_days_older_than_the_look_back_are_left(tuesday, redis):
    long_after = AFTER_MIDNIGHT_WIB + dt.timedelta(days=8)
    assert nonzero(end_of_day.close_past_days(redis, long_after, lookback_days=7)) == {}
    assert nonzero(end_of_day.close_past_days(redis, long_after, lookback_days=9)) == {
        branch_id: 2 for branch_id in BRANCHES
    }


def test_a_long_day_is_marked_in_batches(tuesday, redis, monkeypatch):
    monkeypatch.setattr(end_of_day, "BATCH", 1)
    assert end_of_day.close_day(redis, "makassar", TUESDAY, AFTER_MIDNIGHT_WITA) == 2
    assert statuses(redis, "makassar") == expected(tuesday["makassar"], closed=True)


def test_a_day_whose_bookings_changed_meanwhile_is_not_recorded_closed(tuesday, redis):
    made = tuesday["jayapura"]
    index = keys.day_bookings("jayapura", TUESDAY.isoformat())
    stale = made["booked"][:1]  # as if read before the other booking came in
    outcome = Scripts(redis).mark_no_shows(
        keys=[index, keys.closed_days("jayapura"), *(keys.booking("jayapura", c) for c in stale)],
        args=[
            TUESDAY.isoformat(),
            TUESDAY.toordinal(),
            AFTER_MIDNIGHT_WIT.isoformat(),
            "1",
            TUESDAY.toordinal() - 400,
            *stale,
        ],
    )
    assert outcome == ["changed", 1]
    assert redis.zcard(keys.closed_days("jayapura")) == 0
    # The next run reads the index again and finishes the day.
    assert nonzero(end_of_day.close_past_days(redis, AFTER_MIDNIGHT_WIT)) == {"jayapura": 1}
    assert statuses(redis, "jayapura") == expected(made, closed=True)


def test_the_worker_closes_the_days_on_its_clock(tuesday, redis, work, clock):
    clock.set(AFTER_MIDNIGHT_WIT)
    work()
    assert statuses(redis, "jayapura") == expected(tuesday["jayapura"], closed=True)
    assert statuses(redis, "jakarta-salemba") == expected(tuesday["jakarta-salemba"], closed=False)
    clock.set(AFTER_MIDNIGHT_WIB)
    work()
    for branch_id, made in tuesday.items():
        assert statuses(redis, branch_id) == expected(made, closed=True)


def test_the_worker_thread_closes_days_every_interval(tuesday, redis, worker_settings, clock):
    runtime.configure(worker_settings, clock)
    sweeper = Sweeper(0.05, close_days_safely, "end-of-day")
    sweeper.start()
    try:
        clock.set(AFTER_MIDNIGHT_WIB)
        deadline = time.monotonic() + 5
        while statuses(redis, "jakarta-salemba") != expected(tuesday["jakarta-salemba"], True):
            assert time.monotonic() < deadline, "the thread did not close the day"
            time.sleep(0.05)
    finally:
        sweeper.stop()
        sweeper.join(timeout=5)
        runtime.reset()


def test_a_failed_run_is_logged_and_left_for_the_next(worker_settings, clock, caplog):
    # A data store nobody listens on: the run fails, the worker goes on.
    runtime.configure({**worker_settings, "REDIS_URL": "redis://127.0.0.1:1"}, clock)
    try:
        with caplog.at_level(logging.WARNING, logger="workers.worker"):
            close_days_safely()
    finally:
        runtime.reset()
    assert "end of day failed: ConnectionError" in caplog.text


def test_the_interval_is_a_setting_of_at_least_a_second():
    assert load_settings({})["END_OF_DAY_SWEEP_SECONDS"] == 300
    assert load_settings({"END_OF_DAY_SWEEP_SECONDS": "60"})["END_OF_DAY_SWEEP_SECONDS"] == 60
    with pytest.raises(ValueError, match="END_OF_DAY_SWEEP_SECONDS must be at least 1"):
        load_settings({"END_OF_DAY_SWEEP_SECONDS": "0"})
