"""The command line for an account's bad day (issue 22): reset-password, unlock."""

from __future__ import annotations

import pytest

from queue_service.domain import audit
from queue_service.domain.accounts import COUNTER_STAFF
from queue_service.domain.errors import UnauthorizedError
from queue_service.domain.sign_in import LockedOutError
from queue_service.domain.staff_sessions import StaffSessions

PASSWORD = "kata sandi panjang"


@pytest.fixture
def antrian(app):
    antrian = app.extensions["antrian"]
    antrian.accounts.create("budi", COUNTER_STAFF, ("bekasi",), password=PASSWORD)
    return antrian


def test_reset_password_prints_a_temporary_password_that_must_be_changed(antrian, runner, redis, clock):
    session = StaffSessions(redis, 1800).start("budi", "counter", "10.0.0.5", clock())

    done = runner("reset-password", "budi")

    assert done.returncode == 0, done.stderr
    temporary = done.stdout.strip().splitlines()[-1]
    account = antrian.accounts.check_password("budi", temporary)
    assert account is not None and account.must_change_password
    assert antrian.accounts.check_password("budi", PASSWORD) is None
    assert StaffSessions(redis, 1800).account(session, False, clock()) is None
    [entry] = audit.read(redis, action="password_reset")
    assert (entry.actor, entry.target) == ("cli", "budi")
    assert temporary not in entry.after


def test_unlock_clears_the_failed_sign_ins(antrian, runner, clock):
    for _ in range(5):
        with pytest.raises(UnauthorizedError):
            antrian.sign_in.attempt("budi", "salah", "10.0.0.5", clock())
    with pytest.raises(LockedOutError):
        antrian.sign_in.attempt("budi", PASSWORD, "10.0.0.5", clock())

    done = runner("unlock", "budi")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "budi: failed sign-ins cleared."
    assert antrian.sign_in.attempt("budi", PASSWORD, "10.0.0.5", clock()).username == "budi"


@pytest.mark.parametrize("command", ["reset-password", "unlock"])
def test_an_unknown_account_is_named(antrian, runner, command):
    done = runner(command, "tidakada")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.strip() == "queue-service: no account 'tidakada'"
