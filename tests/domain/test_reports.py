"""Dashboard figures: bookings against quota, cancellations, arrivals, busiest slots."""

from __future__ import annotations

import datetime as dt

from queue_service.domain import reports, schedules
from queue_service.domain.audit import Actor
from queue_service.store import keys

MONDAY = dt.date(2026, 11, 23)


def test_days_count_bookings_cancellations_and_closures(app, book, client, booking_body, redis, clock):
    body = booking_body()
    kept = [book(slot="09:00"), book(slot="09:00"), book(slot="10:00")]
    gone = book(nik=body["nik"], slot="10:00")
    client.post(f"/api/v1/bookings/{gone['code']}/cancel", json={"nik": body["nik"]})
    app.extensions["antrian"].tuning.set_date(
        "jakarta-salemba",
        MONDAY + dt.timedelta(days=2),
        schedules.DateOverride(closed=True, daily_quota=None, note="Rapat"),
        Actor("admin", "national_admin", "cli"),
        clock(),
    )
    redis.hset(keys.booking("jakarta-salemba", kept[0]["code"]), "status", "served")
    redis.hset(keys.booking("jakarta-salemba", kept[1]["code"]), "status", "no_show")

    monday, tuesday, wednesday, thursday, *_ = reports.days(
        redis, "jakarta-salemba", MONDAY, 7, today=MONDAY, with_outcomes=True
    )

    assert (tuesday.booked, tuesday.cancelled, tuesday.arrived, tuesday.no_show) == (3, 1, 1, 1)
    assert tuesday.quota == 160 and tuesday.open
    assert (wednesday.open, wednesday.reason, wednesday.booked) == (False, "closed", 0)
    assert monday.booked == 0 and thursday.open
    assert reports.busiest_slots(redis, "jakarta-salemba", [MONDAY + dt.timedelta(days=1)]) == [
        ("09:00", 2),
        ("10:00", 1),
    ]


def test_national_figures_sum_the_branches(app, book, redis):
    book(branch_id="jakarta-salemba")
    book(branch_id="bekasi")
    per_branch = [
        reports.days(redis, branch, MONDAY + dt.timedelta(days=1), 2, today=MONDAY)
        for branch in ("jakarta-salemba", "bekasi")
    ]
    tuesday, _wednesday = reports.national(per_branch)
    assert tuesday.booked == 2
    assert tuesday.quota == per_branch[0][0].quota + per_branch[1][0].quota


def test_an_audit_entry_tells_what_changed_field_by_field():
    from queue_service.domain.audit import AuditEntry

    entry = AuditEntry(
        "1-0",
        "2026-11-23T00:00:00+00:00",
        "siti",
        "branch_admin",
        "10.0.0.1",
        "settings",
        "x",
        '{"a": 1, "b": 2}',
        '{"a": 1, "b": 3, "c": true}',
    )
    assert entry.changes() == [("b", "2", "3"), ("c", "null", "true")]
    closed = AuditEntry("1-0", "", "", "", "", "date", "x", "null", '{"closed": true}')
    assert closed.changes() == [("", "null", '{"closed": true}')]


def test_walk_ins_are_counted_beside_the_online_bookings(app, book, redis, clock):
    book(slot="09:00")
    kiosk, _token = app.extensions["antrian"].kiosks.create("jakarta-salemba", "Pintu", clock())
    at_nine = dt.datetime.combine(
        MONDAY + dt.timedelta(days=1), dt.time(9), tzinfo=schedules.ZoneInfo("Asia/Jakarta")
    )
    for service in ("jht", "jkk"):
        app.extensions["antrian"].walk_ins.issue(kiosk, service, at_nine)
    tuesday, wednesday = reports.days(
        redis, "jakarta-salemba", MONDAY + dt.timedelta(days=1), 2, today=MONDAY
    )
    # A quota of 160 online and the default 20 percent for walk-ins: 40 places.
    assert (tuesday.booked, tuesday.quota, tuesday.walk_ins, tuesday.walk_in_places) == (1, 160, 2, 40)
    assert (wednesday.walk_ins, wednesday.walk_in_places) == (0, 40)
    assert reports.national([[tuesday], [tuesday]])[0].walk_ins == 4
