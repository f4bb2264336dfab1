"""Console sign-in with throttling and lock-out, per account name and per address.

Failures are counted for the name typed (whether or not an account has it) and for the
address, so the answers and the lock-out are the same for a real and an invented name:
the form tells no one which accounts exist. Every attempt is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from redis import Redis

from queue_service.domain import audit
from queue_service.domain.accounts import Account, Accounts
from queue_service.domain.errors import DomainError, UnauthorizedError
from queue_service.domain.privacy import keyed_digest
from queue_service.store import keys
from queue_service.store.scripts import Scripts


class LockedOutError(DomainError):
    """Too many failed sign-ins for this name or from this address; ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, retry_after: int):
        super().__init__("locked_out")
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignInPolicy:
    """How many failures lock a name or an address out, and for how long."""

    account_failures: int = 5
    address_failures: int = 20
    window_seconds: int = 900
    lockout_seconds: int = 900


class SignIn:
    """Checks console passwords, throttled.

    Args:
        redis: the data store; accounts: where passwords are checked.
        secret: keys the hashes that name the counters (no name or address in a key).
    """

    def __init__(
        self, redis: Redis, accounts: Accounts, secret: bytes, policy: SignInPolicy = SignInPolicy()
    ):
        self.redis = redis
        self.accounts = accounts
        self.scripts = Scripts(redis)
        self._secret = secret
        self.policy = policy

    def attempt(self, username: str, password: str, address: str, now: dt.datetime) -> Account:
        """The account, if ``password`` is right and neither name nor address is locked out.

        Raises:
            LockedOutError: the name or the address has failed too often; the password is
                not even checked.
            UnauthorizedError: a wrong name or password (the same answer for both).
        """
        counters = self._counters(username.strip().lower(), address)
        self._count_or_refuse(counters)
        account = self.accounts.check_password(username.strip().lower(), password)
        actor = audit.Actor(username.strip().lower()[:64], account.role if account else "", address)
        if account is None:
            audit.record(
                self.redis, keys.NATIONAL_AUDIT, actor, "sign_in_failed", actor.username, None, None, now
            )
            raise UnauthorizedError("bad_credentials")
        self.scripts.take_back_sign_in_attempt(keys=counters)
        audit.record(self.redis, keys.NATIONAL_AUDIT, actor, "signed_in", account.username, None, None, now)
        return account

    def _counters(self, username: str, address: str) -> list[str]:
        return [
            keys.sign_in_failures("name", keyed_digest(self._secret, "sign-in", username)),
            keys.sign_in_failures("address", keyed_digest(self._secret, "sign-in", address)),
        ]

    def _count_or_refuse(self, counters: list[str]) -> None:
        """Count the attempt as a failure until its password proves right; refuse it once the
        name or the address is past its limit."""
        name_count, name_left, address_count, address_left = self.scripts.count_sign_in_attempt(
            keys=counters,
            args=[
                self.policy.window_seconds * 1000,
                self.policy.account_failures,
                self.policy.address_failures,
                self.policy.lockout_seconds * 1000,
            ],
        )
        waits = [
            left
            for count, left, limit in (
                (name_count, name_left, self.policy.account_failures),
                (address_count, address_left, self.policy.address_failures),
            )
            if count > limit
        ]
        if waits:
            raise LockedOutError(max(1, -(-max(waits) // 1000)))
