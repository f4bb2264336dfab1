"""Closing a branch, or every branch, for a range of days with a note (issue 22): the days
closed, every booking there that may still come cancelled with one closure SMS each (sent by a
real worker), nothing cancelled or texted twice, the progress read from the delivery records,
reopening lifting the days and leaving the bookings cancelled."""

from __future__ import annotations

import datetime as dt

import pytest

from queue_service.domain import audit, schedules
from queue_service.domain.accounts import BRANCH_ADMIN, NATIONAL_ADMIN
from queue_service.domain.audit import Actor
from queue_service.domain.closures import MAX_DAYS, NOTE_MAX_LENGTH
from queue_service.domain.errors import ForbiddenError, NotBookableError, NotFoundError, ValidationFailedError
from queue_service.domain.reservations import Reservations
from queue_service.store import keys
from tests.factories import JAKARTA, booking_request

BRANCH = "jakarta-salemba"
TUESDAY, WEDNESDAY, THURSDAY, FRIDAY = (dt.date(2026, 11, d) for d in (24, 25, 26, 27))
NOTE = "Banjir di sekitar kantor"
BASE = "https://antrian.example"


@pytest.fixture
def settings(settings):
    return {**settings, "PUBLIC_BASE_URL": BASE}


@pytest.fixture
def antrian(app):
    return app.extensions["antrian"]


@pytest.fixture
def admins(antrian):
    """A branch admin of Jakarta Salemba (with its actor) and a national admin."""
    siti, _token = antrian.accounts.create("siti", BRANCH_ADMIN, (BRANCH,))
    pusat, _token = antrian.accounts.create("pusat", NATIONAL_ADMIN)
    return {
        "siti": (siti, Actor("siti", BRANCH_ADMIN, "10.0.0.9")),
        "pusat": (pusat, Actor("pusat", NATIONAL_ADMIN, "10.0.0.1")),
    }


@pytest.fixture
def holding(worker_settings, redis):
    """Reservations that hold each new place for its phone's one-time code."""
    return Reservations.from_settings(redis, {**worker_settings, "PHONE_VERIFICATION": True})


def close(antrian, admins, who="siti", branch_id=BRANCH, first=TUESDAY, last=THURSDAY, note=NOTE, now=None):
    account, actor = admins[who]
    return antrian.closures.close_range(account, branch_id, first, last, note, actor, now or antrian.clock())


def progress(antrian, closure):
    return antrian.outbox.progress(antrian.closures.cancelled(closure), "closed")


def test_a_three_day_closure_cancels_each_booking_and_texts_each_participant_once(
    antrian, admins, reservations, holding, clock, work, sent_sms, redis
):
    tuesday = reservations.reserve(booking_request(date=TUESDAY, slot=dt.time(9, 0)), clock())
    held = holding.reserve(
        booking_request(date=TUESDAY, slot=dt.time(10, 0), phone="+6281311112222"), clock()
    )
    wednesday = reservations.reserve(booking_request(date=WEDNESDAY, slot=dt.time(9, 0)), clock())
    friday = reservations.reserve(booking_request(date=FRIDAY, slot=dt.time(9, 0)), clock())
    assert held.status == "pending"
    work()  # confirmations and the hold's code go out first
    before = len(sent_sms())

    closure = close(antrian, admins)

    assert antrian.closures.cancelled(closure) == {BRANCH: sorted([tuesday.code, held.code, wednesday.code])}
    for booking in (tuesday, held, wednesday):
        stored = reservations.get(BRANCH, booking.code)
        assert (stored.status, redis.hget(keys.booking(BRANCH, booking.code), "closure")) == (
            "cancelled",
            closure.id,
        )
    assert reservations.get(BRANCH, friday.code).status == "booked"  # outside the range
    # The places are free again, the days closed: a new booking there is refused.
    assert redis.hget(keys.day_counts(BRANCH, TUESDAY.isoformat()), "total") == "0"
    assert progress(antrian, closure).queued == 3
    with pytest.raises(NotBookableError):
        reservations.reserve(booking_request(date=WEDNESDAY, slot=dt.time(11, 0)), clock())
    assert reservations.reserve(booking_request(date=FRIDAY, slot=dt.time(11, 0)), clock()).status == "booked"

    work()

    texts = {line["code"]: line for line in sent_sms()[before:] if line["event"] == "closed"}
    assert set(texts) == {tuesday.code, held.code, wednesday.code}
    assert texts[held.code]["to"] == "+6281311112222"  # the hold's phone had its code already
    body = texts[tuesday.code]["body"]
    assert body.startswith(f"BPJSTK Jakarta Salemba TUTUP: {NOTE}. Antrian {tuesday.queue_number} ")
    assert f"Selasa, 24 Nov 2026 09:00-09:30 WIB kode {tuesday.code} DIBATALKAN." in body
    assert body.endswith(f"Pesan hari lain: {BASE}/cabang/{BRANCH}/jht")
    assert (progress(antrian, closure).sent, progress(antrian, closure).queued) == (3, 0)

    # Closing the same range again cancels nothing and texts nobody twice.
    again = close(antrian, admins)
    work()
    assert antrian.closures.cancelled(again) == {}
    assert [line for line in sent_sms() if line["event"] == "closed"] == list(texts.values())
    assert progress(antrian, closure).sent == 3


