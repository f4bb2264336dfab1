"""Signed-in staff sessions (console and counter pages), held in the data store.

The browser's signed cookie names a session by a random id; the session itself lives here,
under a hash of that id, so that signing out ends it everywhere at once: a copy of the cookie
taken before is worth nothing after. Each session lives as long as the idle time allows, and
every request that counts as activity gives it that long again; its last use is written at
most once a minute, in the same step that reads the session and its account
(``session_touch.lua``). A session of an account that is disabled or gone is over.

Each account's sessions are indexed, so that they can be listed (started, last used, from
where) and ended, one or all at once. A listed session is named by the first 16 hex digits of
the stored hash: knowing it lets an admin end the session, never use it as a cookie.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from redis import Redis

from queue_service.domain.accounts import Account
from queue_service.domain.api_tokens import LAST_USE_EVERY_MS, from_ms, to_ms
from queue_service.store import keys
from queue_service.store.scripts import for_client

_LISTED_ID = 16


@dataclass(frozen=True)
class StaffSession:
    """A session as listed: never its id."""

    id: str
    surface: str
    address: str
    started_at: str | None
    last_used_at: str | None


class StaffSessions:
    """Sessions over the data store.

    Args:
        redis: the data store (``decode_responses=True``).
        idle_seconds: how long a session lives without activity.
    """

    def __init__(self, redis: Redis, idle_seconds: int):
        self.redis = redis
        self.idle_seconds = idle_seconds
        self.scripts = for_client(redis)

    def start(self, username: str, surface: str, address: str, now: dt.datetime) -> str:
        """A new session of ``username`` on ``surface`` (``admin``, ``counter``) from
        ``address``; returns its id, for the cookie only."""
        session_id = secrets.token_urlsafe(32)
        digest = digest_of(session_id)
        self.scripts.session_start(
            keys=[keys.staff_session(digest), keys.account_sessions(username)],
            args=[username, surface, address, to_ms(now), self._life_ms(), digest, keys.staff_session("")],
        )
        return session_id

    def account(self, session_id: str | None, touch: bool, now: dt.datetime) -> Account | None:
        """The account of a live session, or None (ended, expired, or its account gone or
        disabled); with ``touch``, the request counts as activity."""
        if not session_id:
            return None
        verdict, *found = self.scripts.session_touch(
            keys=[keys.staff_session(digest_of(session_id)), keys.ACCOUNTS],
            args=[to_ms(now), "1" if touch else "0", LAST_USE_EVERY_MS, self._life_ms()],
        )
        return Account.from_json(found[0]) if verdict == "ok" else None

    def end(self, session_id: str | None) -> None:
        """End one session (signing out)."""
        if not session_id:
            return
        digest = digest_of(session_id)
        username = self.redis.hget(keys.staff_session(digest), "username")
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.staff_session(digest))
            if username:
                pipe.zrem(keys.account_sessions(username), digest)
            pipe.execute()

    def of_account(self, username: str) -> list[StaffSession]:
        """The account's live sessions, the newest first."""
        digests = self.redis.zrevrange(keys.account_sessions(username), 0, -1)
        if not digests:
            return []
        with self.redis.pipeline(transaction=False) as pipe:
            for digest in digests:
                pipe.hgetall(keys.staff_session(digest))
            records = pipe.execute()
        return [
            StaffSession(
                id=digest[:_LISTED_ID],
                surface=record.get("surface", ""),
                address=record.get("address", ""),
                started_at=from_ms(record.get("started_ms")),
                last_used_at=from_ms(record.get("last_used_ms")),
            )
            for digest, record in zip(digests, records, strict=True)
            if record
        ]

    def end_listed(self, username: str, listed_id: str) -> bool:
        """End the session of ``username`` listed as ``listed_id``. Returns whether there was
        one."""
        if len(listed_id) != _LISTED_ID:
            return False
        for digest in self.redis.zrange(keys.account_sessions(username), 0, -1):
            if digest.startswith(listed_id):
                with self.redis.pipeline(transaction=True) as pipe:
                    pipe.delete(keys.staff_session(digest))
                    pipe.zrem(keys.account_sessions(username), digest)
                    ended, _removed = pipe.execute()
                return bool(ended)
        return False

    def _life_ms(self) -> int:
        # Written once a minute at most: a minute more than the idle time, so that the store
        # never ends a session sooner than the idle time the cookie counts.
        return self.idle_seconds * 1000 + LAST_USE_EVERY_MS


def digest_of(session_id: str | None) -> str:
    """The name a session is stored under ('' for none). Hashed, as API tokens are: a copy of
    the data store holds no session a browser could use."""
    return hashlib.sha256(session_id.encode()).hexdigest() if session_id else ""
