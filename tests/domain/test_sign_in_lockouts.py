"""Lock-outs a stranger cannot use against an account's owner (issue 22): failures lock the
pair of account and address, slow the account down from elsewhere, and its owner's right
password from an address not itself locked still signs in."""

from __future__ import annotations

import datetime as dt

import pytest

from queue_service.domain.accounts import COUNTER_STAFF, Accounts
from queue_service.domain.errors import UnauthorizedError
from queue_service.domain.sign_in import LockedOutError, SignIn, SignInPolicy

PASSWORD = "kata sandi panjang"
OWNER, STRANGER = "10.0.0.1", "10.6.6.6"


@pytest.fixture
def sign_in(app, redis):
    accounts = Accounts(redis)
    accounts.create("budi", COUNTER_STAFF, ("bekasi",), password=PASSWORD)
    return SignIn(redis, accounts, b"secret", SignInPolicy())  # 5 failures, 20 an address


def hammer(sign_in, clock, username="budi", addresses=(STRANGER,), times=20) -> list[str]:
    """A stranger's wrong passwords, one a second: what each got."""
    answers = []
    for attempt in range(times):
        clock.set(clock() + dt.timedelta(seconds=1))
        try:
            sign_in.attempt(username, f"tebakan {attempt}", addresses[attempt % len(addresses)], clock())
        except LockedOutError as refused:
            answers.append(refused.detail)
        except UnauthorizedError as refused:
            answers.append(refused.detail)
    return answers


def test_a_stranger_failing_20_times_elsewhere_does_not_lock_the_owner_out(sign_in, clock):
    sign_in.attempt("budi", PASSWORD, OWNER, clock())  # the owner's usual desk

    answers = hammer(sign_in, clock)

    assert answers == ["bad_credentials"] * 5 + ["locked_out"] * 15  # the stranger's pair locks
    assert sign_in.attempt("budi", PASSWORD, OWNER, clock()).username == "budi"
    with pytest.raises(LockedOutError):
        sign_in.attempt("budi", PASSWORD, STRANGER, clock())  # even the right password there


def test_from_an_address_new_to_it_the_owner_only_waits_the_slow_down(sign_in, clock):
    hammer(sign_in, clock, addresses=tuple(f"10.6.6.{n}" for n in range(20)))  # still going on

    with pytest.raises(LockedOutError) as slowed:
        sign_in.attempt("budi", PASSWORD, "10.0.0.2", clock())
    assert slowed.value.detail == "slowed_down" and 1 <= slowed.value.retry_after <= 60
    clock.set(clock() + dt.timedelta(seconds=slowed.value.retry_after))
    assert sign_in.attempt("budi", PASSWORD, "10.0.0.2", clock()).username == "budi"


def test_many_addresses_guessing_one_name_are_slowed_down_more_and_more(sign_in, clock):
    addresses = tuple(f"10.7.0.{n}" for n in range(40))
    for attempt in range(5):
        with pytest.raises(UnauthorizedError):
            sign_in.attempt("budi", f"tebakan {attempt}", addresses[attempt], clock())
    waits = []
    for attempt in range(5, 12):
        with pytest.raises(LockedOutError) as slowed:
            sign_in.attempt("budi", "tebakan", addresses[attempt], clock())
        waits.append(slowed.value.retry_after)
        clock.set(clock() + dt.timedelta(seconds=slowed.value.retry_after))
        with pytest.raises(UnauthorizedError):  # checked once the wait is over
            sign_in.attempt("budi", f"tebakan {attempt}", addresses[attempt], clock())
    assert waits == [1, 2, 4, 8, 16, 32, 60]


def test_unlock_clears_the_pairs_lock_and_the_slow_down(sign_in, clock):
    hammer(sign_in, clock, times=5)
    with pytest.raises(LockedOutError):
        sign_in.attempt("budi", PASSWORD, STRANGER, clock())

    assert sign_in.unlock("budi")

    assert sign_in.attempt("budi", PASSWORD, STRANGER, clock()).username == "budi"
    assert sign_in.attempt("budi", PASSWORD, "10.0.0.3", clock()).username == "budi"


def test_a_real_name_and_an_invented_one_are_slowed_and_locked_alike(sign_in, clock):
    assert hammer(sign_in, clock, "budi") == hammer(sign_in, clock, "tidakada")
    for name in ("budi", "tidakada"):
        with pytest.raises(UnauthorizedError):
            sign_in.attempt(name, "tebakan", "10.0.0.9", clock())
        with pytest.raises(LockedOutError) as slowed:
            sign_in.attempt(name, "tebakan", "10.0.0.10", clock())
        assert (slowed.value.detail, slowed.value.retry_after) == ("slowed_down", 2)
