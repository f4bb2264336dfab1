"""Closing a day with bookings: kept by default, or cancelled with an SMS each."""

from __future__ import annotations

import datetime as dt

import pytest

from queue_service.domain import audit
from queue_service.domain.audit import Actor
from queue_service.domain.demo import default_settings
from queue_service.domain.tuning import BOUNDS, settings_problems

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


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_each_setting_is_judged_by_its_range(name):
    bounds = BOUNDS[name]

    def problems(value):
        settings = vars(default_settings(True, 100))
        settings[name] = {"jht": value, "jkk": bounds.floor} if name == "service_quotas" else value
        return settings_problems(settings)

    assert problems(bounds.floor) == {}
    assert problems(bounds.floor - 1) == {name: [bounds.below]}
    if bounds.ceiling is not None:
        assert problems(bounds.ceiling) == {}
        assert problems(bounds.ceiling + 1) == {name: [bounds.above]}


@pytest.mark.parametrize(
    ("hours", "problems"),
    [
        ({"funday": []}, {"service_hours": ["unknown_weekday"]}),
        ({"mon": [["08:00", "24:30"]]}, {"service_hours.mon": ["invalid_interval"]}),
        ({"mon": [["08:00"]]}, {"service_hours.mon": ["invalid_interval"]}),
    ],
)
def test_hours_the_api_refuses_by_their_shape_the_domain_refuses_too(hours, problems):
    """The console's form reaches the domain without the API's schema."""
    assert settings_problems({**vars(default_settings(True, 100)), "service_hours": hours}) == problems
