"""Console sign-in: lock-out per name and address and per address, a slow-down per name, no
user enumeration, every attempt audited (tests/domain/test_sign_in_lockouts.py: a stranger
cannot lock an owner out)."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest

from queue_service.domain import audit
from queue_service.domain.accounts import NATIONAL_ADMIN, Accounts
from queue_service.domain.errors import UnauthorizedError
from queue_service.domain.sign_in import LockedOutError, SignIn, SignInPolicy

PASSWORD = "kata sandi panjang"


@pytest.fixture
def sign_in(app, redis):
    accounts = Accounts(redis)
    accounts.create("siti", NATIONAL_ADMIN, password=PASSWORD)
    return SignIn(redis, accounts, b"secret", SignInPolicy(account_failures=3, address_failures=5))


def fail(sign_in, username, address, clock):
    with pytest.raises(UnauthorizedError) as refused:
        sign_in.attempt(username, "salah", address, clock())
    return refused.value


def test_the_right_password_signs_in_and_is_audited(sign_in, clock, redis):
    assert sign_in.attempt("Siti ", PASSWORD, "10.0.0.1", clock()).username == "siti"
    [entry] = audit.read(redis)
    assert (entry.action, entry.actor, entry.address) == ("signed_in", "siti", "10.0.0.1")


def test_failures_from_anywhere_slow_the_name_down_without_locking_it_out(sign_in, clock, redis):
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        fail(sign_in, "siti", address, clock)
    with pytest.raises(LockedOutError) as slowed:
        sign_in.attempt("siti", PASSWORD, "10.0.0.4", clock())  # even the right password waits
    assert (slowed.value.retry_after, slowed.value.detail) == (1, "slowed_down")
    clock.set(clock() + dt.timedelta(seconds=1))
    assert sign_in.attempt("siti", PASSWORD, "10.0.0.4", clock()).username == "siti"
    assert [e.action for e in audit.read(redis)] == ["signed_in"] + ["sign_in_failed"] * 3


def test_an_address_is_locked_out_after_failures_on_many_names(sign_in, clock):
    for name in ("a1", "a2", "a3", "a4", "a5"):
        fail(sign_in, name, "10.9.9.9", clock)
    with pytest.raises(LockedOutError):
        sign_in.attempt("siti", PASSWORD, "10.9.9.9", clock())
    assert sign_in.attempt("siti", PASSWORD, "10.1.1.1", clock()).username == "siti"


def test_unknown_names_answer_and_lock_like_real_ones(sign_in, clock):
    unknown = [fail(sign_in, "nobody", f"10.0.1.{n}", clock) for n in range(3)]
    real = [fail(sign_in, "siti", f"10.0.2.{n}", clock) for n in range(3)]
    assert {str(e) for e in unknown} == {str(e) for e in real} == {"bad_credentials"}
    for name in ("nobody", "siti"):
        with pytest.raises(LockedOutError):
            sign_in.attempt(name, "salah", "10.0.3.1", clock())


def test_a_success_clears_the_names_failures(sign_in, clock):
    fail(sign_in, "siti", "10.0.0.1", clock)
    fail(sign_in, "siti", "10.0.0.1", clock)
    sign_in.attempt("siti", PASSWORD, "10.0.0.1", clock())
    fail(sign_in, "siti", "10.0.0.1", clock)
    fail(sign_in, "siti", "10.0.0.1", clock)
    assert sign_in.attempt("siti", PASSWORD, "10.0.0.1", clock()).username == "siti"


def test_counters_hold_no_name_or_address(sign_in, clock, redis):
    fail(sign_in, "siti", "10.0.0.77", clock)
    names = " ".join(redis.keys("*sign-in*"))
    assert "siti" not in names and "10.0.0.77" not in names


def test_guesses_sent_at_once_get_no_more_tries_than_one_after_another(sign_in, clock):
    def guess(attempt: int) -> str:
        try:
            sign_in.attempt("siti", f"salah {attempt}", f"10.0.4.{attempt}", clock())
        except LockedOutError:
            return "locked out"
        except UnauthorizedError:
            return "checked"
        return "signed in"

    with ThreadPoolExecutor(max_workers=40) as pool:
        outcomes = list(pool.map(guess, range(40)))

    assert outcomes.count("checked") == 3  # the name's limit: no password checked beyond it
    assert outcomes.count("locked out") == 37


def test_a_success_after_the_address_window_ran_out_leaves_no_counter_behind(sign_in, clock, redis):
    check = sign_in.accounts.check_password

    def window_runs_out_meanwhile(*args):
        for counter in redis.scan_iter(match="*sign-in-failures:address:*"):
            redis.delete(counter)  # as if its window ended while argon2 ran
        return check(*args)

    sign_in.accounts.check_password = window_runs_out_meanwhile
    assert sign_in.attempt("siti", PASSWORD, "10.0.5.1", clock()).username == "siti"
    # Not made again below zero and without an expiry, a standing extra allowance.
    assert list(redis.scan_iter(match="*sign-in-failures:*")) == []
