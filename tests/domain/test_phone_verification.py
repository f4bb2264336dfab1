"""A place held until its phone's one-time code confirms it (``PHONE_VERIFICATION``): booked
in one script (single Redis) and step by step (as on a cluster)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from queue_service.domain import schedules
from queue_service.domain.errors import (
    AlreadyBookedError,
    CancelledError,
    HoldExpiredError,
    ResendLimitError,
    SlotFullError,
    TooManyBookingsError,
    VerificationFailedError,
)
from queue_service.domain.reservations import Reservations
from queue_service.domain.reservations.holds import RESEND_INTERVAL_MS, SENDS_ALLOWED
from queue_service.store import keys
from tests.factories import booking_request

TUESDAY = "2026-11-24"
# A hold this short runs out while a test waits for it (0.6 s).
SHORT_HOLD_MINUTES = 0.01


@pytest.fixture
def settings(settings):
    return {**settings, "PHONE_VERIFICATION": True, "BOOKINGS_PER_PHONE": 3}


@pytest.fixture(params=["one step", "step by step"])
def reservations(app, request):
    return Reservations.from_settings(
        app.extensions["antrian"].redis, app.config, one_step=request.param == "one step"
    )


@pytest.fixture
def short_holds(app):
    """Reservations whose holds run out within a test."""
    return Reservations.from_settings(
        app.extensions["antrian"].redis, {**app.config, "PHONE_VERIFICATION_MINUTES": SHORT_HOLD_MINUTES}
    )


def hold(reservations, clock, **fields):
    return reservations.reserve(booking_request(**fields), clock())


def one_time_code(redis, booking) -> str:
    """The code the worker would text (tests/notifications shows it does)."""
    return redis.hget(keys.booking(booking.branch_id, booking.code), "otp")


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def day_total(redis, branch="jakarta-salemba") -> int:
    return int(redis.hget(keys.day_counts(branch, TUESDAY), "total") or 0)


def slot_taken(redis, slot="09:00", branch="jakarta-salemba") -> int:
    return int(redis.hget(keys.slot_counts(branch, TUESDAY), slot) or 0)


def outbox(redis, branch="jakarta-salemba") -> set[str]:
    return set(redis.zrange(keys.sms_outbox(branch), 0, -1))


def wait_past(booking) -> None:
    time.sleep(max(0.0, booking.verify_by.timestamp() - time.time()) + 0.1)


def test_a_new_booking_is_held_and_counted_and_its_code_goes_out_not_the_booking(reservations, clock, redis):
    held = hold(reservations, clock)

    assert held.status == "pending"
    assert held.verify_by is not None
    assert 9 * 60 < (held.verify_by - dt.datetime.now(dt.UTC)).total_seconds() <= 10 * 60
    assert (day_total(redis), slot_taken(redis)) == (1, 1)
    assert outbox(redis) == {f"{held.code}:otp"}
    assert len(one_time_code(redis, held)) == 6 and one_time_code(redis, held).isdigit()
    # It holds the NIK's date and counts against the phone while it waits.
    with pytest.raises(AlreadyBookedError):
        hold(reservations, clock, nik=held.nik, branch_id="bekasi")


def test_the_right_code_books_it_and_only_then_is_the_booking_texted(reservations, clock, redis):
    held = hold(reservations, clock)

    booked = reservations.verify(held.code, held.nik, one_time_code(redis, held))

    assert booked.status == "booked"
    assert (booked.code, booked.queue_number) == (held.code, held.queue_number)
    assert outbox(redis) == {f"{held.code}:otp", f"{held.code}:booked"}
    assert redis.zcard(keys.branch_holds("jakarta-salemba")) == 0
    assert (day_total(redis), slot_taken(redis)) == (1, 1)
    # A re-sent call (its answer lost) answers the same, and writes nothing twice.
    assert reservations.verify(held.code, held.nik, one_time_code(redis, held) or "000000").status == "booked"
    assert len(outbox(redis)) == 2


def test_three_wrong_codes_release_the_place_the_date_and_the_phone(reservations, clock, redis):
    held = hold(reservations, clock)
    code = one_time_code(redis, held)

    lefts = []
    for _ in range(3):
        with pytest.raises(VerificationFailedError) as refused:
            reservations.verify(held.code, held.nik, wrong(code))
        lefts.append(refused.value.left)

    assert lefts == [2, 1, 0]
    assert reservations.get(held.branch_id, held.code).status == "expired"
    assert (day_total(redis), slot_taken(redis)) == (0, 0)
    # Even the right code is too late now.
    with pytest.raises(HoldExpiredError):
        reservations.verify(held.code, held.nik, code)
    # The NIK's date is free (at once, not after the claim window) and the phone's count too.
    again = hold(reservations, clock, nik=held.nik)
    assert again.status == "pending"
    assert held.code not in redis.hkeys(reservations.phones.key(held.phone))
    # Its queue number is not issued twice.
    assert again.queue_number != held.queue_number


def test_a_code_after_the_deadline_is_refused_and_releases_the_hold(short_holds, clock, redis):
    held = hold(short_holds, clock)
    code = one_time_code(redis, held)
    wait_past(held)

    with pytest.raises(HoldExpiredError):
        short_holds.verify(held.code, held.nik, code)

    assert short_holds.get(held.branch_id, held.code).status == "expired"
    assert (day_total(redis), slot_taken(redis)) == (0, 0)


def test_the_next_booking_at_the_branch_releases_holds_that_ran_out(short_holds, clock, redis):
    first = hold(short_holds, clock, slot=dt.time(9, 0))
    wait_past(first)

    second = hold(short_holds, clock, slot=dt.time(10, 0))

    assert short_holds.get(first.branch_id, first.code).status == "expired"
    assert (day_total(redis), slot_taken(redis, "09:00"), slot_taken(redis, "10:00")) == (1, 0, 1)
    assert second.queue_number > first.queue_number  # never reused


def test_the_sweep_releases_every_branch_s_holds_that_ran_out_and_frees_the_nik(short_holds, clock, redis):
    salemba = hold(short_holds, clock)
    bekasi = hold(short_holds, clock, branch_id="bekasi")
    wait_past(bekasi)

    released = short_holds.release_expired_holds(["jakarta-salemba", "bekasi", "makassar"])

    assert released == 2
    for held in (salemba, bekasi):
        assert short_holds.get(held.branch_id, held.code).status == "expired"
        assert not redis.exists(short_holds.claims.key(held.nik, TUESDAY))
    assert (day_total(redis), day_total(redis, "bekasi")) == (0, 0)
    assert short_holds.release_expired_holds(["jakarta-salemba", "bekasi"]) == 0


def test_a_full_slot_opens_again_when_its_holds_run_out(short_holds, clock, redis):
    places = schedules.load_settings(redis, "jakarta-salemba").slot_capacity
    holds = [hold(short_holds, clock, phone=f"+628123450{n:04d}") for n in range(places)]
    with pytest.raises(SlotFullError):
        hold(short_holds, clock, phone="+6281299990000")
    wait_past(holds[-1])

    assert hold(short_holds, clock, phone="+6281299990000").status == "pending"
    assert slot_taken(redis) == 1


def test_a_new_code_replaces_the_old_one_a_minute_apart_and_three_times_at_most(reservations, clock, redis):
    held = hold(reservations, clock)
    first = one_time_code(redis, held)
    booking_key = keys.booking(held.branch_id, held.code)

    with pytest.raises(ResendLimitError) as too_soon:
        reservations.resend_code(held.code, held.nik)
    assert 0 < too_soon.value.retry_after <= RESEND_INTERVAL_MS // 1000

    for sends in range(2, SENDS_ALLOWED + 1):
        # As if the minute had passed (the interval is judged on Redis's clock).
        redis.hincrby(booking_key, "otp_sent_ms", -RESEND_INTERVAL_MS)
        assert reservations.resend_code(held.code, held.nik).status == "pending"
        assert f"{held.code}:otp{sends}" in outbox(redis)
    redis.hincrby(booking_key, "otp_sent_ms", -RESEND_INTERVAL_MS)
    with pytest.raises(ResendLimitError) as too_many:
        reservations.resend_code(held.code, held.nik)
    assert 0 < too_many.value.retry_after <= 10 * 60

    latest = one_time_code(redis, held)
    if latest != first:
        with pytest.raises(VerificationFailedError):
            reservations.verify(held.code, held.nik, first)
    assert reservations.verify(held.code, held.nik, latest).status == "booked"


def test_a_hold_may_be_cancelled_without_an_sms(reservations, clock, redis):
    held = hold(reservations, clock)

    cancelled = reservations.cancel(held.code, held.nik, clock())

    assert cancelled.status == "cancelled"
    assert outbox(redis) == {f"{held.code}:otp"}
    assert (day_total(redis), slot_taken(redis)) == (0, 0)
    with pytest.raises(CancelledError):
        reservations.verify(held.code, held.nik, one_time_code(redis, held))


def test_holds_count_against_the_phone_and_free_it_when_they_run_out(short_holds, clock, redis):
    branches = ("jakarta-salemba", "bekasi", "bogor-kota")
    holds = [hold(short_holds, clock, branch_id=branch) for branch in branches]
    with pytest.raises(TooManyBookingsError):
        hold(short_holds, clock, branch_id="jakarta-cilandak")
    wait_past(holds[-1])

    assert hold(short_holds, clock, branch_id="jakarta-cilandak").status == "pending"


def test_verification_off_books_at_once(app, clock, redis):
    reservations = Reservations.from_settings(
        app.extensions["antrian"].redis, {**app.config, "PHONE_VERIFICATION": False}
    )
    booked = hold(reservations, clock)
    assert booked.status == "booked" and booked.verify_by is None
    assert outbox(redis) == {f"{booked.code}:booked"}
