import datetime as dt
from zoneinfo import ZoneInfo

from queue_service.domain import calendar, demo, schedules
from queue_service.domain.schedules import DateOverride, Slot

MONDAY = dt.date(2026, 11, 23)
FRIDAY = dt.date(2026, 11, 27)
SATURDAY = dt.date(2026, 11, 28)


def settings(**changes):
    result = demo.default_settings(online_booking=True, daily_quota=100)
    for name, value in changes.items():
        setattr(result, name, value)
    return result


def test_slots_cut_each_interval_into_whole_slots():
    slots = schedules.slots_of_day(settings(), MONDAY)
    assert [s.label for s in slots] == [
        "08:00",
        "08:30",
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
        "13:00",
        "13:30",
        "14:00",
        "14:30",
    ]
    assert slots[-1].end == dt.time(15, 0)


def test_friday_has_a_midday_break():
    labels = [s.label for s in schedules.slots_of_day(settings(), FRIDAY)]
    assert labels == [
        "08:00",
        "08:30",
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "13:30",
        "14:00",
        "14:30",
    ]
    assert "11:30" not in labels and "12:00" not in labels and "13:00" not in labels


def test_a_slot_that_does_not_fit_is_dropped():
    tuned = settings(slot_minutes=45, service_hours={"mon": [["08:00", "10:00"]]})
    assert [s.label for s in schedules.slots_of_day(tuned, MONDAY)] == ["08:00", "08:45"]


def test_weekend_has_no_service():
    assert schedules.day_status(settings(), None, SATURDAY, MONDAY) == schedules.DayStatus(
        False, "no_service"
    )


def test_national_holidays_close_every_branch():
    christmas = dt.date(2026, 12, 25)
    status = schedules.day_status(settings(booking_window_days=40), None, christmas, MONDAY)
    assert status.open is False and status.reason == "holiday"
    assert status.note == "Hari Raya Natal"
    # An Islamic holiday too: Eid al-Fitr 2027 (estimated by the holidays package).
    eid = dt.date(2027, 3, 10)
    assert calendar.public_holiday(eid) is not None


def test_branch_closures_close_the_day_with_their_note():
    closed = DateOverride(closed=True, note="Renovasi gedung")
    status = schedules.day_status(settings(), closed, MONDAY + dt.timedelta(days=1), MONDAY)
    assert status == schedules.DayStatus(False, "closed", "Renovasi gedung")


def test_booking_window_edges():
    tuned = settings(booking_window_days=7)
    assert schedules.day_status(tuned, None, MONDAY, MONDAY).open  # today
    assert schedules.day_status(tuned, None, MONDAY + dt.timedelta(days=7), MONDAY).open
    assert schedules.day_status(tuned, None, MONDAY + dt.timedelta(days=8), MONDAY).reason == "beyond_window"
    assert schedules.day_status(tuned, None, MONDAY - dt.timedelta(days=1), MONDAY).reason == "past"


def test_online_booking_off_closes_every_day():
    assert (
        schedules.day_status(settings(online_booking=False), None, MONDAY, MONDAY).reason
        == "online_booking_off"
    )


def test_quota_override_wins_over_the_daily_quota():
    assert schedules.effective_quota(settings(), None) == 100
    assert schedules.effective_quota(settings(), DateOverride(daily_quota=7)) == 7
    assert schedules.effective_quota(settings(), DateOverride(note="no quota change")) == 100


def test_slot_closes_at_the_cutoff_in_branch_local_time():
    tuned = settings(booking_cutoff_minutes=60)
    slot = Slot(dt.time(9, 0), dt.time(9, 30))
    jayapura = ZoneInfo("Asia/Jayapura")
    assert schedules.slot_open(tuned, MONDAY, slot, dt.datetime(2026, 11, 23, 7, 59, 59, tzinfo=jayapura))
    assert not schedules.slot_open(tuned, MONDAY, slot, dt.datetime(2026, 11, 23, 8, 0, tzinfo=jayapura))


def test_local_now_moves_the_wall_clock_not_the_instant():
    # 22:30 WIB on Sunday is already 00:30 WIT on Monday in Jayapura.
    jakarta_evening = dt.datetime(2026, 11, 22, 22, 30, tzinfo=ZoneInfo("Asia/Jakarta"))
    assert schedules.local_now(jakarta_evening, "Asia/Jayapura").date() == MONDAY
    assert schedules.local_now(jakarta_evening, "Asia/Makassar").hour == 23
    assert schedules.timezone_label("Asia/Makassar") == "WITA"


def test_settings_round_trip(redis):
    tuned = settings(service_quotas={"jht": 5})
    schedules.store_settings(redis, "x", tuned)
    assert schedules.load_settings(redis, "x") == tuned
    assert not schedules.store_settings(redis, "x", settings(), overwrite=False)
