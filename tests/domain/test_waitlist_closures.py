"""A closure closes the day's waitlist too (issue 25 review): its entries waiting or holding an
offer are cancelled, their counts undone, their NIK's date and phone freed, each told why."""

from __future__ import annotations

import datetime as dt

import pytest

from queue_service.domain import catalog
from queue_service.domain.accounts import NATIONAL_ADMIN
from queue_service.domain.audit import Actor
from queue_service.domain.errors import CancelledError
from queue_service.domain.reservations.records import Booking
from queue_service.domain.waitlist import Waitlist
from queue_service.notifications import texts
from queue_service.store import keys
from tests.factories import booking_request

TUESDAY = dt.date(2026, 11, 24)
BRANCH = "jakarta-salemba"


@pytest.fixture
def settings(settings):
    return {**settings, "BOOKINGS_PER_PHONE": 3}


def book(reservations, clock, hour, phone, **fields):
    return reservations.reserve(booking_request(slot=dt.time(hour, 0), phone=phone, **fields), clock())


def test_a_closure_cancels_the_days_waiting_and_offered_entries(app, reservations, clock, redis, tune_branch):
    antrian = app.extensions["antrian"]
    tune_branch(BRANCH, slot_capacity=1)
    waitlist = Waitlist(reservations)
    taken = book(reservations, clock, 9, "+6281100000001")
    book(reservations, clock, 10, "+6281100000002")
    offered = waitlist.join(booking_request(slot=dt.time(9, 0), phone="+6281200000001"), clock())
    phone = "+6281299999999"
    waiting = waitlist.join(booking_request(slot=dt.time(10, 0), phone=phone), clock())
    reservations.cancel(taken.code, taken.nik, clock())
    assert waitlist.find(offered.code).status == "offered"

    pusat, _ = antrian.accounts.create("pusat", NATIONAL_ADMIN)
    actor = Actor("pusat", NATIONAL_ADMIN, "10.0.0.1")
    antrian.closures.close_range(pusat, BRANCH, TUESDAY, TUESDAY, "banjir", actor, clock())

    assert [waitlist.find(e.code).status for e in (offered, waiting)] == ["cancelled", "cancelled"]
    assert {f"{offered.code}:closed", f"{waiting.code}:closed"} <= set(
        redis.zrange(keys.sms_outbox(BRANCH), 0, -1)
    )
    day = TUESDAY.isoformat()
    assert redis.hget(keys.slot_counts(BRANCH, day), "09:00") == "0"
    assert redis.hget(keys.waiters(BRANCH, day), "jht/10:00") == "0"
    assert redis.zcard(keys.waitlist(BRANCH, day)) == 0
    assert not redis.zscore(keys.branch_holds(BRANCH), offered.code)
    with pytest.raises(CancelledError):
        waitlist.accept(offered.code, offered.nik, clock())
    # The NIK's date and the phone's count are free: elsewhere that date, and three more dates.
    book(reservations, clock, 9, "+6281100000003", nik=waiting.nik, branch_id="bandung-suci")
    for days in (1, 2, 3):
        book(reservations, clock, 11, phone, date=TUESDAY + dt.timedelta(days=days))
    # Its message names the waitlist entry by its day, as it has no queue number.
    record = Booking.from_hash(BRANCH, waiting.code, redis.hgetall(keys.booking(BRANCH, waiting.code)))
    text = texts.compose("closed", record, catalog.get_branch(redis, BRANCH), note="banjir")
    assert f"Daftar tunggu Selasa, 24 Nov 2026 kode {waiting.code} DIBATALKAN" in text