def test_the_closure_s_link_opens_the_branch_s_dates(client):
    assert client.get(f"/cabang/{BRANCH}/jht").status_code == 200


def test_reopening_lifts_the_days_and_leaves_the_bookings_cancelled(
    antrian, admins, reservations, clock, redis
):
    own_quota = schedules.DateOverride(closed=False, daily_quota=7, note="")
    antrian.tuning.set_date(BRANCH, THURSDAY, own_quota, admins["siti"][1], clock())
    booking = reservations.reserve(booking_request(date=TUESDAY), clock())
    closure = close(antrian, admins)
    assert schedules.load_override(redis, BRANCH, THURSDAY) == schedules.DateOverride(True, 7, NOTE)

    reopened = antrian.closures.reopen(admins["siti"][0], closure.id, admins["siti"][1], clock())

    assert reopened.reopened_by == "siti"
    assert schedules.load_override(redis, BRANCH, TUESDAY) is None
    assert schedules.load_override(redis, BRANCH, THURSDAY) == own_quota  # what it replaced
    assert reservations.get(BRANCH, booking.code).status == "cancelled"
    assert reservations.reserve(booking_request(date=TUESDAY), clock()).status == "booked"
    # Reopening again changes nothing; the record says when it was reopened.
    assert antrian.closures.reopen(admins["siti"][0], closure.id, admins["siti"][1], clock()) == reopened
    assert antrian.closures.get(admins["siti"][0], closure.id) == reopened
    actions = [entry.action for entry in audit.read(redis, BRANCH)]
    assert actions.count("days_closed") == actions.count("days_reopened") == 1


def test_a_day_changed_after_the_closure_is_left_as_it_is_when_reopening(antrian, admins, clock, redis):
    closure = close(antrian, admins)
    mine = schedules.DateOverride(closed=True, daily_quota=None, note="Renovasi")
    antrian.tuning.set_date(BRANCH, WEDNESDAY, mine, admins["siti"][1], clock())

    antrian.closures.reopen(admins["siti"][0], closure.id, admins["siti"][1], clock())

    assert schedules.load_override(redis, BRANCH, WEDNESDAY) == mine
    assert schedules.load_override(redis, BRANCH, TUESDAY) is None


def test_today_s_closure_keeps_who_checked_in_and_who_can_no_longer_come(
    antrian, admins, reservations, clock, redis
):
    monday = clock().date()
    kiosk, _token = antrian.kiosks.create(BRANCH, "Pintu", clock())
    arrived = reservations.reserve(booking_request(date=monday, slot=dt.time(9, 0)), clock())
    missed = reservations.reserve(booking_request(date=monday, slot=dt.time(9, 0)), clock())
    coming = reservations.reserve(booking_request(date=monday, slot=dt.time(11, 0)), clock())
    antrian.checkins.check_in(kiosk, arrived.code, dt.datetime(2026, 11, 23, 8, 45, tzinfo=JAKARTA))
    clock.set(dt.datetime(2026, 11, 23, 10, 0, tzinfo=JAKARTA))  # 09:00 plus its 30 minutes' grace is over

    closure = close(antrian, admins, first=monday, last=monday)

    assert antrian.closures.cancelled(closure) == {BRANCH: [coming.code]}
    statuses = {b.code: b.status for b in antrian.tuning.bookings(BRANCH, monday)}
    assert statuses == {arrived.code: "checked_in", missed.code: "booked", coming.code: "cancelled"}


