"""The branch setting ``release_time`` (issue 21, SPEC §6 "Fair opening"): the newest day of
the booking window becomes bookable at that branch-local time, not at midnight.

Every moment comes from the injected clock, in the branch's own zone: the server's day and
hour never decide. The demo's window is 14 days, so on Monday 23 November 2026 the newest
day is Monday 7 December (a working day with no holiday)."""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pytest

from queue_service.domain import audit, demo, schedules
from queue_service.domain.audit import Actor
from queue_service.domain.availability import AvailabilityCache, availability, booking_days
from queue_service.domain.errors import NotBookableError, ValidationFailedError
from queue_service.domain.tuning import DAY_CLOCK
from queue_service.store import keys
from tests.factories import booking_request

MONDAY = dt.date(2026, 11, 23)
NEWEST = MONDAY + dt.timedelta(days=14)
FRIDAY_BEFORE = NEWEST - dt.timedelta(days=3)
BRANCHES = {"jakarta-salemba": "Asia/Jakarta", "makassar": "Asia/Makassar", "jayapura": "Asia/Jayapura"}


def at(branch_id: str, hour: int, minute: int, second: int = 0, day: dt.date = MONDAY) -> dt.datetime:
    """A moment on the branch's own wall clock."""
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=ZoneInfo(BRANCHES[branch_id]))


def settings(**changes) -> schedules.BranchSettings:
    result = demo.default_settings(online_booking=True, daily_quota=100)
    for name, value in changes.items():
        setattr(result, name, value)
    return result


ADMIN = Actor("siti", "branch_admin", "10.0.0.1")


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# The rule itself (schedules.day_status).


def test_by_default_the_newest_day_opens_as_the_day_begins():
    assert settings().release_time == "00:00"
    midnight = dt.datetime.combine(MONDAY, dt.time(0, 0), tzinfo=ZoneInfo("Asia/Jakarta"))
    assert schedules.day_status(settings(), None, NEWEST, midnight).open
    assert schedules.day_status(settings(), None, NEWEST, MONDAY).open


def test_before_its_release_the_newest_day_is_not_yet_open_and_says_when():
    tuned = settings(release_time="07:00")
    before = at("makassar", 6, 59, 59)
    status = schedules.day_status(tuned, None, NEWEST, before)
    assert (status.open, status.reason, status.note) == (False, "not_yet_open", "07:00")
    assert status.opens_at == at("makassar", 7, 0)
    # The days before it are open already; the day after it is beyond the window, and
    # comes in at tomorrow's release.
    assert schedules.day_status(tuned, None, FRIDAY_BEFORE, before).open
    beyond = schedules.day_status(tuned, None, NEWEST + dt.timedelta(days=1), before)
    assert beyond.reason == "beyond_window" and beyond.opens_at == at(
        "makassar", 7, 0, day=MONDAY + dt.timedelta(days=1)
    )

    assert schedules.day_status(tuned, None, NEWEST, at("makassar", 7, 0)).open
    assert schedules.todays_release(tuned, before) == at("makassar", 7, 0)


def test_a_day_alone_is_judged_whole_and_a_closed_newest_day_says_why_it_is_closed():
    tuned = settings(release_time="07:00")
    assert schedules.day_status(tuned, None, NEWEST, MONDAY).open  # reports, walk-ins
    closed = schedules.DateOverride(closed=True, note="Renovasi")
    status = schedules.day_status(tuned, closed, NEWEST, at("makassar", 6, 0))
    assert (status.reason, status.note) == ("closed", "Renovasi")
    saturday = schedules.day_status(
        tuned, None, MONDAY + dt.timedelta(days=12), at("makassar", 6, 0, day=MONDAY - dt.timedelta(days=2))
    )
    assert saturday.reason == "no_service"


def test_a_window_of_no_days_opens_today_at_its_release():
    tuned = settings(release_time="07:00", booking_window_days=0)
    assert schedules.day_status(tuned, None, MONDAY, at("jayapura", 6, 59)).reason == "not_yet_open"
    assert schedules.day_status(tuned, None, MONDAY, at("jayapura", 7, 0)).open


# Availability, in each branch's own zone.


@pytest.mark.parametrize("branch_id", sorted(BRANCHES))
def test_availability_opens_the_newest_day_at_the_branchs_own_release(app, redis, tune_branch, branch_id):
    tune_branch(branch_id, release_time="07:00")

    before = availability(redis, branch_id, NEWEST, "jht", at(branch_id, 6, 59))
    assert (before.open, before.reason, before.note, before.slots) == (False, "not_yet_open", "07:00", ())
    assert before.opens_at == at(branch_id, 7, 0)
    assert before.opens_at_zone == schedules.timezone_label(BRANCHES[branch_id])
    assert availability(redis, branch_id, FRIDAY_BEFORE, "jht", at(branch_id, 6, 59)).open

    after = availability(redis, branch_id, NEWEST, "jht", at(branch_id, 7, 0))
    assert after.open and after.bookable() and after.reason is None


def test_the_release_is_the_branchs_local_time_not_anothers(app, redis, tune_branch):
    for branch_id in BRANCHES:
        tune_branch(branch_id, release_time="07:00")
    # 06:30 WIB is 07:30 WITA and 08:30 WIT.
    moment = at("jakarta-salemba", 6, 30)
    opened = {b: availability(redis, b, NEWEST, "jht", moment).open for b in BRANCHES}
    assert opened == {"jakarta-salemba": False, "makassar": True, "jayapura": True}


def test_the_default_keeps_the_newest_day_open_from_midnight(app, redis):
    for branch_id in BRANCHES:
        assert availability(redis, branch_id, NEWEST, "jht", at(branch_id, 0, 0)).open


