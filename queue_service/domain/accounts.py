"""Accounts of the people who run the service.

Three roles (``authz`` decides what each may do): a national admin (every branch, national
closures, accounts), a branch admin (the branches named on the account) and counter staff
(one branch's live queue). An account signs in to the console with a password (``passwords``
says which may be chosen; only an argon2 hash is kept) and its scripts use API tokens
(``api_tokens``). A disabled account is refused everywhere: its tokens and its sessions stop
at once. What may change an account later is ``account_changes``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass, field

from redis import Redis

from queue_service.domain import audit, passwords
from queue_service.domain.api_tokens import ApiToken, ApiTokens, new_token, token_digest
from queue_service.domain.audit import Actor
from queue_service.store import keys
from queue_service.store.scripts import for_client

NATIONAL_ADMIN = "national_admin"
BRANCH_ADMIN = "branch_admin"
COUNTER_STAFF = "counter_staff"
ROLES = (NATIONAL_ADMIN, BRANCH_ADMIN, COUNTER_STAFF)

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
MIN_PASSWORD_LENGTH = passwords.MIN_PASSWORD_LENGTH


class AccountRejectedError(ValueError):
    """An account or password that cannot be: ``field`` and a message ``key`` for forms and
    the API, and a sentence for the command line."""

    def __init__(self, field: str, key: str, text: str):
        super().__init__(text)
        self.field = field
        self.key = key


@dataclass(frozen=True)
class Account:
    """Someone who runs the service."""

    username: str
    role: str
    branches: tuple[str, ...] = ()
    password_hash: str | None = field(default=None, repr=False)
    created_at: str = ""
    disabled: bool = False
    # Set by an admin's reset: the console leads only to the change of password until done.
    must_change_password: bool = False
    # Until when (ISO 8601, UTC) the reset's temporary password signs in; "" for no limit.
    temporary_until: str = ""

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "branches": list(self.branches)})

    @classmethod
    def from_json(cls, raw: str) -> Account:
        data = json.loads(raw)
        return cls(**{**data, "branches": tuple(data["branches"])})

    def temporary_password_expired(self, now: dt.datetime) -> bool:
        """Whether the password is a reset's temporary one whose time ran out at ``now``."""
        return (
            self.must_change_password
            and bool(self.temporary_until)
            and now >= dt.datetime.fromisoformat(self.temporary_until)
        )

    @property
    def enabled_national_admin(self) -> bool:
        return self.role == NATIONAL_ADMIN and not self.disabled


def check_username(username: str) -> str:
    """3-64 characters of lower-case letters, digits and ``._-``.

    Raises:
        AccountRejectedError: naming what is wrong.
    """
    if not USERNAME.fullmatch(username):
        raise AccountRejectedError(
            "username",
            "invalid_username",
            "a username is 3-64 characters of a-z, 0-9, '.', "
            f"'_' or '-', starting with a letter or digit: {username!r}",
        )
    return username


def check_new_password(password: str, username: str) -> str:
    """The argon2 hash of ``password``, if the policy (``passwords.problem``) allows it.

    Raises:
        AccountRejectedError: on ``password``, naming what is wrong.
    """
    problem = passwords.problem(password, username)
    if problem is not None:
        raise AccountRejectedError("password", problem, passwords.TEXTS[problem])
    return passwords.hash_password(password)


def check_role(redis: Redis, role: str, branches: tuple[str, ...]) -> tuple[str, ...]:
    """The branches of an account of ``role``, each once, if they fit it: a national admin
    names none, a branch admin one or more, counter staff exactly one; each must exist.

    Raises:
        AccountRejectedError: on ``role`` or ``branches``, naming what is wrong.
    """
    if role not in ROLES:
        raise AccountRejectedError("role", "unknown_role", f"unknown role {role!r}")
    branches = tuple(dict.fromkeys(branches))
    if role == NATIONAL_ADMIN and branches:
        raise AccountRejectedError(
            "branches", "branches_for_role", "a national admin covers every branch: name none"
        )
    if role == BRANCH_ADMIN and not branches:
        raise AccountRejectedError(
            "branches", "branches_for_role", "a branch admin needs at least one branch"
        )
    if role == COUNTER_STAFF and len(branches) != 1:
        raise AccountRejectedError(
            "branches", "branches_for_role", "counter staff belong to exactly one branch"
        )
    known = redis.hmget(keys.BRANCHES, list(branches)) if branches else []
    unknown = [branch for branch, raw in zip(branches, known, strict=True) if raw is None]
    if unknown:
        raise AccountRejectedError("branches", "unknown_branch", f"unknown branch: {', '.join(unknown)}")
    return branches


