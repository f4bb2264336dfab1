"""What happens to an account after it is made: disabled and enabled, deleted, its role and
branches changed, its password changed by its owner or reset by an admin, its failed sign-ins
cleared. Each change is audited in the national stream (never a password or its hash).

Who may (``authz.require_manage``): a national admin any account; a branch admin only counter
staff of their own branches, and only into counter staff of their own branches. The command
line (``by=None``) may do anything. Whoever asks, the service keeps one enabled national
admin at least: the last one cannot be disabled, deleted or given another role.

Each change is one step (``change_account.lua``) against the account as it was read, so two
admins changing one account at once cannot undo each other's change unseen, and two national
admins disabling each other at once cannot leave none. A disabled or deleted account's API
tokens are refused from their next request and its sessions end at once; a reset ends every
session of the account, a change of one's own password every other one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from queue_service.domain import authz, passwords
from queue_service.domain.accounts import (
    NATIONAL_ADMIN,
    Account,
    AccountRejectedError,
    Accounts,
    check_new_password,
    check_role,
)
from queue_service.domain.audit import Actor
from queue_service.domain.errors import NotFoundError, UnauthorizedError
from queue_service.domain.sign_in import SignIn
from queue_service.domain.staff_sessions import digest_of
from queue_service.store import keys

# Reads again and decides again when the account changed meanwhile, at most this often.
_TRIES = 5


class AccountChanges:
    """Changes to existing accounts.

    Args:
        accounts: the accounts; sign_in: the console's sign-in (its failures, and the check of
            a current password, counted as a sign-in is).
    """

    def __init__(self, accounts: Accounts, sign_in: SignIn):
        self.accounts = accounts
        self.sign_in = sign_in
        self.redis = accounts.redis

    def managed(self, by: Account | None, username: str) -> Account:
        """The account ``username``, if ``by`` may change it (None: the command line).

        Raises:
            NotFoundError: no such account.
            ForbiddenError: not ``by``'s to manage.
        """
        target = self.accounts.get(username)
        if target is None:
            raise NotFoundError("account")
        if by is not None:
            authz.require_manage(by, target.role, target.branches)
        return target

    def change(
        self,
        by: Account | None,
        username: str,
        actor: Actor,
        now: dt.datetime,
        disabled: bool | None = None,
        role: str | None = None,
        branches: tuple[str, ...] | None = None,
    ) -> Account:
        """Disable or enable an account, or give it another role or other branches (None: as
        it is). Without ``branches``, a new role keeps the account's branches (a national
        admin has none). Disabling ends its sessions; its tokens are refused meanwhile.

        Raises:
            NotFoundError, ForbiddenError: as ``managed``; also when the new role and branches
                are not ``by``'s to give.
            AccountRejectedError: a role and branches that do not fit (as at creation), or the
                last enabled national admin disabled or given another role.
        """

        def changed(target: Account) -> Account:
            new_role = role or target.role
            new_branches = branches
            if new_branches is None:
                new_branches = () if new_role == NATIONAL_ADMIN else target.branches
            new_branches = check_role(self.redis, new_role, tuple(new_branches))
            if by is not None:
                authz.require_manage(by, new_role, new_branches)
            new_disabled = target.disabled if disabled is None else disabled
            return replace(target, role=new_role, branches=new_branches, disabled=new_disabled)

        field = "disabled" if disabled else "role"
        before, after = self._apply(by, username, changed, field, sessions=None)
        fields = ("disabled", "role", "branches")
        self.accounts.audit(
            actor, "account_changed", username, _view(before, fields), _view(after, fields), now
        )
        return after

    def delete(self, by: Account | None, username: str, actor: Actor, now: dt.datetime) -> None:
        """Delete an account with its API tokens and sessions; its audit entries stay.

        Raises:
            NotFoundError, ForbiddenError: as ``managed``.
            AccountRejectedError: the last enabled national admin.
        """
        before, _after = self._apply(by, username, lambda target: None, "username", sessions="all")
        self.accounts.audit(
            actor, "account_deleted", username, _view(before, ("role", "branches")), None, now
        )

    def reset_password(self, by: Account | None, username: str, actor: Actor, now: dt.datetime) -> str:
        """Give an account a temporary password, to be changed at its next sign-in; its
        sessions end and its failed sign-ins are cleared.

        Returns:
            The temporary password (shown once; only its hash is kept).

        Raises:
            NotFoundError, ForbiddenError: as ``managed``.
        """
        temporary = passwords.temporary_password()
        digest = passwords.hash_password(temporary)
        until = (now + dt.timedelta(hours=self.sign_in.policy.temporary_password_hours)).astimezone(dt.UTC)
        self._apply(
            by,
            username,
            lambda target: replace(
                target, password_hash=digest, must_change_password=True, temporary_until=until.isoformat()
            ),
            "username",
            sessions="all",
        )
        self.sign_in.unlock(username)
        self.accounts.audit(
            actor,
            "password_reset",
            username,
            None,
            {"must_change_password": True, "temporary_until": until.isoformat()},
            now,
        )
        return temporary

    def change_own_password(
        self,
        account: Account,
        current: str,
        new: str,
        session_id: str | None,
        address: str,
        now: dt.datetime,
    ) -> Account:
        """The owner changes their password, confirming the current one (checked and counted
        as a sign-in is, so a borrowed session cannot guess it faster). Ends the account's
        other sessions, keeps ``session_id``'s, and lifts a reset's demand for a change.

        Raises:
            AccountRejectedError: on ``current_password`` (``wrong_password``), or on
                ``password`` (the policy, or ``password_unchanged``).
            LockedOutError: too many wrong current passwords.
        """
        try:
            self.sign_in.verify(account.username, current, address, now)
        except UnauthorizedError:
            raise AccountRejectedError(
                "current_password", "wrong_password", "the current password is wrong"
            ) from None
        if new == current:
            raise AccountRejectedError(
                "password", "password_unchanged", "the new password is the current one"
            )
        digest = check_new_password(new, account.username)
        _before, after = self._apply(
            None,
            account.username,
            lambda target: replace(
                target, password_hash=digest, must_change_password=False, temporary_until=""
            ),
            "username",
            sessions=digest_of(session_id) or "all",
        )
        actor = Actor(account.username, account.role, address)
        self.accounts.audit(actor, "password_changed", account.username, None, None, now)
        return after

    def unlock(self, by: Account | None, username: str, actor: Actor, now: dt.datetime) -> bool:
        """Clear the failed sign-ins counted for an account from every address. Returns
        whether there were any.

        Raises:
            NotFoundError, ForbiddenError: as ``managed``.
        """
        self.managed(by, username)
        cleared = self.sign_in.unlock(username)
        self.accounts.audit(actor, "account_unlocked", username, None, {"cleared": cleared}, now)
        return cleared

    def _apply(self, by, username, change, field: str, sessions: str | None):
        """Apply ``change`` (the account -> the new one, or None to delete it) to the account
        as read, again while it changes meanwhile; returns it before and after.

        Args:
            field: what a refusal to leave no national admin names.
            sessions: end all of the account's sessions (``all``), all but the one of this
                digest, or none (None).
        """
        for _try in range(_TRIES):
            raw = self.redis.hget(keys.ACCOUNTS, username)
            if raw is None:
                raise NotFoundError("account")
            before = Account.from_json(raw)
            if by is not None:
                authz.require_manage(by, before.role, before.branches)
            after = change(before)
            losing_admin = before.enabled_national_admin and not (after and after.enabled_national_admin)
            verdict = self.accounts.scripts.change_account(
                keys=[
                    keys.ACCOUNTS,
                    keys.API_TOKENS,
                    keys.TOKEN_LAST_USE,
                    keys.account_tokens(username),
                    keys.account_sessions(username),
                ],
                args=[
                    username,
                    raw,
                    after.to_json() if after else "",
                    keys.staff_session(""),
                    "all" if after is None or after.disabled else (sessions or "none"),
                    "1" if losing_admin else "0",
                ],
            )
            if verdict == "ok":
                return before, after
            if verdict == "last_national_admin":
                raise AccountRejectedError(
                    field, "last_national_admin", "the service needs one enabled national admin at least"
                )
        raise AccountRejectedError("username", "account_busy", "the account kept changing: try again")


def _view(account: Account, fields: tuple[str, ...]) -> dict:
    """What the audit log keeps of an account: never its password or its hash."""
    values = {name: getattr(account, name) for name in fields}
    return {name: list(value) if isinstance(value, tuple) else value for name, value in values.items()}