def test_the_booking_days_list_the_newest_as_not_yet_open(app, redis, tune_branch):
    tune_branch("makassar", release_time="08:30")
    days = booking_days(redis, "makassar", "jht", at("makassar", 8, 29))
    assert days[-1].date == NEWEST and (days[-1].reason, days[-1].note) == ("not_yet_open", "08:30")
    assert [d.date for d in days if d.reason == "not_yet_open"] == [NEWEST]


def test_a_cached_answer_does_not_outlive_the_release(app, redis, tune_branch, clock):
    tune_branch("jakarta-salemba", release_time="07:00")
    ticks = Ticks()
    cache = AvailabilityCache(redis, fresh_ms=60_000, monotonic=ticks)
    before = cache.day("jakarta-salemba", NEWEST, "jht", at("jakarta-salemba", 6, 59, 59))
    assert before.reason == "not_yet_open"
    ticks.now += 0.5
    assert cache.day("jakarta-salemba", NEWEST, "jht", at("jakarta-salemba", 6, 59, 59)) is before
    # The release comes well within the cache's minute: the day opens all the same.
    assert cache.day("jakarta-salemba", NEWEST, "jht", at("jakarta-salemba", 7, 0)).open
    assert cache.days("jakarta-salemba", "jht", at("jakarta-salemba", 7, 0))[-1].open


def test_midnight_opens_a_cached_beyond_window_day_too(app, redis):
    ticks = Ticks()
    cache = AvailabilityCache(redis, fresh_ms=60_000, monotonic=ticks)
    later = NEWEST + dt.timedelta(days=1)
    assert (
        cache.day("jakarta-salemba", later, "jht", at("jakarta-salemba", 23, 59, 59)).reason
        == "beyond_window"
    )
    tuesday = at("jakarta-salemba", 0, 0, day=MONDAY + dt.timedelta(days=1))
    assert cache.day("jakarta-salemba", later, "jht", tuesday).open


# Reservations read the same rule.


@pytest.mark.parametrize("branch_id", sorted(BRANCHES))
def test_a_booking_for_the_newest_day_is_refused_before_its_release(
    app, reservations, tune_branch, branch_id
):
    tune_branch(branch_id, release_time="07:00")
    request = booking_request(branch_id=branch_id, date=NEWEST, slot=dt.time(9, 0))
    with pytest.raises(NotBookableError) as refused:
        reservations.reserve(request, at(branch_id, 6, 59))
    assert refused.value.detail == "not_yet_open"

    booking = reservations.reserve(request, at(branch_id, 7, 0))
    assert booking.status == "booked" and booking.date == NEWEST


def test_moving_a_booking_to_the_newest_day_waits_for_its_release(app, reservations, tune_branch):
    tune_branch("jakarta-salemba", release_time="07:00")
    booking = reservations.reserve(booking_request(), at("jakarta-salemba", 6, 0))
    with pytest.raises(NotBookableError):
        reservations.reschedule(
            booking.code, booking.nik, NEWEST, dt.time(9, 0), at("jakarta-salemba", 6, 59)
        )
    moved = reservations.reschedule(
        booking.code, booking.nik, NEWEST, dt.time(9, 0), at("jakarta-salemba", 7, 0)
    )
    assert moved.date == NEWEST


# Stored settings and the admins' changes.


def test_settings_stored_before_the_release_time_still_load(app, redis):
    raw = json.loads(redis.get(keys.branch_settings("jakarta-salemba")))
    raw.pop("release_time", None)
    redis.set(keys.branch_settings("jakarta-salemba"), json.dumps(raw))
    assert schedules.load_settings(redis, "jakarta-salemba").release_time == "00:00"
    assert availability(redis, "jakarta-salemba", NEWEST, "jht", at("jakarta-salemba", 0, 0)).open

    tuning = app.extensions["antrian"].tuning
    changed = tuning.update_settings(
        "jakarta-salemba", {"daily_quota": 5}, ADMIN, at("jakarta-salemba", 6, 0)
    )
    assert changed.release_time == "00:00"


@pytest.mark.parametrize("bad", ["7:00", "24:00", "07:60", "", "07.00", "٠٧:٠٠", 700, None])
def test_tuning_refuses_a_release_time_that_is_no_time_of_day(app, bad):
    tuning = app.extensions["antrian"].tuning
    with pytest.raises(ValidationFailedError) as refused:
        tuning.update_settings("jakarta-salemba", {"release_time": bad}, ADMIN, at("jakarta-salemba", 6, 0))
    assert refused.value.fields == {"release_time": ["invalid_time"]}


def test_a_release_time_change_is_audited(app, redis):
    tuning = app.extensions["antrian"].tuning
    tuning.update_settings("jakarta-salemba", {"release_time": "07:00"}, ADMIN, at("jakarta-salemba", 6, 0))
    [entry] = audit.read(redis, "jakarta-salemba")
    assert entry.action == "settings"
    before, after = json.loads(entry.before), json.loads(entry.after)
    assert before.get("release_time", "00:00") == "00:00" and after["release_time"] == "07:00"


def test_the_documents_pattern_and_the_domain_read_a_release_time_alike():
    candidates = [f"{h:02d}:{m:02d}" for h in range(26) for m in range(61)] + [
        "7:00",
        "07:0",
        "0700",
        "٠٧:٠٠",
    ]
    for clock_text in candidates:
        try:
            schedules.release_clock(clock_text)
            read = True
        except ValueError:
            read = False
        assert (re.fullmatch(DAY_CLOCK, clock_text) is not None) == read, clock_text
