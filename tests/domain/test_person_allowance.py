"""The per-person allowance of booking attempts, as the domain counts it (no Flask)."""

import pytest

from queue_service.domain.person_allowance import AttemptsUsedUpError, PersonAllowance
from tests.factories import make_nik


def allowance(redis, limit="2 per hour", **options) -> PersonAllowance:
    return PersonAllowance(limit, b"secret", counter_store=lambda: redis, rides_on_booking=False, **options)


def test_a_nik_or_a_phone_spends_its_allowance_from_one_address(redis):
    counting, nik = allowance(redis), make_nik()
    counting.count(nik, "+6281234560001", "192.0.2.1")
    counting.count(nik, "+6281234560002", "192.0.2.1")
    with pytest.raises(AttemptsUsedUpError) as refused:
        counting.count(nik, "+6281234560003", "192.0.2.1")  # the NIK's third
    assert refused.value.limit_amount == 2 and 3500 < refused.value.retry_after <= 3600
    counting.count(make_nik(), "+6281234560001", "192.0.2.1")  # that phone's second
    with pytest.raises(AttemptsUsedUpError):
        counting.count(make_nik(), "+6281234560001", "192.0.2.1")  # and third
    # A stranger at another address spends only their own allowance, not the owner's.
    counting.count(nik, "+6281234560009", "198.51.100.7")


def test_the_counters_name_no_personal_data(redis):
    nik = make_nik()
    allowance(redis).count(nik, "+6281234567890", "192.0.2.1")
    names = " ".join(redis.keys("*"))
    assert nik not in names and "6281234567890" not in names and "192.0.2.1" not in names


def test_riding_on_the_booking_counts_nothing_until_sent(redis):
    riding = PersonAllowance("1 per hour", b"s", counter_store=lambda: redis, rides_on_booking=True)
    nik = make_nik()
    pending = riding.count(nik, "+6281234560001", "192.0.2.1")
    assert pending is not None and redis.keys("*{a:*") == []
    pipe = redis.pipeline(transaction=False)
    pending.queue(pipe)
    pending.settle(pipe.execute(raise_on_error=False))
    again = riding.count(nik, "+6281234560001", "192.0.2.1")
    with pytest.raises(AttemptsUsedUpError):
        again.count()


def test_off_counts_nothing(redis):
    off, nik = allowance(redis, "1 per hour", enabled=False), make_nik()
    for _ in range(3):
        assert off.count(nik, "+6281234560001", "192.0.2.1") is None
    assert redis.keys("*{a:*") == []
