"""API tokens: what a script of an account shows to the API instead of a password.

A token is 256 random bits shown once; only its SHA-256 is stored (a slow KDF adds nothing to
a secret that long), with its name, when it was made and, if it has one, when it expires.
Each request's token is looked up, checked (not revoked, not expired, its account there and
enabled) and its last use noted in one step (``authenticate_token.lua``): the last use is
written at most once a minute a token, so a busy script costs no write per request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass

from redis import Redis

from queue_service.domain.errors import UnauthorizedError
from queue_service.store import keys
from queue_service.store.scripts import for_client

# The longest life a token may be given, in days (a year, leap day included).
MAX_TOKEN_DAYS = 366
# How often a token's or a session's last use is written, at most (ms).
LAST_USE_EVERY_MS = 60_000


@dataclass(frozen=True)
class ApiToken:
    """A token as listed: never the token itself."""

    id: str
    username: str
    name: str
    created_at: str
    expires_at: str | None = None
    last_used_at: str | None = None
    expired: bool = False


def token_digest(token: str) -> str:
    """How a token is stored and found."""
    return hashlib.sha256(token.encode()).hexdigest()


def to_ms(moment: dt.datetime) -> int:
    """``moment`` as milliseconds since the epoch, as the scripts keep times."""
    return int(moment.timestamp() * 1000)


def from_ms(ms: str | int | None) -> str | None:
    """A time the scripts kept (ms), as ISO 8601 in UTC; None for none."""
    if not ms:
        return None
    return dt.datetime.fromtimestamp(int(ms) / 1000, dt.UTC).isoformat(timespec="seconds")


def expiry(now: dt.datetime, expires_in_days: int | None) -> dt.datetime | None:
    """When a token made at ``now`` to last ``expires_in_days`` expires (None: never)."""
    return None if expires_in_days is None else now + dt.timedelta(days=expires_in_days)


def new_token(
    username: str, name: str, now: dt.datetime, expires_in_days: int | None = None
) -> tuple[str, str, str]:
    """A new token of ``username``: the token (shown once), its id, and its stored record."""
    token, token_id = secrets.token_urlsafe(32), secrets.token_hex(4)
    record: dict = {
        "id": token_id,
        "username": username,
        "name": name,
        "created_at": now.isoformat(timespec="seconds"),
    }
    expires = expiry(now, expires_in_days)
    if expires is not None:
        record["expires_at"] = expires.isoformat(timespec="seconds")
        record["expires_ms"] = to_ms(expires)
    return token, token_id, json.dumps(record)


class ApiTokens:
    """The API tokens of every account, over the data store (``decode_responses=True``)."""

    def __init__(self, redis: Redis):
        self.redis = redis
        self.scripts = for_client(redis)

    def add(self, username: str, name: str, now: dt.datetime, expires_in_days: int | None = None) -> str:
        """Another token of ``username`` (whose account the caller has checked); shown once."""
        token, token_id, record = new_token(username, name, now, expires_in_days)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.API_TOKENS, token_digest(token), record)
        pipe.hset(keys.account_tokens(username), token_id, token_digest(token))
        pipe.execute()
        return token

    def of_account(self, username: str, now: dt.datetime) -> list[ApiToken]:
        """The account's tokens by name (never the tokens), each with its last use and
        whether it has expired by ``now``."""
        digests = list(self.redis.hvals(keys.account_tokens(username)))
        if not digests:
            return []
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hmget(keys.API_TOKENS, digests)
            pipe.hmget(keys.TOKEN_LAST_USE, digests)
            records, last_uses = pipe.execute()
        listed = []
        for raw, last_used in zip(records, last_uses, strict=True):
            if raw:
                record = json.loads(raw)
                expires_ms = record.pop("expires_ms", None)
                listed.append(
                    ApiToken(
                        **record,
                        last_used_at=from_ms(last_used),
                        expired=expires_ms is not None and to_ms(now) >= expires_ms,
                    )
                )
        return sorted(listed, key=lambda token: (token.name, token.id))

    def revoke(self, username: str, token_id: str) -> bool:
        """Revoke one token at once. Returns whether there was one."""
        return bool(
            self.scripts.revoke_token(
                keys=[keys.API_TOKENS, keys.account_tokens(username), keys.TOKEN_LAST_USE], args=[token_id]
            )
        )

    def account_of(self, token: str | None, now: dt.datetime) -> str:
        """The JSON of the account ``token`` belongs to (its last use noted).

        Raises:
            UnauthorizedError: no token, or one unknown, revoked or expired, or of an account
                that is gone or disabled.
        """
        if not token:
            raise UnauthorizedError("no_token")
        verdict, *found = self.scripts.authenticate_token(
            keys=[keys.API_TOKENS, keys.ACCOUNTS, keys.TOKEN_LAST_USE],
            args=[token_digest(token), to_ms(now), LAST_USE_EVERY_MS],
        )
        if verdict != "ok":
            raise UnauthorizedError(
                {"expired": "expired_token", "disabled": "disabled_account"}.get(verdict, "bad_token")
            )
        return found[0]
