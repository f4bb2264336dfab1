"""An account's life after it is made (issue 22): disabled and enabled, deleted, its role and
branches changed, its password reset or changed, its failed sign-ins cleared; its tokens'
expiry and last use, its sessions' last use. Who may do each, and the last national admin."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from queue_service.domain import audit
from queue_service.domain.account_changes import AccountChanges
from queue_service.domain.accounts import (
    BRANCH_ADMIN,
    COUNTER_STAFF,
    NATIONAL_ADMIN,
    AccountRejectedError,
    Accounts,
)
from queue_service.domain.audit import Actor
from queue_service.domain.errors import ForbiddenError, NotFoundError, UnauthorizedError
from queue_service.domain.sign_in import LockedOutError, SignIn, SignInPolicy
from queue_service.domain.staff_sessions import StaffSessions, digest_of
from queue_service.store import keys

PASSWORD = "kata sandi panjang"
ACTOR = Actor("tester", NATIONAL_ADMIN, "10.0.0.9")


@pytest.fixture
def accounts(app, redis):
    return Accounts(redis)


@pytest.fixture
def changes(accounts, redis):
    return AccountChanges(accounts, SignIn(redis, accounts, b"secret", SignInPolicy()))


@pytest.fixture
def sessions(redis):
    return StaffSessions(redis, 30 * 60)


@pytest.fixture
def national(accounts):
    return accounts.create("pusat", NATIONAL_ADMIN)[0]


@pytest.fixture
def salemba_admin(accounts):
    return accounts.create("siti", BRANCH_ADMIN, ("jakarta-salemba", "bekasi"))[0]


def rejected(call) -> tuple[str, str]:
    with pytest.raises(AccountRejectedError) as refused:
        call()
    return refused.value.field, refused.value.key


def test_a_disabled_accounts_token_and_session_stop_at_once_and_enabling_restores_the_token(
    accounts, changes, sessions, national, clock, redis
):
    _staff, token = accounts.create("budi", COUNTER_STAFF, ("bekasi",))
    session = sessions.start("budi", "counter", "10.0.0.5", clock())
    assert accounts.authenticate(token, clock()).username == "budi"
    assert sessions.account(session, True, clock()).username == "budi"

    changed = changes.change(national, "budi", ACTOR, clock(), disabled=True)

    assert changed.disabled
    with pytest.raises(UnauthorizedError, match="disabled_account"):
        accounts.authenticate(token, clock())
    assert sessions.account(session, True, clock()) is None
    assert sessions.of_account("budi") == []

    changes.change(national, "budi", ACTOR, clock(), disabled=False)
    assert accounts.authenticate(token, clock()).username == "budi"
    assert sessions.account(session, True, clock()) is None  # a session stays ended
    [enabled, disabled, *_] = audit.read(redis)
    assert (disabled.action, json.loads(disabled.before), json.loads(disabled.after)) == (
        "account_changed",
        {"disabled": False, "role": COUNTER_STAFF, "branches": ["bekasi"]},
        {"disabled": True, "role": COUNTER_STAFF, "branches": ["bekasi"]},
    )
    assert json.loads(enabled.after)["disabled"] is False


def test_a_session_whose_account_was_disabled_behind_its_back_is_over(accounts, sessions, clock, redis):
    """Even if a session started after the disable (a sign-in racing it), it finds its
    account disabled and ends."""
    account, _token = accounts.create("budi", COUNTER_STAFF, ("bekasi",))
    redis.hset(keys.ACCOUNTS, "budi", json.dumps({**json.loads(account.to_json()), "disabled": True}))
    session = sessions.start("budi", "counter", "10.0.0.5", clock())
    assert sessions.account(session, False, clock()) is None
    assert not redis.exists(keys.staff_session(digest_of(session)))


def test_delete_takes_the_account_its_tokens_and_sessions_and_keeps_its_audit_entries(
    accounts, changes, sessions, national, clock, redis
):
    _staff, token = accounts.create("budi", COUNTER_STAFF, ("bekasi",), actor=ACTOR, now=clock())
    accounts.add_token("budi", "script", clock(), ACTOR)
    _other, other_token = accounts.create("wati", COUNTER_STAFF, ("bekasi",))
    session = sessions.start("budi", "counter", "10.0.0.5", clock())
    other_session = sessions.start("wati", "counter", "10.0.0.6", clock())
    accounts.authenticate(token, clock())  # a last use to forget too

    changes.delete(national, "budi", ACTOR, clock())

    assert accounts.get("budi") is None
    with pytest.raises(UnauthorizedError):
        accounts.authenticate(token, clock())
    assert sessions.account(session, False, clock()) is None
    assert not redis.exists(keys.account_tokens("budi"), keys.account_sessions("budi"))
    assert len(redis.hgetall(keys.API_TOKENS)) == 2  # pusat's and wati's
    assert redis.hlen(keys.TOKEN_LAST_USE) == 0
    # Nothing else went.
    assert accounts.authenticate(other_token, clock()).username == "wati"
    assert sessions.account(other_session, False, clock()).username == "wati"
    assert [e.action for e in audit.read(redis, actor="tester")] == [
        "account_deleted",
        "token_created",
        "account_created",
    ]
    with pytest.raises(NotFoundError):
        changes.delete(national, "budi", ACTOR, clock())


def test_a_branch_admin_manages_only_their_branches_counter_staff(accounts, changes, salemba_admin, clock):
    accounts.create("budi", COUNTER_STAFF, ("bekasi",))
    accounts.create("joko", COUNTER_STAFF, ("bogor-kota",))
    accounts.create("rina", BRANCH_ADMIN, ("bekasi",))

    assert changes.change(salemba_admin, "budi", ACTOR, clock(), disabled=True).disabled
    for username in ("joko", "rina", "siti"):
        with pytest.raises(ForbiddenError):
            changes.change(salemba_admin, username, ACTOR, clock(), disabled=True)
        with pytest.raises(ForbiddenError):
            changes.delete(salemba_admin, username, ACTOR, clock())
        with pytest.raises(ForbiddenError):
            changes.reset_password(salemba_admin, username, ACTOR, clock())
        with pytest.raises(ForbiddenError):
            changes.unlock(salemba_admin, username, ACTOR, clock())
    # Moved to another of their branches: yes; to another's branch, or promoted: no.
    assert changes.change(salemba_admin, "budi", ACTOR, clock(), branches=("jakarta-salemba",)).branches == (
        "jakarta-salemba",
    )
    with pytest.raises(ForbiddenError):
        changes.change(salemba_admin, "budi", ACTOR, clock(), branches=("bogor-kota",))
    with pytest.raises(ForbiddenError):
        changes.change(salemba_admin, "budi", ACTOR, clock(), role=BRANCH_ADMIN)
    assert accounts.get("budi").role == COUNTER_STAFF


def test_roles_and_branches_change_by_the_rules_of_creation(accounts, changes, national, clock):
    accounts.create("rina", BRANCH_ADMIN, ("bekasi", "bogor-kota"))

    assert rejected(lambda: changes.change(national, "rina", ACTOR, clock(), role=COUNTER_STAFF)) == (
        "branches",
        "branches_for_role",
    )
    assert rejected(lambda: changes.change(national, "rina", ACTOR, clock(), branches=())) == (
        "branches",
        "branches_for_role",
    )
    assert rejected(lambda: changes.change(national, "rina", ACTOR, clock(), branches=("atlantis",))) == (
        "branches",
        "unknown_branch",
    )
    assert rejected(lambda: changes.change(national, "rina", ACTOR, clock(), role="king")) == (
        "role",
        "unknown_role",
    )
    staff = changes.change(national, "rina", ACTOR, clock(), role=COUNTER_STAFF, branches=("bekasi",))
    assert (staff.role, staff.branches) == (COUNTER_STAFF, ("bekasi",))
    promoted = changes.change(national, "rina", ACTOR, clock(), role=NATIONAL_ADMIN)
    assert (promoted.role, promoted.branches) == (NATIONAL_ADMIN, ())
    with pytest.raises(NotFoundError):
        changes.change(national, "nobody", ACTOR, clock(), disabled=True)


def test_the_last_enabled_national_admin_is_never_disabled_demoted_or_deleted(
    accounts, changes, national, clock
):
    assert rejected(lambda: changes.change(national, "pusat", ACTOR, clock(), disabled=True)) == (
        "disabled",
        "last_national_admin",
    )
    assert rejected(
        lambda: changes.change(national, "pusat", ACTOR, clock(), role=BRANCH_ADMIN, branches=("bekasi",))
    ) == ("role", "last_national_admin")
    assert rejected(lambda: changes.delete(national, "pusat", ACTOR, clock())) == (
        "username",
        "last_national_admin",
    )
    assert not accounts.get("pusat").disabled

    second, _token = accounts.create("kedua", NATIONAL_ADMIN)
    assert changes.change(national, "pusat", ACTOR, clock(), disabled=True).disabled  # one is left
    assert rejected(lambda: changes.delete(second, "kedua", ACTOR, clock())) == (
        "username",
        "last_national_admin",
    )


def test_a_reset_gives_a_temporary_password_once_and_the_old_one_stops(
    accounts, changes, sessions, national, clock, redis
):
    accounts.create("budi", COUNTER_STAFF, ("bekasi",), password=PASSWORD)
    session = sessions.start("budi", "counter", "10.0.0.5", clock())

    temporary = changes.reset_password(national, "budi", ACTOR, clock())

    assert len(temporary) == 23 and temporary != PASSWORD
    assert accounts.check_password("budi", PASSWORD) is None
    account = accounts.check_password("budi", temporary)
    assert account is not None and account.must_change_password
    assert sessions.account(session, False, clock()) is None
    [entry] = audit.read(redis, action="password_reset")
    until = (clock() + dt.timedelta(hours=72)).astimezone(dt.UTC).isoformat()
    assert json.loads(entry.after) == {"must_change_password": True, "temporary_until": until}
    assert account.temporary_until == until
    everything = json.dumps([vars(e) for e in audit.read(redis)])
    assert temporary not in everything and "argon2" not in everything


def test_a_temporary_password_signs_in_for_its_hours_and_no_more(accounts, redis, national, clock):
    sign_in = SignIn(redis, accounts, b"secret", SignInPolicy(temporary_password_hours=2))
    changes = AccountChanges(accounts, sign_in)
    accounts.create("budi", COUNTER_STAFF, ("bekasi",), password=PASSWORD)
    temporary = changes.reset_password(national, "budi", ACTOR, clock())
    two_hours_on = clock() + dt.timedelta(hours=2)

    assert sign_in.attempt("budi", temporary, "10.0.0.5", two_hours_on - dt.timedelta(seconds=1))
    with pytest.raises(UnauthorizedError) as refused:
        sign_in.attempt("budi", temporary, "10.0.0.5", two_hours_on)
    assert refused.value.detail == "temporary_password_expired"  # told only to who knows it
    with pytest.raises(UnauthorizedError) as wrong:
        sign_in.attempt("budi", "salah sekali", "10.0.0.5", two_hours_on)
    assert wrong.value.detail == "bad_credentials"
    assert [entry.target for entry in audit.read(redis, action="sign_in_temporary_password_expired")] == [
        "budi"
    ]

    # Changed in time (signed in with it before it ran out), the new password has no limit.
    budi = accounts.get("budi")
    changes.change_own_password(budi, temporary, "rahasia baru yang panjang", None, "10.0.0.5", clock())
    assert accounts.get("budi").temporary_until == ""
    a_year_on = clock() + dt.timedelta(days=365)
    assert sign_in.attempt("budi", "rahasia baru yang panjang", "10.0.0.5", a_year_on).username == "budi"


def test_the_owner_changes_their_password_with_the_current_one(accounts, changes, sessions, clock, redis):
    accounts.create("budi", COUNTER_STAFF, ("bekasi",), password=PASSWORD)
    here = sessions.start("budi", "counter", "10.0.0.5", clock())
    elsewhere = sessions.start("budi", "counter", "10.0.0.6", clock())
    budi = accounts.get("budi")

    def change(current, new):
        return lambda: changes.change_own_password(budi, current, new, here, "10.0.0.5", clock())

    assert rejected(change("salah sekali", "rahasia baru yang panjang")) == (
        "current_password",
        "wrong_password",
    )
    assert rejected(change(PASSWORD, "pendek")) == ("password", "password_length")
    assert rejected(change(PASSWORD, "1qaz2wsx3edc")) == ("password", "password_common")
    assert rejected(change(PASSWORD, "budi punya rahasia")) == ("password", "password_contains_username")
    assert rejected(change(PASSWORD, PASSWORD)) == ("password", "password_unchanged")
    assert accounts.check_password("budi", PASSWORD) is not None

    change(PASSWORD, "rahasia baru yang panjang")()

    assert accounts.check_password("budi", PASSWORD) is None
    assert accounts.check_password("budi", "rahasia baru yang panjang").username == "budi"
    assert sessions.account(here, False, clock()).username == "budi"
    assert sessions.account(elsewhere, False, clock()) is None
    [entry] = audit.read(redis, action="password_changed")
    assert (entry.actor, entry.target) == ("budi", "budi")


def test_wrong_current_passwords_count_as_failed_sign_ins(accounts, changes, clock):
    accounts.create("budi", COUNTER_STAFF, ("bekasi",), password=PASSWORD)
    budi = accounts.get("budi")
    for _ in range(5):
        rejected(lambda: changes.change_own_password(budi, "salah", "x" * 20, None, "10.0.0.5", clock()))
    with pytest.raises(LockedOutError):
        changes.change_own_password(budi, PASSWORD, "rahasia baru yang panjang", None, "10.0.0.5", clock())


def test_unlock_clears_an_accounts_failed_sign_ins(accounts, changes, national, clock, redis):
    accounts.create("budi", COUNTER_STAFF, ("bekasi",), password=PASSWORD)
    for _ in range(5):
        with pytest.raises(UnauthorizedError):
            changes.sign_in.attempt("budi", "salah", "10.0.0.5", clock())
    with pytest.raises(LockedOutError):
        changes.sign_in.attempt("budi", PASSWORD, "10.0.0.5", clock())

    assert changes.unlock(national, "budi", ACTOR, clock())

    assert changes.sign_in.attempt("budi", PASSWORD, "10.0.0.5", clock()).username == "budi"
    assert not changes.unlock(national, "budi", ACTOR, clock())
    assert [json.loads(e.after) for e in audit.read(redis, action="account_unlocked")] == [
        {"cleared": False},
        {"cleared": True},
    ]


def test_a_token_with_an_expiry_is_refused_from_then_on_and_listed_as_expired(accounts, clock):
    accounts.create("pusat", NATIONAL_ADMIN)
    token = accounts.add_token("pusat", "nightly", clock(), expires_in_days=30)
    expires = clock() + dt.timedelta(days=30)

    assert accounts.authenticate(token, expires - dt.timedelta(seconds=1)).username == "pusat"
    with pytest.raises(UnauthorizedError, match="expired_token"):
        accounts.authenticate(token, expires)
    [default, nightly] = accounts.tokens("pusat", expires)
    assert (nightly.expires_at, nightly.expired) == (expires.isoformat(), True)
    assert (default.expires_at, default.expired) == (None, False)
    assert not accounts.tokens("pusat", clock())[1].expired


def test_a_tokens_last_use_is_written_at_most_once_a_minute(accounts, clock, redis):
    _account, token = accounts.create("pusat", NATIONAL_ADMIN)
    assert accounts.tokens("pusat", clock())[0].last_used_at is None
    start = clock()

    for seconds in (0, 30, 59):
        accounts.authenticate(token, start + dt.timedelta(seconds=seconds))
    assert accounts.tokens("pusat", clock())[0].last_used_at == start.astimezone(dt.UTC).isoformat()
    accounts.authenticate(token, start + dt.timedelta(seconds=60))
    later = (start + dt.timedelta(seconds=60)).astimezone(dt.UTC).isoformat()
    assert accounts.tokens("pusat", clock())[0].last_used_at == later


def test_sessions_are_listed_with_their_last_use_and_ended_one_by_one(accounts, sessions, clock, redis):
    accounts.create("budi", COUNTER_STAFF, ("bekasi",))
    start = clock()
    first = sessions.start("budi", "counter", "10.0.0.5", start)
    second = sessions.start("budi", "admin", "10.0.0.6", start + dt.timedelta(minutes=1))
    sessions.account(first, True, start + dt.timedelta(seconds=30))  # within the minute: not written
    sessions.account(first, False, start + dt.timedelta(minutes=5))  # not activity: not written
    sessions.account(second, True, start + dt.timedelta(minutes=3))

    newest, oldest = sessions.of_account("budi")

    utc = dt.UTC
    assert (oldest.surface, oldest.address, oldest.started_at, oldest.last_used_at) == (
        "counter",
        "10.0.0.5",
        start.astimezone(utc).isoformat(),
        start.astimezone(utc).isoformat(),
    )
    assert newest.last_used_at == (start + dt.timedelta(minutes=3)).astimezone(utc).isoformat()
    # A listed id ends its session and is nothing a cookie could carry.
    assert first not in json.dumps([vars(s) for s in (newest, oldest)])
    assert sessions.account(oldest.id, False, clock()) is None
    assert sessions.end_listed("budi", oldest.id)
    assert sessions.account(first, False, clock()) is None
    assert sessions.account(second, False, clock()).username == "budi"
    assert not sessions.end_listed("budi", oldest.id)
    assert [s.id for s in sessions.of_account("budi")] == [newest.id]
