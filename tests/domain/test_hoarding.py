"""The hoarding view's signals (phones and addresses behind several NIKs, bursts against the
branch's usual, holds) and the cancelling of a selection: each booking audited with its SMS,
what cannot be cancelled said per booking, another branch's admin refused whole."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from queue_service.domain import audit, hoarding
from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF, NATIONAL_ADMIN, Account
from queue_service.domain.audit import Actor
from queue_service.domain.errors import ForbiddenError, ValidationFailedError
from queue_service.domain.privacy import mask_nik
from queue_service.domain.reservations import Booking
from queue_service.store import keys
from tests.factories import JAKARTA, booking_request, make_nik

BRANCH = "jakarta-salemba"
TUESDAY = dt.date(2026, 11, 24)
# 09:00 WIB on Monday 23 November, as ms since the epoch: a minute every test can name.
MINUTE_MS = int(dt.datetime(2026, 11, 23, 9, 0, tzinfo=JAKARTA).timestamp() * 1000)
ADMIN = Account("siti", BRANCH_ADMIN, (BRANCH,))
ACTOR = Actor("siti", BRANCH_ADMIN, "10.0.0.9")


def made(n: int = 0, **fields) -> Booking:
    """A booking as stored, without the store: for the signals' arithmetic."""
    values = dict(
        code=f"CODE{n:06d}",
        queue_number=f"A-{n:03d}",
        status="booked",
        branch_id=BRANCH,
        service_id="jht",
        date=TUESDAY,
        slot_start=dt.time(9),
        slot_end=dt.time(9, 30),
        name="Budi Santoso",
        nik=make_nik(),
        kpj="12345678901",
        phone=f"+62812000{n:05d}",
        email=None,
        created_ms=MINUTE_MS + n * 60_000,  # one a minute unless told
        address=f"10.1.{n // 250}.{n % 250}",
    )
    values.update(fields)
    return Booking(**values)


def day_signals(bookings, usual=None, **thresholds):
    return hoarding.signals(
        BRANCH, TUESDAY, bookings, "Asia/Jakarta", usual, hoarding.Thresholds(**thresholds)
    )


def test_a_phone_behind_two_niks_is_flagged_with_its_number_masked():
    family = [made(1, phone="+6281299990001"), made(2, phone="+6281299990001")]
    alone = [made(3), made(4)]
    found = day_signals(family + alone)
    (group,) = found.phones
    assert (group.kind, group.label, group.niks) == ("phone", "+62812****0001", 2)
    assert [b.code for b in group.bookings] == [b.code for b in family]
    assert found.flagged_bookings("phone") == 2
    assert day_signals(family, phone_niks=2).phones == ()


def test_an_address_is_flagged_above_its_threshold_of_distinct_niks():
    same_nik = make_nik()
    five = [made(n, address="192.0.2.7") for n in range(5)]
    assert day_signals(five).addresses == ()
    repeated = day_signals([*five, made(5, address="192.0.2.7", nik=five[0].nik)])
    assert repeated.addresses == ()  # a NIK twice is one person
    (group,) = day_signals([*five, made(6, address="192.0.2.7", nik=same_nik)]).addresses
    assert (group.label, group.niks, len(group.bookings)) == ("192.0.2.7", 6, 6)
    # Bookings without an address (staff-made, or older) group under none.
    assert day_signals([made(n, address=None) for n in range(9)]).addresses == ()


def test_a_burst_is_measured_against_the_floor_without_history_and_the_usual_with_it():
    burst = [made(n, created_ms=MINUTE_MS + 5_000 + n) for n in range(10)]
    calm = [made(100 + n) for n in range(3)]
    found = day_signals(burst + calm)
    assert (found.rate.peak, found.rate.threshold, found.rate.usual, found.rate.flagged) == (
        10,
        10,
        None,
        True,
    )
    (minute,) = found.rate.minutes
    assert minute.label == "2026-11-23 09:00" and len(minute.bookings) == 10

    usual = day_signals(burst + calm, usual=4.0)
    assert (usual.rate.threshold, usual.rate.flagged, usual.rate.minutes) == (12, False, ())
    assert day_signals(burst[:9]).rate.flagged is False
    assert hoarding.usual_peak([0, 3, 0, 5, 40]) == 5.0 and hoarding.usual_peak([0, 0]) is None


