"""Accounts of the people who run the service, and the API tokens their scripts use.

Three roles (``authz`` decides what each may do): a national admin (every branch,
national closures, accounts), a branch admin (the branches named on the account) and
counter staff (one branch's live queue). A token is 256 random bits shown once; only its
SHA-256 is stored (a slow KDF adds nothing to a secret that long). A console password is
stored only as an argon2 hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from dataclasses import asdict, dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis import Redis

from queue_service.domain import audit
from queue_service.domain.audit import Actor
from queue_service.domain.errors import UnauthorizedError
from queue_service.store import keys
from queue_service.store.scripts import Scripts

NATIONAL_ADMIN = "national_admin"
BRANCH_ADMIN = "branch_admin"
COUNTER_STAFF = "counter_staff"
ROLES = (NATIONAL_ADMIN, BRANCH_ADMIN, COUNTER_STAFF)

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
_PASSWORD_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 12


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

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "branches": list(self.branches)})

    @classmethod
    def from_json(cls, raw: str) -> Account:
        data = json.loads(raw)
        return cls(**{**data, "branches": tuple(data["branches"])})


@dataclass(frozen=True)
class ApiToken:
    """A token as listed: never the token itself."""

    id: str
    username: str
    name: str
    created_at: str


def token_digest(token: str) -> str:
    """How a token is stored and found."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_username(username: str) -> str:
    """3-64 characters of lower-case letters, digits and ``._-``.

    Raises:
        ValueError: naming what is wrong.
    """
    if not USERNAME.fullmatch(username):
        raise AccountRejectedError(
            "username",
            "invalid_username",
            "a username is 3-64 characters of a-z, 0-9, '.', "
            f"'_' or '-', starting with a letter or digit: {username!r}",
        )
    return username


def hash_password(password: str) -> str:
    """The argon2 hash of a console password.

    Raises:
        ValueError: the password is shorter than ``MIN_PASSWORD_LENGTH``.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountRejectedError(
            "password", "password_length", f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
        )
    return _PASSWORD_HASHER.hash(password)


class Accounts:
    """Accounts and API tokens over the data store.

    Args:
        redis: the data store (``decode_responses=True``).
    """

    def __init__(self, redis: Redis):
        self.redis = redis
        self.scripts = Scripts(redis)

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
            role: one of ``ROLES``; a branch admin names one or more branches, counter
                staff exactly one, a national admin none.
            password: a console password, or None for an API-only account.

        Returns:
            The account and its first token (shown once; only its hash is kept).

        Raises:
            AccountRejectedError: a bad username, role, branch list or password, or the
                username is taken (a ``ValueError``).
        """
        check_username(username)
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
        known = self.redis.hmget(keys.BRANCHES, list(branches)) if branches else []
        unknown = [branch for branch, raw in zip(branches, known, strict=True) if raw is None]
        if unknown:
            raise AccountRejectedError("branches", "unknown_branch", f"unknown branch: {', '.join(unknown)}")
        created = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        account = Account(
            username, role, branches, hash_password(password) if password is not None else None, created
        )
        token, token_id, record = self._new_token(username, token_name, created)
        outcome = self.scripts.create_account(
            keys=[keys.ACCOUNTS, keys.API_TOKENS, keys.account_tokens(username)],
            args=[username, account.to_json(), token_digest(token), record, token_id],
        )
        if outcome == "taken":
            raise AccountRejectedError("username", "username_taken", f"the username {username!r} is taken")
        self._audit(
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
        self, username: str, name: str, now: dt.datetime | None = None, actor: Actor | None = None
    ) -> str:
        """Another API token for ``username`` (shown once); audited when ``actor`` asks.

        Raises:
            ValueError: no such account.
        """
        if self.get(username) is None:
            raise ValueError(f"no account {username!r}")
        created = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        token, token_id, record = self._new_token(username, name, created)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.API_TOKENS, token_digest(token), record)
        pipe.hset(keys.account_tokens(username), token_id, token_digest(token))
        pipe.execute()
        self._audit(actor, "token_created", username, None, {"name": name}, now)
        return token

    def tokens(self, username: str) -> list[ApiToken]:
        """The account's tokens by name, never the tokens themselves."""
        digests = list(self.redis.hvals(keys.account_tokens(username)))
        records = self.redis.hmget(keys.API_TOKENS, digests) if digests else []
        return sorted(
            (ApiToken(**json.loads(raw)) for raw in records if raw), key=lambda token: (token.name, token.id)
        )

    def revoke_token(
        self, username: str, token_id: str, actor: Actor | None = None, now: dt.datetime | None = None
    ) -> bool:
        """Revoke one token at once (audited when ``actor`` asks). Returns whether there was one."""
        revoked = bool(
            self.scripts.revoke_token(keys=[keys.API_TOKENS, keys.account_tokens(username)], args=[token_id])
        )
        if revoked:
            self._audit(actor, "token_revoked", username, {"id": token_id}, None, now)
        return revoked

    def _audit(
        self,
        actor: Actor | None,
        action: str,
        username: str,
        before: object,
        after: object,
        now: dt.datetime | None,
    ) -> None:
        """Accounts and tokens are national: their entries go to the national stream."""
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

    def authenticate(self, token: str | None) -> Account:
        """The account a bearer token belongs to.

        Raises:
            UnauthorizedError: no token, or one that is unknown or revoked.
        """
        if not token:
            raise UnauthorizedError("no_token")
        raw = self.redis.hget(keys.API_TOKENS, token_digest(token))
        account = self.get(json.loads(raw)["username"]) if raw else None
        if account is None:
            raise UnauthorizedError("bad_token")
        return account

    def check_password(self, username: str, password: str) -> Account | None:
        """The account if ``password`` is its console password; None otherwise.

        The time taken is about the same whether or not the account exists, so the answer
        does not tell which usernames exist.
        """
        account = self.get(username)
        stored = account.password_hash if account else None
        try:
            _PASSWORD_HASHER.verify(stored or _DECOY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        return account if stored else None

    @staticmethod
    def _new_token(username: str, name: str, created: str) -> tuple[str, str, str]:
        token = secrets.token_urlsafe(32)
        token_id = secrets.token_hex(4)
        record = json.dumps({"id": token_id, "username": username, "name": name, "created_at": created})
        return token, token_id, record


# Verified against when the account is unknown, so that both cases cost one argon2 run.
_DECOY_HASH = _PASSWORD_HASHER.hash(secrets.token_urlsafe(16))
