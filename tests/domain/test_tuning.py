"""Closing a day with bookings: kept by default, or cancelled with an SMS each."""

from __future__ import annotations

import datetime as dt

from queue_service.domain import audit
from queue_service.domain.audit import Actor
from queue_service.domain.demo import default_settings
from queue_service.domain.tuning import settings_problems

TUESDAY = dt.date(2026, 11, 24)
ADMIN = Actor("siti", "branch_admin", "10.0.0.9")


def test_closing_a_day_can_cancel_its_bookings_each_with_one_sms(app, book, work, sent_sms, clock, redis):
    made = [book(slot=slot) for slot in ("09:00", "10:00")]
    work()  # their confirmations go out first
    tuning = app.extensions["antrian"].tuning

    cancelled = tuning.close_day(
        "jakarta-salemba", TUESDAY, "Gedung ditutup", ADMIN, clock(), cancel_bookings=True
    )
    work()
    work()

    assert sorted(b.code for b in cancelled) == sorted(b["code"] for b in made)
    assert {b.status for b in tuning.bookings("jakarta-salemba", TUESDAY)} == {"cancelled"}
    events = [(line["code"], line["event"]) for line in sent_sms()]
    assert sorted(e for e in events if e[1] == "cancelled") == sorted((b["code"], "cancelled") for b in made)
    assert len(events) == 4  # two confirmations, two cancellations, nothing twice
    assert [e.action for e in audit.read(redis, "jakarta-salemba")] == ["date"]


def test_closing_a_day_keeps_its_bookings_unless_asked(app, book, clock):
    made = book()
    tuning = app.extensions["antrian"].tuning
    assert tuning.close_day("jakarta-salemba", TUESDAY, "", ADMIN, clock()) == []
    [kept] = tuning.bookings("jakarta-salemba", TUESDAY)
    assert (kept.code, kept.status) == (made["code"], "booked")


def test_the_demo_settings_break_no_rule():
    assert settings_problems(vars(default_settings(True, 100))) == {}
