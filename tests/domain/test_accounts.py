"""Accounts, tokens and passwords; who may do what."""

from __future__ import annotations

import pytest

from queue_service.domain import audit, authz
from queue_service.domain.accounts import (
    BRANCH_ADMIN,
    COUNTER_STAFF,
    NATIONAL_ADMIN,
    Accounts,
    token_digest,
)
from queue_service.domain.authz import Action
from queue_service.domain.errors import ForbiddenError, UnauthorizedError
from queue_service.store import keys


@pytest.fixture
def accounts(app, redis):
    return Accounts(redis)


def test_a_token_names_its_account_and_only_its_hash_is_kept(accounts, redis):
    account, token = accounts.create("siti", BRANCH_ADMIN, ("jakarta-salemba",))
    assert accounts.authenticate(token) == account
    stored = " ".join(f"{k} {v}" for k, v in redis.hgetall(keys.API_TOKENS).items())
    assert token not in stored and token_digest(token) in stored


def test_tokens_are_listed_by_name_and_revoked_at_once(accounts):
    _account, first = accounts.create("siti", NATIONAL_ADMIN)
    second = accounts.add_token("siti", "nightly script")
    listed = accounts.tokens("siti")
    assert [token.name for token in listed] == ["default", "nightly script"]
    assert all(first not in repr(token) and second not in repr(token) for token in listed)

    assert accounts.revoke_token("siti", listed[1].id)
    with pytest.raises(UnauthorizedError):
        accounts.authenticate(second)
    assert accounts.authenticate(first).username == "siti"
    assert not accounts.revoke_token("siti", listed[1].id)


@pytest.mark.parametrize(
    ("username", "role", "branches", "message"),
    [
        ("Siti Admin", NATIONAL_ADMIN, (), "username"),
        ("siti", "superuser", (), "unknown role"),
        ("siti", NATIONAL_ADMIN, ("bekasi",), "name none"),
        ("siti", BRANCH_ADMIN, (), "at least one branch"),
        ("siti", COUNTER_STAFF, ("bekasi", "bogor-kota"), "exactly one branch"),
        ("siti", BRANCH_ADMIN, ("atlantis",), "unknown branch: atlantis"),
    ],
)
def test_bad_accounts_are_refused_by_what_is_wrong(accounts, username, role, branches, message):
    with pytest.raises(ValueError, match=message):
        accounts.create(username, role, branches)


def test_a_username_is_taken_once(accounts):
    accounts.create("siti", NATIONAL_ADMIN)
    with pytest.raises(ValueError, match="taken"):
        accounts.create("siti", BRANCH_ADMIN, ("bekasi",))


def test_passwords_are_argon2_and_short_ones_refused(accounts, redis):
    accounts.create("siti", NATIONAL_ADMIN, password="kata sandi panjang")
    assert accounts.get("siti").password_hash.startswith("$argon2")
    assert accounts.check_password("siti", "kata sandi panjang").username == "siti"
    assert accounts.check_password("siti", "salah") is None
    assert accounts.check_password("nobody", "kata sandi panjang") is None
    accounts.create("budi", NATIONAL_ADMIN)  # API only: no password signs in
    assert accounts.check_password("budi", "") is None
    with pytest.raises(ValueError, match="at least 12"):
        accounts.create("andi", NATIONAL_ADMIN, password="pendek")


@pytest.mark.parametrize(
    ("role", "branches", "action", "branch", "allowed"),
    [
        (NATIONAL_ADMIN, (), Action.TUNE_BRANCH, "bekasi", True),
        (NATIONAL_ADMIN, (), Action.CLOSE_NATIONALLY, None, True),
        (BRANCH_ADMIN, ("bekasi",), Action.TUNE_BRANCH, "bekasi", True),
        (BRANCH_ADMIN, ("bekasi",), Action.TUNE_BRANCH, "jakarta-salemba", False),
        (BRANCH_ADMIN, ("bekasi",), Action.CLOSE_NATIONALLY, None, False),
        (BRANCH_ADMIN, ("bekasi",), Action.MANAGE_ACCOUNTS, None, False),
        (COUNTER_STAFF, ("bekasi",), Action.OPERATE_QUEUE, "bekasi", True),
        (COUNTER_STAFF, ("bekasi",), Action.OPERATE_QUEUE, "bogor-kota", False),
        (COUNTER_STAFF, ("bekasi",), Action.READ_BOOKINGS, "bekasi", False),
    ],
)
def test_one_place_decides_who_may_do_what(accounts, role, branches, action, branch, allowed):
    account, _token = accounts.create("siti", role, branches)
    assert authz.may(account, action, branch) is allowed
    if not allowed:
        with pytest.raises(ForbiddenError):
            authz.require(account, action, branch)


def test_create_admin_prints_a_working_token_on_its_last_line(app, runner, client, redis):
    result = runner("create-admin", "nasional")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    response = client.get(
        "/api/v1/admin/branches/jayapura/settings", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert Accounts(redis).get("nasional").password_hash is None
    [entry] = audit.read(redis)
    assert (entry.action, entry.target, entry.actor) == ("account_created", "nasional", "cli")


def test_create_admin_of_branches_with_a_password_from_stdin(app, runner, redis):
    result = runner(
        "create-admin",
        "siti",
        "--branch",
        "bekasi",
        "--branch",
        "bogor-kota",
        "--password-stdin",
        stdin="kata sandi panjang\n",
    )
    assert result.returncode == 0, result.stderr
    account = Accounts(redis).check_password("siti", "kata sandi panjang")
    assert (account.role, account.branches) == (BRANCH_ADMIN, ("bekasi", "bogor-kota"))


def test_create_staff_and_refusals(app, runner, redis):
    result = runner("create-staff", "loket1", "bekasi")
    assert result.returncode == 0
    assert Accounts(redis).get("loket1").role == COUNTER_STAFF
    again = runner("create-staff", "loket1", "bekasi")
    assert again.returncode == 2 and "taken" in again.stderr
    unknown = runner("create-staff", "loket2", "atlantis")
    assert unknown.returncode == 2 and "unknown branch: atlantis" in unknown.stderr
