"""The reservation operation, called directly (no HTTP)."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
import redis as redis_lib

from queue_service.domain import schedules
from queue_service.domain.audit import Actor
from queue_service.domain.availability import availability
from queue_service.domain.catalog import get_branch
from queue_service.domain.errors import (
    AlreadyBookedError,
    CancelledError,
    DayFullError,
    NotBookableError,
    NotFoundError,
    SlotFullError,
    TooLateError,
    ValidationFailedError,
)
from queue_service.domain.reservations import Reservations, reserve
from queue_service.store import keys
from tests.factories import JAKARTA, booking_request, make_nik


@pytest.fixture
def stepwise_reservations(app):
    """Booking step by step, as on a cluster, though on a single Redis."""
    return Reservations.from_settings(app.extensions["antrian"].redis, app.config, one_step=False)


@pytest.fixture(params=["one step", "step by step"])
def reservations(app, request):
    """The app's reservations, which book in one script on a single Redis, and the same
    booking step by step: every test here holds for both."""
    if request.param == "one step":
        return app.extensions["antrian"].reservations
    return request.getfixturevalue("stepwise_reservations")


TUESDAY = dt.date(2026, 11, 24)
WEDNESDAY = dt.date(2026, 11, 25)
WIT = ZoneInfo("Asia/Jayapura")


def request(**overrides):
    return booking_request(**overrides)


def test_a_booking_gets_a_code_and_the_first_queue_number(reservations, clock):
    booking = reservations.reserve(request(), clock())
    assert booking.queue_number == "A-001"
    assert booking.status == "booked"
    assert len(booking.code) == 10
    assert booking.slot_end == dt.time(9, 30)


def test_queue_numbers_count_per_service_and_are_never_reused(reservations, clock):
    first = reservations.reserve(request(), clock())
    other_service = reservations.reserve(request(service_id="jkk"), clock())
    reservations.cancel(first.code, first.nik, clock())
    after_cancel = reservations.reserve(request(), clock())
    assert (first.queue_number, other_service.queue_number, after_cancel.queue_number) == (
        "A-001",
        "B-001",
        "A-002",
    )


def test_slot_capacity_is_never_exceeded(reservations, clock, tune_branch):
    tune_branch("jakarta-salemba", slot_capacity=2)
    reservations.reserve(request(), clock())
    reservations.reserve(request(), clock())
    with pytest.raises(SlotFullError):
        reservations.reserve(request(), clock())
    reservations.reserve(request(slot=dt.time(9, 30)), clock())


def test_daily_quota_is_never_exceeded_even_when_slots_have_room(reservations, clock, tune_branch):
    tune_branch("jakarta-salemba", daily_quota=2)
    reservations.reserve(request(slot=dt.time(8, 0)), clock())
    reservations.reserve(request(slot=dt.time(10, 0)), clock())
    with pytest.raises(DayFullError):
        reservations.reserve(request(slot=dt.time(13, 0)), clock())


def test_service_quota_caps_one_service_only(reservations, clock, tune_branch, redis):
    tune_branch("jakarta-salemba", service_quotas={"jht": 1})
    reservations.reserve(request(), clock())
    with pytest.raises(DayFullError):
        reservations.reserve(request(), clock())
    reservations.reserve(request(service_id="jkk"), clock())
    branch = get_branch(redis, "jakarta-salemba")
    assert availability(redis, branch.id, TUESDAY, "jht", clock()).remaining == 0
    assert availability(redis, branch.id, TUESDAY, "jkk", clock()).remaining > 0


def test_date_override_quota_and_closure(app, reservations, clock):
    tuning, admin = app.extensions["antrian"].tuning, Actor("admin", "national_admin", "cli")
    tuning.set_date("jakarta-salemba", TUESDAY, schedules.DateOverride(daily_quota=1), admin, clock())
    reservations.reserve(request(), clock())
    with pytest.raises(DayFullError):
        reservations.reserve(request(), clock())
    tuning.set_date(
        "jakarta-salemba", TUESDAY, schedules.DateOverride(closed=True, note="Renovasi"), admin, clock()
    )
    with pytest.raises(NotBookableError, match="closed"):
        reservations.reserve(request(), clock())


def test_lowering_the_quota_keeps_existing_bookings(reservations, clock, tune_branch):
    made = [reservations.reserve(request(slot=dt.time(8, 0)), clock()) for _ in range(3)]
    tune_branch("jakarta-salemba", daily_quota=1)
    with pytest.raises(DayFullError):
        reservations.reserve(request(), clock())
    assert all(reservations.get(b.branch_id, b.code).status == "booked" for b in made)


def test_one_nik_one_booking_per_date_across_branches(reservations, clock):
    nik = make_nik()
    reservations.reserve(request(nik=nik), clock())
    with pytest.raises(AlreadyBookedError):
        reservations.reserve(request(nik=nik, branch_id="bekasi"), clock())
    reservations.reserve(request(nik=nik, date=TUESDAY + dt.timedelta(days=1)), clock())


def test_cancelling_frees_slot_quota_and_the_nik_date(reservations, clock, tune_branch, redis):
    tune_branch("jakarta-salemba", slot_capacity=1, daily_quota=1)
    booking = reservations.reserve(request(), clock())
    cancelled = reservations.cancel(booking.code, booking.nik, clock())
    assert cancelled.status == "cancelled"
    day = redis.hgetall(keys.day_counts("jakarta-salemba", TUESDAY.isoformat()))
    assert day == {"total": "0", "svc:jht": "0"}
    again = reservations.reserve(request(nik=booking.nik), clock())
    assert again.queue_number == "A-002"
    with pytest.raises(CancelledError):
        reservations.cancel(booking.code, booking.nik, clock())


def test_cancel_is_refused_once_the_slot_started(reservations, clock):
    booking = reservations.reserve(request(), clock())
    clock.set(dt.datetime(2026, 11, 24, 9, 0, tzinfo=JAKARTA))
    with pytest.raises(TooLateError):
        reservations.cancel(booking.code, booking.nik, clock())


def test_lookup_needs_the_right_code_and_nik(reservations, clock):
    booking = reservations.reserve(request(), clock())
    found = reservations.lookup(f"{booking.code[:5].lower()}-{booking.code[5:]}", booking.nik)
    assert found == booking
    for code, nik in ((booking.code, make_nik()), ("0000000000", booking.nik), ("?", booking.nik)):
        with pytest.raises(NotFoundError):
            reservations.lookup(code, nik)


def test_unknown_branch_or_service_names_the_field(reservations, clock):
    with pytest.raises(ValidationFailedError) as error:
        reservations.reserve(request(branch_id="atlantis"), clock())
    assert error.value.fields == {"branch_id": ["unknown_branch"]}
    with pytest.raises(ValidationFailedError) as error:
        reservations.reserve(request(branch_id="cilegon", service_id="registration"), clock())
    assert error.value.fields == {"service_id": ["service_not_offered"]}


@pytest.mark.parametrize(
    ("when", "date", "slot", "reason"),
    [
        (dt.datetime(2026, 11, 24, 8, 0, tzinfo=JAKARTA), TUESDAY, dt.time(9, 0), "slot_closed"),
        (dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA), TUESDAY, dt.time(9, 15), "no_such_slot"),
        (dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA), TUESDAY, dt.time(12, 0), "no_such_slot"),
        (
            dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA),
            dt.date(2026, 11, 27),
            dt.time(12, 0),
            "no_such_slot",
        ),  # Friday prayers
        (
            dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA),
            dt.date(2026, 11, 28),
            dt.time(9, 0),
            "no_service",
        ),  # Saturday
        (dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA), dt.date(2026, 11, 22), dt.time(9, 0), "past"),
        (
            dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA),
            dt.date(2026, 12, 8),
            dt.time(9, 0),
            "beyond_window",
        ),
        (dt.datetime(2026, 12, 20, 7, 0, tzinfo=JAKARTA), dt.date(2026, 12, 25), dt.time(9, 0), "holiday"),
    ],
)
def test_not_bookable_says_why(reservations, clock, when, date, slot, reason):
    clock.set(when)
    with pytest.raises(NotBookableError, match=reason):
        reservations.reserve(request(date=date, slot=slot), clock())


def test_branches_without_online_booking_refuse(reservations, clock):
    with pytest.raises(NotBookableError, match="online_booking_off"):
        reservations.reserve(request(branch_id="cirebon"), clock())


def test_jayapura_today_while_jakarta_is_still_yesterday(reservations, clock, tune_branch, redis):
    """23:30 WIB on Monday is 01:30 WIT on Tuesday: Tuesday is Jayapura's today, not Jakarta's."""
    for branch_id in ("jayapura", "jakarta-salemba"):
        tune_branch(branch_id, booking_window_days=0)  # today only
    clock.set(dt.datetime(2026, 11, 23, 23, 30, tzinfo=JAKARTA))
    booking = reservations.reserve(request(branch_id="jayapura", slot=dt.time(8, 0)), clock())
    assert booking.date == TUESDAY
    with pytest.raises(NotBookableError, match="beyond_window"):
        reservations.reserve(request(), clock())
    jayapura = get_branch(redis, "jayapura")
    tuesday = availability(redis, jayapura.id, TUESDAY, "jht", clock())
    assert tuesday.open and tuesday.slots[0].remaining == tuned_capacity(redis, "jayapura") - 1
    # Monday is over in Jayapura already.
    assert availability(redis, jayapura.id, TUESDAY - dt.timedelta(days=1), "jht", clock()).reason == "past"


def redis_now_ms(redis) -> int:
    seconds, micros = redis.time()
    return seconds * 1000 + micros // 1000


def tuned_capacity(redis, branch_id):
    return schedules.load_settings(redis, branch_id).slot_capacity


def test_cutoff_is_counted_in_the_branch_time_zone(reservations, clock):
    # Jayapura 09:00 WIT closes at 08:00 WIT, which is 06:00 WIB.
    clock.set(dt.datetime(2026, 11, 24, 5, 59, tzinfo=JAKARTA))
    reservations.reserve(request(branch_id="jayapura"), clock())
    clock.set(dt.datetime(2026, 11, 24, 8, 0, tzinfo=WIT))
    with pytest.raises(NotBookableError, match="slot_closed"):
        reservations.reserve(request(branch_id="jayapura"), clock())


def test_an_abandoned_claim_is_taken_over_after_the_claim_window(reservations, clock, redis):
    nik = make_nik()
    claim = keys.nik_day_claim(reservations.nik_digest(nik), TUESDAY.isoformat())
    # A process claimed the date and died before booking.
    redis.hset(
        claim,
        mapping={
            "code": "DEADBEEF00",
            "branch": "jakarta-salemba",
            "state": "pending",
            "at": redis_now_ms(redis),
        },
    )
    with pytest.raises(AlreadyBookedError, match="in_flight"):
        reservations.reserve(request(nik=nik), clock())
    redis.hset(claim, "at", redis_now_ms(redis) - 31_000)
    booking = reservations.reserve(request(nik=nik), clock())
    assert redis.hget(claim, "code") == booking.code


def test_a_claim_whose_booking_exists_still_blocks_the_nik(reservations, clock, redis):
    booking = reservations.reserve(request(), clock())
    claim = keys.nik_day_claim(reservations.nik_digest(booking.nik), TUESDAY.isoformat())
    # As if the process died after booking but before confirming the claim.
    redis.hset(claim, mapping={"state": "pending", "at": redis_now_ms(redis) - 60_000})
    assert reservations.lookup(booking.code, booking.nik) == booking  # found by its code
    with pytest.raises(AlreadyBookedError):
        reservations.reserve(request(nik=booking.nik, branch_id="bekasi"), clock())
    # The refused attempt finished the confirmation.
    assert redis.hget(claim, "state") == "active"


def test_a_claim_made_again_while_an_attempt_decided_to_take_it_over_still_holds(
    reservations, clock, redis, monkeypatch
):
    """Booking X moves from Tuesday to Wednesday; before the move frees Tuesday's claim, an
    attempt for Tuesday by the same NIK finds the claim held by X, reads X on Wednesday and
    decides to take the claim over. Meanwhile X moves back to Tuesday and claims it again.
    The attempt must not take over that new claim: one NIK, one booking a date."""
    nik = make_nik()
    moving = reservations.reserve(request(nik=nik), clock())
    tuesday_claim = keys.nik_day_claim(reservations.nik_digest(nik), TUESDAY.isoformat())
    release = reservations.scripts.release_nik
    monkeypatch.setattr(reservations.scripts, "release_nik", lambda **_kwargs: 0)
    reservations.reschedule(moving.code, nik, WEDNESDAY, dt.time(9, 0), clock())
    monkeypatch.setattr(reservations.scripts, "release_nik", release)
    decide = reservations.claims.take_over

    def decide_then_the_booking_moves_back(*args, **kwargs):
        taken_over = decide(*args, **kwargs)
        release(keys=[tuesday_claim], args=[moving.code])  # the first move finishes
        reservations.reschedule(moving.code, nik, TUESDAY, dt.time(10, 0), clock())
        return taken_over

    monkeypatch.setattr(reservations.claims, "take_over", decide_then_the_booking_moves_back)
    with pytest.raises(AlreadyBookedError):
        reservations.reserve(request(nik=nik), clock())
    booked = [
        code
        for code in redis.lrange(keys.day_bookings("jakarta-salemba", TUESDAY.isoformat()), 0, -1)
        if redis.hget(keys.booking("jakarta-salemba", code), "status") == "booked"
    ]
    assert booked == [moving.code]
    assert redis.hget(tuesday_claim, "code") == moving.code


@pytest.mark.parametrize("first_branch", ["jakarta-salemba", "bekasi"])
def test_a_new_code_that_another_booking_has_is_never_taken_from_it(
    reservations, clock, monkeypatch, first_branch
):
    first = reservations.reserve(request(branch_id=first_branch), clock())
    codes = iter([first.code, "ZZZZZZZZZZ"])
    monkeypatch.setattr(reserve, "new_code", lambda: next(codes))

    second = reservations.reserve(request(), clock())

    assert second.code == "ZZZZZZZZZZ"
    assert reservations.lookup(first.code, first.nik) == first
    assert reservations.lookup(second.code, second.nik) == second


def test_moving_a_booking_to_an_earlier_date_keeps_its_code_entry_as_long_as_the_booking(
    reservations, clock, redis
):
    booking = reservations.reserve(request(date=WEDNESDAY), clock())
    reservations.reschedule(booking.code, booking.nik, TUESDAY, dt.time(9, 0), clock())

    entry_ms = redis.pttl(keys.code_branch(booking.code))
    record_ms = redis.pttl(keys.booking("jakarta-salemba", booking.code))
    assert entry_ms >= record_ms - 5_000
    assert reservations.lookup(booking.code, booking.nik).date == TUESDAY


def test_a_booking_is_findable_even_if_its_claim_is_never_confirmed(
    stepwise_reservations, clock, monkeypatch
):
    # Only step by step is the confirmation a call of its own, which a connection can lose.
    reservations = stepwise_reservations

    def lost(*_args, **_kwargs):
        raise redis_lib.TimeoutError("connection lost after the reservation committed")

    monkeypatch.setattr(reservations.scripts, "confirm_nik", lost)
    booking = reservations.reserve(request(), clock())  # committed: not reported as failed
    assert reservations.lookup(booking.code, booking.nik).status == "booked"
    with pytest.raises(AlreadyBookedError):
        reservations.reserve(request(nik=booking.nik, branch_id="bekasi"), clock())
    assert reservations.cancel(booking.code, booking.nik, clock()).status == "cancelled"


def test_a_refused_reservation_leaves_no_code_behind(reservations, clock, tune_branch, redis):
    tune_branch("jakarta-salemba", slot_capacity=0)
    nik = make_nik()
    with pytest.raises(SlotFullError):
        reservations.reserve(request(nik=nik), clock())
    digest = reservations.nik_digest(nik)
    assert redis.keys(f"*{{n:{digest}}}*") == []
    assert redis.keys("*{k:*}:branch") == []  # a rush's refusals keep nothing for months


def test_a_nik_refused_for_its_date_leaves_no_code_behind(reservations, clock, redis):
    booking = reservations.reserve(request(), clock())
    with pytest.raises(AlreadyBookedError):
        reservations.reserve(request(nik=booking.nik, branch_id="bekasi"), clock())
    assert redis.keys("*{k:*}:branch") == [keys.code_branch(booking.code)]


def test_a_stalled_reservation_never_books_on_an_expired_claim(reservations, clock, redis):
    branch = "jakarta-salemba"
    day = TUESDAY.isoformat()
    outcome = reservations.scripts.reserve(
        keys=[
            keys.branch_settings(branch),
            keys.branch_dates(branch),
            keys.slot_counts(branch, day),
            keys.day_counts(branch, day),
            keys.queue_sequence(branch, day),
            keys.day_bookings(branch, day),
            keys.booking(branch, "STALLED000"),
        ],
        args=[
            "STALLED000",
            day,
            "09:00",
            "jht",
            "A",
            redis_now_ms(redis) - 16_000,
            15_000,
            redis_now_ms(redis) + 60_000,
            "{}",
        ],
    )
    assert outcome == ["claim_expired"]
    assert not redis.exists(keys.booking(branch, "STALLED000"))


def test_hundreds_of_concurrent_reservations_fill_one_slot_exactly(reservations, clock, tune_branch, redis):
    capacity = 7
    tune_branch("jakarta-salemba", slot_capacity=capacity, daily_quota=500)
    attempts = 300
    niks = [make_nik() for _ in range(attempts - 20)]
    niks += niks[:20]  # twenty people also try twice at once
    start = threading.Barrier(50)

    def attempt(nik):
        try:
            start.wait(timeout=5)
        except threading.BrokenBarrierError:
            pass
        try:
            return reservations.reserve(request(nik=nik), clock())
        except (SlotFullError, AlreadyBookedError) as refusal:
            return refusal

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(attempt, niks))

    booked = [r for r in results if not isinstance(r, Exception)]
    assert len(booked) == capacity
    assert sorted(b.queue_number for b in booked) == [f"A-{n:03d}" for n in range(1, capacity + 1)]
    assert len({b.nik for b in booked}) == capacity
    branch = get_branch(redis, "jakarta-salemba")
    slot = next(
        s for s in availability(redis, branch.id, TUESDAY, "jht", clock()).slots if s.start == "09:00"
    )
    assert slot.remaining == 0
    assert redis.hget(keys.slot_counts("jakarta-salemba", TUESDAY.isoformat()), "09:00") == str(capacity)


def test_concurrent_attempts_by_one_nik_at_many_branches_book_once(reservations, clock):
    nik = make_nik()
    branches = [
        "jakarta-salemba",
        "bekasi",
        "bogor-kota",
        "serang",
        "malang",
        "padang",
        "palembang",
        "pontianak",
    ] * 10

    def attempt(branch_id):
        try:
            return reservations.reserve(request(nik=nik, branch_id=branch_id), clock())
        except AlreadyBookedError as refusal:
            return refusal

    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(attempt, branches))
    assert sum(not isinstance(r, Exception) for r in results) == 1


def test_settings_changed_while_booking_are_not_booked_past(reservations, clock, redis, monkeypatch):
    # No booking slips past a settings change: the slot 09:30 was computed from 30-minute
    # slots; an admin changes to hourly slots before the reserve script runs, and 09:30 no
    # longer exists.
    read_context = reserve.load_context

    def tuned_right_after_reading(store, booking_request, person_count=None, captcha=None):
        context = read_context(store, booking_request, person_count, captcha)
        settings = schedules.load_settings(redis, "jakarta-salemba")
        settings.slot_minutes = 60
        schedules.store_settings(redis, "jakarta-salemba", settings)
        return context

    monkeypatch.setattr(reserve, "load_context", tuned_right_after_reading)
    with pytest.raises(NotBookableError, match="no_such_slot"):
        reservations.reserve(request(slot=dt.time(9, 30)), clock())
    assert redis.keys("antrian:{b:jakarta-salemba}:booking:*") == []


def test_a_settings_change_that_keeps_the_slot_books_on_the_fresh_settings(
    reservations, clock, redis, monkeypatch
):
    read_context = reserve.load_context
    changed = []

    def tuned_once(store, booking_request, person_count=None, captcha=None):
        context = read_context(store, booking_request, person_count, captcha)
        if not changed:
            schedules.store_settings(
                redis,
                "jakarta-salemba",
                schedules.BranchSettings(**{**vars(context.settings), "booking_cutoff_minutes": 30}),
            )
            changed.append(True)
        return context

    monkeypatch.setattr(reserve, "load_context", tuned_once)
    booking = reservations.reserve(request(), clock())
    assert booking.status == "booked"


def test_on_a_single_redis_a_booking_is_one_script_call(app, stepwise_reservations, clock, redis):
    def scripts_run(reservations) -> int:
        reservations.reserve(request(), clock())  # the scripts are loaded by a first call
        before = redis.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
        reservations.reserve(request(), clock())
        return redis.info("commandstats")["cmdstat_evalsha"]["calls"] - before

    # Without the app's hook, which queues the SMS job by a script of RQ's.
    assert scripts_run(Reservations.from_settings(redis, app.config)) == 1
    # code's entry, claim, the phone's count, reserve, confirm
    assert scripts_run(stepwise_reservations) == 5
