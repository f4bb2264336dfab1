"""Console sign-in, throttled so that neither guessing nor a stranger's failures win.

Failures are counted three ways (``count_sign_in_attempt.lua``):
- per account name and address: ``account_failures`` of them lock that pair out for
  ``lockout_seconds``. Only the pair: a stranger failing on a name from elsewhere never locks
  its owner out;
- per account name from all addresses: from ``account_failures`` on, each further attempt
  waits a growing delay (1 s, 2 s, 4 s ... ``max_slowdown_seconds``) after the last one, so a
  guesser with many addresses is slowed down. An address where the name signed in lately is
  spared the wait: while someone hammers the name, its owner still signs in from theirs;
- per address on all names: ``address_failures`` lock the address out.

Failures are counted for the name typed whether or not an account has it, so the answers, the
slow-down and the lock-out are the same for a real and an invented name: the form tells no one
which accounts exist. Every attempt is audited; a failure for a name no account has is recorded
as ``unknown:`` and a keyed hash of the name, never the text typed (a password typed into the
name's field would otherwise sit in the log). An admin's unlock clears a name's failures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redis import Redis

from queue_service.domain import audit
from queue_service.domain.accounts import Account, Accounts
from queue_service.domain.api_tokens import to_ms
from queue_service.domain.errors import DomainError, UnauthorizedError
from queue_service.domain.privacy import keyed_digest
from queue_service.store import keys
from queue_service.store.scripts import for_client

# How long an address where a name signed in stays spared its slow-down, and how many such
# addresses a name keeps.
KNOWN_ADDRESS_DAYS = 30
KNOWN_ADDRESSES = 20


class LockedOutError(DomainError):
    """Too many failed sign-ins for this name from this address or from this address on any
    name (``locked_out``), or for this name from everywhere (``slowed_down``: the wait is
    short); ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, retry_after: int, detail: str = "locked_out"):
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignInPolicy:
    """How many failures lock a name (from one address) or an address out, and for how long;
    the longest wait a name's failures from everywhere bring on."""

    account_failures: int = 5
    address_failures: int = 20
    window_seconds: int = 900
    lockout_seconds: int = 900
    max_slowdown_seconds: int = 60
    # How long a reset's temporary password signs in (``TEMPORARY_PASSWORD_HOURS``).
    temporary_password_hours: int = 72

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> SignInPolicy:
        """The policy the settings describe."""
        return cls(
            account_failures=settings["ADMIN_SIGN_IN_FAILURES"],
            address_failures=settings["ADMIN_SIGN_IN_ADDRESS_FAILURES"],
            window_seconds=settings["ADMIN_LOCKOUT_SECONDS"],
            lockout_seconds=settings["ADMIN_LOCKOUT_SECONDS"],
            temporary_password_hours=settings["TEMPORARY_PASSWORD_HOURS"],
        )


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
        self.scripts = for_client(redis)
        self._secret = secret
        self.policy = policy

    def attempt(self, username: str, password: str, address: str, now: dt.datetime) -> Account:
        """The account, if ``password`` is right, it is enabled, and the attempt is not
        refused by the throttle.

        Raises:
            LockedOutError: the pair or the address is locked out, or the name is slowed down;
                the password is not even checked.
            UnauthorizedError: a wrong name or password (the same answer for both:
                ``bad_credentials``), or the right password of a disabled account
                (``account_disabled``) or a reset's temporary password whose time ran out
                (``temporary_password_expired``), each told only to who knows the password.
        """
        account = self.verify(username, password, address, now)
        actor = audit.Actor(account.username, account.role, address)
        refusal = None  # (what the audit log says, what the caller is told)
        if account.disabled:
            refusal = ("sign_in_disabled", "account_disabled")
        elif account.temporary_password_expired(now):
            refusal = ("sign_in_temporary_password_expired", "temporary_password_expired")
        if refusal is not None:
            action, detail = refusal
            audit.record(self.redis, keys.NATIONAL_AUDIT, actor, action, account.username, None, None, now)
            raise UnauthorizedError(detail)
        audit.record(self.redis, keys.NATIONAL_AUDIT, actor, "signed_in", account.username, None, None, now)
        return account

    def verify(self, username: str, password: str, address: str, now: dt.datetime) -> Account:
        """The account whose password ``password`` is, counted and throttled as a sign-in is
        (a wrong one audited), for a sign-in or to confirm a change of password.

        Raises:
            LockedOutError: as ``attempt``.
            UnauthorizedError: a wrong name or password (``bad_credentials``).
        """
        name = username.strip().lower()
        counters = self._keys(name, address)
        address_digest = self._digest(address)
        self._count_or_refuse(counters, address_digest, now)
        account = self.accounts.check_password(name, password)
        if account is None:
            actor = audit.Actor(self._audited_name(name), "", address)
            audit.record(
                self.redis, keys.NATIONAL_AUDIT, actor, "sign_in_failed", actor.username, None, None, now
            )
            raise UnauthorizedError("bad_credentials")
        self.scripts.take_back_sign_in_attempt(
            keys=counters,
            args=[to_ms(now), address_digest, KNOWN_ADDRESS_DAYS * 86_400_000, KNOWN_ADDRESSES],
        )
        return account

    def unlock(self, username: str) -> bool:
        """Clear the failures counted for ``username`` from every address (an admin's unlock).
        Returns whether there were any."""
        return bool(self.redis.delete(keys.sign_in_failures("account", self._digest(username))))

    def _audited_name(self, name: str) -> str:
        """The name as the audit log keeps it: an account's name, else ``unknown:`` and 12 hex
        digits of its keyed hash (the same text always the same, so repeats still show)."""
        if self.accounts.get(name) is not None:
            return name
        return "unknown:" + keyed_digest(self._secret, "sign-in-name", name)[:12]

    def _digest(self, text: str) -> str:
        return keyed_digest(self._secret, "sign-in", text)

    def _keys(self, username: str, address: str) -> list[str]:
        name = self._digest(username)
        return [
            keys.sign_in_failures("account", name),
            keys.sign_in_failures("address", self._digest(address)),
            keys.sign_in_known_addresses(name),
        ]

    def _count_or_refuse(self, counters: list[str], address_digest: str, now: dt.datetime) -> None:
        """Count the attempt as a failure until its password proves right; refuse it while the
        pair or the address is locked out or the name's slow-down lasts."""
        policy = self.policy
        verdict, wait_ms = self.scripts.count_sign_in_attempt(
            keys=counters,
            args=[
                to_ms(now),
                address_digest,
                policy.window_seconds * 1000,
                policy.account_failures,
                policy.address_failures,
                policy.lockout_seconds * 1000,
                policy.max_slowdown_seconds * 1000,
                KNOWN_ADDRESS_DAYS * 86_400_000,
            ],
        )
        if verdict != "counted":
            detail = "slowed_down" if verdict == "slowed" else "locked_out"
            raise LockedOutError(max(1, -(-int(wait_ms) // 1000)), detail)