def test_every_branch_closes_in_every_time_zone_by_a_national_admin(
    antrian, admins, reservations, clock, work, sent_sms
):
    made = {
        branch_id: reservations.reserve(booking_request(branch_id=branch_id, date=WEDNESDAY), clock())
        for branch_id in (BRANCH, "makassar", "jayapura")
    }

    closure = close(antrian, admins, who="pusat", branch_id=None, first=TUESDAY, last=WEDNESDAY)
    work()

    assert closure.all_branches and "bekasi" in closure.branch_ids
    assert antrian.closures.cancelled(closure) == {b: [booking.code] for b, booking in made.items()}
    assert {line["code"] for line in sent_sms() if line["event"] == "closed"} == {
        b.code for b in made.values()
    }
    assert progress(antrian, closure).sent == 3
    with pytest.raises(NotBookableError):
        reservations.reserve(booking_request(branch_id="bekasi", date=TUESDAY), clock())
    assert antrian.closures.of_every_branch() == [closure]

    antrian.closures.reopen(admins["pusat"][0], closure.id, admins["pusat"][1], clock())
    assert reservations.reserve(booking_request(branch_id="bekasi", date=TUESDAY), clock()).status == "booked"


def test_a_national_closure_a_range_replaced_comes_back_when_it_is_reopened(antrian, admins, redis, clock):
    from queue_service.domain import calendar

    calendar.close_nationally(redis, WEDNESDAY, "Hari berkabung")
    closure = close(antrian, admins, who="pusat", branch_id=None)
    assert calendar.national_closure(redis, "bekasi", WEDNESDAY) == NOTE

    antrian.closures.reopen(admins["pusat"][0], closure.id, admins["pusat"][1], clock())

    assert calendar.list_national_closures(redis) == {WEDNESDAY: "Hari berkabung"}
    assert calendar.national_closure(redis, "bekasi", WEDNESDAY) == "Hari berkabung"


def test_who_may_close_what(antrian, admins):
    with pytest.raises(ForbiddenError):
        close(antrian, admins, branch_id="bekasi")
    with pytest.raises(ForbiddenError):
        close(antrian, admins, branch_id=None)
    national = close(antrian, admins, who="pusat", branch_id=None)
    with pytest.raises(ForbiddenError):
        antrian.closures.get(admins["siti"][0], national.id)
    others = close(antrian, admins, who="pusat", branch_id="bekasi")
    with pytest.raises(ForbiddenError):
        antrian.closures.reopen(admins["siti"][0], others.id, admins["siti"][1], antrian.clock())
    assert antrian.closures.of_branch("bekasi") == [others]
    with pytest.raises(NotFoundError):
        antrian.closures.get(admins["pusat"][0], "cl-0000000000000000")


@pytest.mark.parametrize(
    ("first", "last", "note", "fields"),
    [
        (dt.date(2026, 11, 22), TUESDAY, NOTE, {"from": ["date_in_past"]}),
        (WEDNESDAY, TUESDAY, NOTE, {"to": ["range_order"]}),
        (TUESDAY, TUESDAY + dt.timedelta(days=MAX_DAYS), NOTE, {"to": ["range_too_long"]}),
        (TUESDAY, TUESDAY, " \n ", {"note": ["required"]}),
        (TUESDAY, TUESDAY, "x" * (NOTE_MAX_LENGTH + 1), {"note": ["too_long"]}),
        (
            dt.date(2026, 11, 22),
            dt.date(2026, 11, 21),
            "",
            {"from": ["date_in_past"], "to": ["range_order"], "note": ["required"]},
        ),
    ],
)
def test_a_bad_range_or_note_is_refused_naming_each_field_and_changes_nothing(
    antrian, admins, redis, first, last, note, fields
):
    with pytest.raises(ValidationFailedError) as refused:
        close(antrian, admins, first=first, last=last, note=note)
    assert refused.value.fields == fields
    assert redis.hgetall(keys.branch_dates(BRANCH)) == {}
    assert antrian.closures.of_branch(BRANCH) == []


def test_a_full_year_is_the_longest_range(antrian, admins, redis):
    last = TUESDAY + dt.timedelta(days=MAX_DAYS - 1)
    closure = close(antrian, admins, last=last)
    assert len(closure.days) == MAX_DAYS
    assert redis.hlen(keys.branch_dates(BRANCH)) == MAX_DAYS


def test_every_branch_refuses_a_day_already_over_in_the_east(antrian, admins, clock):
    # 23:30 in Jakarta is 01:30 the next day in Jayapura: Monday is over there.
    clock.set(dt.datetime(2026, 11, 23, 23, 30, tzinfo=JAKARTA))
    monday = dt.date(2026, 11, 23)
    assert close(antrian, admins, first=monday, last=monday).first == monday
    with pytest.raises(ValidationFailedError) as refused:
        close(antrian, admins, who="pusat", branch_id=None, first=monday, last=monday)
    assert refused.value.fields == {"from": ["date_in_past"]}


def test_an_unknown_branch_is_a_field_error_for_a_national_admin(antrian, admins):
    with pytest.raises(ValidationFailedError) as refused:
        close(antrian, admins, who="pusat", branch_id="nowhere")
    assert refused.value.fields == {"branch_id": ["unknown_branch"]}
