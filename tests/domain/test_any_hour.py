"""The booking day list, the slot list, reschedule and check-in at four hard moments of a
branch's local day (00:05, 07:59, 13:31, 23:55) in each of WIB, WITA and WIT, through the
injected clock: the server's own day and hour never decide what a participant may do.

At 00:05 local the UTC date is still yesterday in all three zones, and at 23:55 WIB it is
the same date, so a rule that read the server's day would answer one of them wrongly.
The expectations are written out from the settings below, not computed by the code under
test: with slots of 30 minutes from 08:00 to 12:00 and 13:00 to 15:00, and booking for a
slot closing 60 minutes before it starts.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from queue_service.domain.availability import availability, booking_days
from queue_service.domain.checkins import CheckIns
from queue_service.domain.errors import NotBookableError, TooEarlyError, TooLateError, WrongDateError
from queue_service.domain.kiosks import Kiosks
from tests.factories import booking_request

BRANCHES = {"jakarta-salemba": "Asia/Jakarta", "balikpapan": "Asia/Makassar", "ambon": "Asia/Jayapura"}
MONDAY = dt.date(2026, 11, 23)  # no holiday in the fortnight after it
TUESDAY = MONDAY + dt.timedelta(days=1)
HOURS = [["08:00", "12:00"], ["13:00", "15:00"]]
ALL_SLOTS = [f"{h:02d}:{m:02d}" for h in (8, 9, 10, 11, 13, 14) for m in (0, 30)]
# The slots of today that still take a booking at each moment.
OPEN_TODAY = {
    (0, 5): ALL_SLOTS,
    (7, 59): ALL_SLOTS[2:],  # 08:00 closed at 07:00, 08:30 at 07:30; 09:00 closes at 08:00
    (13, 31): [],  # the last slot, 14:30, closed at 13:30
    (23, 55): [],
}
MOMENTS = list(OPEN_TODAY)


def standing_at(branch_id: str, hour_minute: tuple[int, int], day: dt.date = MONDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(*hour_minute), tzinfo=ZoneInfo(BRANCHES[branch_id]))


@pytest.fixture(params=list(BRANCHES))
def branch_id(request, app, tune_branch):
    tune_branch(
        request.param,
        online_booking=True,
        slot_minutes=30,
        slot_capacity=10,
        daily_quota=100,
        booking_window_days=7,
        booking_cutoff_minutes=60,
        service_hours={day: HOURS for day in ("mon", "tue", "wed", "thu", "fri")} | {"sat": [], "sun": []},
        checkin_early_minutes=60,
        checkin_grace_minutes=30,
    )
    return request.param


@pytest.mark.parametrize("moment", MOMENTS)
def test_today_is_offered_while_one_of_its_slots_takes_a_booking(redis, branch_id, clock, moment):
    clock.set(standing_at(branch_id, moment))
    days = booking_days(redis, branch_id, "jht", clock())
    assert [d.date for d in days[:2]] == [MONDAY, TUESDAY]
    today, tomorrow = days[0], days[1]
    assert today.bookable() == bool(OPEN_TODAY[moment])
    assert today.booking_closed == (not OPEN_TODAY[moment])
    assert [s.start for s in today.bookable_slots()] == OPEN_TODAY[moment]
    assert tomorrow.bookable() and [s.start for s in tomorrow.bookable_slots()] == ALL_SLOTS


@pytest.mark.parametrize("moment", MOMENTS)
def test_the_slot_list_shows_every_slot_and_which_still_take_a_booking(redis, branch_id, clock, moment):
    clock.set(standing_at(branch_id, moment))
    today = availability(redis, branch_id, MONDAY, "jht", clock())
    assert [s.start for s in today.slots] == ALL_SLOTS
    assert [s.start for s in today.slots if s.open] == OPEN_TODAY[moment]
    assert all(s.remaining == 0 for s in today.slots if not s.open)


@pytest.mark.parametrize("moment", MOMENTS)
def test_booking_today_takes_an_open_slot_and_refuses_a_closed_one(reservations, branch_id, clock, moment):
    clock.set(standing_at(branch_id, moment))
    closed = [s for s in ALL_SLOTS if s not in OPEN_TODAY[moment]]
    if OPEN_TODAY[moment]:
        first = OPEN_TODAY[moment][0]
        booked = reservations.reserve(
            booking_request(branch_id=branch_id, date=MONDAY, slot=dt.time.fromisoformat(first)), clock()
        )
        assert booked.date == MONDAY and booked.slot_start.strftime("%H:%M") == first
    if closed:
        with pytest.raises(NotBookableError):
            reservations.reserve(
                booking_request(branch_id=branch_id, date=MONDAY, slot=dt.time.fromisoformat(closed[-1])),
                clock(),
            )


@pytest.mark.parametrize("moment", MOMENTS)
def test_reschedule_moves_into_an_open_slot_only(reservations, branch_id, clock, moment):
    clock.set(standing_at(branch_id, moment))
    booking = reservations.reserve(booking_request(branch_id=branch_id, date=TUESDAY), clock())
    closed = [s for s in ALL_SLOTS if s not in OPEN_TODAY[moment]]
    if closed:
        with pytest.raises(NotBookableError):
            reservations.reschedule(
                booking.code, booking.nik, MONDAY, dt.time.fromisoformat(closed[-1]), clock()
            )
    if OPEN_TODAY[moment]:
        target = OPEN_TODAY[moment][-1]
        moved = reservations.reschedule(
            booking.code, booking.nik, MONDAY, dt.time.fromisoformat(target), clock()
        )
        assert (moved.date, moved.slot_start.strftime("%H:%M")) == (MONDAY, target)
    else:
        moved = reservations.reschedule(booking.code, booking.nik, TUESDAY, dt.time(14, 30), clock())
        assert (moved.date, moved.slot_start) == (TUESDAY, dt.time(14, 30))


# The check-in window of a slot runs from 60 minutes before its start to 30 after it.
CHECK_IN = {
    # moment: (08:00 slot, 14:00 slot)
    (0, 5): (TooEarlyError, TooEarlyError),
    (7, 59): (None, TooEarlyError),
    (13, 31): (TooLateError, None),
    (23, 55): (TooLateError, TooLateError),
}


@pytest.mark.parametrize("moment", MOMENTS)
def test_check_in_opens_and_closes_around_the_slot_in_local_time(
    redis, reservations, branch_id, clock, moment
):
    clock.set(standing_at(branch_id, (12, 0), MONDAY - dt.timedelta(days=1)))
    early = reservations.reserve(
        booking_request(branch_id=branch_id, date=MONDAY, slot=dt.time(8, 0)), clock()
    )
    late = reservations.reserve(
        booking_request(branch_id=branch_id, date=MONDAY, slot=dt.time(14, 0)), clock()
    )
    tomorrow = reservations.reserve(booking_request(branch_id=branch_id, date=TUESDAY), clock())
    kiosk, _token = Kiosks(redis).create(branch_id, "Pintu depan", clock())
    checkins = CheckIns(redis)
    clock.set(standing_at(branch_id, moment))
    for booking, expected in zip((early, late), CHECK_IN[moment], strict=True):
        if expected is None:
            assert checkins.check_in(kiosk, booking.code, clock()).queue_number == booking.queue_number
        else:
            with pytest.raises(expected):
                checkins.check_in(kiosk, booking.code, clock())
    with pytest.raises(WrongDateError):
        checkins.check_in(kiosk, tomorrow.code, clock())