def test_every_status_is_counted_holds_included_and_only_booked_ones_and_holds_are_selectable():
    statuses = ["pending", "expired", "expired", "cancelled", "booked", "checked_in"]
    phone = "+6281299990002"
    found = day_signals([made(n, status=s, phone=phone) for n, s in enumerate(statuses)])
    assert found.statuses == {
        "pending": 1,
        "booked": 1,
        "checked_in": 1,
        "called": 0,
        "served": 0,
        "no_show": 0,
        "cancelled": 1,
        "expired": 2,
    }
    assert [b.status for b in found.pending] == ["pending"]
    assert [b.status for b in found.expired] == ["expired", "expired"]
    (group,) = found.phones
    assert group.active == 3  # pending, booked, checked in
    assert [b.status for b in group.selectable] == ["pending", "booked"]


@pytest.fixture
def antrian(app):
    return app.extensions["antrian"]


def book(reservations, clock, address="198.51.100.1", day=TUESDAY, **fields):
    return reservations.reserve(booking_request(date=day, **fields), clock(), address=address)


def test_the_watch_reads_the_day_as_the_day_list_does_and_the_usual_from_past_days(
    antrian, reservations, clock, redis, tune_branch
):
    tune_branch(BRANCH, slot_capacity=100)
    monday = clock()
    # Two past days with bookings, their busiest minutes 2 and 4 (median 3).
    for week_day, busiest in ((dt.date(2026, 11, 17), 2), (dt.date(2026, 11, 18), 4)):
        clock.set(dt.datetime.combine(week_day - dt.timedelta(days=1), dt.time(7), tzinfo=JAKARTA))
        for n in range(busiest):
            past = book(reservations, clock, day=week_day, phone=f"+628129999{n:04d}")
            redis.hset(keys.booking(BRANCH, past.code), "created_ms", MINUTE_MS - 10**9 + n)
    clock.set(monday)
    hoarder = "+6281277770000"
    taken = [book(reservations, clock, phone=hoarder, address="203.0.113.5") for _ in range(6)]
    other = book(reservations, clock, phone="+6281266660000", address=None)
    for n, booking in enumerate(taken):
        redis.hset(keys.booking(BRANCH, booking.code), "created_ms", MINUTE_MS + n)

    found = antrian.hoarding.day(BRANCH, TUESDAY, clock())

    assert found.total == 7 and found.statuses["booked"] == 7
    (phone,) = found.phones
    assert phone.niks == 6 and {b.code for b in phone.bookings} == {b.code for b in taken}
    (address,) = found.addresses
    assert address.label == "203.0.113.5" and other.code not in {b.code for b in address.bookings}
    assert (found.rate.usual, found.rate.peak, found.rate.threshold) == (3.0, 6, 10)
    assert not found.rate.flagged
    # Nothing personal in a label: a masked phone, an address, a minute.
    shown = [g.label for g in (*found.phones, *found.addresses)]
    assert all(b.nik not in label and mask_nik(b.nik) not in label for b in taken for label in shown)
    assert hoarder not in shown


def test_the_metrics_figures_cover_today_through_the_window(antrian, reservations, clock, redis):
    hoarder = "+6281277771111"
    for _ in range(3):
        book(reservations, clock, phone=hoarder)
    book(reservations, clock, day=dt.date(2026, 11, 25), phone=hoarder)

    (figures,) = [f for f in antrian.hoarding.branch_figures(clock()) if f.branch_id == BRANCH]
    assert (figures.phone, figures.address, figures.pending, figures.expired) == (3, 0, 0, 0)

    # Unchanged lists are not read again until their figures are old: a status changed behind
    # the watch's back (as an expired hold's would) shows once they are.
    code = redis.lrange(keys.day_bookings(BRANCH, TUESDAY.isoformat()), 0, 0)[0]
    redis.hset(keys.booking(BRANCH, code), "status", "expired")
    assert [f.expired for f in antrian.hoarding.branch_figures(clock()) if f.branch_id == BRANCH] == [0]
    later = clock() + dt.timedelta(seconds=hoarding.METRICS_REFRESH_SECONDS)
    assert [f.expired for f in antrian.hoarding.branch_figures(later) if f.branch_id == BRANCH] == [1]


@pytest.fixture
def selection(reservations, clock, tune_branch):
    tune_branch(BRANCH, slot_capacity=100)
    return [book(reservations, clock, phone="+6281277772222") for _ in range(4)]