class Accounts:
    """Accounts, and the API tokens of each, over the data store.

    Args:
        redis: the data store (``decode_responses=True``).
    """

    def __init__(self, redis: Redis):
        self.redis = redis
        self.scripts = for_client(redis)
        self.api_tokens = ApiTokens(redis)

    def create(
        self,
        username: str,
        role: str,
        branches: tuple[str, ...] = (),
        password: str | None = None,
        token_name: str = "default",
        now: dt.datetime | None = None,
        actor: Actor | None = None,
    ) -> tuple[Account, str]:
        """Create an account with its first API token; audited when ``actor`` makes it.

        Args:
            username: see ``check_username``.
            role: one of ``ROLES``; see ``check_role`` for its branches.
            password: a console password (see ``passwords``), or None for an API-only account.

        Returns:
            The account and its first token (shown once; only its hash is kept).

        Raises:
            AccountRejectedError: a bad username, role, branch list or password, or the
                username is taken (a ``ValueError``).
        """
        check_username(username)
        branches = check_role(self.redis, role, branches)
        password_hash = check_new_password(password, username) if password is not None else None
        now = now or dt.datetime.now(dt.UTC)
        account = Account(username, role, branches, password_hash, now.isoformat(timespec="seconds"))
        token, token_id, record = new_token(username, token_name, now)
        outcome = self.scripts.create_account(
            keys=[keys.ACCOUNTS, keys.API_TOKENS, keys.account_tokens(username)],
            args=[username, account.to_json(), token_digest(token), record, token_id],
        )
        if outcome == "taken":
            raise AccountRejectedError("username", "username_taken", f"the username {username!r} is taken")
        self.audit(
            actor,
            "account_created",
            username,
            None,
            {"role": role, "branches": list(branches), "password": password is not None},
            now,
        )
        return account, token

    def get(self, username: str) -> Account | None:
        """The account, if there is one."""
        raw = self.redis.hget(keys.ACCOUNTS, username)
        return Account.from_json(raw) if raw else None

    def list(self) -> list[Account]:
        """Every account, by username."""
        return sorted(
            (Account.from_json(raw) for raw in self.redis.hvals(keys.ACCOUNTS)),
            key=lambda account: account.username,
        )

    def add_token(
        self,
        username: str,
        name: str,
        now: dt.datetime | None = None,
        actor: Actor | None = None,
        expires_in_days: int | None = None,
    ) -> str:
        """Another API token for ``username`` (shown once), expiring after ``expires_in_days``
        if given; audited when ``actor`` asks.

        Raises:
            ValueError: no such account.
        """
        if self.get(username) is None:
            raise ValueError(f"no account {username!r}")
        now = now or dt.datetime.now(dt.UTC)
        token = self.api_tokens.add(username, name, now, expires_in_days)
        after = {"name": name, "expires_in_days": expires_in_days} if expires_in_days else {"name": name}
        self.audit(actor, "token_created", username, None, after, now)
        return token

    def tokens(self, username: str, now: dt.datetime | None = None) -> list[ApiToken]:
        """The account's tokens by name, never the tokens themselves (see ``ApiTokens``)."""
        return self.api_tokens.of_account(username, now or dt.datetime.now(dt.UTC))

    def revoke_token(
        self, username: str, token_id: str, actor: Actor | None = None, now: dt.datetime | None = None
    ) -> bool:
        """Revoke one token at once (audited when ``actor`` asks). Returns whether there was one."""
        revoked = self.api_tokens.revoke(username, token_id)
        if revoked:
            self.audit(actor, "token_revoked", username, {"id": token_id}, None, now)
        return revoked

    def authenticate(self, token: str | None, now: dt.datetime | None = None) -> Account:
        """The account a bearer token belongs to, its last use noted.

        Raises:
            UnauthorizedError: no token, or one unknown, revoked or expired, or of an account
                that is gone or disabled.
        """
        return Account.from_json(self.api_tokens.account_of(token, now or dt.datetime.now(dt.UTC)))

    def check_password(self, username: str, password: str) -> Account | None:
        """The account if ``password`` is its console password; None otherwise.

        The time taken is about the same whether or not the account exists, so the answer
        does not tell which usernames exist.
        """
        account = self.get(username)
        if passwords.verify(account.password_hash if account else None, password):
            return account
        return None

    def audit(
        self,
        actor: Actor | None,
        action: str,
        username: str,
        before: object,
        after: object,
        now: dt.datetime | None,
    ) -> None:
        """Accounts and tokens are national: their entries go to the national stream (none
        without ``actor``). Never a password or its hash."""
        if actor is not None:
            audit.record(
                self.redis,
                keys.NATIONAL_AUDIT,
                actor,
                action,
                username,
                before,
                after,
                now or dt.datetime.now(dt.UTC),
            )