def test_a_selection_is_cancelled_each_audited_with_its_sms_and_the_rest_said(
    antrian, reservations, clock, redis, selection
):
    first, second, third, fourth = selection
    reservations.cancel(third.code, third.nik, clock())
    kiosk, _token = antrian.kiosks.create(BRANCH, "Pintu", clock())
    tuesday = dt.datetime(2026, 11, 24, 8, 30, tzinfo=JAKARTA)
    antrian.checkins.check_in(kiosk, fourth.code, tuesday)
    clock.set(tuesday)
    typed = f"{second.code[:4].lower()}-{second.code[4:]}"

    outcomes = hoarding.cancel_selection(
        reservations,
        ADMIN,
        [first.code, typed, third.code, fourth.code, first.code, "ZZZZZZZZZZ"],
        "  Penimbunan: satu HP, banyak NIK ",
        ACTOR,
        clock(),
    )

    assert [(o.outcome, o.booking.status if o.booking else None) for o in outcomes] == [
        ("cancelled", "cancelled"),
        ("cancelled", "cancelled"),
        ("already_cancelled", "cancelled"),
        ("too_late", "checked_in"),
        ("not_found", None),
    ]
    entries = audit.read(redis, BRANCH, action="booking_cancelled")
    assert sorted(e.target for e in entries) == sorted(f"{BRANCH}/{b.code}" for b in (first, second))
    assert all('"reason": "Penimbunan: satu HP, banyak NIK"' in e.after for e in entries)
    outbox = redis.zrange(keys.sms_outbox(BRANCH), 0, -1)
    assert {f"{first.code}:cancelled", f"{second.code}:cancelled"} <= set(outbox)
    assert f"{fourth.code}:cancelled" not in outbox


def test_the_reason_and_the_codes_are_judged_before_anything(reservations, clock, redis, selection):
    with pytest.raises(ValidationFailedError) as refused:
        hoarding.cancel_selection(reservations, ADMIN, [selection[0].code], "   ", ACTOR, clock())
    assert refused.value.fields == {"reason": ["required"]}
    with pytest.raises(ValidationFailedError) as empty:
        hoarding.cancel_selection(reservations, ADMIN, [], "calo", ACTOR, clock())
    assert empty.value.fields == {"codes": ["required"]}
    many = [f"C{n:09d}" for n in range(hoarding.MAX_SELECTION + 1)]
    with pytest.raises(ValidationFailedError):
        hoarding.cancel_selection(reservations, ADMIN, many, "calo", ACTOR, clock())
    assert audit.read(redis, BRANCH, action="booking_cancelled") == []


@pytest.mark.parametrize(
    "account",
    [Account("andi", BRANCH_ADMIN, ("bekasi",)), Account("wati", COUNTER_STAFF, ("bekasi",))],
)
def test_another_branchs_account_is_refused_whole(reservations, clock, redis, selection, account):
    elsewhere = book(reservations, clock, branch_id="bekasi", phone="+6281277773333")
    with pytest.raises(ForbiddenError):
        hoarding.cancel_selection(
            reservations, account, [elsewhere.code, selection[0].code], "calo", ACTOR, clock()
        )
    assert reservations.get(elsewhere.branch_id, elsewhere.code).status == "booked"
    assert audit.read(redis, "bekasi", action="booking_cancelled") == []


def test_restricted_to_a_branch_a_code_of_another_is_not_found(reservations, clock, selection):
    elsewhere = book(reservations, clock, branch_id="bekasi", phone="+6281277774444")
    national = Account("nasional", NATIONAL_ADMIN, ())
    outcomes = hoarding.cancel_selection(
        reservations, national, [elsewhere.code, selection[0].code], "calo", ACTOR, clock(), branch_id=BRANCH
    )
    assert [o.outcome for o in outcomes] == ["not_found", "cancelled"]
    assert reservations.get("bekasi", elsewhere.code).status == "booked"


def test_thresholds_are_plain_defaults_named_once():
    defaults = hoarding.Thresholds()
    assert dataclasses.asdict(defaults) == {
        "phone_niks": hoarding.PHONE_NIKS,
        "address_niks": hoarding.ADDRESS_NIKS,
        "rate_factor": hoarding.RATE_FACTOR,
        "rate_floor": hoarding.RATE_FLOOR,
        "usual_days": hoarding.USUAL_DAYS,
    }
